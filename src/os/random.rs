//! Random bytes from the kernel.
//!
//! The `getrandom` crate (the maintained wrapper of the getrandom(2)
//! system call) rather than reading `/dev/urandom`: a daemon process group
//! with `chroot=` usually has no `/dev` inside its root, and the system
//! call needs no file at all (nor a descriptor, which an exhausted
//! descriptor limit would refuse).

use std::io;

/// Fills `buf` with random bytes from the kernel.
pub(crate) fn fill(buf: &mut [u8]) -> io::Result<()> {
    getrandom::fill(buf).map_err(|e| {
        io::Error::other(format!(
            "the kernel gave no random bytes (getrandom: {e}); Linux 3.17 or later is needed"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_with_changing_bytes() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        fill(&mut a).unwrap();
        fill(&mut b).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
    }
}
