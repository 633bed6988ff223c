//! Per-process pools of large, reused byte buffers: request bodies that an
//! Apache child receives before relaying them to a daemon, and wsgi.input's
//! buffers in either mode.

use std::io;
use std::ops::DerefMut;

/// A buffer a `Pool` hands out: `size` bytes, zeroed when new.
pub(crate) trait Buffer: DerefMut<Target = [u8]> + Sized {
    fn alloc(size: usize) -> io::Result<Self>;
}

impl Buffer for Vec<u8> {
    fn alloc(size: usize) -> io::Result<Self> {
        Ok(vec![0u8; size])
    }
}

/// A buffer with pages of its own (an anonymous mapping), unmapped when
/// it is dropped: its memory goes back to the system at once instead of
/// staying in the malloc arena of the thread that freed it. An Apache
/// child has many threads, hence many arenas, and each kept the large
/// buffers its threads had freed (tens of MiB after concurrent uploads).
pub(crate) struct Pages(memmap2::MmapMut);

impl Buffer for Pages {
    fn alloc(size: usize) -> io::Result<Self> {
        memmap2::MmapMut::map_anon(size).map(Pages)
    }
}

impl std::ops::Deref for Pages {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl DerefMut for Pages {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

/// Large buffers shared by a process's threads: a request body is received
/// into one without allocating and zero-filling it, and gives it back when
/// it is done; beyond `keep` free ones, a buffer given back is freed.
pub(crate) struct Pool<B = Vec<u8>> {
    free: std::sync::Mutex<Vec<B>>,
    size: usize,
    keep: usize,
}

impl<B: Buffer> Pool<B> {
    pub(crate) const fn new(size: usize, keep: usize) -> Pool<B> {
        Pool {
            free: std::sync::Mutex::new(Vec::new()),
            size,
            keep,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<B>> {
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A buffer of `size` bytes (their content is whatever a previous body
    /// left: callers only expose what they received).
    pub(crate) fn take(&self) -> io::Result<B> {
        match self.lock().pop() {
            Some(b) => Ok(b),
            None => B::alloc(self.size),
        }
    }

    pub(crate) fn give(&self, buf: B) {
        if buf.len() == self.size {
            let mut free = self.lock();
            if free.len() < self.keep {
                free.push(buf);
            }
        }
    }
}

/// Buffers lent to C code as bare pointers (the memory of an APR heap
/// bucket) and given back by that pointer when the C side frees it, from
/// whichever thread: a `Pool` of `size`-byte buffers with pages of their
/// own, so no thread's malloc arena keeps any of it.
pub(crate) struct Lender {
    pool: Pool<Pages>,
    /// What is lent out: its owner until given back (a handful at a time,
    /// so a scan finds a pointer faster than a hash would).
    lent: std::sync::Mutex<Vec<Pages>>,
}

impl Lender {
    pub(crate) const fn new(size: usize, keep: usize) -> Lender {
        Lender {
            pool: Pool::new(size, keep),
            lent: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The size of every buffer lent.
    pub(crate) const fn size(&self) -> usize {
        self.pool.size
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Pages>> {
        self.lent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `size()` writable bytes, valid until `give_back` with the same
    /// pointer (their content is whatever an earlier borrower left).
    pub(crate) fn lend(&self) -> io::Result<*mut u8> {
        let mut buf = self.pool.take()?;
        // The mapping does not move when its owner does.
        let ptr = buf.as_mut_ptr();
        self.lock().push(buf);
        Ok(ptr)
    }

    /// Takes back what `lend` gave as `ptr`; false (and nothing done) for a
    /// pointer it did not lend or that was given back already.
    pub(crate) fn give_back(&self, ptr: *const u8) -> bool {
        let buf = {
            let mut lent = self.lock();
            match lent.iter().position(|b| b.as_ptr() == ptr) {
                Some(i) => lent.swap_remove(i),
                None => return false,
            }
        };
        self.pool.give(buf);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_reuses_buffers_up_to_its_limit() {
        let pool: Pool = Pool::new(16, 2);
        let mut a = pool.take().unwrap();
        a[0] = 7;
        let a_ptr = a.as_ptr();
        let (b, c) = (pool.take().unwrap(), pool.take().unwrap());
        pool.give(a);
        pool.give(b);
        pool.give(c); // over the limit: freed
        pool.give(vec![0u8; 3]); // not a pooled size: freed
        assert_eq!(pool.lock().len(), 2);
        let again = pool.take().unwrap();
        let again2 = pool.take().unwrap();
        assert!(again.as_ptr() == a_ptr || again2.as_ptr() == a_ptr);
        assert_eq!((again.len(), again2.len()), (16, 16));
        assert!(pool.lock().is_empty());
    }

    #[test]
    fn lent_buffers_come_back_by_pointer_and_are_reused() {
        let lender = Lender::new(64 * 1024, 1);
        assert_eq!(lender.size(), 64 * 1024);
        let a = lender.lend().unwrap();
        let b = lender.lend().unwrap();
        assert!(a != b);
        assert_eq!(lender.lock().len(), 2);
        assert!(lender.give_back(b));
        assert!(!lender.give_back(b), "given back twice");
        assert!(!lender.give_back(std::ptr::null()));
        assert!(lender.give_back(a));
        assert!(lender.lock().is_empty());
        // One kept (the pool's limit), the other unmapped.
        assert_eq!(lender.pool.lock().len(), 1);
        let again = lender.lend().unwrap();
        assert!(again == b || again == a);
        assert!(lender.pool.lock().is_empty());
        assert!(lender.give_back(again));
    }

    #[test]
    fn pages_are_zeroed_and_pooled() {
        let pool: Pool<Pages> = Pool::new(1 << 20, 1);
        let mut a = pool.take().unwrap();
        assert_eq!(a.len(), 1 << 20);
        assert!(a.iter().all(|&b| b == 0));
        a[5] = 1;
        pool.give(a);
        assert_eq!(pool.take().unwrap()[5], 1);
    }
}
