//! A new `bytes` object filled in place (e.g. by a read with the GIL
//! released), so data reaches Python without a copy from a Rust buffer.

use crate::os::uninit::UninitBuf;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::mem::MaybeUninit;

/// A `bytes` object of at most `len` bytes, which `fill` writes in place;
/// when it fills fewer, the filled prefix is copied into a smaller one.
///
/// `fill` may release the GIL while it writes: the object is new, only
/// this function holds a reference to it and no Python code has seen it,
/// so no other thread can reach its buffer, which never moves.
pub(crate) fn filled<'py>(
    py: Python<'py>,
    len: usize,
    fill: impl FnOnce(&mut UninitBuf<'_>) -> PyResult<()>,
) -> PyResult<Bound<'py, PyBytes>> {
    let size = pyo3::ffi::Py_ssize_t::try_from(len)
        .map_err(|_| pyo3::exceptions::PyOverflowError::new_err("read size too large"))?;
    // SAFETY: the GIL is held; a NULL source makes CPython allocate `len`
    // bytes it leaves uninitialised; NULL (out of memory) becomes the
    // error set.
    let obj = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyBytes_FromStringAndSize(std::ptr::null(), size),
        )?
        .cast_into_unchecked::<PyBytes>()
    };
    // SAFETY: the object's buffer holds `len` bytes (plus CPython's NUL)
    // and stays where it is while `obj` lives, which outlives `mem`; it is
    // only written through the UninitBuf, which hands out initialised
    // bytes only.
    let mem = unsafe {
        let ptr = pyo3::ffi::PyBytes_AsString(obj.as_ptr()) as *mut MaybeUninit<u8>;
        std::slice::from_raw_parts_mut(ptr, len)
    };
    let mut buf = UninitBuf::new(mem);
    fill(&mut buf)?;
    if buf.filled() == len {
        Ok(obj)
    } else {
        Ok(PyBytes::new(py, buf.filled_bytes()))
    }
}
