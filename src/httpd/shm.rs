//! The anonymous shared memory the metrics live in (`apr_shm_create` with
//! no file name: a shared mapping every process forked afterwards
//! inherits). It is made in Apache's process pool, so it outlives a
//! configuration generation: a graceful restart with the same layout keeps
//! it (counters go on; the old generation's children and daemons, still
//! draining, write to the same figures). A different layout gets a new one,
//! and the parent unmaps the old (processes that inherited it keep their
//! own mapping until they exit).

use super::ffi;
use std::os::raw::c_void;
use std::sync::atomic::AtomicU64;

const KEY: &std::ffi::CStr = c"mod_wsgi_rs.metrics_shm";

/// What the process pool keeps under `KEY`.
#[repr(C)]
struct Kept {
    shm: *mut ffi::apr_shm_t,
    signature: u64,
    words: usize,
}

/// The region of `words` 64-bit words for `signature` (a digest of the
/// layout): the kept one when its signature and size match, else a new
/// zeroed one (the old one is unmapped in this process). Called only in
/// the Apache parent, on its one thread, before any process is forked
/// for the generation; the caller holds no slice of the old region.
pub(crate) fn region(words: usize, signature: u64) -> Result<&'static [AtomicU64], String> {
    // SAFETY: ap_server_conf->process->pool lives as long as the parent;
    // the userdata under KEY is a Kept allocated from that pool, read and
    // written only here, on the parent's one thread. The shared mapping
    // is 8-byte aligned (APR_ALIGN_DEFAULT), `words * 8` bytes, zero-filled by the kernel, and
    // stays mapped until apr_shm_destroy below (never called on a region
    // handed out for the current layout). AtomicU64 has u64's size and
    // alignment, and every access to the region is atomic.
    unsafe {
        let s = ffi::ap_server_conf;
        if s.is_null() || (*s).process.is_null() {
            return Err("no Apache process pool".into());
        }
        let pool = (*(*s).process).pool;
        let mut data: *mut c_void = std::ptr::null_mut();
        ffi::apr_pool_userdata_get(&mut data, KEY.as_ptr(), pool);
        let kept = data as *mut Kept;
        if !kept.is_null() && !(*kept).shm.is_null() {
            if (*kept).signature == signature && (*kept).words == words {
                let base = ffi::apr_shm_baseaddr_get((*kept).shm) as *const AtomicU64;
                return Ok(std::slice::from_raw_parts(base, words));
            }
            ffi::apr_shm_destroy((*kept).shm);
            (*kept).shm = std::ptr::null_mut();
        }
        let mut shm: *mut ffi::apr_shm_t = std::ptr::null_mut();
        let rv = ffi::apr_shm_create(&mut shm, words * 8, std::ptr::null(), pool);
        if rv != 0 || shm.is_null() {
            return Err(format!(
                "cannot create {} bytes of anonymous shared memory for the metrics (APR error \
                 {rv})",
                words * 8
            ));
        }
        let kept = if kept.is_null() {
            let k = ffi::apr_palloc(pool, std::mem::size_of::<Kept>()) as *mut Kept;
            ffi::apr_pool_userdata_set(k as *const c_void, KEY.as_ptr(), None, pool);
            k
        } else {
            kept
        };
        kept.write(Kept {
            shm,
            signature,
            words,
        });
        let base = ffi::apr_shm_baseaddr_get(shm) as *const AtomicU64;
        Ok(std::slice::from_raw_parts(base, words))
    }
}
