//! Filling a request's environ dict cheaply. Requests to one application
//! put the same keys in the same order, and most values repeat from one
//! request to the next (SERVER_NAME, REMOTE_ADDR on a kept-alive
//! connection, HTTP_USER_AGENT…). So each thread remembers its last
//! environ's entries by position, and keeps a template dict of the values
//! that may be shared: a request's dict starts as a copy of the template
//! (one block copy), and only a value that differs from the last request's
//! is decoded and set. `str` objects are immutable, so sharing them between
//! requests is invisible to applications; credentials (Authorization,
//! cookies) and long values are never kept beyond their request.

use super::strings::{environ_key, latin1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::cell::Cell;
use std::mem::ManuallyDrop;

/// Entries an environ dict is made room for: the CGI variables, the
/// request's headers and the wsgi.* / mod_wsgi.* keys of a typical request.
const ENVIRON_ENTRIES: isize = 64;

type NewPresized = unsafe extern "C" fn(pyo3::ffi::Py_ssize_t) -> *mut pyo3::ffi::PyObject;

/// CPython's `_PyDict_NewPresized`, looked up at run time: it is exported
/// by every CPython this module supports, but is not part of the stable
/// API (pyo3-ffi does not declare it), so if a Python lacks it the module
/// still loads and falls back to an empty dict.
fn new_presized() -> Option<NewPresized> {
    static FN: std::sync::OnceLock<Option<NewPresized>> = std::sync::OnceLock::new();
    *FN.get_or_init(|| {
        // SAFETY: dlsym with RTLD_DEFAULT searches the loaded objects (the
        // process already links libpython) for a NUL-terminated name.
        let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"_PyDict_NewPresized".as_ptr()) };
        // SAFETY: the symbol, when present, is CPython's function of this
        // signature (PyObject *_PyDict_NewPresized(Py_ssize_t minused)).
        (!sym.is_null())
            .then(|| unsafe { std::mem::transmute::<*mut libc::c_void, NewPresized>(sym) })
    })
}

/// A new dict with room for a request's environ (so it is not resized
/// while it fills; a copy of it has the same room).
pub(crate) fn environ_dict(py: Python<'_>) -> Bound<'_, PyDict> {
    if let Some(f) = new_presized() {
        // SAFETY: the GIL is held (`py`); the function returns a new
        // reference to a dict, or NULL with an exception set (then the
        // exception is cleared and a plain dict made below).
        let obj = unsafe { Bound::from_owned_ptr_or_opt(py, f(ENVIRON_ENTRIES)) };
        if let Some(d) = obj.and_then(|o| o.cast_into::<PyDict>().ok()) {
            return d;
        }
        let _ = PyErr::take(py);
    }
    PyDict::new(py)
}

/// Entries a thread remembers (an environ has a few dozen).
const REMEMBERED: usize = 128;
/// How far ahead an entry is looked for when the keys no longer line up
/// (a request with a header the last one did not have, or without one).
const LOOK_AHEAD: usize = 8;
/// Longer values are not shared (long URLs and cookies rarely repeat).
const SHARED_VALUE: usize = 256;
/// Removals from the template before it is rebuilt (a dict with many
/// removed slots is copied entry by entry instead of as one block).
const TEMPLATE_REMOVALS: u32 = 16;

/// The keys every environ gets with the same objects from one request to
/// the next (`finish_with`, in this order: the WSGI version and flags, the
/// file wrapper, the version tuples). A variable of one of these names
/// (`SetEnv wsgi.version …`) is dropped: the fixed value replaces it.
pub(crate) const FIXED_KEYS: [&str; 8] = [
    "wsgi.version",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
    "wsgi.input_terminated",
    "wsgi.file_wrapper",
    "mod_wsgi.version",
    "apache.version",
];

fn fixed_key(key: &[u8]) -> bool {
    FIXED_KEYS.iter().any(|k| k.as_bytes() == key)
}

/// Values never kept beyond their request: credentials.
fn secret(key: &[u8]) -> bool {
    let has = |needle: &[u8]| key.windows(needle.len()).any(|w| w == needle);
    has(b"AUTHORIZATION") || has(b"COOKIE")
}

/// An environ entry of this thread's last requests.
struct Entry {
    key: Box<[u8]>,
    key_str: Py<PyString>,
    /// The value the template holds for this key (when `in_template`).
    value: Vec<u8>,
    in_template: bool,
    /// False for credentials, and for a key put at two places of a
    /// request (the template holds one value per key).
    shareable: bool,
    /// The last request that put it.
    seen: u64,
}

/// A thread's memory of its last environs.
#[derive(Default)]
struct Recent {
    entries: Vec<Entry>,
    /// Key → value of every entry `in_template`.
    template: Option<Py<PyDict>>,
    removals: u32,
    requests: u64,
    /// The objects the template holds for `FIXED_KEYS` (empty when it
    /// holds none).
    fixed: Vec<Py<PyAny>>,
}

impl Recent {
    fn template<'py>(&mut self, py: Python<'py>) -> &Bound<'py, PyDict> {
        self.template
            .get_or_insert_with(|| environ_dict(py).unbind())
            .bind(py)
    }

    /// Takes `e`'s value out of the template.
    fn unshare(&mut self, py: Python<'_>, i: usize) {
        if !self.entries[i].in_template {
            return;
        }
        self.entries[i].in_template = false;
        let key = self.entries[i].key_str.clone_ref(py);
        let _ = self.template(py).del_item(key);
        self.removals += 1;
        if self.removals > TEMPLATE_REMOVALS {
            self.removals = 0;
            let fresh = environ_dict(py);
            let old = self.template(py).clone();
            for e in self.entries.iter().filter(|e| e.in_template) {
                if let Ok(Some(v)) = old.get_item(&e.key_str) {
                    let _ = fresh.set_item(&e.key_str, v);
                }
            }
            self.template = Some(fresh.unbind());
            self.fixed.clear();
        }
    }
}

thread_local! {
    // Taken by the environ being filled, put back when it is done (so a
    // request finds its thread's memory without a lookup per entry). The
    // objects are never released at thread exit, which may come without
    // the GIL (Apache's and the daemon's request threads live as long as
    // their process anyway).
    static RECENT: ManuallyDrop<Cell<Option<Box<Recent>>>> =
        const { ManuallyDrop::new(Cell::new(None)) };
}

/// A request's environ dict being filled, entry by entry.
pub(crate) struct EnvironFill<'py> {
    dict: Bound<'py, PyDict>,
    /// The thread's memory, while this environ is filled (another environ
    /// filled meanwhile on this thread, never expected, starts afresh).
    recent: Option<Box<Recent>>,
    /// This request's number on this thread.
    stamp: u64,
    /// The position in the thread's remembered entries.
    next: usize,
    /// The dict started as a copy of the template.
    copied: bool,
    error: Option<PyErr>,
}

impl Drop for EnvironFill<'_> {
    fn drop(&mut self) {
        if let Some(recent) = self.recent.take() {
            // The GIL is held (the dict's lifetime): whatever this replaces
            // may be released.
            RECENT.with(|c| c.set(Some(recent)));
        }
    }
}

impl<'py> EnvironFill<'py> {
    pub(crate) fn new(py: Python<'py>) -> EnvironFill<'py> {
        let mut recent = RECENT.with(|c| c.take()).unwrap_or_default();
        recent.requests += 1;
        let copied = match &recent.template {
            Some(t) if !t.bind(py).is_empty() => t.bind(py).copy().ok(),
            _ => None,
        };
        EnvironFill {
            copied: copied.is_some(),
            dict: copied.unwrap_or_else(|| environ_dict(py)),
            stamp: recent.requests,
            recent: Some(recent),
            next: 0,
            error: None,
        }
    }

    fn set(&mut self, key: &Bound<'py, PyString>, value: &Bound<'py, PyAny>) {
        if let Err(e) = self.dict.set_item(key, value) {
            self.error.get_or_insert(e);
        }
    }

    /// Sets `key` (latin-1) to `value` (latin-1); the first error is kept
    /// for `finish`.
    pub(crate) fn put(&mut self, key: &[u8], value: &[u8]) {
        let py = self.dict.py();
        let Some(mut r) = self.recent.take() else {
            if !fixed_key(key) {
                let (k, v) = (environ_key(py, key), latin1(py, value));
                self.set(&k, v.as_any());
            }
            return;
        };
        let end = (self.next + LOOK_AHEAD).min(r.entries.len());
        match (self.next..end).find(|&i| *r.entries[i].key == *key) {
            Some(i) => self.put_remembered(py, &mut r, i, value),
            None => self.put_new(py, &mut r, key, value),
        }
        self.recent = Some(r);
    }
    fn put_remembered(&mut self, py: Python<'py>, r: &mut Recent, i: usize, value: &[u8]) {
        self.next = i + 1;
        let e = &mut r.entries[i];
        e.seen = self.stamp;
        if e.in_template && e.value == value {
            return; // The copy of the template has it.
        }
        let (k, v) = (e.key_str.bind(py).clone(), latin1(py, value));
        self.set(&k, v.as_any());
        if e.shareable && value.len() <= SHARED_VALUE {
            e.value.clear();
            e.value.extend_from_slice(value);
            e.in_template = true;
            let _ = r.template(py).set_item(&k, &v);
        } else {
            r.unshare(py, i);
        }
    }

    fn put_new(&mut self, py: Python<'py>, r: &mut Recent, key: &[u8], value: &[u8]) {
        if fixed_key(key) {
            return;
        }
        let (k, v) = (environ_key(py, key), latin1(py, value));
        self.set(&k, v.as_any());
        // A key remembered at another place (the order changed, or it is
        // put twice): none of its entries is shared any more.
        let mut twice = false;
        for i in 0..r.entries.len() {
            if *r.entries[i].key == *key {
                twice = true;
                r.entries[i].shareable = false;
                r.unshare(py, i);
            }
        }
        let shareable = !twice && !secret(key);
        let in_template = shareable && value.len() <= SHARED_VALUE;
        if in_template {
            let _ = r.template(py).set_item(&k, &v);
        }
        let entry = Entry {
            key: key.into(),
            key_str: k.unbind(),
            value: if in_template {
                value.to_vec()
            } else {
                Vec::new()
            },
            in_template,
            shareable,
            seen: self.stamp,
        };
        let at = self.next.min(r.entries.len());
        if r.entries.len() < REMEMBERED {
            r.entries.insert(at, entry);
        } else if at < r.entries.len() {
            // Full: the entry here did not line up; this one replaces it.
            r.unshare(py, at);
            r.entries[at] = entry;
        } else {
            // Full, at the end: not remembered (nor in the template).
            if in_template {
                let _ = r.template(py).del_item(&entry.key_str);
            }
            return;
        }
        self.next = at + 1;
    }

    /// The dict with `FIXED_KEYS` set to `fixed`, or the first error met
    /// while filling it. The template keeps them too, so while they are
    /// the same objects (they are made once per process) the copy of the
    /// template already has them.
    pub(crate) fn finish_with(
        mut self,
        fixed: &[Bound<'py, PyAny>; FIXED_KEYS.len()],
    ) -> PyResult<Bound<'py, PyDict>> {
        let py = self.dict.py();
        let mut recent = self.recent.take();
        let same = |r: &Recent| {
            r.fixed.len() == fixed.len()
                && r.fixed
                    .iter()
                    .zip(fixed)
                    .all(|(a, b)| a.as_ptr() == b.as_ptr())
        };
        if !(self.copied && recent.as_deref().is_some_and(same)) {
            // The dict lacks them, or holds other objects.
            for (k, v) in FIXED_KEYS.iter().zip(fixed) {
                let k = environ_key(py, k.as_bytes());
                self.set(&k, v);
                if let Some(r) = recent.as_deref_mut() {
                    let _ = r.template(py).set_item(&k, v);
                }
            }
            if let Some(r) = recent.as_deref_mut() {
                r.fixed = fixed.iter().map(|v| v.clone().unbind()).collect();
            }
        }
        self.recent = recent;
        self.end()
    }

    /// The dict without `FIXED_KEYS` (a hook script's environ), or the
    /// first error met while filling it.
    pub(crate) fn finish(mut self) -> PyResult<Bound<'py, PyDict>> {
        let py = self.dict.py();
        let template_has_fixed = self.recent.as_deref().is_some_and(|r| !r.fixed.is_empty());
        if self.copied && template_has_fixed {
            for k in FIXED_KEYS {
                if let Err(err) = self.dict.del_item(environ_key(py, k.as_bytes())) {
                    self.error.get_or_insert(err);
                }
            }
        }
        self.end()
    }

    fn end(mut self) -> PyResult<Bound<'py, PyDict>> {
        // Keys the template gave this dict but this request did not put.
        if let Some(r) = &self.recent {
            for e in r.entries.iter() {
                if e.in_template && e.seen != self.stamp {
                    if let Err(err) = self.dict.del_item(&e.key_str) {
                        self.error.get_or_insert(err);
                    }
                }
            }
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(self.dict.clone()),
        }
    }
}
