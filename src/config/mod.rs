//! mod_wsgi-compatible configuration: directive argument parsing, the
//! per-server and per-directory configuration with Apache's merge
//! semantics, and per-request resolution. Pure Rust: no FFI, no Python.
//!
//! Error messages are written for `apachectl configtest` output, where
//! Apache already prefixes the file, line and directive name.

pub(crate) mod alias;
pub(crate) mod daemon;
pub(crate) mod daemon_options;
pub(crate) mod dir;
pub(crate) mod directives;
pub(crate) mod groups;
pub(crate) mod mounted;
pub(crate) mod no_effect;
pub(crate) mod scripts;
pub(crate) mod server;
pub(crate) mod trusted_proxy;
pub(crate) mod values;

// Tests that apply directives by name through the table (so they sit beside
// `server` / `dir`, not inside them: those modules do not know the table).
#[cfg(test)]
mod dir_tests;
#[cfg(test)]
mod server_tests;

pub(crate) use alias::ScriptAliasOptions;
pub(crate) use daemon::DaemonProcess;
pub use daemon_options::parse_daemon_process;
pub use dir::{effective, DirConfig, RequestConfig};
pub(crate) use mounted::Mounted;
pub use server::ServerConfig;
pub use trusted_proxy::IpSubnet;
pub use values::{split_args, MapHeadToGet};
