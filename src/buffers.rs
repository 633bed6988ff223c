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
