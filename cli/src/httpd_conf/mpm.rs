//! The MPM's limits: how many clients Apache serves at once, in how many
//! children of how many threads, and how many idle threads it keeps.
//!
//! The threaded MPMs (event, worker) check every second whether fewer than
//! MinSpareThreads threads are idle; if so and no further child fits under
//! MaxRequestWorkers, they log AH10159 ("within MinSpareThreads of
//! MaxRequestWorkers"). Every child is started at once, so MinSpareThreads
//! must stay well below MaxRequestWorkers: a quarter of it (at least one,
//! at most one child's threads), which makes AH10159 mean what it says,
//! three quarters of the capacity busy.

use std::fmt::Write as _;

use crate::settings::{Mpm, Settings};

/// The numbers of the MPM section.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MpmLimits {
    /// Clients served at once: MaxRequestWorkers.
    pub max_request_workers: u32,
    /// ThreadsPerChild (and ThreadLimit); 1 for prefork.
    pub threads_per_child: u32,
    /// Children needed for MaxRequestWorkers, all started at once.
    pub children: u32,
    /// Scoreboard slots: room for the old children of a graceful restart.
    pub server_limit: u32,
    pub min_spare_threads: u32,
    pub max_spare_threads: u32,
    /// StartServers.
    pub start_servers: u32,
}

impl MpmLimits {
    pub fn of(s: &Settings) -> MpmLimits {
        let wsgi_threads = s.processes.saturating_mul(s.threads);
        let daemon_default = 10.max(wsgi_threads.saturating_mul(3).div_ceil(2));
        if s.mpm == Mpm::Prefork {
            let max = s.max_clients.unwrap_or(if s.embedded {
                s.processes
            } else {
                daemon_default
            });
            return MpmLimits {
                max_request_workers: max,
                threads_per_child: 1,
                children: max,
                server_limit: max,
                min_spare_threads: 1,
                max_spare_threads: max.max(2),
                start_servers: s.processes.min(max).max(1),
            }
            .with_fractions(s.workers);
        }
        let (wanted, per_child) = if s.embedded {
            let max = s.max_clients.unwrap_or(wsgi_threads);
            (max, s.threads.min(max).max(1))
        } else {
            let max = s.max_clients.unwrap_or(daemon_default);
            (max, max.clamp(1, 25))
        };
        let children = wanted.div_ceil(per_child).max(1);
        let max_request_workers = children * per_child;
        let min_spare_threads = (max_request_workers / 4).clamp(1, per_child);
        MpmLimits {
            max_request_workers,
            threads_per_child: per_child,
            children,
            server_limit: children * 2,
            min_spare_threads,
            // Never more idle threads than this, so no child is stopped for
            // being idle; at least MinSpareThreads + ThreadsPerChild + 1, as
            // Apache would otherwise raise it itself.
            max_spare_threads: (max_request_workers + per_child)
                .max(min_spare_threads + per_child + 1),
            start_servers: children,
        }
        .with_fractions(s.workers)
    }

    /// --initial-workers, --minimum-spare-workers and --maximum-spare-workers:
    /// fractions of MaxRequestWorkers, kept within what keeps the limits
    /// consistent (see the module comment).
    fn with_fractions(mut self, [initial, min_spare, max_spare]: [Option<f64>; 3]) -> MpmLimits {
        let part = |f: f64, of: u32| (f * f64::from(of)).ceil() as u32;
        let max = self.max_request_workers;
        let per_child = self.threads_per_child;
        if let Some(f) = initial {
            self.start_servers = part(f, self.children).clamp(1, self.children);
        }
        if let Some(f) = min_spare {
            self.min_spare_threads = part(f, max).clamp(1, per_child.max(1));
            if per_child == 1 {
                self.min_spare_threads = part(f, max).clamp(1, max);
            }
        }
        let floor = if per_child == 1 {
            self.min_spare_threads + 1
        } else {
            self.min_spare_threads + per_child + 1
        };
        if let Some(f) = max_spare {
            self.max_spare_threads = part(f, max).max(floor);
        } else {
            self.max_spare_threads = self.max_spare_threads.max(floor);
        }
        self
    }
}

/// The MPM section of httpd.conf.
pub fn limits(c: &mut String, s: &Settings) {
    let l = MpmLimits::of(s);
    let max = l.max_request_workers;
    let _ = writeln!(c, "\n# Request capacity: {max} clients at once.");
    if s.mpm == Mpm::Prefork {
        let _ = writeln!(
            c,
            "StartServers {}\nMinSpareServers {}\nMaxSpareServers {}\nServerLimit {}\n\
             MaxRequestWorkers {max}\nMaxConnectionsPerChild 0",
            l.start_servers, l.min_spare_threads, l.max_spare_threads, l.server_limit,
        );
    } else {
        let _ = writeln!(
            c,
            "StartServers {}\nServerLimit {}\nThreadLimit {tpc}\nThreadsPerChild {tpc}\n\
             MaxRequestWorkers {max}\nMinSpareThreads {}\nMaxSpareThreads {}\n\
             MaxConnectionsPerChild 0",
            l.start_servers,
            l.server_limit,
            l.min_spare_threads,
            l.max_spare_threads,
            tpc = l.threads_per_child,
        );
    }
}

#[cfg(test)]
#[path = "mpm_tests.rs"]
mod tests;
