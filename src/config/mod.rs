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
pub mod no_effect;
pub mod scripts;
pub mod server;
pub mod trusted_proxy;
pub mod values;

// Tests that apply directives by name through the table (so they sit beside
// `server` / `dir`, not inside them: those modules do not know the table).
#[cfg(test)]
mod dir_tests;
#[cfg(test)]
mod server_tests;

pub use alias::ScriptAliasOptions;
pub use daemon::DaemonProcess;
pub use daemon_options::parse_daemon_process;
pub use dir::{effective, DirConfig, RequestConfig};
pub use mounted::Mounted;
pub use server::ServerConfig;
pub use trusted_proxy::IpSubnet;
pub use values::{split_args, MapHeadToGet};
