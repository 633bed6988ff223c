//! This module's slots in Apache's config vectors, typed: the per-server
//! `ServerConfig`, the per-directory `DirConfig` (both made by the
//! create/merge callbacks in `directives`), and the per-request `Mounted`
//! record that `translate_name` leaves for the handler.

use super::request::Request;
use super::server::Server;
use super::{module_config, set_module_config};
use crate::config::{DirConfig, Mounted, ServerConfig};

impl Server {
    /// This module's configuration for this (virtual) server.
    pub(crate) fn config(&self) -> Option<&ServerConfig> {
        let slot = module_config(self.config_vector()) as *const ServerConfig;
        // SAFETY: the server slot only ever holds a ServerConfig made by
        // create/merge_server_config in the config pool, which lives as long
        // as the server_rec; NULL when the module has no config there.
        unsafe { slot.as_ref() }
    }
}

impl Request {
    /// This module's merged per-directory configuration for the request.
    pub(crate) fn dir_config(&self) -> Option<&DirConfig> {
        let slot = module_config(self.per_dir_vector()) as *const DirConfig;
        // SAFETY: the per-dir slot only ever holds a DirConfig made by
        // create/merge_dir_config in a pool that outlives the request.
        unsafe { slot.as_ref() }
    }

    /// What `translate_name` found for this request, if it mapped it.
    pub(crate) fn mounted(&self) -> Option<&Mounted> {
        let slot = module_config(self.request_vector()) as *const Mounted;
        // SAFETY: the request slot is NULL or holds the Mounted that
        // `set_mounted` kept in the request pool (alive with the request).
        unsafe { slot.as_ref() }
    }

    /// Keeps `m` in the request pool and in this module's request slot.
    pub(crate) fn set_mounted(&self, m: Mounted) {
        let kept = self.pool().keep(m);
        set_module_config(self.request_vector(), kept.cast());
    }
}
