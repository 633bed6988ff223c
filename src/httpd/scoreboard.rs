//! A read-only copy of Apache's scoreboard (what `mod_wsgi.server_metrics()`
//! reports). Apache children and daemon processes inherit the parent's
//! shared scoreboard mapping, so both can read it.

use super::ffi;

/// The scoreboard's global part.
pub(crate) struct Global {
    pub(crate) server_limit: i32,
    pub(crate) thread_limit: i32,
    pub(crate) running_generation: i32,
    /// Microseconds since the epoch.
    pub(crate) restart_time: i64,
}

/// One Apache child's slot.
pub(crate) struct ProcessSlot {
    pub(crate) pid: i32,
    pub(crate) generation: i32,
    pub(crate) quiescing: bool,
    pub(crate) workers: Vec<WorkerSlot>,
}

/// One worker thread's slot.
pub(crate) struct WorkerSlot {
    pub(crate) thread_num: i32,
    pub(crate) generation: i32,
    /// mod_status's one-letter state ("_", "R", "W", "K", ...).
    pub(crate) status: &'static str,
    pub(crate) access_count: std::os::raw::c_ulong,
    pub(crate) bytes_served: i64,
    pub(crate) start_time: i64,
    pub(crate) stop_time: i64,
    pub(crate) last_used: i64,
    pub(crate) client: Vec<u8>,
    pub(crate) request: Vec<u8>,
    pub(crate) vhost: Vec<u8>,
}

/// mod_status's letters for SERVER_DEAD .. SERVER_IDLE_KILL (scoreboard.h).
const STATUS: [&str; 11] = [".", "S", "_", "R", "W", "K", "L", "D", "C", "G", "I"];

fn field(bytes: &[std::os::raw::c_char]) -> Vec<u8> {
    bytes
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect()
}

/// Whether Apache has created its scoreboard (not yet at the first
/// start's post_config; kept across restarts after).
pub(crate) fn exists() -> bool {
    // SAFETY: only reads Apache's global scoreboard pointer.
    unsafe { ffi::ap_exists_scoreboard_image() != 0 }
}

/// The scoreboard, or None when this process has none.
pub(crate) fn read() -> Option<(Global, Vec<ProcessSlot>)> {
    // SAFETY: ap_exists_scoreboard_image and ap_get_scoreboard_global only
    // read Apache's global scoreboard pointer.
    let global = unsafe {
        if ffi::ap_exists_scoreboard_image() == 0 {
            return None;
        }
        ffi::ap_get_scoreboard_global().as_ref()?
    };
    let g = Global {
        server_limit: global.server_limit,
        thread_limit: global.thread_limit,
        running_generation: global.running_generation,
        restart_time: global.restart_time,
    };
    let mut processes = Vec::with_capacity(g.server_limit.max(0) as usize);
    for i in 0..g.server_limit {
        // SAFETY: i < server_limit, the scoreboard's process count; the
        // slot is shared memory read without locking, as mod_status does.
        let Some(ps) = (unsafe { ffi::ap_get_scoreboard_process(i).as_ref() }) else {
            continue;
        };
        let mut workers = Vec::with_capacity(g.thread_limit.max(0) as usize);
        for j in 0..g.thread_limit {
            // SAFETY: both indexes are within the scoreboard's limits.
            let Some(ws) = (unsafe { ffi::ap_get_scoreboard_worker_from_indexes(i, j).as_ref() })
            else {
                continue;
            };
            workers.push(WorkerSlot {
                thread_num: ws.thread_num,
                generation: ws.generation,
                status: STATUS.get(usize::from(ws.status)).copied().unwrap_or("?"),
                access_count: ws.access_count,
                bytes_served: ws.bytes_served,
                start_time: ws.start_time,
                stop_time: ws.stop_time,
                last_used: ws.last_used,
                client: field(&ws.client),
                request: field(&ws.request),
                vhost: field(&ws.vhost),
            });
        }
        processes.push(ProcessSlot {
            pid: ps.pid,
            generation: ps.generation,
            quiescing: ps.quiescing != 0,
            workers,
        });
    }
    Some((g, processes))
}
