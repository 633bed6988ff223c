//! The thin layer over Apache httpd and APR: the raw bindings (`ffi`) and
//! small wrappers with the `unsafe` kept inside, each with its SAFETY note.

pub(crate) mod auth;
pub(crate) mod brigade;
pub(crate) mod directives;
pub(crate) mod ffi;
pub(crate) mod guard;
pub(crate) mod log;
pub(crate) mod module;
pub(crate) mod other_child;
pub(crate) mod pool;
pub(crate) mod process;
pub(crate) mod regex;
pub(crate) mod request;
pub(crate) mod scoreboard;
pub(crate) mod server;
pub(crate) mod shm;
mod slots;
pub(crate) mod table;

use std::os::raw::c_void;

/// This module's slot in an Apache config vector (ap_get_module_config).
pub(crate) fn module_config(v: *mut ffi::ap_conf_vector_t) -> *mut c_void {
    if v.is_null() {
        return std::ptr::null_mut();
    }
    let index = module::index();
    if index < 0 {
        return std::ptr::null_mut();
    }
    // SAFETY: a config vector is an array of one pointer per loaded module,
    // indexed by module_index (what the ap_get_module_config macro does).
    unsafe { *(v as *mut *mut c_void).add(index as usize) }
}

/// Stores this module's slot in a config vector (ap_set_module_config).
pub(crate) fn set_module_config(v: *mut ffi::ap_conf_vector_t, value: *mut c_void) {
    let index = module::index();
    if v.is_null() || index < 0 {
        return;
    }
    // SAFETY: as in module_config; the vector is writable by its owner.
    unsafe { *(v as *mut *mut c_void).add(index as usize) = value }
}

/// A NULL-terminated list of module names for hook ordering, kept in a
/// static because Apache reads it after registration returns.
#[repr(transparent)]
pub(crate) struct NameList<const N: usize>(pub [*const std::os::raw::c_char; N]);

// SAFETY: the list only holds pointers to 'static C string literals and is
// never written after construction.
unsafe impl<const N: usize> Sync for NameList<N> {}
