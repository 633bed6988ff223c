//! Random bytes from the kernel.

use std::io;

/// Random bytes from the kernel.
pub fn fill(buf: &mut [u8]) -> io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}
