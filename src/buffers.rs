//! Per-process pools of large, reused byte buffers: request bodies that an
//! Apache child receives before relaying them to a daemon, and wsgi.input's
//! buffers in either mode.

/// Large buffers shared by a process's threads: a request body is received
/// into one without allocating and zero-filling it, and gives it back when
/// it is done. Without a pool, each thread's heap kept the last large
/// buffers it freed (an Apache child held tens of MiB after concurrent
/// uploads).
pub(crate) struct Pool {
    free: std::sync::Mutex<Vec<Vec<u8>>>,
    size: usize,
    keep: usize,
}

impl Pool {
    pub(crate) const fn new(size: usize, keep: usize) -> Pool {
        Pool {
            free: std::sync::Mutex::new(Vec::new()),
            size,
            keep,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A buffer of `size` bytes (their content is whatever a previous body
    /// left: callers only expose what they received).
    pub(crate) fn take(&self) -> Vec<u8> {
        self.lock().pop().unwrap_or_else(|| vec![0u8; self.size])
    }

    pub(crate) fn give(&self, buf: Vec<u8>) {
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
        let pool = Pool::new(16, 2);
        let mut a = pool.take();
        a[0] = 7;
        let a_ptr = a.as_ptr();
        let (b, c) = (pool.take(), pool.take());
        pool.give(a);
        pool.give(b);
        pool.give(c); // over the limit: freed
        pool.give(vec![0u8; 3]); // not a pooled size: freed
        assert_eq!(pool.lock().len(), 2);
        let again = pool.take();
        let again2 = pool.take();
        assert!(again.as_ptr() == a_ptr || again2.as_ptr() == a_ptr);
        assert_eq!((again.len(), again2.len()), (16, 16));
        assert!(pool.lock().is_empty());
    }
}
