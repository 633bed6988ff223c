//! Thin safe wrappers over the libc calls daemon mode needs, by topic:
//! descriptors (fd), sockets (socket), processes (process), memory, random
//! bytes, epoll-based connection parking, passing file descriptors over
//! UNIX sockets (fdpass), changing identity, signals and temporary files.
//! Each `unsafe` block here carries its SAFETY note; callers stay safe Rust.

pub mod epoll;
pub mod fd;
pub mod fdpass;
pub mod identity;
pub mod memory;
pub mod process;
pub mod random;
pub mod rusage;
pub mod signals;
pub mod socket;
pub mod stat;
pub mod stdio;
pub mod tempfile;
pub mod uninit;

use std::io;

/// The last OS error as an io::Error.
pub fn last_error() -> io::Error {
    io::Error::last_os_error()
}
