//! The script files of the per-directory hook directives, parsed as
//! mod_wsgi 6.1 parses them: `WSGIAccessScript`, `WSGIAuthUserScript`,
//! `WSGIAuthGroupScript` (file, then only `application-group=NAME`) and
//! `WSGIHandlerScript` (name, file, then `process-group=`,
//! `application-group=`, `pass-authorization=`).
//!
//! The auth scripts always run in the Apache child (mod_wsgi has no
//! `process-group=` for them: authentication happens before the request
//! is handed to a daemon).

use super::groups::{parse_application_group, parse_process_group, AppGroup, ProcessGroup};
use super::values::unquote;

/// A hook script and the options written with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptFile {
    /// The script file, as written.
    pub file: String,
    /// `application-group=`; None = the directive's default (`%{GLOBAL}`
    /// for the auth scripts, the context's WSGIApplicationGroup for a
    /// handler script).
    pub application_group: Option<AppGroup>,
    /// `process-group=` (WSGIHandlerScript only).
    pub process_group: Option<ProcessGroup>,
    /// `pass-authorization=On|Off` (WSGIHandlerScript only).
    pub pass_authorization: Option<bool>,
}

impl ScriptFile {
    fn new(file: &str) -> ScriptFile {
        ScriptFile {
            file: file.to_string(),
            application_group: None,
            process_group: None,
            pass_authorization: None,
        }
    }

    /// The application group the script runs in, `%{GLOBAL}` unless
    /// `application-group=` says otherwise (the auth and dispatch scripts).
    pub fn application_group_or_global(&self) -> AppGroup {
        self.application_group.clone().unwrap_or(AppGroup::Global)
    }
}

/// Which of the hook directives is parsed (for its messages and options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Access,
    AuthUser,
    AuthGroup,
    Handler,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Access => "WSGIAccessScript",
            Kind::AuthUser => "WSGIAuthUserScript",
            Kind::AuthGroup => "WSGIAuthGroupScript",
            Kind::Handler => "WSGIHandlerScript",
        }
    }

    fn options(self) -> &'static str {
        match self {
            Kind::Handler => {
                "process-group=NAME, application-group=NAME, pass-authorization=On|Off"
            }
            _ => "application-group=NAME",
        }
    }
}

/// Parses `FILE [option=value…]` for `kind`.
pub fn parse_script(kind: Kind, args: &[&str]) -> Result<ScriptFile, String> {
    let file = args.first().copied().unwrap_or("");
    if file.is_empty() || file.contains('=') && !file.starts_with('/') {
        return Err(format!(
            "needs the script file first, then options ({}), e.g. {} /srv/auth.wsgi",
            kind.options(),
            kind.name()
        ));
    }
    let mut out = ScriptFile::new(file);
    for arg in &args[1..] {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(invalid(kind, arg));
        };
        let value = unquote(value);
        match (key, kind) {
            ("application-group", _) => {
                if value.is_empty() {
                    return Err(
                        "application-group needs a name: write application-group=NAME".to_string(),
                    );
                }
                out.application_group = Some(parse_application_group(value)?);
            }
            ("process-group", Kind::Handler) => {
                if value.is_empty() {
                    return Err("process-group needs a name: write process-group=NAME".to_string());
                }
                out.process_group = Some(parse_process_group(value)?);
            }
            ("pass-authorization", Kind::Handler) => {
                out.pass_authorization = Some(match value.to_ascii_lowercase().as_str() {
                    "on" => true,
                    "off" => false,
                    _ => {
                        return Err(format!(
                            "pass-authorization must be On or Off, not '{value}'"
                        ))
                    }
                })
            }
            _ => return Err(invalid(kind, arg)),
        }
    }
    Ok(out)
}

fn invalid(kind: Kind, arg: &str) -> String {
    let extra = if kind != Kind::Handler && arg.starts_with("process-group=") {
        " (auth scripts always run in the Apache child process, as in mod_wsgi)"
    } else {
        ""
    };
    format!(
        "invalid option '{arg}' to {}: the options are {}{extra}",
        kind.name(),
        kind.options()
    )
}

/// Parses `WSGIHandlerScript NAME FILE [options]`.
pub fn parse_handler_script(args: &[&str]) -> Result<(String, ScriptFile), String> {
    match args {
        [name, rest @ ..] if !name.is_empty() && !name.contains('=') && !rest.is_empty() => {
            Ok((name.to_string(), parse_script(Kind::Handler, rest)?))
        }
        _ => Err(
            "needs a handler name, then the script file, then options, e.g. WSGIHandlerScript \
             my-handler /srv/handler.wsgi process-group=NAME"
                .to_string(),
        ),
    }
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
    }

    #[test]
    fn handler_script_options() {
        let (n, s) = parse_handler_script(&[
            "h",
            "/h.wsgi",
            "process-group=d",
            "application-group=%{GLOBAL}",
            "pass-authorization=On",
        ])
        .unwrap();
        assert_eq!(n, "h");
        assert_eq!(s.process_group, Some(ProcessGroup::Named("d".into())));
        assert_eq!(s.application_group, Some(AppGroup::Global));
        assert_eq!(s.pass_authorization, Some(true));
        assert!(parse_handler_script(&["h", "/h", "pass-authorization=maybe"]).is_err());
        assert!(parse_handler_script(&["h", "/h", "callable-object=x"]).is_err());
        assert!(parse_handler_script(&["h"]).is_err());
        assert!(parse_handler_script(&["a=b", "/f"]).is_err());
    }
}
