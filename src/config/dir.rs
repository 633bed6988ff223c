//! The per-directory (`<Directory>`, `<Location>`, `.htaccess`)
//! configuration, and the per-request resolution of everything.

use super::alias::ScriptAliasOptions;
use super::groups::{
    parse_application_group, parse_process_group, parse_restrict_process, process_group_permitted,
    AppGroup, ProcessGroup,
};
use super::values::{
    flag, header_env_name, one_arg, parse_callable_object, parse_map_head, pick, IpSubnet,
    MapHeadToGet,
};

/// Configuration of the per-directory directives (`Scope::Dir` in the
/// directive table), set in a `<Directory>`, `<Location>`, `<Files>` or
/// `.htaccess` context, or at server / virtual host level (Apache keeps
/// those in the server's default per-directory configuration, which the
/// more specific contexts merge over). `None` means "not set here";
/// accessors give the effective value with mod_wsgi's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirConfig {
    /// `WSGIProcessGroup`
    pub process_group: Option<ProcessGroup>,
    /// `WSGIApplicationGroup`
    pub application_group: Option<AppGroup>,
    /// `WSGICallableObject`
    pub callable_object: Option<String>,
    /// `WSGIPassAuthorization`
    pub pass_authorization: Option<bool>,
    /// `WSGIScriptReloading`
    pub script_reloading: Option<bool>,
    /// `WSGIChunkedRequest`
    pub chunked_request: Option<bool>,
    /// `WSGIMapHEADToGET`
    pub map_head_to_get: Option<MapHeadToGet>,
    /// `WSGIErrorOverride`
    pub error_override: Option<bool>,
    /// `WSGIEnableSendfile`
    pub enable_sendfile: Option<bool>,
    /// `WSGIBufferRequestBody` (mod_wsgi_rs): daemon mode reads the whole
    /// request body in the Apache child before a daemon thread is taken.
    pub buffer_request_body: Option<bool>,
    /// `WSGIRestrictProcess` (`%{GLOBAL}` stored as `""`)
    pub restrict_process: Option<Vec<String>>,
    /// `WSGIHandlerScript name file`: (name, file).
    pub handler_scripts: Vec<(String, String)>,
    /// `WSGITrustedProxyHeaders`, stored as environ names
    /// (`HTTP_X_FORWARDED_FOR`), as mod_wsgi does.
    pub trusted_proxy_headers: Option<Vec<String>>,
    /// `WSGITrustedProxies`: addresses / subnets as written (each checked
    /// by [`IpSubnet::parse`]).
    pub trusted_proxies: Option<Vec<String>>,
}

/// Merges a more specific directory configuration (`add`) over `base`;
/// same as [`DirConfig::merge`].
pub fn merge(base: &DirConfig, add: &DirConfig) -> DirConfig {
    DirConfig::merge(base, add)
}

/// Parses `WSGIHandlerScript name file`. mod_wsgi's trailing options
/// (`process-group=` etc.) are refused with a clear message rather than
/// silently ignored, since there is no place to keep them yet.
pub fn parse_handler_script(args: &[&str]) -> Result<(String, String), String> {
    match args {
        [name, file] if !name.is_empty() && !file.is_empty() => {
            let is_option = |s: &str| {
                s.split_once('=').is_some_and(|(k, _)| {
                    matches!(k, "process-group" | "application-group" | "pass-authorization")
                })
            };
            if name.contains('=') || is_option(file) {
                return Err("needs a handler name, then the script file, e.g. WSGIHandlerScript my-handler /srv/handler.wsgi".to_string());
            }
            Ok((name.to_string(), file.to_string()))
        }
        [_, _, opt, ..] => Err(format!(
            "options such as '{opt}' on WSGIHandlerScript are not supported; set WSGIProcessGroup / WSGIApplicationGroup / WSGIPassAuthorization in the same context instead"
        )),
        _ => Err(
            "needs a handler name, then the script file, e.g. WSGIHandlerScript my-handler /srv/handler.wsgi"
                .to_string(),
        ),
    }
}

impl DirConfig {
    /// Merges a more specific configuration (`add`) over `base`: each
    /// value set in `add` wins. Handler scripts are combined by name
    /// (`add`'s definition of a name wins). Trusted proxy lists and
    /// `WSGIRestrictProcess` are replaced as a whole, as in mod_wsgi.
    pub fn merge(base: &DirConfig, add: &DirConfig) -> DirConfig {
        let mut handler_scripts = add.handler_scripts.clone();
        for (name, file) in &base.handler_scripts {
            if !handler_scripts.iter().any(|(n, _)| n == name) {
                handler_scripts.push((name.clone(), file.clone()));
            }
        }
        DirConfig {
            process_group: pick(&base.process_group, &add.process_group),
            application_group: pick(&base.application_group, &add.application_group),
            callable_object: pick(&base.callable_object, &add.callable_object),
            pass_authorization: pick(&base.pass_authorization, &add.pass_authorization),
            script_reloading: pick(&base.script_reloading, &add.script_reloading),
            chunked_request: pick(&base.chunked_request, &add.chunked_request),
            map_head_to_get: pick(&base.map_head_to_get, &add.map_head_to_get),
            error_override: pick(&base.error_override, &add.error_override),
            enable_sendfile: pick(&base.enable_sendfile, &add.enable_sendfile),
            buffer_request_body: pick(&base.buffer_request_body, &add.buffer_request_body),
            restrict_process: pick(&base.restrict_process, &add.restrict_process),
            handler_scripts,
            trusted_proxy_headers: pick(&base.trusted_proxy_headers, &add.trusted_proxy_headers),
            trusted_proxies: pick(&base.trusted_proxies, &add.trusted_proxies),
        }
    }

    /// `WSGICallableObject` (default `application`).
    pub fn callable_object(&self) -> &str {
        self.callable_object.as_deref().unwrap_or("application")
    }

    /// `WSGIPassAuthorization` (default Off).
    pub fn pass_authorization(&self) -> bool {
        self.pass_authorization.unwrap_or(false)
    }

    /// `WSGIScriptReloading` (default On).
    pub fn script_reloading(&self) -> bool {
        self.script_reloading.unwrap_or(true)
    }

    /// `WSGIChunkedRequest` (default Off).
    pub fn chunked_request(&self) -> bool {
        self.chunked_request.unwrap_or(false)
    }

    /// `WSGIMapHEADToGET` (default Auto).
    pub fn map_head_to_get(&self) -> MapHeadToGet {
        self.map_head_to_get.unwrap_or(MapHeadToGet::Auto)
    }

    /// `WSGIErrorOverride` (default Off).
    pub fn error_override(&self) -> bool {
        self.error_override.unwrap_or(false)
    }

    /// `WSGIEnableSendfile` (default Off).
    pub fn enable_sendfile(&self) -> bool {
        self.enable_sendfile.unwrap_or(false)
    }

    /// The script file for `SetHandler name`, if `name` was defined by
    /// `WSGIHandlerScript`.
    pub fn handler_script(&self, name: &str) -> Option<&str> {
        self.handler_scripts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.as_str())
    }

    /// Applies one directive (name case-insensitive) given in this
    /// directory context. Repeated `WSGITrustedProxyHeaders` /
    /// `WSGITrustedProxies` lines add to the list; a repeated
    /// `WSGIHandlerScript` name replaces the earlier file.
    pub fn apply(&mut self, directive: &str, args: &[&str]) -> Result<(), String> {
        match directive.to_ascii_lowercase().as_str() {
            "wsgiprocessgroup" => self.process_group = Some(parse_process_group(one_arg(args)?)?),
            "wsgiapplicationgroup" => {
                self.application_group = Some(parse_application_group(one_arg(args)?)?)
            }
            "wsgicallableobject" => {
                self.callable_object = Some(parse_callable_object(one_arg(args)?)?)
            }
            "wsgipassauthorization" => self.pass_authorization = Some(flag(args)?),
            "wsgiscriptreloading" => self.script_reloading = Some(flag(args)?),
            "wsgichunkedrequest" => self.chunked_request = Some(flag(args)?),
            "wsgimapheadtoget" => self.map_head_to_get = Some(parse_map_head(one_arg(args)?)?),
            "wsgierroroverride" => self.error_override = Some(flag(args)?),
            "wsgienablesendfile" => self.enable_sendfile = Some(flag(args)?),
            "wsgibufferrequestbody" => self.buffer_request_body = Some(flag(args)?),
            "wsgirestrictprocess" => self.restrict_process = Some(parse_restrict_process(args)?),
            "wsgihandlerscript" => {
                let (name, file) = parse_handler_script(args)?;
                match self.handler_scripts.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 = file,
                    None => self.handler_scripts.push((name, file)),
                }
            }
            "wsgitrustedproxyheaders" => {
                if args.is_empty() {
                    return Err(
                        "needs at least one header name, such as X-Forwarded-For".to_string()
                    );
                }
                let names = args
                    .iter()
                    .map(|h| header_env_name(h))
                    .collect::<Result<Vec<_>, _>>()?;
                self.trusted_proxy_headers
                    .get_or_insert_with(Vec::new)
                    .extend(names);
            }
            "wsgitrustedproxies" => {
                if args.is_empty() {
                    return Err(
                        "needs at least one IP address or subnet, such as 10.0.0.0/8".to_string()
                    );
                }
                for a in args {
                    IpSubnet::parse(a)?;
                }
                self.trusted_proxies
                    .get_or_insert_with(Vec::new)
                    .extend(args.iter().map(|a| a.to_string()));
            }
            _ => {
                return Err(format!(
                    "{directive} cannot be used in a <Directory>, <Location>, <Files> or .htaccess context"
                ))
            }
        }
        Ok(())
    }
}

/// Everything that governs one request, fully resolved. The groups and
/// the callable object are still specifications: expand them with
/// [`super::groups::expand_application_group`],
/// [`super::groups::resolve_process_group`] and
/// [`super::groups::expand_callable_object`].
#[derive(Clone, Debug)]
pub struct RequestConfig {
    /// Default `%{GLOBAL}` (embedded mode).
    pub process_group: ProcessGroup,
    /// Default `%{RESOURCE}`.
    pub application_group: AppGroup,
    /// Default `application`.
    pub callable_object: String,
    /// Default Off.
    pub pass_authorization: bool,
    /// Default On.
    pub script_reloading: bool,
    /// Default Off.
    pub chunked_request: bool,
    /// Default Auto.
    pub map_head_to_get: MapHeadToGet,
    /// Default Off.
    pub error_override: bool,
    /// Default Off.
    pub enable_sendfile: bool,
    /// Default On.
    pub buffer_request_body: bool,
    /// `WSGIRestrictProcess` in force; None = no restriction.
    pub restrict_process: Option<Vec<String>>,
    /// `WSGITrustedProxyHeaders` in force (environ names); None = trust no
    /// proxy header.
    pub trusted_proxy_headers: Option<Vec<String>>,
    /// `WSGITrustedProxies` in force; None = any peer may send the trusted
    /// headers (mod_wsgi's behaviour when only the headers are listed).
    pub trusted_proxies: Option<Vec<String>>,
}

impl RequestConfig {
    /// Whether the resolved process group (`None` = embedded) is allowed by
    /// `WSGIRestrictProcess`.
    pub fn process_group_permitted(&self, resolved: Option<&str>) -> bool {
        process_group_permitted(self.restrict_process.as_deref(), resolved)
    }

    /// The trusted proxies as subnets (entries were checked when parsed;
    /// any that do not parse are skipped).
    pub fn trusted_proxy_subnets(&self) -> Vec<IpSubnet> {
        self.trusted_proxies
            .iter()
            .flatten()
            .filter_map(|s| IpSubnet::parse(s).ok())
            .collect()
    }
}

/// Resolves the per-request configuration with the precedence: the
/// matching script alias's options, then the directory configuration
/// (already merged by Apache down from the server's default, so it holds
/// the per-directory directives written at server or virtual host level
/// too), then mod_wsgi's defaults.
pub fn effective(dir: &DirConfig, alias: Option<&ScriptAliasOptions>) -> RequestConfig {
    let a = alias.cloned().unwrap_or_default();
    RequestConfig {
        process_group: a
            .process_group
            .or_else(|| dir.process_group.clone())
            .unwrap_or(ProcessGroup::Global),
        application_group: a
            .application_group
            .or_else(|| dir.application_group.clone())
            .unwrap_or(AppGroup::Resource),
        callable_object: a
            .callable_object
            .unwrap_or_else(|| dir.callable_object().to_string()),
        pass_authorization: a
            .pass_authorization
            .unwrap_or_else(|| dir.pass_authorization()),
        script_reloading: dir.script_reloading(),
        chunked_request: dir.chunked_request(),
        map_head_to_get: dir.map_head_to_get(),
        error_override: dir.error_override(),
        enable_sendfile: dir.enable_sendfile(),
        buffer_request_body: dir.buffer_request_body.unwrap_or(true),
        restrict_process: dir.restrict_process.clone(),
        trusted_proxy_headers: dir.trusted_proxy_headers.clone(),
        trusted_proxies: dir.trusted_proxies.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::alias::parse_script_alias_options;

    fn with(directives: &[(&str, &[&str])]) -> DirConfig {
        let mut c = DirConfig::default();
        for (d, a) in directives {
            c.apply(d, a).unwrap_or_else(|e| panic!("{d} {a:?}: {e}"));
        }
        c
    }

    #[test]
    fn defaults() {
        let d = DirConfig::default();
        assert_eq!(d.callable_object(), "application");
        assert!(!d.pass_authorization());
        assert!(d.script_reloading());
        assert!(!d.chunked_request());
        assert_eq!(d.map_head_to_get(), MapHeadToGet::Auto);
        assert!(!d.error_override());
        assert!(!d.enable_sendfile());
        assert_eq!(d.handler_script("x"), None);

        let r = effective(&d, None);
        assert_eq!(r.process_group, ProcessGroup::Global);
        assert_eq!(r.application_group, AppGroup::Resource);
        assert_eq!(r.callable_object, "application");
        assert!(!r.pass_authorization);
        assert!(r.script_reloading);
        assert!(!r.chunked_request);
        assert_eq!(r.map_head_to_get, MapHeadToGet::Auto);
        assert!(!r.error_override);
        assert!(!r.enable_sendfile);
        assert!(r.buffer_request_body);
        assert_eq!(r.restrict_process, None);
        assert_eq!(r.trusted_proxy_headers, None);
        assert_eq!(r.trusted_proxies, None);
        assert!(r.process_group_permitted(Some("anything")));
        assert!(r.trusted_proxy_subnets().is_empty());
    }

    #[test]
    fn accessors_follow_settings() {
        let d = with(&[
            ("WSGICallableObject", &["app"]),
            ("WSGIPassAuthorization", &["On"]),
            ("WSGIScriptReloading", &["Off"]),
            ("WSGIChunkedRequest", &["On"]),
            ("WSGIMapHEADToGET", &["On"]),
            ("WSGIErrorOverride", &["On"]),
            ("WSGIEnableSendfile", &["On"]),
        ]);
        assert_eq!(d.callable_object(), "app");
        assert!(d.pass_authorization());
        assert!(!d.script_reloading());
        assert!(d.chunked_request());
        assert_eq!(d.map_head_to_get(), MapHeadToGet::On);
        assert!(d.error_override());
        assert!(d.enable_sendfile());
    }

    #[test]
    fn apply_groups_and_lists() {
        let d = with(&[
            ("WSGIProcessGroup", &["%{ENV:PG}"]),
            ("WSGIApplicationGroup", &[""]),
            ("WSGIRestrictProcess", &["a", "b"]),
            ("WSGIHandlerScript", &["h1", "/srv/h1.wsgi"]),
            ("WSGIHandlerScript", &["h2", "/srv/h2.wsgi"]),
            ("WSGIHandlerScript", &["h1", "/srv/h1b.wsgi"]),
            (
                "WSGITrustedProxyHeaders",
                &["X-Forwarded-For", "X-Forwarded-Proto"],
            ),
            ("WSGITrustedProxyHeaders", &["X-Real-IP"]),
            ("WSGITrustedProxies", &["10.0.0.0/8"]),
            ("WSGITrustedProxies", &["::1", "192.168"]),
        ]);
        assert_eq!(d.process_group, Some(ProcessGroup::Env("PG".into())));
        assert_eq!(d.application_group, Some(AppGroup::Global));
        assert_eq!(
            d.restrict_process,
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(d.handler_script("h1"), Some("/srv/h1b.wsgi"));
        assert_eq!(d.handler_script("h2"), Some("/srv/h2.wsgi"));
        assert_eq!(d.handler_scripts.len(), 2);
        assert_eq!(
            d.trusted_proxy_headers,
            Some(vec![
                "HTTP_X_FORWARDED_FOR".to_string(),
                "HTTP_X_FORWARDED_PROTO".to_string(),
                "HTTP_X_REAL_IP".to_string()
            ])
        );
        assert_eq!(
            d.trusted_proxies,
            Some(vec![
                "10.0.0.0/8".to_string(),
                "::1".to_string(),
                "192.168".to_string()
            ])
        );
        let r = effective(&d, None);
        let subnets = r.trusted_proxy_subnets();
        assert_eq!(subnets.len(), 3);
        assert!(subnets
            .iter()
            .any(|s| s.contains("10.2.3.4".parse().unwrap())));
        assert!(subnets
            .iter()
            .any(|s| s.contains("192.168.9.9".parse().unwrap())));
    }

    #[test]
    fn apply_errors() {
        let mut d = DirConfig::default();
        assert!(d.apply("WSGIProcessGroup", &[]).is_err());
        assert!(d.apply("WSGIProcessGroup", &["%{RESOURCE}"]).is_err());
        assert!(d
            .apply("WSGIProcessGroup", &["a", "b"])
            .unwrap_err()
            .contains("one argument"));
        assert!(d.apply("WSGIApplicationGroup", &["%{NOPE}"]).is_err());
        assert!(d.apply("WSGICallableObject", &["not valid"]).is_err());
        assert!(d.apply("WSGICallableObject", &["a.b"]).is_err());
        assert!(d.apply("WSGIPassAuthorization", &["yes"]).is_err());
        assert!(d.apply("WSGIMapHEADToGET", &["sometimes"]).is_err());
        assert!(d.apply("WSGIRestrictProcess", &[]).is_err());
        assert!(d
            .apply("WSGIHandlerScript", &["h"])
            .unwrap_err()
            .contains("handler name"));
        let e = d
            .apply("WSGIHandlerScript", &["h", "/f", "process-group=d"])
            .unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        assert!(d.apply("WSGIHandlerScript", &["h", ""]).is_err());
        assert!(d
            .apply("WSGIHandlerScript", &["h", "process-group=d"])
            .is_err());
        assert!(d.apply("WSGITrustedProxyHeaders", &[]).is_err());
        assert!(d.apply("WSGITrustedProxyHeaders", &["X_Bad"]).is_err());
        assert!(d.apply("WSGITrustedProxies", &[]).is_err());
        assert!(d
            .apply("WSGITrustedProxies", &["10.0.0.1", "proxy.example.com"])
            .unwrap_err()
            .contains("invalid trusted proxy"));
        assert_eq!(
            d.trusted_proxies, None,
            "nothing is added when one entry is bad"
        );
        let e = d.apply("WSGIDaemonProcess", &["x"]).unwrap_err();
        assert!(e.contains("cannot be used in a <Directory>"), "{e}");
        assert_eq!(d, DirConfig::default());
    }

    #[test]
    fn merge_fields() {
        let base = with(&[
            ("WSGIProcessGroup", &["base"]),
            ("WSGIApplicationGroup", &["base"]),
            ("WSGICallableObject", &["base"]),
            ("WSGIPassAuthorization", &["On"]),
            ("WSGIScriptReloading", &["Off"]),
            ("WSGIChunkedRequest", &["On"]),
            ("WSGIMapHEADToGET", &["Off"]),
            ("WSGIErrorOverride", &["On"]),
            ("WSGIEnableSendfile", &["On"]),
            ("WSGIRestrictProcess", &["base"]),
            ("WSGIHandlerScript", &["h", "/base/h.wsgi"]),
            ("WSGIHandlerScript", &["b", "/base/b.wsgi"]),
            ("WSGITrustedProxyHeaders", &["X-Forwarded-For"]),
            ("WSGITrustedProxies", &["10.0.0.1"]),
        ]);
        let add = with(&[
            ("WSGIProcessGroup", &["add"]),
            ("WSGIPassAuthorization", &["Off"]),
            ("WSGIMapHEADToGET", &["On"]),
            ("WSGIHandlerScript", &["h", "/add/h.wsgi"]),
            ("WSGITrustedProxies", &["10.0.0.2"]),
        ]);
        let m = DirConfig::merge(&base, &add);
        assert_eq!(m.process_group, Some(ProcessGroup::Named("add".into())));
        assert_eq!(m.application_group, Some(AppGroup::Literal("base".into())));
        assert_eq!(m.callable_object(), "base");
        assert!(!m.pass_authorization());
        assert!(!m.script_reloading());
        assert!(m.chunked_request());
        assert_eq!(m.map_head_to_get(), MapHeadToGet::On);
        assert!(m.error_override());
        assert!(m.enable_sendfile());
        assert_eq!(m.restrict_process, Some(vec!["base".to_string()]));
        assert_eq!(m.handler_script("h"), Some("/add/h.wsgi"));
        assert_eq!(m.handler_script("b"), Some("/base/b.wsgi"));
        assert_eq!(
            m.trusted_proxy_headers,
            Some(vec!["HTTP_X_FORWARDED_FOR".to_string()])
        );
        assert_eq!(m.trusted_proxies, Some(vec!["10.0.0.2".to_string()]));
        assert_eq!(merge(&base, &DirConfig::default()), base);
        assert_eq!(DirConfig::merge(&DirConfig::default(), &base), base);
    }

    #[test]
    fn precedence_alias_over_dir_over_defaults() {
        // Directory over the defaults (every value differs from its default).
        let d = with(&[
            ("WSGIProcessGroup", &["dir"]),
            ("WSGIApplicationGroup", &["dir"]),
            ("WSGICallableObject", &["dir"]),
            ("WSGIPassAuthorization", &["On"]),
            ("WSGIScriptReloading", &["Off"]),
            ("WSGIChunkedRequest", &["On"]),
            ("WSGIMapHEADToGET", &["Off"]),
            ("WSGIErrorOverride", &["On"]),
            ("WSGIEnableSendfile", &["On"]),
            ("WSGIBufferRequestBody", &["Off"]),
            ("WSGIRestrictProcess", &["dir", "%{GLOBAL}"]),
            ("WSGITrustedProxyHeaders", &["X-Forwarded-For"]),
            ("WSGITrustedProxies", &["10.0.0.1"]),
        ]);
        let r = effective(&d, None);
        assert_eq!(r.process_group, ProcessGroup::Named("dir".into()));
        assert_eq!(r.application_group, AppGroup::Literal("dir".into()));
        assert_eq!(r.callable_object, "dir");
        assert!(r.pass_authorization);
        assert!(!r.script_reloading);
        assert!(r.chunked_request);
        assert_eq!(r.map_head_to_get, MapHeadToGet::Off);
        assert!(r.error_override);
        assert!(r.enable_sendfile);
        assert!(!r.buffer_request_body);
        assert_eq!(
            r.restrict_process,
            Some(vec!["dir".to_string(), String::new()])
        );
        assert!(r.process_group_permitted(None));
        assert!(r.process_group_permitted(Some("dir")));
        assert!(!r.process_group_permitted(Some("other")));
        assert_eq!(
            r.trusted_proxy_headers,
            Some(vec!["HTTP_X_FORWARDED_FOR".to_string()])
        );
        assert_eq!(r.trusted_proxies, Some(vec!["10.0.0.1".to_string()]));

        // A restriction without %{GLOBAL} refuses embedded mode.
        let r = effective(&with(&[("WSGIRestrictProcess", &["dir"])]), None);
        assert!(r.process_group_permitted(Some("dir")));
        assert!(!r.process_group_permitted(None));

        // Alias options over the directory.
        let a = parse_script_alias_options(&[
            "process-group=alias",
            "application-group=%{GLOBAL}",
            "callable-object=alias",
            "pass-authorization=Off",
        ])
        .unwrap();
        let r = effective(&d, Some(&a));
        assert_eq!(r.process_group, ProcessGroup::Named("alias".into()));
        assert_eq!(r.application_group, AppGroup::Global);
        assert_eq!(r.callable_object, "alias");
        assert!(!r.pass_authorization);
        // Options the alias does not set fall through.
        let a = parse_script_alias_options(&["callable-object=alias"]).unwrap();
        let r = effective(&d, Some(&a));
        assert_eq!(r.process_group, ProcessGroup::Named("dir".into()));
        assert_eq!(r.application_group, AppGroup::Literal("dir".into()));
        assert_eq!(r.callable_object, "alias");
        assert!(r.pass_authorization);
        // ...to the defaults when the directory sets nothing either.
        let r = effective(&DirConfig::default(), Some(&a));
        assert_eq!(r.process_group, ProcessGroup::Global);
        assert_eq!(r.application_group, AppGroup::Resource);
        assert_eq!(r.callable_object, "alias");
        assert!(!r.pass_authorization);
    }

    #[test]
    fn handler_script_parsing() {
        assert_eq!(
            parse_handler_script(&["h", "/f.wsgi"]).unwrap(),
            ("h".to_string(), "/f.wsgi".to_string())
        );
        assert!(parse_handler_script(&[]).is_err());
        assert!(parse_handler_script(&["", "/f"]).is_err());
        assert!(parse_handler_script(&["a=b", "/f"]).is_err());
    }
}
