//! Unit tests of the server configuration: defaults, setters applied
//! through the directive table, and merging.

use super::directives::apply_server;
use super::server::ServerConfig;

fn with(directives: &[(&str, &[&str])]) -> ServerConfig {
    let mut c = ServerConfig::default();
    for (d, a) in directives {
        apply_server(&mut c, d, a).unwrap_or_else(|e| panic!("{d} {a:?}: {e}"));
    }
    c
}

#[test]
fn defaults() {
    let c = ServerConfig::default();
    assert!(!c.restrict_stdin(), "Off by default, as in mod_wsgi 6.1");
    assert!(!c.restrict_stdout());
    assert!(c.restrict_signal());
    assert!(!c.restrict_embedded());
    assert!(!c.dont_write_bytecode());
    assert_eq!(c.python_optimize(), 0);
    assert!(!c.server_metrics());
    assert_eq!((c.python_eggs.as_deref(), c.switch_interval), (None, None));
    assert_eq!(c.socket_prefix(), "/var/run/apache2/wsgi");
    assert_eq!(c.socket_prefix_or("/run/httpd/wsgi"), "/run/httpd/wsgi");
    assert!(c.aliases.is_empty() && c.daemons.is_empty() && c.import_scripts.is_empty());
    assert_eq!(c.find_daemon("x"), None);
    assert!(c.preloads().is_empty());
}

#[test]
fn accessors_follow_settings() {
    let c = with(&[
        ("WSGIRestrictStdin", &["On"]),
        ("WSGIRestrictStdout", &["On"]),
        ("WSGIRestrictSignal", &["Off"]),
        ("WSGIRestrictEmbedded", &["On"]),
        ("WSGIDontWriteBytecode", &["On"]),
        ("WSGIPythonOptimize", &["2"]),
        ("WSGIServerMetrics", &["On"]),
        ("WSGIPythonEggs", &["/tmp/eggs"]),
        ("WSGISwitchInterval", &["0.0125"]),
        ("WSGISocketPrefix", &["run/wsgi"]),
    ]);
    assert!(c.restrict_stdin());
    assert!(c.restrict_stdout());
    assert!(!c.restrict_signal());
    assert!(c.restrict_embedded());
    assert!(c.dont_write_bytecode());
    assert_eq!(c.python_optimize(), 2);
    assert!(c.server_metrics());
    assert_eq!(c.python_eggs.as_deref(), Some("/tmp/eggs"));
    assert_eq!(c.switch_interval, Some(0.0125));
    assert_eq!(c.socket_prefix(), "run/wsgi");
    assert_eq!(c.socket_prefix_or("/other"), "run/wsgi");
}

#[test]
fn apply_python_directives() {
    let c = with(&[
        ("WSGIPythonHome", &["/srv/venv"]),
        ("WSGIPythonPath", &["/a:/b"]),
        ("WSGIPythonPath", &["/c"]),
        ("WSGIPythonWarnings", &["ignore::DeprecationWarning"]),
        ("WSGIPythonWarnings", &["error"]),
        ("WSGIPythonHashSeed", &["random"]),
    ]);
    assert_eq!(c.python_home.as_deref(), Some("/srv/venv"));
    assert_eq!(c.python_path, vec!["/c"], "the last WSGIPythonPath wins");
    assert_eq!(
        c.python_warnings,
        vec!["ignore::DeprecationWarning", "error"]
    );
    assert_eq!(c.python_hash_seed, Some(None));
    let c = with(&[("wsgipythonhashseed", &["42"])]);
    assert_eq!(c.python_hash_seed, Some(Some(42)));
}

#[test]
fn apply_aliases_daemons_imports() {
    let c = with(&[
        ("WSGIDaemonProcess", &["d", "processes=2"]),
        (
            "WSGIScriptAlias",
            &[
                "/app",
                "/srv/app.wsgi",
                "process-group=d",
                "application-group=%{GLOBAL}",
            ],
        ),
        ("WSGIScriptAliasMatch", &["^/x/(\\w+)", "/srv/$1.wsgi"]),
        (
            "WSGIImportScript",
            &["/srv/pre.py", "process-group=d", "application-group=x"],
        ),
    ]);
    assert_eq!(c.find_daemon("d").map(|d| d.processes), Some(2));
    assert_eq!(c.aliases.len(), 2);
    assert!(!c.aliases[0].is_regex && c.aliases[1].is_regex);
    assert_eq!(c.import_scripts.len(), 1);
    let pre = c.preloads();
    assert_eq!(pre.len(), 2);
    assert_eq!(pre[0].0, "/srv/pre.py");
    assert_eq!(pre[1].0, "/srv/app.wsgi");
}

#[test]
fn preloads_without_repeats() {
    let c = with(&[
        (
            "WSGIScriptAlias",
            &["/a", "/f.wsgi", "process-group=d", "application-group=g"],
        ),
        (
            "WSGIImportScript",
            &["/f.wsgi", "process-group=d", "application-group=g"],
        ),
    ]);
    assert_eq!(c.preloads().len(), 1);
}

#[test]
fn apply_errors() {
    let mut c = ServerConfig::default();
    // The setters check their argument themselves too.
    assert!(c
        .set_python_home(&[])
        .unwrap_err()
        .contains("needs one argument"));
    assert!(c
        .set_python_home(&["a", "b"])
        .unwrap_err()
        .contains("takes one argument"));
    let mut apply = |d: &str, a: &[&str]| apply_server(&mut c, d, a);
    assert!(apply("WSGIRestrictStdin", &["maybe"])
        .unwrap_err()
        .contains("On or Off"));
    assert!(apply("WSGIPythonOptimize", &["5"]).is_err());
    assert!(apply("WSGIPythonHashSeed", &["x"]).is_err());
    assert!(apply("WSGISocketPrefix", &[""]).is_err());
    assert!(apply("WSGIScriptAlias", &["/a"]).is_err());
    assert!(apply("WSGIImportScript", &["/f"]).is_err());
    assert!(apply("WSGIDaemonProcess", &["d", "bogus=1"]).is_err());
    apply("WSGIDaemonProcess", &["d"]).unwrap();
    let e = apply("WSGIDaemonProcess", &["d", "threads=2"]).unwrap_err();
    assert!(e.contains("already defined"), "{e}");
    assert_eq!(c.daemons.len(), 1);
}

#[test]
fn merge_scalars() {
    let base = with(&[
        ("WSGIPythonHome", &["/base"]),
        ("WSGIRestrictStdin", &["Off"]),
        ("WSGIRestrictSignal", &["Off"]),
        ("WSGIPythonHashSeed", &["7"]),
        ("WSGISocketPrefix", &["/base"]),
    ]);
    let add = with(&[
        ("WSGIRestrictStdin", &["On"]),
        ("WSGIPythonHashSeed", &["random"]),
        ("WSGIServerMetrics", &["On"]),
    ]);
    let m = ServerConfig::merge(&base, &add);
    assert_eq!(m.python_home.as_deref(), Some("/base"));
    assert!(m.restrict_stdin(), "a value set in the host wins");
    assert!(!m.restrict_signal());
    assert_eq!(m.python_hash_seed, Some(None));
    assert!(m.server_metrics());
    assert_eq!(m.socket_prefix(), "/base");
    // Merging with an empty host changes nothing; the free function agrees.
    assert_eq!(ServerConfig::merge(&base, &ServerConfig::default()), base);
    assert_eq!(ServerConfig::merge(&ServerConfig::default(), &base), base);
}

#[test]
fn merge_lists() {
    let base = with(&[
        ("WSGIPythonPath", &["/b"]),
        ("WSGIPythonWarnings", &["error"]),
        ("WSGIDaemonProcess", &["main"]),
        ("WSGIScriptAlias", &["/", "/srv/main.wsgi"]),
        (
            "WSGIImportScript",
            &["/main.py", "process-group=main", "application-group=x"],
        ),
    ]);
    let add = with(&[
        ("WSGIDaemonProcess", &["vhost"]),
        ("WSGIScriptAlias", &["/v", "/srv/v.wsgi"]),
        ("WSGIScriptAlias", &["/w", "/srv/w.wsgi"]),
        (
            "WSGIImportScript",
            &["/v.py", "process-group=vhost", "application-group=x"],
        ),
    ]);
    let m = ServerConfig::merge(&base, &add);
    let urls: Vec<&str> = m.aliases.iter().map(|a| a.url.as_str()).collect();
    assert_eq!(urls, vec!["/v", "/w", "/"], "vhost aliases first");
    let names: Vec<&str> = m.daemons.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["main", "vhost"]);
    let files: Vec<&str> = m.import_scripts.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(files, vec!["/main.py", "/v.py"]);
    assert_eq!(m.python_path, vec!["/b"]);
    assert_eq!(m.python_warnings, vec!["error"]);
    assert!(m.find_daemon("main").is_some() && m.find_daemon("vhost").is_some());

    let add = with(&[("WSGIPythonPath", &["/v"])]);
    assert_eq!(ServerConfig::merge(&base, &add).python_path, vec!["/v"]);
}
