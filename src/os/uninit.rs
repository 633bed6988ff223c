//! A buffer of memory not yet initialised, filled from the front (what
//! std's unstable `BorrowedBuf` does): reads go straight into memory that
//! was never zeroed, and only the filled part is ever seen as bytes.

use std::mem::MaybeUninit;

pub(crate) struct UninitBuf<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    /// `buf[..filled]` holds data.
    filled: usize,
    /// `buf[..init]` is initialised (data, or zeros from `unfilled_zeroed`).
    init: usize,
}

impl<'a> UninitBuf<'a> {
    pub(crate) fn new(buf: &'a mut [MaybeUninit<u8>]) -> UninitBuf<'a> {
        UninitBuf {
            buf,
            filled: 0,
            init: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn filled(&self) -> usize {
        self.filled
    }

    pub(crate) fn filled_bytes(&self) -> &[u8] {
        // SAFETY: `buf[..filled]` is initialised (filled <= init always).
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr() as *const u8, self.filled) }
    }

    /// The unfilled part as initialised bytes (zeroed once), for a reader
    /// that needs `&mut [u8]`; `advance` then counts what it wrote.
    pub(crate) fn unfilled_zeroed(&mut self) -> &mut [u8] {
        for b in &mut self.buf[self.init..] {
            b.write(0);
        }
        self.init = self.buf.len();
        // SAFETY: every byte from `filled` on is initialised (just above
        // or earlier); the slice is borrowed from `self`.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.buf.as_mut_ptr().add(self.filled) as *mut u8,
                self.buf.len() - self.filled,
            )
        }
    }

    /// `n` more bytes of the (zeroed or written) unfilled part are data.
    pub(crate) fn advance(&mut self, n: usize) {
        self.filled = (self.filled + n).min(self.init);
    }

    /// Copies as much of `data` as fits after the filled part: the number
    /// of bytes copied.
    pub(crate) fn put(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.buf.len() - self.filled);
        // SAFETY: `n` bytes fit after `filled`; `data` is initialised and
        // cannot overlap memory borrowed mutably here.
        unsafe {
            std::ptr::copy_nonoverlapping(
                data.as_ptr(),
                self.buf.as_mut_ptr().add(self.filled) as *mut u8,
                n,
            );
            self.assume_filled(n);
        }
        n
    }

    /// The unfilled part as raw memory, for C to write into.
    ///
    /// # Safety
    /// The caller may only write the returned `len` bytes from the pointer,
    /// and must call `assume_filled` with at most the number written.
    pub(crate) unsafe fn unfilled_raw(&mut self) -> (*mut u8, usize) {
        // SAFETY: `filled` is within the buffer.
        let ptr = unsafe { self.buf.as_mut_ptr().add(self.filled) } as *mut u8;
        (ptr, self.buf.len() - self.filled)
    }

    /// # Safety
    /// The `n` bytes after the filled part have been written.
    pub(crate) unsafe fn assume_filled(&mut self, n: usize) {
        self.filled += n;
        self.init = self.init.max(self.filled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_then_advanced() {
        let mut mem = [MaybeUninit::<u8>::uninit(); 8];
        let mut b = UninitBuf::new(&mut mem);
        assert_eq!(b.filled_bytes(), b"");
        b.unfilled_zeroed()[..3].copy_from_slice(b"abc");
        b.advance(3);
        assert_eq!(b.filled_bytes(), b"abc");
        assert_eq!(b.unfilled_zeroed().len(), 5);
        b.advance(100);
        assert_eq!(b.filled(), 8);
        assert_eq!(&b.filled_bytes()[3..], &[0; 5]);
    }

    #[test]
    fn put_copies_what_fits() {
        let mut mem = [MaybeUninit::<u8>::uninit(); 5];
        let mut b = UninitBuf::new(&mut mem);
        assert_eq!(b.put(b"abc"), 3);
        assert_eq!(b.put(b"defg"), 2);
        assert_eq!(b.filled_bytes(), b"abcde");
        assert_eq!(b.put(b"x"), 0);
    }
}
