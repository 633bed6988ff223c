//! Bucket brigades for sending response data down the output filters.
//!
//! APR's brigade ring operations are C macros; `insert_tail` is their
//! Rust equivalent (APR_BRIGADE_INSERT_TAIL).

use super::ffi;
use super::request::Request;
use std::mem::offset_of;
use std::os::raw::c_char;

/// Memory that a transient bucket may point into while the brigade is
/// passed (with the GIL released, in embedded mode).
///
/// # Safety
/// `bytes()` must return the same memory on every call for as long as the
/// value lives, nothing may write to that memory meanwhile, and reading it
/// must need no lock (the value is `Send`: the brigade is passed on the
/// request's thread, whatever else that thread holds or released).
pub(crate) unsafe trait Pinned: Send {
    fn bytes(&self) -> &[u8];
}

/// Data blocks from this size up are read into lent memory (`LENT`).
const LENT_MIN: usize = 8 * 1024;

/// Memory for large received blocks, shared by the process's threads, in
/// 64 KiB buffers (a daemon's usual DATA frame; a larger one takes several),
/// up to 16 kept for reuse.
static LENT: crate::buffers::Lender = crate::buffers::Lender::new(64 * 1024, 16);

/// A heap bucket's free function for memory from `LENT`.
extern "C" fn give_back_lent(data: *mut std::os::raw::c_void) {
    // Nothing may unwind into APR.
    let _ = std::panic::catch_unwind(|| LENT.give_back(data as *const u8));
}

pub(crate) struct Brigade {
    bb: *mut ffi::apr_bucket_brigade,
    r: *mut ffi::request_rec,
    alloc: *mut ffi::apr_bucket_alloc_t,
    /// Owners of the memory the transient buckets in `bb` point into.
    pinned: Vec<Box<dyn Pinned>>,
    /// Owners whose buckets have been passed (every filter that kept one
    /// has set it aside, i.e. copied it): free to go.
    released: Vec<Box<dyn Pinned>>,
}

impl Drop for Brigade {
    fn drop(&mut self) {
        if self.pinned.is_empty() {
            return;
        }
        // Staged buckets that were never passed still point into `pinned`:
        // destroy them before their owners go.
        // SAFETY: a Brigade with staged data belongs to a live request (the
        // embedded backend is dropped when its request's channel closes).
        unsafe { ffi::apr_brigade_cleanup(self.bb as *mut std::os::raw::c_void) };
    }
}

// SAFETY: a Brigade belongs to one request and is only used by the thread
// that runs that request; it is Send only so that the thread can release the
// GIL (py.detach) around passing it, which runs on the same thread.
unsafe impl Send for Brigade {}
// SAFETY: shared references never touch the brigade (every method takes
// &mut self), so sharing one between threads cannot race.
unsafe impl Sync for Brigade {}

/// Appends `e` at the tail of `bb` (APR_BRIGADE_INSERT_TAIL).
///
/// # Safety
/// `bb` must be a live brigade and `e` a bucket not in any brigade.
unsafe fn insert_tail(bb: *mut ffi::apr_bucket_brigade, e: *mut ffi::apr_bucket) {
    // SAFETY: the brigade's `list` is the head of a ring whose sentinel is
    // addressed as if it were a bucket at `&list - offsetof(apr_bucket, link)`,
    // exactly as APR_RING_SENTINEL computes it; we only touch link fields.
    unsafe {
        let head = &raw mut (*bb).list as *mut u8;
        let sentinel = head.sub(offset_of!(ffi::apr_bucket, link)) as *mut ffi::apr_bucket;
        let last = (*bb).list.prev;
        (*e).link.next = sentinel;
        (*e).link.prev = last;
        (*last).link.next = e;
        (*bb).list.prev = e;
    }
}

impl Brigade {
    pub(crate) fn new(r: &Request) -> Brigade {
        let alloc = r.bucket_alloc();
        // SAFETY: creates a brigade in the live request pool.
        let bb = unsafe { ffi::apr_brigade_create(r.pool().as_ptr(), alloc) };
        Brigade {
            bb,
            r: r.raw(),
            alloc,
            pinned: Vec::new(),
            released: Vec::new(),
        }
    }

    /// Appends `owner`'s bytes without copying them: a transient bucket
    /// points into them, and `owner` is kept until the brigade has been
    /// passed. Apache's rule for transient data is that a filter keeping a
    /// bucket past the pass sets it aside, which for a transient bucket
    /// copies it into a heap bucket (the core output filter for a client
    /// that cannot take everything at once, a pipelined request, ...).
    pub(crate) fn push_pinned(&mut self, owner: Box<dyn Pinned>) {
        let data = owner.bytes();
        if data.is_empty() {
            return;
        }
        // SAFETY: the bucket points at `data`, which `Pinned` guarantees
        // stays valid and unchanged while `owner` lives; `owner` is kept in
        // `pinned` until `pass` has run (every bucket of the brigade
        // destroyed or set aside) or `drop` has destroyed the buckets.
        unsafe {
            let e = ffi::apr_bucket_transient_create(
                data.as_ptr() as *const c_char,
                data.len(),
                self.alloc,
            );
            insert_tail(self.bb, e);
        }
        self.pinned.push(owner);
    }

    /// Drops the owners of pinned data whose buckets are gone (the caller
    /// calls it where that is cheap, e.g. with the GIL held; the list keeps
    /// its allocation for the next blocks).
    pub(crate) fn drop_released(&mut self) {
        self.released.clear();
    }

    /// Appends a copy of `data` (a heap bucket owns the copy, so nothing
    /// points back into the caller's memory, e.g. a Python object).
    pub(crate) fn push_copy(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        // SAFETY: with a NULL free function apr_bucket_heap_create copies
        // `len` bytes from a valid slice into memory it owns.
        unsafe {
            let e = ffi::apr_bucket_heap_create(
                data.as_ptr() as *const c_char,
                data.len(),
                None,
                self.alloc,
            );
            insert_tail(self.bb, e);
        }
    }

    /// Appends `len` bytes read from `src` straight into the memory of a
    /// new heap bucket (no copy afterwards). On error nothing is appended.
    pub(crate) fn push_read(
        &mut self,
        len: usize,
        src: &mut impl crate::os::fdpass::ReadExactUninit,
    ) -> std::io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        if len >= LENT_MIN {
            return self.push_read_lent(len, src);
        }
        // SAFETY: apr_bucket_alloc returns `len` writable bytes (or aborts
        // through the allocator's abort function, as every APR allocation);
        // they are seen as MaybeUninit until `read_exact_uninit`, whose
        // contract is to have written all of them when it returns Ok. The
        // heap bucket then owns them and frees them with apr_bucket_free,
        // the counterpart of apr_bucket_alloc (as apr_bucket_heap_create
        // does for its own copies); on error they are freed here.
        unsafe {
            let mem = ffi::apr_bucket_alloc(len, self.alloc) as *mut std::mem::MaybeUninit<u8>;
            if let Err(e) = src.read_exact_uninit(std::slice::from_raw_parts_mut(mem, len)) {
                ffi::apr_bucket_free(mem as *mut std::os::raw::c_void);
                return Err(e);
            }
            let e = ffi::apr_bucket_heap_create(
                mem as *const c_char,
                len,
                Some(ffi::apr_bucket_free),
                self.alloc,
            );
            insert_tail(self.bb, e);
        }
        Ok(())
    }

    /// `push_read` of a large block: into memory lent by `LENT`, one heap
    /// bucket per `LENT.size()` bytes, rather than the connection's
    /// allocator, which takes it from the malloc arena of the thread and
    /// leaves it there (each Apache thread that relayed a large response
    /// held 60-140 KiB of it idle, a 1 MiB block up to 1 MiB).
    fn push_read_lent(
        &mut self,
        len: usize,
        src: &mut impl crate::os::fdpass::ReadExactUninit,
    ) -> std::io::Result<()> {
        let mut left = len;
        while left > 0 {
            let n = left.min(LENT.size());
            let mem = LENT.lend()?;
            // SAFETY: `mem` is LENT.size() >= n writable bytes, valid until
            // given back; seen as MaybeUninit until `read_exact_uninit`,
            // whose contract is to have written all of them when it
            // returns Ok.
            let read = src.read_exact_uninit(unsafe {
                std::slice::from_raw_parts_mut(mem as *mut std::mem::MaybeUninit<u8>, n)
            });
            if let Err(e) = read {
                LENT.give_back(mem);
                return Err(e);
            }
            // SAFETY: the heap bucket takes the `n` written bytes at `mem`
            // and hands them to `give_back_lent` when its last reference
            // goes (on whatever thread); until then the lender keeps them
            // mapped.
            unsafe {
                let e = ffi::apr_bucket_heap_create(
                    mem as *const c_char,
                    n,
                    Some(give_back_lent),
                    self.alloc,
                );
                insert_tail(self.bb, e);
            }
            left -= n;
        }
        Ok(())
    }

    pub(crate) fn push_flush(&mut self) {
        // SAFETY: creates a bucket from the connection's allocator.
        unsafe { insert_tail(self.bb, ffi::apr_bucket_flush_create(self.alloc)) }
    }

    pub(crate) fn push_eos(&mut self) {
        // SAFETY: as for push_flush.
        unsafe { insert_tail(self.bb, ffi::apr_bucket_eos_create(self.alloc)) }
    }

    /// Marks the response as broken after its headers went out: the
    /// chunked encoding is not terminated and the connection is closed, so
    /// the client can tell the body is incomplete (as mod_proxy does).
    pub(crate) fn push_broken(&mut self) {
        // SAFETY: the error bucket is created in the request pool; the
        // request is live.
        unsafe {
            let e = ffi::ap_bucket_error_create(
                ffi::HTTP_BAD_GATEWAY,
                std::ptr::null(),
                (*self.r).pool,
                self.alloc,
            );
            insert_tail(self.bb, e);
        }
        self.push_eos();
    }

    /// Appends `len` bytes of the open file `fd` from `offset`. The file
    /// descriptor is duplicated; the duplicate is closed with the request
    /// pool, which Apache keeps until the data has been written.
    pub(crate) fn push_file(&mut self, fd: i32, offset: i64, len: i64, sendfile: bool) -> bool {
        // SAFETY: dup of a descriptor the caller just checked to be open.
        let dup = unsafe { libc::dup(fd) };
        if dup < 0 {
            return false;
        }
        // SAFETY: r is live; the apr_file_t wraps the duplicate, and a pool
        // cleanup closes it when the request pool goes away.
        unsafe {
            let pool = (*self.r).pool;
            let mut file: *mut ffi::apr_file_t = std::ptr::null_mut();
            let mut flags = ffi::APR_FOPEN_READ;
            if sendfile {
                flags |= ffi::APR_SENDFILE_ENABLED;
            }
            let mut os_fd: ffi::apr_os_file_t = dup;
            if ffi::apr_os_file_put(&mut file, &mut os_fd, flags, pool) != 0 {
                libc::close(dup);
                return false;
            }
            ffi::apr_brigade_insert_file(self.bb, file, offset, len, pool);
            super::pool::Pool::from_raw(pool)
        }
        .on_cleanup(Box::new(move || {
            // SAFETY: closes the duplicate this bucket owned, once, after
            // Apache has finished with the request's data.
            unsafe { libc::close(dup) };
        }));
        true
    }

    /// Passes everything appended so far down the output filters and empties
    /// the brigade. Err when the client has gone away or a filter failed.
    pub(crate) fn pass(&mut self) -> Result<(), i32> {
        // SAFETY: r and bb are live; ap_pass_brigade takes the buckets and
        // apr_brigade_cleanup empties what is left for reuse.
        let rv = unsafe {
            let rv = ffi::ap_pass_brigade((*self.r).output_filters, self.bb);
            ffi::apr_brigade_cleanup(self.bb as *mut std::os::raw::c_void);
            rv
        };
        // Every bucket was written, destroyed or set aside (copied).
        self.released.append(&mut self.pinned);
        // SAFETY: the connection outlives the request.
        let aborted = unsafe { (*(*self.r).connection).aborted != 0 };
        if rv != 0 || aborted {
            Err(rv)
        } else {
            Ok(())
        }
    }
}
