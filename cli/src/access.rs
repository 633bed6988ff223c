//! Whether Apache's user can reach a file: the mode bits of the file and of
//! every directory above it, in the class (owner, group, other) the kernel
//! would apply to that user. POSIX ACLs are not read, so a path an ACL
//! opens may be reported as closed.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::discover;
use crate::sys;

/// A user as the kernel checks permissions for it.
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gids: Vec<u32>,
}

impl Account {
    /// The account `name` (a user name or `#uid`), with its groups.
    pub fn lookup(name: &str) -> Option<Account> {
        let (uid, gid) = discover::lookup_user(name)?;
        let mut gids = sys::group_list(name, gid);
        if !gids.contains(&gid) {
            gids.push(gid);
        }
        Some(Account {
            name: name.to_string(),
            uid,
            gids,
        })
    }

    /// Whether the rwx `bits` (4, 2, 1 combined) are granted by `m`.
    fn allowed(&self, m: &fs::Metadata, bits: u32) -> bool {
        if self.uid == 0 {
            return true;
        }
        let mode = m.mode();
        let class = if m.uid() == self.uid {
            mode >> 6
        } else if self.gids.contains(&m.gid()) {
            mode >> 3
        } else {
            mode
        };
        class & bits == bits
    }
}

/// The first thing on the way to a path that the user may not do.
#[derive(Debug, PartialEq)]
pub enum Denied {
    /// A directory above it cannot be searched.
    Enter { dir: PathBuf, mode: u32 },
    /// The file cannot be read.
    ReadFile { file: PathBuf, mode: u32 },
    /// The directory cannot be listed and searched.
    ReadDir { dir: PathBuf, mode: u32 },
}

impl Denied {
    /// One line naming the obstacle and the ways around it.
    pub fn message(&self, user: &str) -> String {
        match self {
            Denied::Enter { dir, mode } => format!(
                "Apache's user {user} cannot enter {} (mode {mode:04o}): move the app elsewhere, \
                 chmod o+x {}, or pass --user",
                dir.display(),
                dir.display()
            ),
            Denied::ReadFile { file, mode } => format!(
                "Apache's user {user} cannot read {} (mode {mode:04o}): chmod o+r {}, or pass \
                 --user",
                file.display(),
                file.display()
            ),
            Denied::ReadDir { dir, mode } => format!(
                "Apache's user {user} cannot read the directory {} (mode {mode:04o}): move the \
                 app elsewhere, chmod o+rx {}, or pass --user",
                dir.display(),
                dir.display()
            ),
        }
    }
}

fn mode(m: &fs::Metadata) -> u32 {
    m.mode() & 0o7777
}

/// The first directory (from the top) the user cannot search on the way to
/// `path` as written, then on its real path (symlinks resolved), then
/// `path` itself: a file must be readable, a directory readable and
/// searchable. None when everything is open or a part does not exist.
pub fn first_denial(path: &Path, who: &Account) -> Option<Denied> {
    let mut ways = vec![path.to_path_buf()];
    if let Ok(real) = fs::canonicalize(path) {
        if real != path {
            ways.push(real);
        }
    }
    for way in &ways {
        let mut above: Vec<&Path> = way.ancestors().skip(1).collect();
        above.reverse();
        for dir in above {
            let Ok(m) = fs::metadata(dir) else {
                return None;
            };
            if !who.allowed(&m, 0o1) {
                return Some(Denied::Enter {
                    dir: dir.to_path_buf(),
                    mode: mode(&m),
                });
            }
        }
    }
    let m = fs::metadata(path).ok()?;
    if m.is_dir() {
        (!who.allowed(&m, 0o5)).then(|| Denied::ReadDir {
            dir: path.to_path_buf(),
            mode: mode(&m),
        })
    } else {
        (!who.allowed(&m, 0o4)).then(|| Denied::ReadFile {
            file: path.to_path_buf(),
            mode: mode(&m),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn nobody_like() -> Account {
        // A uid and gid owning nothing here.
        Account {
            name: "tester".into(),
            uid: 4_000_000,
            gids: vec![4_000_000],
        }
    }

    #[test]
    fn closed_directory_is_named() {
        let base = std::env::temp_dir().join(format!("mwr-access-{}", std::process::id()));
        let private = base.join("private");
        fs::create_dir_all(&private).unwrap();
        let app = private.join("app.wsgi");
        fs::write(&app, "").unwrap();
        fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(&app, fs::Permissions::from_mode(0o644)).unwrap();
        let who = nobody_like();

        fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).unwrap();
        let d = first_denial(&app, &who).unwrap();
        assert_eq!(
            d,
            Denied::Enter {
                dir: private.clone(),
                mode: 0o700
            }
        );
        assert!(d.message("www-data").contains("chmod o+x"));

        fs::set_permissions(&private, fs::Permissions::from_mode(0o711)).unwrap();
        assert_eq!(first_denial(&app, &who), None);

        fs::set_permissions(&app, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            first_denial(&app, &who),
            Some(Denied::ReadFile { mode: 0o600, .. })
        ));
        // The owner class applies to the owner, whatever "other" allows.
        let me = Account {
            name: "me".into(),
            uid: fs::metadata(&app).unwrap().uid(),
            gids: vec![],
        };
        if me.uid != 0 {
            fs::set_permissions(&app, fs::Permissions::from_mode(0o044)).unwrap();
            assert!(first_denial(&app, &me).is_some());
        }
        fs::remove_dir_all(&base).unwrap();
    }
}
