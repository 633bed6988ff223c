//! `--host-access-script` and `--auth-*`: the Python scripts that decide
//! who may use the site, checked (they exist, they go together).

use std::path::PathBuf;

use crate::cli::ServerArgs;
use crate::error::{warn, CliError, Result};

use super::handlers::script;

/// HTTP authentication by `--auth-user-script`.
#[derive(Clone, Debug)]
pub struct UserAuth {
    pub script: PathBuf,
    /// `Basic` or `Digest`.
    pub auth_type: String,
    /// `--auth-group-script` and the `--auth-group` its users must be in.
    pub group: Option<(PathBuf, String)>,
}

/// Who may use the site.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    pub access_script: Option<PathBuf>,
    pub user: Option<UserAuth>,
}

impl Auth {
    /// Whether any script runs (in Apache's children) for each request.
    pub fn any(&self) -> bool {
        self.access_script.is_some() || self.user.is_some()
    }

    /// The scripts with the option that named each.
    pub fn scripts(&self) -> Vec<(&'static str, &PathBuf)> {
        let mut out = Vec::new();
        if let Some(p) = &self.access_script {
            out.push(("host-access-script", p));
        }
        if let Some(u) = &self.user {
            out.push(("auth-user-script", &u.script));
            if let Some((g, _)) = &u.group {
                out.push(("auth-group-script", g));
            }
        }
        out
    }
}

pub fn auth(command: &str, a: &ServerArgs) -> Result<Auth> {
    let x = &a.auth;
    let access_script = x
        .host_access_script
        .as_deref()
        .map(|p| script("host-access-script", p))
        .transpose()?;
    let Some(user_script) = &x.auth_user_script else {
        if x.auth_group_script.is_some() {
            return Err(CliError::usage(
                command,
                "--auth-group-script needs --auth-user-script (the script that authenticates \
                 the users whose groups it gives)",
            ));
        }
        if x.auth_type.is_some() {
            warn("--auth-type has no effect without --auth-user-script");
        }
        if x.auth_group.is_some() {
            warn("--auth-group has no effect without --auth-group-script");
        }
        return Ok(Auth {
            access_script,
            user: None,
        });
    };
    let group = match &x.auth_group_script {
        Some(g) => Some((
            script("auth-group-script", g)?,
            x.auth_group.clone().unwrap_or_else(|| "wsgi".to_string()),
        )),
        None => {
            if x.auth_group.is_some() {
                warn("--auth-group has no effect without --auth-group-script");
            }
            None
        }
    };
    Ok(Auth {
        access_script,
        user: Some(UserAuth {
            script: script("auth-user-script", user_script)?,
            auth_type: x.auth_type.clone().unwrap_or_else(|| "Basic".to_string()),
            group,
        }),
    })
}
