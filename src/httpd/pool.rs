//! APR pools: copying bytes into a pool and tying Rust values to a pool's life.

use super::ffi;
use std::os::raw::{c_char, c_void};

/// An APR pool. Only ever used behind a reference obtained from Apache.
#[repr(transparent)]
pub(crate) struct Pool(std::cell::UnsafeCell<ffi::apr_pool_t>);

impl Pool {
    /// # Safety
    /// `p` must be a live pool that outlives `'a`.
    pub(crate) unsafe fn from_raw<'a>(p: *mut ffi::apr_pool_t) -> &'a Pool {
        // SAFETY: the caller guarantees a live pool; Pool is repr(transparent).
        unsafe { &*(p as *const Pool) }
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::apr_pool_t {
        self.0.get()
    }

    /// Copies `bytes` into the pool as a NUL-terminated C string.
    pub(crate) fn strdup(&self, bytes: &[u8]) -> *mut c_char {
        // SAFETY: apr_pstrmemdup copies `len` bytes from a valid slice and
        // NUL-terminates the copy, which lives as long as the pool.
        unsafe { ffi::apr_pstrmemdup(self.as_ptr(), bytes.as_ptr() as *const c_char, bytes.len()) }
    }

    /// Moves `value` into a heap box that is dropped when the pool is
    /// cleared or destroyed, and returns a pointer valid until then.
    pub(crate) fn keep<T: 'static>(&self, value: T) -> *mut T {
        unsafe extern "C" fn drop_box<T>(data: *mut c_void) -> ffi::apr_status_t {
            // SAFETY: `data` came from Box::into_raw below and the cleanup
            // runs exactly once.
            drop(unsafe { Box::from_raw(data as *mut T) });
            0
        }
        let ptr = Box::into_raw(Box::new(value));
        // SAFETY: registers a cleanup on a live pool with a pointer that
        // stays valid until the cleanup frees it.
        unsafe {
            ffi::apr_pool_cleanup_register(
                self.as_ptr(),
                ptr as *const c_void,
                Some(drop_box::<T>),
                Some(ffi::apr_pool_cleanup_null),
            )
        };
        ptr
    }

    /// Runs `f` when the pool is cleared or destroyed.
    pub(crate) fn on_cleanup(&self, f: Box<dyn FnOnce()>) {
        unsafe extern "C" fn run(data: *mut c_void) -> ffi::apr_status_t {
            // SAFETY: `data` is the Box<Box<dyn FnOnce()>> leaked below; the
            // cleanup runs once.
            let f = unsafe { Box::from_raw(data as *mut Box<dyn FnOnce()>) };
            f();
            0
        }
        let ptr = Box::into_raw(Box::new(f));
        // SAFETY: as in `keep`.
        unsafe {
            ffi::apr_pool_cleanup_register(
                self.as_ptr(),
                ptr as *const c_void,
                Some(run),
                Some(ffi::apr_pool_cleanup_null),
            )
        };
    }
}

/// Reads a C string owned by Apache as bytes (empty for NULL).
///
/// # Safety
/// `p` must be NULL or a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn cstr_bytes<'a>(p: *const c_char) -> &'a [u8] {
    if p.is_null() {
        return b"";
    }
    // SAFETY: the caller guarantees a valid NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(p).to_bytes() }
}

/// Like `cstr_bytes` but keeps NULL distinct from "".
///
/// # Safety
/// As for `cstr_bytes`.
pub(crate) unsafe fn opt_cstr_bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: forwarded to the caller's guarantee.
        Some(unsafe { cstr_bytes(p) })
    }
}
