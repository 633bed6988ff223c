//! One module per subcommand (module-config and module-location share
//! one), and the Debian mods-available files install-module writes.

pub mod install;
mod mods_available;
pub mod module;
pub mod server;
