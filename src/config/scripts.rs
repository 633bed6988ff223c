//! The script files of the auth directives, parsed as mod_wsgi 6.1 parses
//! them: `WSGIAccessScript`, `WSGIAuthUserScript` and
//! `WSGIAuthGroupScript` take the file, then only `application-group=NAME`.
//! They always run in the Apache child (mod_wsgi has no `process-group=`
//! for them: authentication happens before a request is handed to a
//! daemon).

use super::groups::{parse_application_group, AppGroup};
use super::values::unquote;

/// An auth script and the application group it runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScriptFile {
    /// The script file, as written.
    pub(crate) file: String,
    /// `application-group=`; None = `%{GLOBAL}`.
    pub(crate) application_group: Option<AppGroup>,
}

impl ScriptFile {
    /// The application group the script runs in, `%{GLOBAL}` unless
    /// `application-group=` says otherwise.
    pub(crate) fn application_group_or_global(&self) -> AppGroup {
        self.application_group.clone().unwrap_or(AppGroup::Global)
    }
}

/// Which of the auth directives is parsed (for its messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Access,
    AuthUser,
    AuthGroup,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Access => "WSGIAccessScript",
            Kind::AuthUser => "WSGIAuthUserScript",
            Kind::AuthGroup => "WSGIAuthGroupScript",
        }
    }
}

/// Parses `FILE [application-group=NAME]` for `kind`.
pub(crate) fn parse_script(kind: Kind, args: &[&str]) -> Result<ScriptFile, String> {
    let file = args.first().copied().unwrap_or("");
    if file.is_empty() || file.starts_with("application-group=") {
        return Err(format!(
            "needs the script file first, then optionally application-group=NAME, e.g. {} \
             /srv/auth.wsgi",
            kind.name()
        ));
    }
    let mut out = ScriptFile {
        file: file.to_string(),
        application_group: None,
    };
    for arg in &args[1..] {
        match arg.split_once('=') {
            Some(("application-group", v)) if !unquote(v).is_empty() => {
                out.application_group = Some(parse_application_group(unquote(v))?);
            }
            Some(("application-group", _)) => {
                return Err(
                    "application-group needs a name: write application-group=NAME".to_string(),
                )
            }
            _ => {
                let why = if arg.starts_with("process-group=") {
                    " (auth scripts always run in the Apache child process, as in mod_wsgi)"
                } else {
                    ""
                };
                return Err(format!(
                    "invalid option '{arg}' to {}: the only option is application-group=NAME{why}",
                    kind.name()
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_scripts_take_only_application_group() {
        let s = parse_script(Kind::AuthUser, &["/a.wsgi", "application-group=x"]).unwrap();
        assert_eq!(s.file, "/a.wsgi");
        assert_eq!(s.application_group, Some(AppGroup::Literal("x".into())));
        assert_eq!(
            parse_script(Kind::Access, &["/a.wsgi"])
                .unwrap()
                .application_group_or_global(),
            AppGroup::Global
        );
        let e = parse_script(Kind::AuthGroup, &["/a.wsgi", "process-group=d"]).unwrap_err();
        assert!(e.contains("Apache child"), "{e}");
        assert!(parse_script(Kind::AuthUser, &[]).is_err());
        assert!(parse_script(Kind::AuthUser, &["application-group=x"]).is_err());
        assert!(parse_script(Kind::AuthUser, &["/a", "application-group="]).is_err());
        assert!(parse_script(Kind::AuthUser, &["/a", "bogus"]).is_err());
        assert!(parse_script(Kind::AuthUser, &["/a", "application-group=%{NOPE}"]).is_err());
    }
}
