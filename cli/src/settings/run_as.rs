//! Who Apache's children and the application run as when started as root
//! (`--user`, `--group`), and whether that user can reach the application.

use std::path::Path;

use crate::access::{first_denial, Account, Denied};
use crate::cli::ServerArgs;
use crate::discover;
use crate::error::{warn, CliError, Result};
use crate::sys;

use super::{Entry, Settings};

/// www-data (or nobody), and its group (or nogroup).
fn default_user() -> (String, String) {
    let user = if discover::lookup_user("www-data").is_some() {
        "www-data"
    } else {
        "nobody"
    };
    let group = ["www-data", "nogroup", "nobody"]
        .into_iter()
        .find(|g| discover::lookup_group(g).is_some())
        .unwrap_or("nogroup");
    (user.to_string(), group.to_string())
}

/// `(user, group)` when started as root; None otherwise (Apache then runs
/// as the invoking user).
pub fn run_as(command: &str, a: &ServerArgs) -> Result<Option<(String, String)>> {
    if sys::euid() != 0 {
        if a.user.is_some() || a.group.is_some() {
            warn("--user and --group only apply when started as root; ignoring them");
        }
        return Ok(None);
    }
    let (du, dg) = default_user();
    let user = a.user.clone().unwrap_or(du);
    let group = a.group.clone().unwrap_or(dg);
    if user == "root" || user == "#0" {
        return Err(CliError::usage(
            command,
            "Apache will not serve requests as root: choose an unprivileged --user",
        ));
    }
    if discover::lookup_user(&user).is_none() {
        return Err(CliError::fail(format!("--user {user}: no such user")));
    }
    if discover::lookup_group(&group).is_none() {
        return Err(CliError::fail(format!("--group {group}: no such group")));
    }
    Ok(Some((user, group)))
}

/// Checks that Apache's user can reach the application: an error under
/// start-server (Apache would start and then fail every request), a warning
/// when only writing the configuration. Also decides whether the daemon
/// processes can start in the working directory.
pub fn check_access(s: &mut Settings) -> Result<()> {
    let Some((user, _)) = &s.run_as else {
        return Ok(());
    };
    let Some(who) = Account::lookup(user) else {
        return Ok(());
    };
    let wd_denied = first_denial(&s.working_directory, &who);
    if wd_denied.is_some() && !s.embedded {
        // The daemon could not chdir there: leave home= out.
        s.daemon_home = false;
        if matches!(s.entry, Entry::Script(_)) {
            warn(&format!(
                "{user} cannot enter the working directory {}: the daemon processes start in / \
                 instead (see --working-directory)",
                s.working_directory.display()
            ));
        }
    }
    let app = match &s.entry {
        Entry::Script(p) | Entry::Paste(p) | Entry::Static(p) => first_denial(p, &who),
        Entry::Module { .. } => wd_denied,
    };
    // The scripts of --add-handler and --auth-* are loaded by the same user.
    let scripts = s
        .handler_scripts
        .iter()
        .map(|(_, p)| ("add-handler", p))
        .chain(s.auth.scripts());
    let mut denials: Vec<String> = app.map(|d| d.message(user)).into_iter().collect();
    for (option, path) in scripts {
        if let Some(d) = first_denial(path, &who) {
            denials.push(format!("--{option}: {}", d.message(user)));
        }
    }
    if s.supervised {
        if let Some(message) = denials.into_iter().next() {
            return Err(CliError::fail(message));
        }
    } else {
        denials.iter().for_each(|m| warn(m));
    }
    warn_unreadable(&who, &s.module_so);
    Ok(())
}

fn warn_unreadable(who: &Account, file: &Path) {
    if let Some(Denied::Enter { .. } | Denied::ReadFile { .. }) = first_denial(file, who) {
        warn(&format!(
            "Apache's children run as {}, who may not be able to read {} (it or a directory \
             above it is not readable by others): chmod it, or pick another --user",
            who.name,
            file.display()
        ));
    }
}
