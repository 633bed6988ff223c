//! Anonymous temporary files, for spooling request and response bodies:
//! O_TMPFILE where the filesystem has it (overlay filesystems in containers
//! may not), else a uniquely named file that is unlinked at once.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// A new anonymous temporary file in the process's temporary directory
/// (TMPDIR, else /tmp). `what` names its use and `hint` says what the user
/// can change, for the error message.
pub(crate) fn create(what: &str, hint: &str) -> io::Result<File> {
    create_in(&std::env::temp_dir(), true, what, hint)
}

pub(crate) fn create_in(
    dir: &Path,
    try_anonymous: bool,
    what: &str,
    hint: &str,
) -> io::Result<File> {
    if try_anonymous {
        let anonymous = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE)
            .open(dir);
        // Never on 0-2, which the application may have freed: its stderr
        // would go into the spooled body (os::stdio).
        if let Ok(f) = anonymous {
            return Ok(super::stdio::lifted(f));
        }
    }
    let mut last = None;
    for _ in 0..16 {
        let mut rnd = [0u8; 8];
        super::random::fill(&mut rnd)?;
        let path = dir.join(format!(
            "mod_wsgi_rs-spool-{:016x}",
            u64::from_ne_bytes(rnd)
        ));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => {
                let _ = std::fs::remove_file(&path);
                return Ok(super::stdio::lifted(f));
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| io::Error::other("no free name"));
    Err(io::Error::new(
        e.kind(),
        format!(
            "cannot create a temporary file in {} for {what}: {e}; make it writable by the \
             process's user, set TMPDIR for Apache, or {hint}",
            dir.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom, Write};

    #[test]
    fn named_fallback_works_and_leaves_nothing() {
        let dir = std::env::temp_dir().join(format!("mwrs-tmp-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut f = create_in(&dir, false, "a test", "fix it").unwrap();
        f.write_all(b"spooled").unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "spooled");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir(&dir).unwrap();
        let e =
            create_in(Path::new("/nonexistent-dir-xyz"), false, "a test", "fix it").unwrap_err();
        assert!(
            e.to_string().contains("for a test") && e.to_string().contains("fix it"),
            "{e}"
        );
    }

    /// A daemon group with `chroot=` has no /dev inside its root: a named
    /// temporary file (the fallback where O_TMPFILE is missing) still gets
    /// its random name. Needs root (chroot); checked in a forked child.
    #[test]
    fn named_fallback_works_inside_a_chroot_without_dev() {
        if crate::os::identity::current_uid() != 0 {
            eprintln!("skipped: chroot needs root");
            return;
        }
        let root = std::env::temp_dir().join(format!("mwrs-chroot-test-{}", std::process::id()));
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        let root_str = root.to_str().unwrap().to_string();
        let pid = crate::os::process::fork().unwrap();
        if pid == 0 {
            // The child: only chroot, one temporary file, then _exit.
            let ok = crate::os::identity::chroot(&root_str).is_ok()
                && !Path::new("/dev").exists()
                && create_in(Path::new("/tmp"), false, "a test", "fix it").is_ok();
            crate::os::process::exit_now(if ok { 0 } else { 1 });
        }
        let mut status = 0;
        // SAFETY: waits for our own child, writing one int.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(waited, pid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "creating a named temporary file inside a chroot without /dev failed \
             (status {status:#x})"
        );
    }

    #[test]
    fn temp_files_are_anonymous() {
        let mut f = create("a test", "fix it").unwrap();
        f.write_all(b"abc").unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "abc");
    }
}
