//! Thin safe wrappers over the libc calls daemon mode needs, by topic:
//! descriptors (fd), sockets (socket), processes (process), memory, random
//! bytes, epoll-based connection parking, passing file descriptors over
//! UNIX sockets (fdpass), changing identity, signals and temporary files.
//! Each `unsafe` block here carries its SAFETY note; callers stay safe Rust.

pub(crate) mod epoll;
pub(crate) mod fd;
pub(crate) mod fdpass;
pub(crate) mod identity;
pub(crate) mod memory;
pub(crate) mod process;
pub(crate) mod random;
pub(crate) mod rusage;
pub(crate) mod signals;
pub(crate) mod socket;
pub(crate) mod stat;
pub(crate) mod stdio;
pub(crate) mod tempfile;
pub(crate) mod uninit;

use std::io;

/// The last OS error as an io::Error.
pub(crate) fn last_error() -> io::Error {
    io::Error::last_os_error()
}
