//! What Apache's hooks do: map URLs to scripts (`translate`), start
//! daemon groups and Python in each child (`startup`), dispatch
//! requests to embedded mode or a daemon group (`handler`, consulting a
//! `dispatch` script), and run the auth scripts (`auth`; hook scripts run
//! in the Apache child through `child_script`). The
//! `extern "C"` entry points that call these are in `httpd::module`.

pub(crate) mod auth;
mod child_script;
mod dispatch;
mod handler;
mod metrics;
mod startup;
mod translate;

use crate::config::ServerConfig;
use crate::httpd::server::{self, Server};

pub(crate) use handler::handler;
pub(crate) use startup::{child_init, post_config, pre_mpm};
pub(crate) use translate::translate_name;

/// The main server's configuration (Python settings live there).
pub(crate) fn scfg_main() -> Option<&'static ServerConfig> {
    server::main_server().and_then(Server::config)
}
