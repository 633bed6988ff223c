//! Building environ's `str` objects cheaply: values are decoded as latin-1
//! in one pass by CPython, and keys (the same few dozen names on every
//! request) come from a per-process cache of interned strings, so neither
//! a new object nor a new hash is made for them.

use pyo3::prelude::*;
use pyo3::types::PyString;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;

/// Latin-1 bytes (every byte value is valid) as a Python `str`.
pub fn latin1<'py>(py: Python<'py>, bytes: &[u8]) -> Bound<'py, PyString> {
    let len = pyo3::ffi::Py_ssize_t::try_from(bytes.len()).unwrap_or(pyo3::ffi::Py_ssize_t::MAX);
    // SAFETY: the GIL is held (`py`); the pointer and length describe a
    // live slice that CPython only reads; latin-1 decoding cannot fail, and
    // a NULL result (out of memory) is turned into an empty string below
    // rather than dereferenced.
    let obj = unsafe {
        let ptr = pyo3::ffi::PyUnicode_DecodeLatin1(
            bytes.as_ptr() as *const std::os::raw::c_char,
            len,
            std::ptr::null(),
        );
        Bound::from_owned_ptr_or_opt(py, ptr)
    };
    match obj.and_then(|o| o.cast_into::<PyString>().ok()) {
        Some(s) => s,
        None => {
            // Out of memory: clear the error, keep going with "".
            let _ = PyErr::take(py);
            PyString::new(py, "")
        }
    }
}

/// A cheap hash seeded at random per process (keys are short; SipHash
/// cost more than building the string it saves). The seed keeps request
/// header names from being chosen to collide, and the cache is bounded.
#[derive(Clone)]
struct Seeded(u64);

impl BuildHasher for Seeded {
    type Hasher = SeededHasher;
    fn build_hasher(&self) -> SeededHasher {
        SeededHasher(self.0)
    }
}

struct SeededHasher(u64);

impl Hasher for SeededHasher {
    fn finish(&self) -> u64 {
        let h = self.0 ^ (self.0 >> 31);
        h.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (h >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            h = (h ^ u64::from_le_bytes(word))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29);
        }
        self.0 = h;
    }
}

fn seed() -> u64 {
    // RandomState is seeded from the OS's random source.
    std::collections::hash_map::RandomState::new().hash_one(0x6d6f_645f_7773_6769_u64)
}

type KeyCache = HashMap<Box<[u8]>, Py<PyString>, Seeded>;

/// At most this many keys are cached (names of request headers make up
/// the open-ended part); later new keys are simply built each time.
const MAX_KEYS: usize = 512;

static KEYS: Mutex<Option<KeyCache>> = Mutex::new(None);

/// An environ key as an interned Python `str`, from the cache.
pub(crate) fn environ_key<'py>(py: Python<'py>, key: &[u8]) -> Bound<'py, PyString> {
    // The lock is only taken with the GIL held and never held across
    // Python calls that could release it, so it cannot deadlock.
    let mut guard = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    let cache = guard.get_or_insert_with(|| KeyCache::with_hasher(Seeded(seed())));
    if let Some(s) = cache.get(key) {
        return s.bind(py).clone();
    }
    let s = latin1(py, key);
    if cache.len() < MAX_KEYS {
        let interned = PyString::intern(py, &s.to_string_lossy());
        cache.insert(key.into(), interned.clone().unbind());
        return interned;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_hash_separates_keys_and_depends_on_the_seed() {
        let h = |seed: u64, key: &[u8]| {
            let mut s = Seeded(seed).build_hasher();
            s.write(key);
            s.finish()
        };
        let keys: [&[u8]; 6] = [
            b"HTTP_HOST",
            b"HTTP_HOSU",
            b"PATH_INFO",
            b"REQUEST_METHOD",
            b"",
            b"\0",
        ];
        let mut seen: Vec<u64> = keys.iter().map(|k| h(1, k)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), keys.len());
        assert_ne!(h(1, b"HTTP_HOST"), h(2, b"HTTP_HOST"));
        assert_eq!(h(7, b"HTTP_HOST"), h(7, b"HTTP_HOST"));
    }
}
