//! `script-user=` / `script-group=`: a daemon process group that names one
//! runs only WSGI scripts owned by that user (or group), in a directory
//! owned by it, neither writable by others (for `script-user`, nor by the
//! group). As mod_wsgi does, the Apache child checks a request's script
//! before it goes to the daemon (and answers 403); the daemon checks its
//! `WSGIImportScript` / preloaded scripts the same way before running them.

use crate::config::DaemonProcess;
use crate::os::identity;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What `script-user=` / `script-group=` asks of a script's owner.
enum Owner {
    User(u32),
    Group(u32),
}

/// Checks `script` against the group's `script-user=` / `script-group=`.
/// Ok when neither is set or the script passes; otherwise the one-line
/// reason, naming the file, its owner and what the group expects.
pub(crate) fn check(cfg: &DaemonProcess, script: &Path) -> Result<(), String> {
    let (want, spec) = match (&cfg.script_user, &cfg.script_group) {
        (Some(u), _) => (
            identity::lookup_user(u).map(|(uid, _, _)| Owner::User(uid)),
            u,
        ),
        (None, Some(g)) => (identity::lookup_group(g).map(Owner::Group), g),
        (None, None) => return Ok(()),
    };
    let option = if cfg.script_user.is_some() {
        "script-user"
    } else {
        "script-group"
    };
    let want = want.map_err(|e| {
        format!(
            "daemon process group '{}' has {option}={spec}, which cannot be looked up ({e}); refusing {}",
            cfg.name,
            script.display()
        )
    })?;
    let dir = script.parent().unwrap_or(Path::new("/"));
    for (what, path) in [
        ("WSGI script", script),
        ("directory of the WSGI script", dir),
    ] {
        let m = std::fs::metadata(path).map_err(|e| {
            format!(
                "cannot check the owner of the {what} {} for {option}={spec}: {e}",
                path.display()
            )
        })?;
        let refuse = |why: String| {
            Err(format!(
                "the {what} {} {why}, but daemon process group '{}' requires {option}={spec}: refusing it",
                path.display(),
                cfg.name
            ))
        };
        let mode = m.mode();
        match want {
            Owner::User(uid) => {
                if m.uid() != uid {
                    return refuse(format!("is owned by user {}", user_text(m.uid())));
                }
                if mode & 0o020 != 0 {
                    return refuse("is writable by its group".to_string());
                }
            }
            Owner::Group(gid) => {
                if m.gid() != gid {
                    return refuse(format!("belongs to group {}", group_text(m.gid())));
                }
            }
        }
        if mode & 0o002 != 0 {
            return refuse("is writable by everyone".to_string());
        }
    }
    Ok(())
}

fn user_text(uid: u32) -> String {
    match identity::lookup_user(&format!("#{uid}")) {
        Ok((_, _, Some(name))) => format!("'{name}' (uid {uid})"),
        _ => format!("uid {uid}"),
    }
}

fn group_text(gid: u32) -> String {
    match identity::group_name(gid) {
        Some(name) => format!("'{name}' (gid {gid})"),
        None => format!("gid {gid}"),
    }
}
