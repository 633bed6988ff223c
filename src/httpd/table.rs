//! APR tables (headers_in, headers_out, subprocess_env, notes).

use super::ffi;
use super::pool::cstr_bytes;
use std::os::raw::c_char;

#[repr(transparent)]
pub(crate) struct Table(std::cell::UnsafeCell<ffi::apr_table_t>);

impl Table {
    /// # Safety
    /// `t` must be a live table that outlives `'a`.
    pub(crate) unsafe fn from_raw<'a>(t: *mut ffi::apr_table_t) -> &'a Table {
        // SAFETY: guaranteed by the caller; repr(transparent).
        unsafe { &*(t as *const Table) }
    }

    fn raw(&self) -> *mut ffi::apr_table_t {
        self.0.get()
    }

    /// Every entry in order, as byte slices that live as long as the table.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        // SAFETY: apr_table_elts returns the table's own array header.
        let arr = unsafe { &*ffi::apr_table_elts(self.raw()) };
        let n = arr.nelts.max(0) as usize;
        let base = arr.elts as *const ffi::apr_table_entry_t;
        (0..n).filter_map(move |i| {
            // SAFETY: i < nelts, and entries are apr_table_entry_t.
            let e = unsafe { &*base.add(i) };
            if e.key.is_null() {
                return None;
            }
            // SAFETY: keys and values are NUL-terminated pool strings.
            Some(unsafe { (cstr_bytes(e.key), cstr_bytes(e.val)) })
        })
    }

    pub(crate) fn get(&self, key: &std::ffi::CStr) -> Option<&[u8]> {
        // SAFETY: apr_table_get reads a live table with a valid key.
        let v = unsafe { ffi::apr_table_get(self.raw(), key.as_ptr()) };
        // SAFETY: values are NUL-terminated strings owned by the table's pool.
        unsafe { super::pool::opt_cstr_bytes(v) }
    }

    /// Sets `key` to `value`, both copied by APR.
    pub(crate) fn set(&self, key: &std::ffi::CStr, value: &std::ffi::CStr) {
        // SAFETY: apr_table_set copies both strings into the table's pool.
        unsafe { ffi::apr_table_set(self.raw(), key.as_ptr(), value.as_ptr()) }
    }

    /// Adds an entry whose strings are already in a pool that outlives the table.
    ///
    /// # Safety
    /// `key` and `value` must be NUL-terminated and outlive the table.
    pub(crate) unsafe fn add_pooled(&self, key: *const c_char, value: *const c_char) {
        // SAFETY: guaranteed by the caller.
        unsafe { ffi::apr_table_addn(self.raw(), key, value) }
    }
}
