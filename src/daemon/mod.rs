//! Daemon mode: process groups that the Apache parent forks and supervises
//! (supervisor), the daemon process itself (process, server), the Apache
//! child's side of a request (client), and the protocol between them (wire).

pub mod body;
pub mod client;
pub mod process;
pub mod server;
pub mod spool;
pub mod supervisor;
pub mod wire;
