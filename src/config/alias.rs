//! `WSGIScriptAlias`, `WSGIScriptAliasMatch` and `WSGIImportScript`: their
//! arguments, and URL matching the way mod_alias (and mod_wsgi's copy of
//! it) does.

use super::groups::{parse_application_group, parse_process_group, AppGroup, ProcessGroup};
use super::values::{
    parse_callable_object, parse_on_off, split_key_value, unknown_option, unquote,
};

/// mod_alias's `alias_matches`: compares `alias` with the start of `uri`,
/// where any run of `/` in one matches any run of `/` in the other (a `/`
/// in the alias needs at least one in the URI). The match must end at the
/// end of the URI, or the alias must end with `/`, or the next URI byte
/// must be `/`.
///
/// Returns the number of URI bytes consumed (which can exceed the alias
/// length when the URI has doubled slashes), or `None`.
///
/// `"/app"` matches `"/app"` (4), `"/app/x"` (4), `"//app//x"` (5, the
/// bytes of `"//app"`), but not `"/apple"`; `"/"` matches everything that
/// starts with `/`; `"/app/"` does not match `"/app"`.
#[cfg(test)]
pub(crate) fn alias_match(alias: &str, uri: &str) -> Option<usize> {
    alias_match_bytes(alias.as_bytes(), uri.as_bytes())
}

/// [`alias_match`] on bytes, for URIs that are not valid UTF-8.
pub(crate) fn alias_match_bytes(alias: &[u8], uri: &[u8]) -> Option<usize> {
    if alias.is_empty() {
        return None;
    }
    let (mut a, mut u) = (0usize, 0usize);
    while a < alias.len() {
        if alias[a] == b'/' {
            if uri.get(u) != Some(&b'/') {
                return None;
            }
            while a < alias.len() && alias[a] == b'/' {
                a += 1;
            }
            while u < uri.len() && uri[u] == b'/' {
                u += 1;
            }
        } else {
            if uri.get(u) != Some(&alias[a]) {
                return None;
            }
            a += 1;
            u += 1;
        }
    }
    if alias[alias.len() - 1] != b'/' && u < uri.len() && uri[u] != b'/' {
        return None;
    }
    Some(u)
}

/// Substitutes `$0`…`$9` in `template` with the captured byte ranges of
/// `subject`, as Apache's `ap_pregsub` does for `WSGIScriptAliasMatch`
/// (the regular expression itself is run by `ap_regexec`). A missing,
/// unset, empty or out-of-range group gives nothing. A backslash makes the
/// next character literal (`\$1` gives `$1`, `\\` gives `\`).
#[cfg(test)]
pub(crate) fn substitute_groups(
    template: &str,
    subject: &str,
    groups: &[Option<(usize, usize)>],
) -> String {
    String::from_utf8_lossy(&substitute_groups_bytes(
        template.as_bytes(),
        subject.as_bytes(),
        groups,
    ))
    .into_owned()
}

/// [`substitute_groups`] on bytes.
pub(crate) fn substitute_groups_bytes(
    template: &[u8],
    subject: &[u8],
    groups: &[Option<(usize, usize)>],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(template.len());
    let mut i = 0;
    while i < template.len() {
        let c = template[i];
        if c == b'$' && i + 1 < template.len() && template[i + 1].is_ascii_digit() {
            let no = usize::from(template[i + 1] - b'0');
            if let Some(Some((s, e))) = groups.get(no) {
                if s < e && *e <= subject.len() {
                    out.extend_from_slice(&subject[*s..*e]);
                }
            }
            i += 2;
        } else if c == b'\\' && i + 1 < template.len() {
            out.push(template[i + 1]);
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The trailing `key=value` options of `WSGIScriptAlias`,
/// `WSGIScriptAliasMatch` and `WSGIImportScript`. `None` = not given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ScriptAliasOptions {
    /// `process-group=`
    pub(crate) process_group: Option<ProcessGroup>,
    /// `application-group=`
    pub(crate) application_group: Option<AppGroup>,
    /// `callable-object=`
    pub(crate) callable_object: Option<String>,
    /// `pass-authorization=On|Off`
    pub(crate) pass_authorization: Option<bool>,
}

const ALIAS_OPTIONS: &[&str] = &[
    "process-group",
    "application-group",
    "callable-object",
    "pass-authorization",
];

/// Parses `process-group=G application-group=A callable-object=N
/// pass-authorization=On|Off` (any subset, any order). Values may be
/// quoted. An unknown option, an option without `=`, an empty value or an
/// option given twice is an error.
pub(crate) fn parse_script_alias_options(args: &[&str]) -> Result<ScriptAliasOptions, String> {
    let mut o = ScriptAliasOptions::default();
    for arg in args {
        let Some((key, raw)) = split_key_value(arg) else {
            return Err(if ALIAS_OPTIONS.contains(arg) {
                format!("option '{arg}' needs a value: write {arg}=VALUE")
            } else {
                format!("expected an option of the form name=value, got '{arg}'")
            });
        };
        let value = unquote(raw);
        if !ALIAS_OPTIONS.contains(&key) {
            return Err(unknown_option(key, ALIAS_OPTIONS));
        }
        if value.is_empty() {
            return Err(format!("option '{key}' needs a value: write {key}=VALUE"));
        }
        let dup = || format!("option '{key}' is given more than once");
        match key {
            "process-group" => {
                if o.process_group.is_some() {
                    return Err(dup());
                }
                o.process_group =
                    Some(parse_process_group(value).map_err(|e| format!("process-group: {e}"))?);
            }
            "application-group" => {
                if o.application_group.is_some() {
                    return Err(dup());
                }
                o.application_group = Some(
                    parse_application_group(value)
                        .map_err(|e| format!("application-group: {e}"))?,
                );
            }
            "callable-object" => {
                if o.callable_object.is_some() {
                    return Err(dup());
                }
                o.callable_object = Some(parse_callable_object(value)?);
            }
            _ => {
                if o.pass_authorization.is_some() {
                    return Err(dup());
                }
                o.pass_authorization = Some(parse_on_off(value).map_err(|_| {
                    format!("invalid value '{value}' for option 'pass-authorization': expected On or Off")
                })?);
            }
        }
    }
    Ok(o)
}

/// One `WSGIScriptAlias` (`is_regex` false) or `WSGIScriptAliasMatch`
/// (`is_regex` true; `url` is then the regular expression, which the
/// caller compiles with `ap_pregcomp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScriptAlias {
    /// The URL path, or the regular expression.
    pub(crate) url: String,
    /// The script file; for the regex form it may hold `$1`… references.
    pub(crate) file: String,
    /// True for `WSGIScriptAliasMatch`.
    pub(crate) is_regex: bool,
    /// The trailing options.
    pub(crate) options: ScriptAliasOptions,
}

/// Parses `WSGIScriptAlias URL-path file [options]` (or the `Match` form
/// when `is_regex`).
pub(crate) fn parse_script_alias(args: &[&str], is_regex: bool) -> Result<ScriptAlias, String> {
    let what = if is_regex {
        "a regular expression"
    } else {
        "a URL path"
    };
    if args.len() < 2 || args[0].is_empty() || args[1].is_empty() {
        return Err(format!(
            "needs at least two arguments: {what} and the script file, e.g. {}",
            if is_regex {
                "^/app(/.*)?$ /srv/app/app.wsgi"
            } else {
                "/app /srv/app/app.wsgi"
            }
        ));
    }
    if args[1].contains('=')
        && split_key_value(args[1]).is_some_and(|(k, _)| ALIAS_OPTIONS.contains(&k))
    {
        return Err(format!(
            "the second argument must be the script file, not the option '{}'",
            args[1]
        ));
    }
    Ok(ScriptAlias {
        url: args[0].to_string(),
        file: args[1].to_string(),
        is_regex,
        options: parse_script_alias_options(&args[2..])?,
    })
}

/// Where a matching alias sends a request (the `&str` form the unit tests
/// read; the hook uses the byte forms these wrap).
#[cfg(test)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AliasMatch {
    /// URI bytes consumed by the mount point (SCRIPT_NAME's raw length).
    pub(crate) consumed: usize,
    /// The new `r->filename`: the script file followed by the rest of the
    /// URI (Apache's directory walk then splits off PATH_INFO), as
    /// mod_wsgi's translate_name builds it; when the mount point is `/` the
    /// whole URI is appended, so `/srv/app.wsgi` + `/x` gives
    /// `/srv/app.wsgi/x`.
    pub(crate) filename: String,
}

impl ScriptAlias {
    /// Matches a plain `WSGIScriptAlias` against `uri`. Always `None` for
    /// the regex form (use [`ScriptAlias::match_regex`] with the captures
    /// from `ap_regexec`) and for a URI that does not start with `/`.
    #[cfg(test)]
    pub(crate) fn match_uri(&self, uri: &str) -> Option<AliasMatch> {
        self.match_uri_bytes(uri.as_bytes())
            .map(|(consumed, filename)| AliasMatch {
                consumed,
                filename: String::from_utf8_lossy(&filename).into_owned(),
            })
    }

    /// For `WSGIScriptAliasMatch`: given the captures `ap_regexec` found in
    /// `uri` (`groups[0]` is the whole match), the mount point ends where
    /// the match ends, and the file is the substituted template. `None`
    /// when the match is empty (mod_wsgi ignores it) or this is not the
    /// regex form.
    #[cfg(test)]
    pub(crate) fn match_regex(
        &self,
        uri: &str,
        groups: &[Option<(usize, usize)>],
    ) -> Option<AliasMatch> {
        self.match_regex_bytes(uri.as_bytes(), groups)
            .map(|(consumed, _, filename)| AliasMatch {
                consumed,
                filename: String::from_utf8_lossy(&filename).into_owned(),
            })
    }

    /// [`ScriptAlias::match_uri`] on raw URI bytes (a decoded URI need not
    /// be UTF-8): `(consumed, r->filename bytes)`.
    pub(crate) fn match_uri_bytes(&self, uri: &[u8]) -> Option<(usize, Vec<u8>)> {
        if self.is_regex || !(uri.is_empty() || uri[0] == b'/') {
            return None;
        }
        let consumed = alias_match_bytes(self.url.as_bytes(), uri).filter(|&n| n > 0)?;
        let rest = if self.url == "/" {
            uri
        } else {
            &uri[consumed..]
        };
        let mut filename = self.file.clone().into_bytes();
        filename.extend_from_slice(rest);
        Some((consumed, filename))
    }

    /// [`ScriptAlias::match_regex`] on raw URI bytes, with the captures
    /// `ap_regexec` found in those same bytes: `(consumed, script file
    /// bytes after substitution, r->filename bytes)`.
    pub(crate) fn match_regex_bytes(
        &self,
        uri: &[u8],
        groups: &[Option<(usize, usize)>],
    ) -> Option<(usize, Vec<u8>, Vec<u8>)> {
        if !self.is_regex || !(uri.is_empty() || uri[0] == b'/') {
            return None;
        }
        let (_, end) = groups.first().copied().flatten()?;
        if end == 0 || end > uri.len() {
            return None;
        }
        let file = substitute_groups_bytes(self.file.as_bytes(), uri, groups);
        let rest = if &uri[..end] == b"/" {
            uri
        } else {
            &uri[end..]
        };
        let mut filename = file.clone();
        filename.extend_from_slice(rest);
        Some((end, file, filename))
    }

    /// The script to preload at process start, as mod_wsgi does when both
    /// `process-group=` and `application-group=` are given, neither depends
    /// on the request, and (for the regex form) the file holds no `$`.
    pub(crate) fn preload(&self) -> Option<(String, ScriptAliasOptions)> {
        let o = &self.options;
        let pg = o.process_group.as_ref()?;
        let ag = o.application_group.as_ref()?;
        if !pg.is_static() || !ag.is_static() || (self.is_regex && self.file.contains('$')) {
            return None;
        }
        Some((self.file.clone(), o.clone()))
    }
}

/// Parses `WSGIImportScript file process-group=G application-group=A`.
/// Both groups are required (as in mod_wsgi) and must not depend on the
/// request; no other option is accepted.
pub(crate) fn parse_import_script(args: &[&str]) -> Result<(String, ScriptAliasOptions), String> {
    let Some(file) = args.first().filter(|f| !f.is_empty()) else {
        return Err(
            "needs the script file, then process-group=NAME and application-group=NAME".to_string(),
        );
    };
    if split_key_value(file).is_some_and(|(k, _)| ALIAS_OPTIONS.contains(&k)) {
        return Err(format!(
            "the first argument must be the script file, not the option '{file}'"
        ));
    }
    let o = parse_script_alias_options(&args[1..])?;
    if o.callable_object.is_some() {
        return Err("option 'callable-object' is not accepted here: only process-group and application-group".to_string());
    }
    if o.pass_authorization.is_some() {
        return Err("option 'pass-authorization' is not accepted here: only process-group and application-group".to_string());
    }
    let hint = "use %{GLOBAL} for the main interpreter (application-group) or for embedded mode (process-group)";
    match &o.process_group {
        None => return Err(format!("process-group=NAME is required ({hint})")),
        Some(g) if !g.is_static() => {
            return Err(format!(
                "process-group '{g}' depends on the request; a script preloaded at process start needs a fixed name or %{{GLOBAL}}"
            ))
        }
        _ => {}
    }
    match &o.application_group {
        None => return Err(format!("application-group=NAME is required ({hint})")),
        Some(g) if !g.is_static() => {
            return Err(format!(
                "application-group '{g}' depends on the request; a script preloaded at process start needs a fixed name or %{{GLOBAL}}"
            ))
        }
        _ => {}
    }
    Ok((file.to_string(), o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_match_examples() {
        assert_eq!(alias_match("/app", "/app"), Some(4));
        assert_eq!(alias_match("/app", "/app/x"), Some(4));
        assert_eq!(alias_match("/app", "/apple"), None);
        assert_eq!(alias_match("/app", "//app//x"), Some(5));
        assert_eq!(&"//app//x"[..5], "//app");
        assert_eq!(alias_match("/", "/anything"), Some(1));
        assert_eq!(alias_match("/", "/"), Some(1));
        assert_eq!(alias_match("/", "///x"), Some(3));
        assert_eq!(alias_match("/app/", "/app"), None);
        assert_eq!(alias_match("/app/", "/app/"), Some(5));
        assert_eq!(alias_match("/app/", "/app/x"), Some(5));
        assert_eq!(alias_match("/app/", "/app//x"), Some(6));
    }

    #[test]
    fn alias_match_slash_runs() {
        assert_eq!(alias_match("//app", "/app"), Some(4));
        assert_eq!(alias_match("/a//b", "/a/b/c"), Some(4));
        assert_eq!(alias_match("/a/b", "/a///b"), Some(6));
        assert_eq!(alias_match("/a/b", "/a///b/"), Some(6));
        assert_eq!(alias_match("/a/b", "/ab"), None);
        assert_eq!(alias_match("/a/b/", "/a/b"), None);
        assert_eq!(alias_match("/app", "app"), None);
        assert_eq!(alias_match("/app", ""), None);
        assert_eq!(alias_match("/", ""), None);
        assert_eq!(alias_match("", "/x"), None);
        assert_eq!(alias_match("/app", "/ap"), None);
        assert_eq!(alias_match("/app", "/APP"), None);
        assert_eq!(alias_match("/app", "/app?x"), None);
        // Non-slash alias (never matches a real URI, but behaves like mod_alias).
        assert_eq!(alias_match("app", "app/x"), Some(3));
    }

    #[test]
    fn alias_match_bytes_non_utf8() {
        assert_eq!(alias_match_bytes(b"/caf\xe9", b"/caf\xe9/x"), Some(5));
        assert_eq!(alias_match_bytes(b"/caf", b"/caf\xe9"), None);
    }

    #[test]
    fn substitution() {
        let subject = "/app/one/two";
        let groups = [Some((0, 12)), Some((5, 8)), Some((9, 12))];
        assert_eq!(
            substitute_groups("/srv/$1/$2.wsgi", subject, &groups),
            "/srv/one/two.wsgi"
        );
        assert_eq!(substitute_groups("$0", subject, &groups), subject);
        assert_eq!(substitute_groups("/x$5y", subject, &groups), "/xy");
        assert_eq!(substitute_groups("/x$9", subject, &groups), "/x");
        assert_eq!(
            substitute_groups("a$1b", subject, &[Some((0, 1)), None]),
            "ab"
        );
        assert_eq!(
            substitute_groups("a$1b", subject, &[None, Some((3, 3))]),
            "ab"
        );
        assert_eq!(
            substitute_groups("a$1b", subject, &[None, Some((3, 99))]),
            "ab"
        );
        assert_eq!(substitute_groups("\\$1", subject, &groups), "$1");
        assert_eq!(substitute_groups("\\\\$1", subject, &groups), "\\one");
        assert_eq!(substitute_groups("\\x", subject, &groups), "x");
        assert_eq!(substitute_groups("end\\", subject, &groups), "end\\");
        assert_eq!(substitute_groups("$", subject, &groups), "$");
        assert_eq!(substitute_groups("$x", subject, &groups), "$x");
        assert_eq!(substitute_groups("&", subject, &groups), "&");
        assert_eq!(substitute_groups("$11", subject, &groups), "one1");
        // A range splitting a UTF-8 character must not panic.
        let s = "/é";
        assert_eq!(
            substitute_groups("$1", s, &[None, Some((1, 2))]),
            "\u{fffd}"
        );
    }

    #[test]
    fn alias_options() {
        let o = parse_script_alias_options(&[
            "process-group=d1",
            "application-group=%{GLOBAL}",
            "callable-object=app",
            "pass-authorization=On",
        ])
        .unwrap();
        assert_eq!(o.process_group, Some(ProcessGroup::Named("d1".into())));
        assert_eq!(o.application_group, Some(AppGroup::Global));
        assert_eq!(o.callable_object.as_deref(), Some("app"));
        assert_eq!(o.pass_authorization, Some(true));

        assert_eq!(
            parse_script_alias_options(&[]).unwrap(),
            ScriptAliasOptions::default()
        );
        let o = parse_script_alias_options(&["pass-authorization=off"]).unwrap();
        assert_eq!(o.pass_authorization, Some(false));
        let o = parse_script_alias_options(&["application-group='%{RESOURCE}'"]).unwrap();
        assert_eq!(o.application_group, Some(AppGroup::Resource));
        let o = parse_script_alias_options(&["process-group=%{GLOBAL}"]).unwrap();
        assert_eq!(o.process_group, Some(ProcessGroup::Global));
    }

    #[test]
    fn alias_option_errors() {
        let e = parse_script_alias_options(&["proces-group=x"]).unwrap_err();
        assert_eq!(
            e,
            "unknown option 'proces-group' (did you mean 'process-group'?)"
        );
        let e = parse_script_alias_options(&["frobnicate=1"]).unwrap_err();
        assert!(
            e.contains("unknown option 'frobnicate'") && e.contains("valid options"),
            "{e}"
        );
        let e = parse_script_alias_options(&["process-group"]).unwrap_err();
        assert!(e.contains("needs a value"), "{e}");
        let e = parse_script_alias_options(&["oops"]).unwrap_err();
        assert!(e.contains("name=value") && e.contains("'oops'"), "{e}");
        let e = parse_script_alias_options(&["application-group="]).unwrap_err();
        assert!(e.contains("needs a value"), "{e}");
        let e = parse_script_alias_options(&["pass-authorization=yes"]).unwrap_err();
        assert!(
            e.contains("'yes'") && e.contains("pass-authorization"),
            "{e}"
        );
        let e = parse_script_alias_options(&["process-group=a", "process-group=b"]).unwrap_err();
        assert!(e.contains("more than once"), "{e}");
        assert!(
            parse_script_alias_options(&["application-group=a", "application-group=b"]).is_err()
        );
        assert!(parse_script_alias_options(&["callable-object=a", "callable-object=b"]).is_err());
        assert!(
            parse_script_alias_options(&["pass-authorization=On", "pass-authorization=On"])
                .is_err()
        );
        let e = parse_script_alias_options(&["application-group=%{BAD}"]).unwrap_err();
        assert!(e.starts_with("application-group: unknown variable"), "{e}");
        let e = parse_script_alias_options(&["process-group=%{HOST}"]).unwrap_err();
        assert!(e.starts_with("process-group:"), "{e}");
        let e = parse_script_alias_options(&["callable-object=a.b"]).unwrap_err();
        assert!(e.contains("callable object"), "{e}");
    }

    #[test]
    fn script_alias_parsing() {
        let a = parse_script_alias(&["/app", "/srv/app.wsgi", "process-group=d"], false).unwrap();
        assert_eq!(a.url, "/app");
        assert_eq!(a.file, "/srv/app.wsgi");
        assert!(!a.is_regex);
        assert_eq!(
            a.options.process_group,
            Some(ProcessGroup::Named("d".into()))
        );
        let a = parse_script_alias(&["^/(\\w+)", "/srv/$1.wsgi"], true).unwrap();
        assert!(a.is_regex);
        assert!(parse_script_alias(&["/app"], false)
            .unwrap_err()
            .contains("two arguments"));
        assert!(parse_script_alias(&[], true)
            .unwrap_err()
            .contains("regular expression"));
        assert!(parse_script_alias(&["/app", ""], false).is_err());
        let e = parse_script_alias(&["/app", "process-group=x"], false).unwrap_err();
        assert!(e.contains("script file"), "{e}");
        assert!(parse_script_alias(&["/app", "/f", "bogus=1"], false).is_err());
    }

    fn plain(url: &str, file: &str) -> ScriptAlias {
        parse_script_alias(&[url, file], false).unwrap()
    }

    #[test]
    fn plain_alias_translation() {
        let a = plain("/app", "/srv/app.wsgi");
        assert_eq!(
            a.match_uri("/app/x/y"),
            Some(AliasMatch {
                consumed: 4,
                filename: "/srv/app.wsgi/x/y".into()
            })
        );
        assert_eq!(
            a.match_uri("/app"),
            Some(AliasMatch {
                consumed: 4,
                filename: "/srv/app.wsgi".into()
            })
        );
        assert_eq!(a.match_uri("/apple"), None);
        assert_eq!(a.match_uri("app"), None);
        let a = plain("/", "/srv/app.wsgi");
        assert_eq!(
            a.match_uri("/x"),
            Some(AliasMatch {
                consumed: 1,
                filename: "/srv/app.wsgi/x".into()
            })
        );
        assert_eq!(
            a.match_uri("/"),
            Some(AliasMatch {
                consumed: 1,
                filename: "/srv/app.wsgi/".into()
            })
        );
        let a = plain("/app/", "/srv/dir/");
        assert_eq!(
            a.match_uri("/app/x.wsgi"),
            Some(AliasMatch {
                consumed: 5,
                filename: "/srv/dir/x.wsgi".into()
            })
        );
        let r = parse_script_alias(&["^/x", "/f"], true).unwrap();
        assert_eq!(r.match_uri("/x"), None);
    }

    #[test]
    fn regex_alias_translation() {
        let r = parse_script_alias(&["^/(\\w+)", "/srv/$1.wsgi"], true).unwrap();
        let uri = "/blog/post/1";
        let m = r.match_regex(uri, &[Some((0, 5)), Some((1, 5))]).unwrap();
        assert_eq!(m.consumed, 5);
        assert_eq!(m.filename, "/srv/blog.wsgi/post/1");
        // Matching exactly "/" appends the whole URI, like the plain form.
        let r = parse_script_alias(&["^/", "/srv/app.wsgi"], true).unwrap();
        let m = r.match_regex("/x", &[Some((0, 1))]).unwrap();
        assert_eq!(m.filename, "/srv/app.wsgi/x");
        // An empty match is ignored.
        assert_eq!(r.match_regex("/x", &[Some((0, 0))]), None);
        assert_eq!(r.match_regex("/x", &[None]), None);
        assert_eq!(r.match_regex("/x", &[]), None);
        assert_eq!(r.match_regex("/x", &[Some((0, 9))]), None);
        assert_eq!(plain("/a", "/f").match_regex("/a", &[Some((0, 2))]), None);
    }

    #[test]
    fn byte_translation() {
        let a = plain("/app", "/srv/app.wsgi");
        assert_eq!(
            a.match_uri_bytes(b"/app/\xff"),
            Some((4, b"/srv/app.wsgi/\xff".to_vec()))
        );
        assert_eq!(a.match_uri_bytes(b"/apple"), None);
        assert_eq!(a.match_uri_bytes(b"x/app"), None);
        let root = plain("/", "/srv/app.wsgi");
        assert_eq!(
            root.match_uri_bytes(b"/x"),
            Some((1, b"/srv/app.wsgi/x".to_vec()))
        );
        assert_eq!(a.match_regex_bytes(b"/app", &[Some((0, 4))]), None);

        let r = parse_script_alias(&["^/(\\w+)", "/srv/$1.wsgi"], true).unwrap();
        let uri = b"/caf\xe9/rest";
        let (n, file, filename) = r
            .match_regex_bytes(uri, &[Some((0, 5)), Some((1, 5))])
            .unwrap();
        assert_eq!(n, 5);
        assert_eq!(file, b"/srv/caf\xe9.wsgi".to_vec());
        assert_eq!(filename, b"/srv/caf\xe9.wsgi/rest".to_vec());
        let r = parse_script_alias(&["^/", "/srv/app.wsgi"], true).unwrap();
        let (_, _, filename) = r.match_regex_bytes(b"/x", &[Some((0, 1))]).unwrap();
        assert_eq!(filename, b"/srv/app.wsgi/x".to_vec());
        assert_eq!(r.match_regex_bytes(b"/x", &[Some((0, 0))]), None);
        assert_eq!(r.match_regex_bytes(b"/x", &[Some((0, 3))]), None);
        assert_eq!(r.match_uri_bytes(b"/x"), None);
    }

    #[test]
    fn preloading() {
        let a = parse_script_alias(
            &[
                "/a",
                "/f.wsgi",
                "process-group=d",
                "application-group=%{GLOBAL}",
            ],
            false,
        )
        .unwrap();
        let (f, o) = a.preload().unwrap();
        assert_eq!(f, "/f.wsgi");
        assert_eq!(o.process_group, Some(ProcessGroup::Named("d".into())));
        let a = parse_script_alias(&["/a", "/f.wsgi", "process-group=d"], false).unwrap();
        assert_eq!(a.preload(), None);
        let a = parse_script_alias(&["/a", "/f.wsgi", "application-group=x"], false).unwrap();
        assert_eq!(a.preload(), None);
        let a = parse_script_alias(
            &[
                "/a",
                "/f.wsgi",
                "process-group=d",
                "application-group=%{RESOURCE}",
            ],
            false,
        )
        .unwrap();
        assert_eq!(a.preload(), None);
        let a = parse_script_alias(
            &[
                "/a",
                "/f.wsgi",
                "process-group=%{ENV:X}",
                "application-group=x",
            ],
            false,
        )
        .unwrap();
        assert_eq!(a.preload(), None);
        let r = parse_script_alias(
            &[
                "^/(.*)",
                "/srv/$1.wsgi",
                "process-group=d",
                "application-group=x",
            ],
            true,
        )
        .unwrap();
        assert_eq!(r.preload(), None);
        let r = parse_script_alias(
            &[
                "^/app",
                "/srv/app.wsgi",
                "process-group=d",
                "application-group=x",
            ],
            true,
        )
        .unwrap();
        assert!(r.preload().is_some());
    }

    #[test]
    fn import_script() {
        let (f, o) = parse_import_script(&[
            "/srv/app.wsgi",
            "process-group=d",
            "application-group=%{GLOBAL}",
        ])
        .unwrap();
        assert_eq!(f, "/srv/app.wsgi");
        assert_eq!(o.process_group, Some(ProcessGroup::Named("d".into())));
        assert_eq!(o.application_group, Some(AppGroup::Global));
        let (_, o) =
            parse_import_script(&["/f", "application-group=a", "process-group=%{GLOBAL}"]).unwrap();
        assert_eq!(o.process_group, Some(ProcessGroup::Global));

        assert!(parse_import_script(&[])
            .unwrap_err()
            .contains("script file"));
        assert!(parse_import_script(&[""]).is_err());
        let e = parse_import_script(&["process-group=d", "application-group=a"]).unwrap_err();
        assert!(e.contains("first argument"), "{e}");
        let e = parse_import_script(&["/f", "process-group=d"]).unwrap_err();
        assert!(e.contains("application-group=NAME is required"), "{e}");
        let e = parse_import_script(&["/f", "application-group=a"]).unwrap_err();
        assert!(e.contains("process-group=NAME is required"), "{e}");
        let e = parse_import_script(&["/f"]).unwrap_err();
        assert!(e.contains("required"), "{e}");
        let e = parse_import_script(&[
            "/f",
            "process-group=d",
            "application-group=a",
            "callable-object=x",
        ])
        .unwrap_err();
        assert!(e.contains("callable-object"), "{e}");
        let e = parse_import_script(&[
            "/f",
            "process-group=d",
            "application-group=a",
            "pass-authorization=On",
        ])
        .unwrap_err();
        assert!(e.contains("pass-authorization"), "{e}");
        let e = parse_import_script(&["/f", "process-group=d", "application-group=%{RESOURCE}"])
            .unwrap_err();
        assert!(e.contains("depends on the request"), "{e}");
        let e = parse_import_script(&["/f", "process-group=%{ENV:X}", "application-group=a"])
            .unwrap_err();
        assert!(e.contains("depends on the request"), "{e}");
        assert!(
            parse_import_script(&["/f", "process-group=d", "application-group=a", "x=y"]).is_err()
        );
    }
}
