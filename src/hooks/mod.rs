//! What Apache's hooks do: map URLs to scripts (`translate`), start
//! daemon groups and Python in each child (`startup`), and dispatch
//! requests to embedded mode or a daemon group (`handler`). The
//! `extern "C"` entry points that call these are in `httpd::module`.

mod handler;
mod startup;
mod translate;

use crate::config::ServerConfig;
use crate::httpd::server::{self, Server};

pub(crate) use handler::handler;
pub(crate) use startup::{child_init, post_config};
pub(crate) use translate::translate_name;

/// The main server's configuration (Python settings live there).
pub(crate) fn scfg_main() -> Option<&'static ServerConfig> {
    server::main_server().and_then(Server::config)
}
