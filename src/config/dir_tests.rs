//! Unit tests of the per-directory configuration: defaults, setters
//! applied through the directive table, merging and per-request resolution.

use super::alias::parse_script_alias_options;
use super::dir::{effective, parse_handler_script, DirConfig};
use super::directives::apply_dir;
use super::groups::{AppGroup, ProcessGroup};
use super::values::MapHeadToGet;

fn with(directives: &[(&str, &[&str])]) -> DirConfig {
    let mut c = DirConfig::default();
    for (d, a) in directives {
        apply_dir(&mut c, d, a).unwrap_or_else(|e| panic!("{d} {a:?}: {e}"));
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
    assert!(d.set_process_group(&[]).is_err());
    assert!(apply_dir(&mut d, "WSGIProcessGroup", &["%{RESOURCE}"]).is_err());
    assert!(d
        .set_process_group(&["a", "b"])
        .unwrap_err()
        .contains("one argument"));
    assert!(apply_dir(&mut d, "WSGIApplicationGroup", &["%{NOPE}"]).is_err());
    assert!(apply_dir(&mut d, "WSGICallableObject", &["not valid"]).is_err());
    assert!(apply_dir(&mut d, "WSGICallableObject", &["a.b"]).is_err());
    assert!(apply_dir(&mut d, "WSGIPassAuthorization", &["yes"]).is_err());
    assert!(apply_dir(&mut d, "WSGIMapHEADToGET", &["sometimes"]).is_err());
    assert!(d.set_restrict_process(&[]).is_err());
    assert!(d
        .add_handler_script(&["h"])
        .unwrap_err()
        .contains("handler name"));
    let e = apply_dir(&mut d, "WSGIHandlerScript", &["h", "/f", "bogus=d"]).unwrap_err();
    assert!(e.contains("unknown option 'bogus'"), "{e}");
    assert!(apply_dir(&mut d, "WSGIHandlerScript", &["h", ""]).is_err());
    assert!(apply_dir(&mut d, "WSGIHandlerScript", &["h", "process-group=d"]).is_err());
    assert!(d.add_trusted_proxy_headers(&[]).is_err());
    assert!(apply_dir(&mut d, "WSGITrustedProxyHeaders", &["X_Bad"]).is_err());
    assert!(d.add_trusted_proxies(&[]).is_err());
    assert!(apply_dir(
        &mut d,
        "WSGITrustedProxies",
        &["10.0.0.1", "proxy.example.com"]
    )
    .unwrap_err()
    .contains("invalid trusted proxy"));
    assert_eq!(
        d.trusted_proxies, None,
        "nothing is added when one entry is bad"
    );
    let e = apply_dir(&mut d, "WSGIDaemonProcess", &["x"]).unwrap_err();
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
    assert_eq!(DirConfig::merge(&base, &DirConfig::default()), base);
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
    let h = parse_handler_script(&["h", "/f.wsgi"]).unwrap();
    assert_eq!((h.name.as_str(), h.file.as_str()), ("h", "/f.wsgi"));
    assert_eq!(h.options, Default::default());
    let h = parse_handler_script(&[
        "h",
        "/f.wsgi",
        "process-group=g",
        "application-group=%{GLOBAL}",
        "pass-authorization=On",
    ])
    .unwrap();
    assert_eq!(
        h.options.process_group,
        Some(ProcessGroup::Named("g".into()))
    );
    assert_eq!(h.options.application_group, Some(AppGroup::Global));
    assert_eq!(h.options.pass_authorization, Some(true));
    for bad in [
        &["h", "/f", "callable-object=x"][..],
        &["h", "/f", "pass-authorization=maybe"][..],
        &["h", "/f", "colour=blue"][..],
        &["h", "/f", "process-group="][..],
        &["h", "process-group=g"][..],
    ] {
        assert!(parse_handler_script(bad).is_err(), "{bad:?}");
    }
    assert!(parse_handler_script(&[]).is_err());
    assert!(parse_handler_script(&["", "/f"]).is_err());
    assert!(parse_handler_script(&["a=b", "/f"]).is_err());
}
