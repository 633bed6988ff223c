//! Daemon mode, by process role:
//!
//! - `registry`: the groups, their socket paths and the per-group secrets,
//!   filled in by the Apache parent and read by every process forked after.
//! - `supervisor` (Apache parent): creates the sockets, forks each slot's
//!   manager, restarts it when it dies, stops it at stop and restart.
//! - `manager` (one per slot, no Python): drops privileges, keeps one
//!   Python worker running, replaces it when it dies or drains.
//! - `worker` (the Python process): request threads, the limits that end
//!   it, the graceful exit.
//! - `turns` (in a worker): which request thread waits for work.
//! - `server` (in a worker): one connection's request, `DaemonBackend`.
//! - `client` (Apache child): relays a request to the group and back.
//! - `script_owner`: the script-user= / script-group= check (client and
//!   worker).
//! - `wire`: the protocol between client and server; `spool`: responses
//!   to slow clients; `body`: the request body in the Apache child.
//!
//! Imports run one way: supervisor -> manager -> worker -> server, and
//! every module may use the registry, which uses none of them.

pub(crate) mod body;
pub(crate) mod client;
pub(crate) mod manager;
pub(crate) mod outgoing;
pub(crate) mod registry;
pub(crate) mod script_owner;
pub(crate) mod server;
pub(crate) mod spool;
pub(crate) mod supervisor;
pub(crate) mod turns;
pub(crate) mod wire;
pub(crate) mod worker;
