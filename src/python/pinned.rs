//! A `bytes` object's buffer, readable without the GIL while held.

use crate::httpd::brigade::Pinned;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// A strong reference to a `bytes` object and a range of its buffer.
///
/// The buffer of a `bytes` object (subclasses included) never moves and
/// never changes while the object lives, and the strong reference keeps it
/// alive, so the range may be read without the GIL, from any thread. Only
/// `bytes` qualifies: a bytearray or memoryview can be resized or written
/// while the GIL is released, so those are copied.
pub(crate) struct PinnedBytes {
    /// Always Some until drop.
    obj: Option<Py<PyBytes>>,
    ptr: *const u8,
    len: usize,
}

// SAFETY: the pointer is into an immutable buffer kept alive by `obj`
// (see the type's comment); Py<PyBytes> is Send itself.
unsafe impl Send for PinnedBytes {}

impl PinnedBytes {
    /// Holds `bytes[range]`; `range` must lie within the object.
    pub(crate) fn new(bytes: &Bound<'_, PyBytes>, range: std::ops::Range<usize>) -> PinnedBytes {
        let data = &bytes.as_bytes()[range];
        PinnedBytes {
            obj: Some(bytes.clone().unbind()),
            ptr: data.as_ptr(),
            len: data.len(),
        }
    }
}

// SAFETY: `bytes()` returns the same range of an immutable `bytes` buffer
// for as long as `obj` holds its strong reference (until drop), and reading
// it needs neither the GIL nor a lock.
unsafe impl Pinned for PinnedBytes {
    fn bytes(&self) -> &[u8] {
        // SAFETY: ptr/len were taken from the object's buffer, which stays
        // valid and unchanged while `obj` holds it (see the type's comment).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for PinnedBytes {
    /// The reference is given up with the GIL held: at once when this
    /// thread holds it (the usual case: owners are released while the next
    /// block is staged), else it is taken for the decrement. Dropping a
    /// `bytes` object runs no Python code.
    fn drop(&mut self) {
        if let Some(obj) = self.obj.take() {
            Python::attach(|py| obj.drop_ref(py));
        }
    }
}
