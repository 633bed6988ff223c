//! The daemon process groups of this Apache generation, as every process
//! reads them: the Apache parent fills the registry in post_config
//! (supervisor), and the processes forked after that inherit it: Apache's
//! children (client) look up a group's socket path and the secret, slot
//! managers and Python workers read their group's configuration, and a
//! daemon's server checks the secret.
//!
//! The registry imports no other daemon module: each of them may import it.

use crate::config::DaemonProcess;
use crate::httpd::log::{self, Level};
use crate::python::interp::Settings;
use std::sync::{Arc, Mutex};

/// Length of the per-start secret that HELLO carries.
pub const SECRET_LEN: usize = 32;

/// The secret an Apache child proves it belongs to this Apache with.
pub type Secret = [u8; SECRET_LEN];

/// A daemon process group as every process of this Apache generation
/// sees it.
pub struct Group {
    pub cfg: DaemonProcess,
    pub socket_path: String,
    pub listen_fd: i32,
    pub python: Settings,
    /// Scripts to execute at process start: (file, application group).
    pub preloads: Vec<(String, String)>,
}

impl Group {
    /// Logs `msg` as coming from this group's daemon process (this pid).
    pub fn say(&self, level: Level, msg: &str) {
        log::server(
            level,
            &format!(
                "daemon process '{}' (pid {}): {msg}",
                self.cfg.name,
                std::process::id()
            ),
        );
    }
}

static GROUPS: Mutex<Vec<Arc<Group>>> = Mutex::new(Vec::new());
static SECRET: Mutex<Secret> = Mutex::new([0; SECRET_LEN]);

/// The group named `name` in this generation.
pub fn group(name: &str) -> Option<Arc<Group>> {
    GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|g| g.cfg.name == name)
        .cloned()
}

/// Every group of this generation.
pub fn groups() -> Vec<Arc<Group>> {
    GROUPS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Replaces the groups (a new generation's, in the Apache parent).
pub fn set_groups(groups: Vec<Arc<Group>>) {
    *GROUPS.lock().unwrap_or_else(|e| e.into_inner()) = groups;
}

/// The secret of this Apache parent.
pub fn secret() -> Secret {
    *SECRET.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets the secret (in the Apache parent, before forking).
pub fn set_secret(secret: Secret) {
    *SECRET.lock().unwrap_or_else(|e| e.into_inner()) = secret;
}

/// Where group `group` listens: `PREFIX.<parent pid>.<group>.sock`, the
/// group name kept readable when it is simple, else hashed.
pub fn socket_path(prefix: &str, pid: u32, group: &str) -> String {
    let simple = group.len() <= 32
        && group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if simple {
        format!("{prefix}.{pid}.{group}.sock")
    } else {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        group.hash(&mut h);
        format!("{prefix}.{pid}.g{:016x}.sock", h.finish())
    }
}
