//! mod_wsgi-compatible configuration: directive argument parsing, the
//! per-server and per-directory configuration with Apache's merge
//! semantics, and per-request resolution. Pure Rust: no FFI, no Python.
//!
//! Error messages are written for `apachectl configtest` output, where
//! Apache already prefixes the file, line and directive name.

pub mod alias;
pub mod daemon;
pub mod daemon_options;
pub mod dir;
pub mod directives;
pub mod groups;
pub mod mounted;
pub mod server;
pub mod trusted_proxy;
pub mod values;

// Tests that apply directives by name through the table (so they sit beside
// `server` / `dir`, not inside them: those modules do not know the table).
#[cfg(test)]
mod dir_tests;
#[cfg(test)]
mod server_tests;

pub use alias::{
    alias_match, parse_import_script, parse_script_alias, parse_script_alias_options,
    substitute_groups, AliasMatch, ScriptAlias, ScriptAliasOptions,
};
pub use daemon::DaemonProcess;
pub use daemon_options::parse_daemon_process;
pub use dir::{effective, parse_handler_script, DirConfig, RequestConfig};
pub use mounted::Mounted;
pub use groups::{
    expand_application_group, expand_callable_object, parse_application_group, parse_process_group,
    parse_restrict_process, process_group_permitted, resolve_process_group, AppGroup, GroupContext,
    ProcessGroup,
};
pub use server::{ServerConfig, DEFAULT_SOCKET_PREFIX};
pub use trusted_proxy::IpSubnet;
pub use values::{
    parse_hash_seed, parse_int_in, parse_map_head, parse_on_off, parse_optimize, parse_python_path,
    split_args, split_key_value, MapHeadToGet,
};
