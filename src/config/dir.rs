//! The per-directory (`<Directory>`, `<Location>`, `.htaccess`)
//! configuration, and the per-request resolution of everything.

use super::alias::{parse_script_alias_options, ScriptAliasOptions};
use super::groups::{
    parse_application_group, parse_process_group, parse_restrict_process, process_group_permitted,
    AppGroup, ProcessGroup,
};
use super::scripts::{parse_script, Kind, ScriptFile};
use super::trusted_proxy::{header_env_name, IpSubnet};
use super::values::{
    one_arg, parse_callable_object, parse_map_head, pick, split_key_value, MapHeadToGet,
};

/// Configuration of the per-directory directives (`Scope::Dir` in the
/// directive table, which applies them through the setters below), set in a `<Directory>`, `<Location>`, `<Files>` or
/// `.htaccess` context, or at server / virtual host level (Apache keeps
/// those in the server's default per-directory configuration, which the
/// more specific contexts merge over). `None` means "not set here";
/// accessors give the effective value with mod_wsgi's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirConfig {
    /// `WSGIProcessGroup`
    pub(crate) process_group: Option<ProcessGroup>,
    /// `WSGIApplicationGroup`
    pub(crate) application_group: Option<AppGroup>,
    /// `WSGICallableObject`
    pub(crate) callable_object: Option<String>,
    /// `WSGIPassAuthorization`
    pub(crate) pass_authorization: Option<bool>,
    /// `WSGIScriptReloading`
    pub(crate) script_reloading: Option<bool>,
    /// `WSGIChunkedRequest`
    pub(crate) chunked_request: Option<bool>,
    /// `WSGIMapHEADToGET`
    pub(crate) map_head_to_get: Option<MapHeadToGet>,
    /// `WSGIErrorOverride`
    pub(crate) error_override: Option<bool>,
    /// `WSGIEnableSendfile`
    pub(crate) enable_sendfile: Option<bool>,
    /// `WSGIBufferRequestBody` (mod_wsgi_rs): daemon mode reads the whole
    /// request body in the Apache child before a daemon thread is taken.
    pub(crate) buffer_request_body: Option<bool>,
    /// `WSGIRestrictProcess` (`%{GLOBAL}` stored as `""`)
    pub(crate) restrict_process: Option<Vec<String>>,
    /// `WSGIHandlerScript name file [options]`, one per name.
    pub(crate) handler_scripts: Vec<HandlerScript>,
    /// `WSGIAccessScript file [application-group=NAME]`
    pub(crate) access_script: Option<ScriptFile>,
    /// `WSGIAuthUserScript file [application-group=NAME]`
    pub(crate) auth_user_script: Option<ScriptFile>,
    /// `WSGIAuthGroupScript file [application-group=NAME]`
    pub(crate) auth_group_script: Option<ScriptFile>,
    /// `WSGITrustedProxyHeaders`, stored as environ names
    /// (`HTTP_X_FORWARDED_FOR`), as mod_wsgi does.
    pub(crate) trusted_proxy_headers: Option<Vec<String>>,
    /// `WSGITrustedProxies`: addresses / subnets as written (each checked
    /// by [`IpSubnet::parse`]).
    pub(crate) trusted_proxies: Option<Vec<String>>,
    /// `WSGIIgnoreActivity`: requests here do not reset their daemon
    /// process's inactivity-timeout (default Off).
    pub(crate) ignore_activity: Option<bool>,
    /// `WSGIDispatchScript file [application-group=NAME]`.
    pub(crate) dispatch_script: Option<DispatchScript>,
}

/// `WSGIDispatchScript file [application-group=NAME]`: a script whose
/// `process_group(environ)` / `application_group(environ)` /
/// `callable_object(environ)` functions choose those values per request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DispatchScript {
    /// The script file, as written.
    pub(crate) file: String,
    /// The application group (interpreter) the script itself runs in, as
    /// written (`%{GLOBAL}` or a name); None = mod_wsgi's default.
    pub(crate) application_group: Option<String>,
}

/// Parses `WSGIDispatchScript`'s arguments as mod_wsgi does: the script
/// file, then only `application-group=NAME` (not empty).
pub(crate) fn parse_dispatch_script(args: &[&str]) -> Result<DispatchScript, String> {
    let file = args.first().copied().unwrap_or("");
    if file.is_empty() || file.starts_with("application-group=") {
        return Err(
            "needs the dispatch script file, then optionally application-group=NAME, e.g. WSGIDispatchScript /srv/dispatch.py"
                .to_string(),
        );
    }
    let mut out = DispatchScript {
        file: file.to_string(),
        application_group: None,
    };
    for arg in &args[1..] {
        match arg.split_once('=') {
            Some(("application-group", v)) if !v.is_empty() => {
                out.application_group = Some(super::values::unquote(v).to_string())
            }
            Some(("application-group", _)) => {
                return Err("application-group needs a name: write application-group=NAME".to_string())
            }
            _ => {
                return Err(format!(
                    "invalid option '{arg}' to WSGIDispatchScript: the only option is application-group=NAME"
                ))
            }
        }
    }
    Ok(out)
}

/// Parses `WSGIHandlerScript name file [options]` as mod_wsgi does: the
/// options are `process-group=`, `application-group=` and
/// `pass-authorization=On|Off` (checked as on `WSGIScriptAlias`).
pub(crate) fn parse_handler_script(args: &[&str]) -> Result<HandlerScript, String> {
    let usage = || {
        "needs a handler name, then the script file, e.g. WSGIHandlerScript my-handler /srv/handler.wsgi"
            .to_string()
    };
    let [name, file, options @ ..] = args else {
        return Err(usage());
    };
    let is_option = |s: &str| s.contains('=') && split_key_value(s).is_some();
    if name.is_empty() || file.is_empty() || name.contains('=') || is_option(file) {
        return Err(usage());
    }
    let options = parse_script_alias_options(options)?;
    if options.callable_object.is_some() {
        return Err(
            "callable-object= is not an option of WSGIHandlerScript; the options are process-group=, application-group= and pass-authorization="
                .to_string(),
        );
    }
    Ok(HandlerScript {
        name: name.to_string(),
        file: file.to_string(),
        options,
    })
}

/// One `WSGIHandlerScript name file [options]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct HandlerScript {
    /// The handler name (`SetHandler` / `AddHandler`).
    pub(crate) name: String,
    /// The script file.
    pub(crate) file: String,
    /// `process-group=`, `application-group=`, `pass-authorization=`
    /// (`callable_object` is always None).
    pub(crate) options: ScriptAliasOptions,
}

impl DirConfig {
    /// Merges a more specific configuration (`add`) over `base`: each
    /// value set in `add` wins. Handler scripts are combined by name
    /// (`add`'s definition of a name wins). Trusted proxy lists and
    /// `WSGIRestrictProcess` are replaced as a whole, as in mod_wsgi.
    pub fn merge(base: &DirConfig, add: &DirConfig) -> DirConfig {
        let mut handler_scripts = add.handler_scripts.clone();
        for h in &base.handler_scripts {
            if !handler_scripts.iter().any(|a| a.name == h.name) {
                handler_scripts.push(h.clone());
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
            access_script: pick(&base.access_script, &add.access_script),
            auth_user_script: pick(&base.auth_user_script, &add.auth_user_script),
            auth_group_script: pick(&base.auth_group_script, &add.auth_group_script),
            trusted_proxy_headers: pick(&base.trusted_proxy_headers, &add.trusted_proxy_headers),
            trusted_proxies: pick(&base.trusted_proxies, &add.trusted_proxies),
            ignore_activity: pick(&base.ignore_activity, &add.ignore_activity),
            dispatch_script: pick(&base.dispatch_script, &add.dispatch_script),
        }
    }

    /// `WSGICallableObject` (default `application`).
    pub(crate) fn callable_object(&self) -> &str {
        self.callable_object.as_deref().unwrap_or("application")
    }

    /// `WSGIIgnoreActivity` (default Off).
    pub(crate) fn ignore_activity(&self) -> bool {
        self.ignore_activity.unwrap_or(false)
    }

    /// `WSGIPassAuthorization` (default Off).
    pub(crate) fn pass_authorization(&self) -> bool {
        self.pass_authorization.unwrap_or(false)
    }

    /// `WSGIScriptReloading` (default On).
    pub(crate) fn script_reloading(&self) -> bool {
        self.script_reloading.unwrap_or(true)
    }

    /// `WSGIChunkedRequest` (default Off).
    pub(crate) fn chunked_request(&self) -> bool {
        self.chunked_request.unwrap_or(false)
    }

    /// `WSGIMapHEADToGET` (default Auto).
    pub(crate) fn map_head_to_get(&self) -> MapHeadToGet {
        self.map_head_to_get.unwrap_or(MapHeadToGet::Auto)
    }

    /// `WSGIErrorOverride` (default Off).
    pub(crate) fn error_override(&self) -> bool {
        self.error_override.unwrap_or(false)
    }

    /// `WSGIEnableSendfile` (default Off).
    pub(crate) fn enable_sendfile(&self) -> bool {
        self.enable_sendfile.unwrap_or(false)
    }

    /// The script file for `SetHandler name`, if `name` was defined by
    /// `WSGIHandlerScript`.
    #[cfg(test)]
    pub(crate) fn handler_script(&self, name: &str) -> Option<&str> {
        self.handler_scripts
            .iter()
            .find(|h| h.name == name)
            .map(|h| h.file.as_str())
    }

    // --- directive setters (rows of `super::directives::DIRECTIVES`; the
    // argument count is checked there; On/Off directives store straight
    // into their field) ---

    /// `WSGIProcessGroup name|%{GLOBAL}|%{ENV:…}`
    pub(crate) fn set_process_group(&mut self, args: &[&str]) -> Result<(), String> {
        self.process_group = Some(parse_process_group(one_arg(args)?)?);
        Ok(())
    }

    /// `WSGIApplicationGroup name|%{GLOBAL}|%{RESOURCE}|…`
    pub(crate) fn set_application_group(&mut self, args: &[&str]) -> Result<(), String> {
        self.application_group = Some(parse_application_group(one_arg(args)?)?);
        Ok(())
    }

    /// `WSGICallableObject name|%{ENV:…}`
    pub(crate) fn set_callable_object(&mut self, args: &[&str]) -> Result<(), String> {
        self.callable_object = Some(parse_callable_object(one_arg(args)?)?);
        Ok(())
    }

    /// `WSGIMapHEADToGET On|Off|Auto`
    pub(crate) fn set_map_head_to_get(&mut self, args: &[&str]) -> Result<(), String> {
        self.map_head_to_get = Some(parse_map_head(one_arg(args)?)?);
        Ok(())
    }

    /// `WSGIRestrictProcess group…`
    pub(crate) fn set_restrict_process(&mut self, args: &[&str]) -> Result<(), String> {
        self.restrict_process = Some(parse_restrict_process(args)?);
        Ok(())
    }

    /// `WSGIHandlerScript name file`: a repeated name replaces the earlier
    /// file.
    pub(crate) fn add_handler_script(&mut self, args: &[&str]) -> Result<(), String> {
        let h = parse_handler_script(args)?;
        match self.handler_scripts.iter_mut().find(|e| e.name == h.name) {
            Some(entry) => *entry = h,
            None => self.handler_scripts.push(h),
        }
        Ok(())
    }

    /// `WSGIDispatchScript file [application-group=NAME]`: the last one
    /// of a context wins.
    pub(crate) fn set_dispatch_script(&mut self, args: &[&str]) -> Result<(), String> {
        self.dispatch_script = Some(parse_dispatch_script(args)?);
        Ok(())
    }

    /// `WSGIAccessScript file [application-group=NAME]`
    pub(crate) fn set_access_script(&mut self, args: &[&str]) -> Result<(), String> {
        self.access_script = Some(parse_script(Kind::Access, args)?);
        Ok(())
    }

    /// `WSGIAuthUserScript file [application-group=NAME]`
    pub(crate) fn set_auth_user_script(&mut self, args: &[&str]) -> Result<(), String> {
        self.auth_user_script = Some(parse_script(Kind::AuthUser, args)?);
        Ok(())
    }

    /// `WSGIAuthGroupScript file [application-group=NAME]`
    pub(crate) fn set_auth_group_script(&mut self, args: &[&str]) -> Result<(), String> {
        self.auth_group_script = Some(parse_script(Kind::AuthGroup, args)?);
        Ok(())
    }

    /// `WSGITrustedProxyHeaders header…`: repeated lines add to the list.
    pub(crate) fn add_trusted_proxy_headers(&mut self, args: &[&str]) -> Result<(), String> {
        if args.is_empty() {
            return Err("needs at least one header name, such as X-Forwarded-For".to_string());
        }
        let names = args
            .iter()
            .map(|h| header_env_name(h))
            .collect::<Result<Vec<_>, _>>()?;
        self.trusted_proxy_headers
            .get_or_insert_with(Vec::new)
            .extend(names);
        Ok(())
    }

    /// `WSGITrustedProxies address|subnet…`: repeated lines add to the
    /// list; nothing is added when one entry is bad.
    pub(crate) fn add_trusted_proxies(&mut self, args: &[&str]) -> Result<(), String> {
        if args.is_empty() {
            return Err("needs at least one IP address or subnet, such as 10.0.0.0/8".to_string());
        }
        for a in args {
            IpSubnet::parse(a)?;
        }
        self.trusted_proxies
            .get_or_insert_with(Vec::new)
            .extend(args.iter().map(|a| a.to_string()));
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
    pub(crate) process_group: ProcessGroup,
    /// Default `%{RESOURCE}`.
    pub(crate) application_group: AppGroup,
    /// Default `application`.
    pub(crate) callable_object: String,
    /// Default Off.
    pub(crate) pass_authorization: bool,
    /// Default On.
    pub(crate) script_reloading: bool,
    /// Default Off.
    pub(crate) chunked_request: bool,
    /// Default Auto.
    pub(crate) map_head_to_get: MapHeadToGet,
    /// Default Off.
    pub(crate) error_override: bool,
    /// Default Off.
    pub(crate) enable_sendfile: bool,
    /// Default On.
    pub(crate) buffer_request_body: bool,
    /// `WSGIIgnoreActivity` (default Off).
    pub(crate) ignore_activity: bool,
    /// `WSGIRestrictProcess` in force; None = no restriction.
    pub(crate) restrict_process: Option<Vec<String>>,
    /// `WSGITrustedProxyHeaders` in force (environ names); None = trust no
    /// proxy header.
    pub(crate) trusted_proxy_headers: Option<Vec<String>>,
    /// `WSGITrustedProxies` in force; None = any peer may send the trusted
    /// headers (mod_wsgi's behaviour when only the headers are listed).
    pub(crate) trusted_proxies: Option<Vec<String>>,
}

impl RequestConfig {
    /// Whether the resolved process group (`None` = embedded) is allowed by
    /// `WSGIRestrictProcess`.
    pub(crate) fn process_group_permitted(&self, resolved: Option<&str>) -> bool {
        process_group_permitted(self.restrict_process.as_deref(), resolved)
    }

    /// The trusted proxies as subnets (entries were checked when parsed;
    /// any that do not parse are skipped).
    pub(crate) fn trusted_proxy_subnets(&self) -> Vec<IpSubnet> {
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
        ignore_activity: dir.ignore_activity(),
        restrict_process: dir.restrict_process.clone(),
        trusted_proxy_headers: dir.trusted_proxy_headers.clone(),
        trusted_proxies: dir.trusted_proxies.clone(),
    }
}
