//! The daemon process groups of this Apache generation, as every process
//! reads them: the Apache parent fills the registry in post_config
//! (supervisor), and the processes forked after that inherit it: Apache's
//! children (client) look up a group's socket path and secret, slot
//! managers and Python workers read their group's configuration, and a
//! daemon's server checks its group's secret.
//!
//! Each group has its own secret, so that one group's daemon (which any
//! application it runs can read the memory of) cannot drive another's: a
//! socket is reachable by every process running as Apache's user. The
//! secrets are derived from one master secret drawn once per Apache parent
//! (kept in Apache's process pool under `MASTER_KEY`, the same in every
//! generation) and the group's name, so a group keeps its secret across
//! graceful restarts and older Apache children still reach the new daemons.
//! Apache's children know every group's secret (they relay to all of them);
//! a daemon process keeps only its own (`keep_only_secret_of`, right after
//! its manager is forked).
//!
//! The registry imports no other daemon module: each of them may import it.

use crate::config::DaemonProcess;
use crate::httpd::log::{self, Level};
use crate::python::interp::Settings;
use std::sync::{Arc, Mutex};
use zeroize::Zeroize;

/// Length of a group's secret, which HELLO carries.
pub const SECRET_LEN: usize = 32;

/// The secret an Apache child proves it belongs to this Apache with, to
/// one daemon process group.
pub(crate) type Secret = [u8; SECRET_LEN];

/// Where the master secret lives in Apache's process pool.
pub(crate) const MASTER_KEY: &std::ffi::CStr = c"mod_wsgi_rs.secret";

/// A daemon process group as every process of this Apache generation
/// sees it.
pub(crate) struct Group {
    pub(crate) cfg: DaemonProcess,
    pub(crate) socket_path: String,
    pub(crate) listen_fd: i32,
    pub(crate) python: Settings,
    /// Scripts to execute at process start: (file, application group).
    pub(crate) preloads: Vec<(String, String)>,
}

impl Group {
    /// Logs `msg` as coming from this group's daemon process (this pid).
    pub(crate) fn say(&self, level: Level, msg: &str) {
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

/// A group's secret as this process holds it. A forgotten one is zeroed
/// and kept (not freed), so no copy is left behind in freed memory.
struct Held {
    group: String,
    secret: Secret,
    forgotten: bool,
}

static SECRETS: Mutex<Vec<Held>> = Mutex::new(Vec::new());

fn held() -> std::sync::MutexGuard<'static, Vec<Held>> {
    SECRETS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The group named `name` in this generation.
pub(crate) fn group(name: &str) -> Option<Arc<Group>> {
    GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|g| g.cfg.name == name)
        .cloned()
}

/// Every group of this generation.
pub(crate) fn groups() -> Vec<Arc<Group>> {
    GROUPS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Replaces the groups (a new generation's, in the Apache parent).
pub(crate) fn set_groups(groups: Vec<Arc<Group>>) {
    *GROUPS.lock().unwrap_or_else(|e| e.into_inner()) = groups;
}

/// Group `group`'s secret: the master secret's keyed BLAKE3 hash of the
/// group's name (a keyed hash is a pseudo-random function: knowing one
/// group's secret tells nothing about another's or about the master).
pub(crate) fn derive_secret(master: &Secret, group: &str) -> Secret {
    *blake3::keyed_hash(master, group.as_bytes()).as_bytes()
}

/// Sets the secrets of the groups named `names` (in the Apache parent,
/// before forking), zeroing those of the last generation.
pub(crate) fn set_secrets<'a>(master: &Secret, names: impl IntoIterator<Item = &'a str>) {
    let mut held = held();
    for h in held.iter_mut() {
        h.secret.zeroize();
    }
    held.clear();
    let names: Vec<&str> = names.into_iter().collect();
    // Allocated once: growing would leave copies in freed memory.
    held.reserve_exact(names.len());
    for name in names {
        held.push(Held {
            group: name.to_string(),
            secret: derive_secret(master, name),
            forgotten: false,
        });
    }
}

/// The secret of group `group`, if this process holds it.
pub(crate) fn secret(group: &str) -> Option<Secret> {
    held()
        .iter()
        .find(|h| h.group == group && !h.forgotten)
        .map(|h| h.secret)
}

/// In a daemon process of group `group`: zeroes every other group's
/// secret, so that nothing this group runs can learn them, and overwrites
/// the stack below the caller, where the Apache parent computed them
/// before it forked this process. (The master secret in Apache's process
/// pool is the caller's to zero.)
pub(crate) fn keep_only_secret_of(group: &str) {
    for h in held().iter_mut() {
        if h.group != group {
            h.secret.zeroize();
            h.forgotten = true;
        }
    }
    scrub_stack();
}

/// Overwrites the stack below the caller that holds anything: what the
/// Apache parent's calls left there before the fork (at most 256 KiB down;
/// all of it when pagemap cannot say). Pages the parent never wrote stay
/// untouched, so the manager and its worker do not carry 256 KiB of zeroed
/// stack each. Zeroize's writes are volatile, so they are not optimised
/// away.
#[inline(never)]
fn scrub_stack() {
    const MAX: usize = 256 * 1024;
    let mark = 0u8;
    let here = std::hint::black_box(&mark) as *const u8 as usize;
    let depth = crate::os::memory::stack_written_below(here, MAX).unwrap_or(MAX);
    // One chunk more: each frame adds a little to its array.
    scrub_chunks(depth.div_ceil(SCRUB_CHUNK) + 1);
}

const SCRUB_CHUNK: usize = 16 * 1024;

/// Zeroes `n` frames of SCRUB_CHUNK bytes, each below the last (the array
/// is used after the call, so the call is not turned into a jump).
#[inline(never)]
fn scrub_chunks(n: usize) {
    let mut area = [0u8; SCRUB_CHUNK];
    area.zeroize();
    if n > 1 {
        scrub_chunks(n - 1);
    }
    std::hint::black_box(&area);
}

/// Where group `group` listens: `PREFIX.<parent pid>.<group>.sock`, the
/// group name kept readable when it is simple, else hashed.
pub(crate) fn socket_path(prefix: &str, pid: u32, group: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_group_has_its_own_stable_secret() {
        let master = [9u8; SECRET_LEN];
        let a = derive_secret(&master, "a");
        assert_ne!(a, derive_secret(&master, "b"));
        assert_ne!(a, derive_secret(&[8u8; SECRET_LEN], "a"));
        // The same master and name (a graceful restart): the same secret.
        assert_eq!(a, derive_secret(&master, "a"));
        assert_ne!(a, master);
    }

    fn read_own_memory(addr: usize, len: usize) -> Vec<u8> {
        use std::os::unix::fs::FileExt;
        let mut out = vec![0u8; len];
        std::fs::File::open("/proc/self/mem")
            .unwrap()
            .read_exact_at(&mut out, addr as u64)
            .unwrap();
        out
    }

    #[test]
    fn the_stack_below_is_scrubbed_as_deep_as_it_was_written_and_no_deeper() {
        std::thread::Builder::new()
            .stack_size(4 << 20)
            .spawn(|| {
                let mark = 0u8;
                let here = std::hint::black_box(&mark) as *const u8 as usize;
                let deepest = crate::os::memory::fill_stack_below(6, 0xA5); // about 96 KiB down
                assert!(read_own_memory(deepest, 1024).iter().all(|&b| b == 0xA5));
                scrub_stack();
                // Nothing of what was left survives (the scrub's own frames
                // leave return addresses between its arrays).
                let left = read_own_memory(deepest, here - deepest);
                assert!(
                    !left.windows(8).any(|w| w.iter().all(|&b| b == 0xA5)),
                    "bytes left below the caller survived the scrub"
                );
                // Pages below what was written stay untouched.
                let written = crate::os::memory::stack_written_below(here, 1 << 20).unwrap();
                assert!(written < 96 * 1024 + 3 * SCRUB_CHUNK, "{written}");
            })
            .unwrap()
            .join()
            .unwrap();
    }

    /// What a daemon process of group A holds after its manager is forked:
    /// A's secret and no other group's, not even as bytes left in the
    /// registry's memory.
    #[test]
    fn a_daemon_keeps_only_its_own_groups_secret() {
        let master = [3u8; SECRET_LEN];
        set_secrets(&master, ["A", "B", "C"]);
        let (a, b, c) = (
            secret("A").unwrap(),
            secret("B").unwrap(),
            secret("C").unwrap(),
        );
        assert!(a != b && b != c && a != c);
        keep_only_secret_of("A");
        assert_eq!(secret("A"), Some(a));
        assert_eq!(secret("B"), None);
        assert_eq!(secret("C"), None);
        assert_eq!(secret("nosuchgroup"), None);
        for h in held().iter() {
            if h.group == "A" {
                assert_eq!(h.secret, a);
            } else {
                assert_eq!(
                    h.secret, [0u8; SECRET_LEN],
                    "{}'s secret is still there",
                    h.group
                );
            }
        }
        // The next generation (in the Apache parent) sets them all again.
        set_secrets(&master, ["A", "B"]);
        assert_eq!(secret("B"), Some(b));
        assert_eq!(secret("C"), None);
    }
}
