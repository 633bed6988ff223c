//! Who a daemon process runs as: looking users and groups up, and dropping
//! root's privileges for good. Every call is checked; the caller exits
//! rather than serve with privileges it did not ask for (CVE-2014-0240,
//! CVE-2014-8583).

use std::ffi::{CStr, CString};

/// A target identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// For initgroups (the user's supplementary groups).
    pub(crate) user_name: Option<String>,
    /// Explicit supplementary groups (instead of the user's own).
    pub(crate) groups: Option<Vec<u32>>,
}

fn errno_text() -> String {
    std::io::Error::last_os_error().to_string()
}

/// Looks up a user by name or `#uid`: (uid, primary gid, name).
pub(crate) fn lookup_user(spec: &str) -> Result<(u32, u32, Option<String>), String> {
    if let Some(num) = spec.strip_prefix('#') {
        let uid: u32 = num
            .parse()
            .map_err(|_| format!("'{spec}' is not a user id"))?;
        // SAFETY: getpwuid returns NULL or a pointer to static storage that
        // we copy from before any other passwd call.
        unsafe {
            let pw = libc::getpwuid(uid);
            if pw.is_null() {
                return Ok((uid, uid, None));
            }
            let name = CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned();
            return Ok((uid, (*pw).pw_gid, Some(name)));
        }
    }
    let c = CString::new(spec).map_err(|_| format!("bad user name '{spec}'"))?;
    // SAFETY: as above for getpwnam.
    unsafe {
        let pw = libc::getpwnam(c.as_ptr());
        if pw.is_null() {
            return Err(format!("no such user '{spec}'"));
        }
        Ok(((*pw).pw_uid, (*pw).pw_gid, Some(spec.to_string())))
    }
}

/// Looks up a group by name or `#gid`.
pub(crate) fn lookup_group(spec: &str) -> Result<u32, String> {
    if let Some(num) = spec.strip_prefix('#') {
        return num
            .parse()
            .map_err(|_| format!("'{spec}' is not a group id"));
    }
    let c = CString::new(spec).map_err(|_| format!("bad group name '{spec}'"))?;
    // SAFETY: getgrnam returns NULL or static storage we read at once.
    unsafe {
        let gr = libc::getgrnam(c.as_ptr());
        if gr.is_null() {
            return Err(format!("no such group '{spec}'"));
        }
        Ok((*gr).gr_gid)
    }
}

/// The name of group `gid`, if it has one.
pub(crate) fn group_name(gid: u32) -> Option<String> {
    // SAFETY: getgrgid returns NULL or static storage we copy from at once.
    unsafe {
        let gr = libc::getgrgid(gid);
        if gr.is_null() {
            return None;
        }
        Some(CStr::from_ptr((*gr).gr_name).to_string_lossy().into_owned())
    }
}

pub(crate) fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() }
}

pub(crate) fn current_gid() -> u32 {
    // SAFETY: getgid has no preconditions.
    unsafe { libc::getgid() }
}

/// The supplementary groups of this process.
pub(crate) fn current_groups() -> Vec<u32> {
    // SAFETY: the first call asks for the count, the second fills a
    // buffer of exactly that size.
    unsafe {
        let n = libc::getgroups(0, std::ptr::null_mut());
        if n <= 0 {
            return Vec::new();
        }
        let mut v = vec![0 as libc::gid_t; n as usize];
        let n = libc::getgroups(n, v.as_mut_ptr());
        v.truncate(n.max(0) as usize);
        v
    }
}

/// Changes the root directory (before dropping privileges).
pub(crate) fn chroot(path: &str) -> Result<(), String> {
    let c = CString::new(path).map_err(|_| "chroot path contains NUL".to_string())?;
    // SAFETY: chroot and chdir with a valid C string.
    unsafe {
        if libc::chroot(c.as_ptr()) != 0 {
            return Err(format!("chroot('{path}') failed: {}", errno_text()));
        }
        if libc::chdir(c"/".as_ptr()) != 0 {
            return Err(format!("chdir('/') after chroot failed: {}", errno_text()));
        }
    }
    Ok(())
}

/// Becomes `id` for good when running as root; when not root, only checks
/// that `id` is who we already are.
pub(crate) fn become_user(id: &Identity) -> Result<(), String> {
    if current_uid() != 0 {
        if id.uid != current_uid() {
            return Err(format!(
                "cannot switch to uid {} without running as root (running as uid {}): remove \
                 user=/group= or start Apache as root",
                id.uid,
                current_uid()
            ));
        }
        return Ok(());
    }
    if id.uid == 0 {
        return Err("refusing to run a daemon process as root: set user= to another user".into());
    }
    // SAFETY: setgroups/initgroups/setgid/setuid with valid arguments; each
    // result is checked.
    unsafe {
        match (&id.groups, &id.user_name) {
            (Some(groups), _) => {
                let g: Vec<libc::gid_t> = groups.clone();
                if libc::setgroups(g.len(), g.as_ptr()) != 0 {
                    return Err(format!("setgroups({groups:?}) failed: {}", errno_text()));
                }
            }
            (None, Some(name)) => {
                let c = CString::new(name.as_str()).map_err(|_| "bad user name".to_string())?;
                if libc::initgroups(c.as_ptr(), id.gid) != 0 {
                    return Err(format!(
                        "initgroups('{name}', {}) failed: {}",
                        id.gid,
                        errno_text()
                    ));
                }
            }
            (None, None) => {
                let g = [id.gid];
                if libc::setgroups(1, g.as_ptr()) != 0 {
                    return Err(format!("setgroups([{}]) failed: {}", id.gid, errno_text()));
                }
            }
        }
        if libc::setgid(id.gid) != 0 {
            return Err(format!("setgid({}) failed: {}", id.gid, errno_text()));
        }
        if libc::setuid(id.uid) != 0 {
            return Err(format!("setuid({}) failed: {}", id.uid, errno_text()));
        }
        // Root must be gone for good.
        if libc::setuid(0) == 0 || libc::getuid() != id.uid || libc::geteuid() != id.uid {
            return Err("privileges could not be dropped completely".into());
        }
        if libc::getgid() != id.gid || libc::getegid() != id.gid {
            return Err("the group could not be changed completely".into());
        }
    }
    if current_groups().contains(&0)
        && id.gid != 0
        && !id.groups.as_ref().is_some_and(|g| g.contains(&0))
    {
        return Err("root's group is still among the supplementary groups".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_root_and_numeric_ids() {
        assert_eq!(lookup_user("root").unwrap().0, 0);
        assert_eq!(lookup_user("#0").unwrap().0, 0);
        assert!(lookup_user("no-such-user-xyz").is_err());
        assert!(lookup_user("#abc").is_err());
        assert_eq!(lookup_group("#5").unwrap(), 5);
        assert!(lookup_group("no-such-group-xyz").is_err());
    }

    #[test]
    fn refuses_to_become_root() {
        if current_uid() == 0 {
            let id = Identity {
                uid: 0,
                gid: 0,
                user_name: None,
                groups: None,
            };
            assert!(become_user(&id).unwrap_err().contains("root"));
        }
    }
}
