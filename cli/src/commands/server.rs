//! `start-server` and `setup-server`.

use crate::cli::ServerArgs;
use crate::error::Result;
use crate::summary::summary;
use crate::{server_root, settings, supervisor};

/// Writes the server root; under start-server, runs Apache until it stops.
pub fn run(command: &str, a: &ServerArgs, raw: &[String]) -> Result<i32> {
    let s = settings::settings(command, a, raw)?;
    if !s.supervised {
        server_root::write_server_root(&s)?;
        print!("{}", summary(&s));
        println!(
            "\nConfiguration written. Control Apache with:\n  {} start|stop|restart|graceful|configtest|foreground",
            s.apachectl().display()
        );
        return Ok(0);
    }
    supervisor::check_not_running(&s)?;
    supervisor::check_port(&s.host, s.port)?;
    if let Some(h) = &s.https {
        supervisor::check_port(&s.host, h.port)?;
    }
    server_root::write_server_root(&s)?;
    print!("{}", summary(&s));
    println!("\nStarting Apache in the foreground; Ctrl-C stops it.");
    supervisor::supervise(&s)
}
