//! Unit tests of the directive table and of applying directives by name.

use super::*;

#[test]
fn every_directive_is_unique_and_found() {
    for d in DIRECTIVES {
        assert_eq!(find(&d.name.to_lowercase()).unwrap().name, d.name);
        assert_eq!(DIRECTIVES.iter().filter(|x| x.name == d.name).count(), 1);
    }
    assert!(find("WSGINope").is_none());
}

#[test]
fn script_alias_with_options() {
    let mut s = ServerConfig::default();
    apply_server(
        &mut s,
        "WSGIScriptAlias",
        &[
            "/app",
            "/srv/app.wsgi",
            "process-group=g",
            "callable-object=app",
        ],
    )
    .unwrap();
    assert_eq!(s.aliases.len(), 1);
    assert_eq!(s.aliases[0].url, "/app");
    assert_eq!(s.aliases[0].file, "/srv/app.wsgi");
    assert!(!s.aliases[0].is_regex);
    assert_eq!(s.aliases[0].options.callable_object.as_deref(), Some("app"));
    apply_server(
        &mut s,
        "WSGIScriptAliasMatch",
        &["^/m/([^/]+)", "/srv/$1.wsgi"],
    )
    .unwrap();
    assert!(s.aliases[1].is_regex);
}

#[test]
fn arity_errors_explain() {
    let mut s = ServerConfig::default();
    let e = apply_server(&mut s, "WSGIScriptAlias", &["/x"]).unwrap_err();
    assert!(e.contains("at least 2"), "{e}");
    let e = apply_server(&mut s, "WSGIPythonHome", &["/a", "/b"]).unwrap_err();
    assert!(e.contains("exactly 1"), "{e}");
}

#[test]
fn bad_values_are_errors() {
    let mut d = DirConfig::default();
    assert!(apply_dir(&mut d, "WSGIPassAuthorization", &["maybe"]).is_err());
    assert!(apply_dir(&mut d, "WSGIApplicationGroup", &["%{BOGUS}"]).is_err());
    assert!(apply_dir(&mut d, "WSGIMapHEADToGET", &["sometimes"]).is_err());
    assert!(apply_dir(&mut d, "WSGITrustedProxyHeaders", &["X_Bad"]).is_err());
    let mut s = ServerConfig::default();
    assert!(apply_server(&mut s, "WSGIPythonOptimize", &["3"]).is_err());
    assert!(apply_server(&mut s, "WSGIDaemonProcess", &["g", "bogus=1"]).is_err());
    assert!(apply_server(&mut s, "WSGIDaemonProcess", &["g", "processes=abc"]).is_err());
}

#[test]
fn duplicate_daemon_group_is_an_error() {
    let mut s = ServerConfig::default();
    apply_server(&mut s, "WSGIDaemonProcess", &["g"]).unwrap();
    let e = apply_server(&mut s, "WSGIDaemonProcess", &["g"]).unwrap_err();
    assert!(e.contains("already defined"), "{e}");
}

#[test]
fn dir_values_are_stored() {
    let mut d = DirConfig::default();
    apply_dir(&mut d, "WSGIPassAuthorization", &["On"]).unwrap();
    apply_dir(&mut d, "WSGICallableObject", &["app"]).unwrap();
    apply_dir(&mut d, "WSGIChunkedRequest", &["on"]).unwrap();
    apply_dir(
        &mut d,
        "WSGITrustedProxyHeaders",
        &["X-Forwarded-For", "X-Real-IP"],
    )
    .unwrap();
    assert_eq!(d.pass_authorization, Some(true));
    assert_eq!(d.callable_object.as_deref(), Some("app"));
    assert_eq!(d.chunked_request, Some(true));
    assert_eq!(
        d.trusted_proxy_headers.as_deref(),
        Some(
            &[
                "HTTP_X_FORWARDED_FOR".to_string(),
                "HTTP_X_REAL_IP".to_string()
            ][..]
        )
    );
}

#[test]
fn auth_scripts_are_stored() {
    let mut d = DirConfig::default();
    apply_dir(&mut d, "WSGIAccessScript", &["/a.wsgi"]).unwrap();
    apply_dir(
        &mut d,
        "WSGIAuthUserScript",
        &["/u.wsgi", "application-group=x"],
    )
    .unwrap();
    apply_dir(&mut d, "WSGIAuthGroupScript", &["/g.wsgi"]).unwrap();
    apply_dir(&mut d, "WSGIGroupAuthoritative", &["Off"]).unwrap();
    apply_dir(&mut d, "WSGIDispatchScript", &["/d.py"]).unwrap();
    assert_eq!(d.access_script.as_ref().unwrap().file, "/a.wsgi");
    assert_eq!(d.auth_user_script.as_ref().unwrap().file, "/u.wsgi");
    assert_eq!(d.auth_group_script.as_ref().unwrap().file, "/g.wsgi");
    assert_eq!(d.dispatch_script.as_ref().unwrap().file, "/d.py");
    let e = apply_dir(&mut d, "WSGIAuthUserScript", &["/u", "process-group=p"]).unwrap_err();
    assert!(e.contains("invalid option"), "{e}");
}

#[test]
fn python_settings() {
    let mut s = ServerConfig::default();
    apply_server(&mut s, "WSGIPythonPath", &["/a:/b"]).unwrap();
    apply_server(&mut s, "WSGIPythonOptimize", &["2"]).unwrap();
    apply_server(&mut s, "WSGIPythonHashSeed", &["random"]).unwrap();
    apply_server(&mut s, "WSGIDontWriteBytecode", &["On"]).unwrap();
    assert_eq!(s.python_path, vec!["/a", "/b"]);
    assert_eq!(s.python_optimize, Some(2));
    assert_eq!(s.python_hash_seed, Some(None));
    assert_eq!(s.dont_write_bytecode, Some(true));
}

#[test]
fn actions_match_the_context() {
    // A row's action writes the structure Apache hands it for its context.
    for d in DIRECTIVES {
        let ok = match d.action {
            Action::Server(_) | Action::ServerFlag(_) | Action::ServerNoted { .. } => {
                d.scope() == Scope::Server
            }
            Action::Dir(_) | Action::DirFlag(_) => d.scope() == Scope::Dir,
            Action::NoEffect { .. } | Action::Refused { .. } => true,
        };
        assert!(ok, "{}: {:?} in context {:?}", d.name, d.action, d.context);
        assert!(d.min_args <= d.max_args, "{}", d.name);
        assert!(!d.help.is_empty(), "{}", d.name);
        assert_eq!(d.c_name.to_str().unwrap(), d.name);
        assert_eq!(d.c_help.to_str().unwrap(), d.help);
    }
}

#[test]
fn flags_take_on_or_off() {
    let flags = DIRECTIVES
        .iter()
        .filter(|d| matches!(d.action, Action::ServerFlag(_) | Action::DirFlag(_)));
    for d in flags {
        assert_eq!((d.min_args, d.max_args), (1, 1), "{}", d.name);
        let mut s = ServerConfig::default();
        let mut c = DirConfig::default();
        let apply = |s: &mut ServerConfig, c: &mut DirConfig, v: &str| match d.scope() {
            Scope::Server => apply_server(s, d.name, &[v]),
            Scope::Dir => apply_dir(c, d.name, &[v]),
        };
        let e = apply(&mut s, &mut c, "maybe").unwrap_err();
        assert!(e.contains("On or Off"), "{}: {e}", d.name);
        assert_eq!((&s, &c), (&ServerConfig::default(), &DirConfig::default()));
        apply(&mut s, &mut c, "On").unwrap();
        assert!(
            s != ServerConfig::default() || c != DirConfig::default(),
            "{} stored nothing",
            d.name
        );
    }
}

#[test]
fn no_effect_rows_check_and_store_nothing() {
    let mut s = ServerConfig::default();
    apply_server(&mut s, "WSGIAcceptMutex", &["default"]).unwrap();
    apply_server(&mut s, "WSGIAcceptMutex", &["FCNTL"]).unwrap();
    apply_server(&mut s, "WSGISocketRotation", &["Off"]).unwrap();
    apply_server(&mut s, "WSGIDestroyInterpreter", &["On"]).unwrap();
    apply_server(&mut s, "WSGIPerInterpreterGIL", &["On"]).unwrap();
    apply_server(&mut s, "WSGICaseSensitivity", &["Off"]).unwrap();
    apply_server(&mut s, "WSGILazyInitialization", &["Off"]).unwrap();
    apply_server(&mut s, "WSGIVerboseDebugging", &["On"]).unwrap();
    apply_server(&mut s, "WSGINewRelicConfigFile", &["/etc/nr.ini"]).unwrap();
    apply_server(&mut s, "WSGINewRelicEnvironment", &["staging"]).unwrap();
    apply_server(&mut s, "WSGITelemetryService", &["unix:/run/t.sock"]).unwrap();
    apply_server(
        &mut s,
        "WSGITelemetryService",
        &["unix:/run/t.sock", "interval=0.5"],
    )
    .unwrap();
    apply_server(&mut s, "WSGISlowRequests", &["2.5"]).unwrap();
    apply_server(&mut s, "WSGITelemetryOptions", &["+CaptureUserAgent"]).unwrap();
    apply_server(&mut s, "WSGITelemetryOptions", &["None"]).unwrap();
    apply_server(&mut s, "<WSGIInterpreterOptions", &["process-group=g>"]).unwrap();
    apply_server(
        &mut s,
        "<WSGIInterpreterOptions",
        &["process-group=g", "application-group=%{GLOBAL}>"],
    )
    .unwrap();
    apply_server(&mut s, "<WSGIInterpreterOptions", &[">"]).unwrap();
    assert_eq!(s, ServerConfig::default());
    assert!(apply_server(&mut s, "WSGISocketRotation", &["x"]).is_err());
    assert!(apply_server(&mut s, "WSGIAcceptMutex", &[]).is_err());
    for (name, args, needle) in [
        ("WSGIAcceptMutex", &["spin"][..], "unknown accept mutex"),
        ("WSGIPerInterpreterGIL", &["yes"][..], "On or Off"),
        ("WSGITelemetryService", &["udp:1.2.3.4:9"][..], "unix:/path"),
        (
            "WSGITelemetryService",
            &["unix:/x", "interval=0.1"][..],
            "at least 0.5",
        ),
        (
            "WSGITelemetryService",
            &["unix:/x", "every=1"][..],
            "interval=N",
        ),
        ("WSGISlowRequests", &["-1"][..], "non-negative"),
        (
            "WSGITelemetryOptions",
            &["CaptureUserAgent", "-CaptureUserAgent"][..],
            "cannot mix",
        ),
        ("WSGITelemetryOptions", &["+All"][..], "prefix"),
        (
            "WSGITelemetryOptions",
            &["CaptureReferer"][..],
            "unknown flag",
        ),
        (
            "<WSGIInterpreterOptions",
            &["process-group=g"][..],
            "closing '>'",
        ),
        (
            "<WSGIInterpreterOptions",
            &["group=g>"][..],
            "unknown selector",
        ),
        (
            "<WSGIInterpreterOptions",
            &["process-group=a", "process-group=b>"][..],
            "more than once",
        ),
        ("<WSGIInterpreterOptions", &["g>"][..], "key=value"),
    ] {
        let e = apply_server(&mut s, name, args).unwrap_err();
        assert!(e.contains(needle), "{name} {args:?}: {e}");
    }
    let mut d = DirConfig::default();
    let e = apply_dir(&mut d, "WSGIAcceptMutex", &["default"]).unwrap_err();
    assert!(e.contains("cannot be used in a <Directory>"), "{e}");
}

#[test]
fn wrong_scope_and_unknown_names() {
    let mut s = ServerConfig::default();
    let e = apply_server(&mut s, "WSGINoSuchThing", &[]).unwrap_err();
    assert_eq!(e, "unknown directive WSGINoSuchThing");
    // The glue sends per-directory directives to DirConfig in every context
    // (WSGIProcessGroup, WSGIPassAuthorization, ... at server level
    // included), so reaching the server configuration is a routing bug.
    for d in DIRECTIVES.iter().filter(|d| d.scope() == Scope::Dir) {
        let args = vec!["On"; d.min_args];
        let e = apply_server(&mut s, &d.name.to_lowercase(), &args).unwrap_err();
        assert!(e.starts_with("internal error:"), "{}: {e}", d.name);
        assert!(e.contains(d.name) && e.contains("per-directory"), "{e}");
    }
    assert_eq!(s, ServerConfig::default());
    let mut c = DirConfig::default();
    let e = apply_dir(&mut c, "WSGIDaemonProcess", &["x"]).unwrap_err();
    assert!(e.contains("cannot be used in a <Directory>"), "{e}");
    assert_eq!(c, DirConfig::default());
}

#[test]
fn every_no_effect_row_says_why() {
    for d in DIRECTIVES {
        if let Action::NoEffect { why, unless, .. } = d.action {
            assert!(why.len() > 20, "{}: {why}", d.name);
            let other = match unless {
                Some(u) if u.eq_ignore_ascii_case("on") => "Off",
                _ => "On",
            };
            assert_eq!(no_effect_note(d, &[other]), Some(why), "{}", d.name);
            if let Some(u) = unless {
                assert_eq!(no_effect_note(d, &[&u.to_lowercase()]), None, "{}", d.name);
            }
        }
    }
    let metrics = find("WSGIServerMetrics").unwrap();
    assert_eq!(no_effect_note(metrics, &["On"]), None);
    let free = find("WSGIFreeThreading").unwrap();
    assert!(no_effect_note(free, &["on"])
        .unwrap()
        .contains("not free-threaded"));
    assert_eq!(no_effect_note(free, &["Off"]), None);
    assert_eq!(
        no_effect_note(find("WSGIPythonEggs").unwrap(), &["/x"]),
        None
    );
}

#[test]
fn stored_values_of_the_61_directives() {
    let mut s = ServerConfig::default();
    apply_server(&mut s, "WSGIPythonEggs", &["/var/cache/eggs"]).unwrap();
    apply_server(&mut s, "WSGISwitchInterval", &["0.002"]).unwrap();
    apply_server(&mut s, "WSGIServerMetrics", &["On"]).unwrap();
    apply_server(&mut s, "WSGIFreeThreading", &["Off"]).unwrap();
    assert_eq!(s.python_eggs.as_deref(), Some("/var/cache/eggs"));
    assert_eq!(s.switch_interval, Some(0.002));
    assert_eq!(
        (s.server_metrics, s.free_threading),
        (Some(true), Some(false))
    );
    for bad in ["0", "-1", "abc", "inf", ""] {
        let e = apply_server(&mut s, "WSGISwitchInterval", &[bad]).unwrap_err();
        assert!(e.contains("positive number of seconds"), "{bad}: {e}");
    }
    assert!(apply_server(&mut s, "WSGIServerMetrics", &["1"]).is_err());
    assert!(apply_server(&mut s, "WSGIFreeThreading", &["maybe"]).is_err());

    let mut d = DirConfig::default();
    apply_dir(&mut d, "WSGIIgnoreActivity", &["On"]).unwrap();
    apply_dir(&mut d, "WSGIGroupAuthoritative", &["Off"]).unwrap();
    apply_dir(&mut d, "WSGIPassApacheRequest", &["On"]).unwrap();
    apply_dir(
        &mut d,
        "WSGIDispatchScript",
        &["/srv/d.py", "application-group=%{GLOBAL}"],
    )
    .unwrap();
    assert!(d.ignore_activity());
    let ds = d.dispatch_script.clone().unwrap();
    assert_eq!(ds.file, "/srv/d.py");
    assert_eq!(ds.application_group.as_deref(), Some("%{GLOBAL}"));
    assert!(crate::config::effective(&d, None).ignore_activity);
    for (args, needle) in [
        (&["/srv/d.py", "process-group=x"][..], "only option"),
        (&["/srv/d.py", "application-group="][..], "needs a name"),
        (&["application-group=x"][..], "dispatch script file"),
    ] {
        let e = apply_dir(&mut d, "WSGIDispatchScript", args).unwrap_err();
        assert!(e.contains(needle), "{args:?}: {e}");
    }
    assert!(apply_dir(&mut d, "WSGIGroupAuthoritative", &["x"]).is_err());
    assert!(apply_dir(&mut d, "WSGIPassApacheRequest", &["x"]).is_err());
}
