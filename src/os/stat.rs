//! File status of a descriptor.

/// The size of the regular file open on `fd`, or None when `fd` is not
/// an open descriptor of a regular file (a pipe, a socket, a closed fd).
pub(crate) fn regular_file_size(fd: i32) -> Option<i64> {
    // SAFETY: an all-zero stat is a valid out-buffer, and fstat on any
    // descriptor number only fills it or fails (EBADF for a closed one).
    let st = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut st) != 0 {
            return None;
        }
        st
    };
    (st.st_mode & libc::S_IFMT == libc::S_IFREG).then_some(st.st_size)
}
