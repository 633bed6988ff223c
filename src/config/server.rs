//! The per-server (main server and virtual host) configuration.

use super::alias::{parse_import_script, parse_script_alias, ScriptAlias, ScriptAliasOptions};
use super::daemon::{parse_daemon_process, DaemonProcess};
use super::directives::{self, Scope};
use super::values::{flag, one_arg, parse_hash_seed, parse_optimize, parse_python_path, pick};

/// The default `WSGISocketPrefix` (Debian's Apache run directory).
pub const DEFAULT_SOCKET_PREFIX: &str = "/var/run/apache2/wsgi";

/// Configuration of the server-scoped directives (`Scope::Server` in the
/// directive table), set in the main server or a virtual host. The
/// per-directory directives (`WSGIProcessGroup`, `WSGIPassAuthorization`
/// and the rest) are not kept here even when written at server level:
/// Apache hands those to the server's default
/// [`DirConfig`](super::dir::DirConfig). `None` / empty means "not set
/// here"; the accessor methods give the effective value with mod_wsgi's
/// defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerConfig {
    /// `WSGIPythonHome`
    pub python_home: Option<String>,
    /// `WSGIPythonPath` (split on `:`; the last directive wins, as in mod_wsgi)
    pub python_path: Vec<String>,
    /// `WSGIPythonOptimize`
    pub python_optimize: Option<u8>,
    /// `WSGIPythonHashSeed`: `Some(None)` = `random`.
    pub python_hash_seed: Option<Option<u32>>,
    /// `WSGIPythonWarnings` (each directive adds one `-W` option)
    pub python_warnings: Vec<String>,
    /// `WSGIDontWriteBytecode`
    pub dont_write_bytecode: Option<bool>,
    /// `WSGIRestrictEmbedded`
    pub restrict_embedded: Option<bool>,
    /// `WSGIRestrictStdin`
    pub restrict_stdin: Option<bool>,
    /// `WSGIRestrictStdout`
    pub restrict_stdout: Option<bool>,
    /// `WSGIRestrictSignal`
    pub restrict_signal: Option<bool>,
    /// `WSGISocketPrefix` (the caller makes it ServerRoot-relative, as
    /// `ap_server_root_relative` does)
    pub socket_prefix: Option<String>,
    /// `WSGIScriptAlias` / `WSGIScriptAliasMatch`, in configuration order.
    pub aliases: Vec<ScriptAlias>,
    /// `WSGIDaemonProcess`
    pub daemons: Vec<DaemonProcess>,
    /// `WSGIImportScript`: (file, options with both groups set).
    pub import_scripts: Vec<(String, ScriptAliasOptions)>,
    /// `WSGILazyInitialization`
    pub lazy_initialization: Option<bool>,
    /// `WSGIVerboseDebugging`
    pub verbose_debugging: Option<bool>,
}

fn pick_vec<T: Clone>(base: &[T], add: &[T]) -> Vec<T> {
    if add.is_empty() {
        base.to_vec()
    } else {
        add.to_vec()
    }
}

/// Merges a virtual host's configuration (`add`) over the main server's
/// (`base`); same as [`ServerConfig::merge`].
pub fn merge(base: &ServerConfig, add: &ServerConfig) -> ServerConfig {
    ServerConfig::merge(base, add)
}

impl ServerConfig {
    /// Merges a virtual host's configuration (`add`) over the main
    /// server's (`base`): a value set in the virtual host wins; lists
    /// replace (except as follows); the virtual host's script aliases are
    /// tried first, then the main server's; daemon groups and import
    /// scripts are concatenated (main server's first).
    pub fn merge(base: &ServerConfig, add: &ServerConfig) -> ServerConfig {
        ServerConfig {
            python_home: pick(&base.python_home, &add.python_home),
            python_path: pick_vec(&base.python_path, &add.python_path),
            python_optimize: pick(&base.python_optimize, &add.python_optimize),
            python_hash_seed: pick(&base.python_hash_seed, &add.python_hash_seed),
            python_warnings: pick_vec(&base.python_warnings, &add.python_warnings),
            dont_write_bytecode: pick(&base.dont_write_bytecode, &add.dont_write_bytecode),
            restrict_embedded: pick(&base.restrict_embedded, &add.restrict_embedded),
            restrict_stdin: pick(&base.restrict_stdin, &add.restrict_stdin),
            restrict_stdout: pick(&base.restrict_stdout, &add.restrict_stdout),
            restrict_signal: pick(&base.restrict_signal, &add.restrict_signal),
            socket_prefix: pick(&base.socket_prefix, &add.socket_prefix),
            aliases: add.aliases.iter().chain(&base.aliases).cloned().collect(),
            daemons: base.daemons.iter().chain(&add.daemons).cloned().collect(),
            import_scripts: base
                .import_scripts
                .iter()
                .chain(&add.import_scripts)
                .cloned()
                .collect(),
            lazy_initialization: pick(&base.lazy_initialization, &add.lazy_initialization),
            verbose_debugging: pick(&base.verbose_debugging, &add.verbose_debugging),
        }
    }

    /// `WSGIRestrictStdin` (default On).
    pub fn restrict_stdin(&self) -> bool {
        self.restrict_stdin.unwrap_or(true)
    }

    /// `WSGIRestrictStdout` (default Off).
    pub fn restrict_stdout(&self) -> bool {
        self.restrict_stdout.unwrap_or(false)
    }

    /// `WSGIRestrictSignal` (default On).
    pub fn restrict_signal(&self) -> bool {
        self.restrict_signal.unwrap_or(true)
    }

    /// `WSGIRestrictEmbedded` (default Off).
    pub fn restrict_embedded(&self) -> bool {
        self.restrict_embedded.unwrap_or(false)
    }

    /// `WSGIDontWriteBytecode` (default Off).
    pub fn dont_write_bytecode(&self) -> bool {
        self.dont_write_bytecode.unwrap_or(false)
    }

    /// `WSGIPythonOptimize` (default 0).
    pub fn python_optimize(&self) -> u8 {
        self.python_optimize.unwrap_or(0)
    }

    /// `WSGILazyInitialization` (default On).
    pub fn lazy_initialization(&self) -> bool {
        self.lazy_initialization.unwrap_or(true)
    }

    /// `WSGIVerboseDebugging` (default Off).
    pub fn verbose_debugging(&self) -> bool {
        self.verbose_debugging.unwrap_or(false)
    }

    /// `WSGISocketPrefix`, or [`DEFAULT_SOCKET_PREFIX`].
    pub fn socket_prefix(&self) -> &str {
        self.socket_prefix_or(DEFAULT_SOCKET_PREFIX)
    }

    /// `WSGISocketPrefix`, or the caller's default (e.g. derived from
    /// `DEFAULT_REL_RUNTIMEDIR`).
    pub fn socket_prefix_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.socket_prefix.as_deref().unwrap_or(default)
    }

    /// The daemon process group called `name`, if this configuration can
    /// see it (after merging: the main server's and this host's own).
    pub fn find_daemon(&self, name: &str) -> Option<&DaemonProcess> {
        self.daemons.iter().find(|d| d.name == name)
    }

    /// Scripts to preload at process start: every `WSGIImportScript`, then
    /// every script alias that names both groups (see
    /// [`ScriptAlias::preload`]), without repeats.
    pub fn preloads(&self) -> Vec<(String, ScriptAliasOptions)> {
        let mut out: Vec<(String, ScriptAliasOptions)> = Vec::new();
        let candidates = self
            .import_scripts
            .iter()
            .cloned()
            .chain(self.aliases.iter().filter_map(ScriptAlias::preload));
        for c in candidates {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// Applies one server-scoped directive (name case-insensitive, as
    /// Apache treats directive names) with its already-split arguments.
    /// Directives of the "older knobs" kind (`WSGIAcceptMutex`,
    /// `WSGISocketRotation`, `WSGIDestroyInterpreter`) are checked and
    /// otherwise ignored. Per-directory directives are refused with an
    /// internal error: the directive table routes them to
    /// [`DirConfig::apply`](super::dir::DirConfig::apply) in every context.
    pub fn apply(&mut self, directive: &str, args: &[&str]) -> Result<(), String> {
        match directive.to_ascii_lowercase().as_str() {
            "wsgipythonhome" => self.python_home = Some(one_arg(args)?.to_string()),
            "wsgipythonpath" => self.python_path = parse_python_path(one_arg(args)?),
            "wsgipythonoptimize" => self.python_optimize = Some(parse_optimize(one_arg(args)?)?),
            "wsgipythonwarnings" => self.python_warnings.push(one_arg(args)?.to_string()),
            "wsgipythonhashseed" => self.python_hash_seed = Some(parse_hash_seed(one_arg(args)?)?),
            "wsgidontwritebytecode" => self.dont_write_bytecode = Some(flag(args)?),
            "wsgirestrictembedded" => self.restrict_embedded = Some(flag(args)?),
            "wsgirestrictstdin" => self.restrict_stdin = Some(flag(args)?),
            "wsgirestrictstdout" => self.restrict_stdout = Some(flag(args)?),
            "wsgirestrictsignal" => self.restrict_signal = Some(flag(args)?),
            "wsgisocketprefix" => {
                let p = one_arg(args)?;
                if p.is_empty() {
                    return Err("needs a path, such as /var/run/apache2/wsgi".to_string());
                }
                self.socket_prefix = Some(p.to_string());
            }
            "wsgiscriptalias" => self.aliases.push(parse_script_alias(args, false)?),
            "wsgiscriptaliasmatch" => self.aliases.push(parse_script_alias(args, true)?),
            "wsgidaemonprocess" => {
                let d = parse_daemon_process(args)?;
                if self.find_daemon(&d.name).is_some() {
                    return Err(format!(
                        "a daemon process group named '{}' is already defined; each name must be unique across the whole server",
                        d.name
                    ));
                }
                self.daemons.push(d);
            }
            "wsgiimportscript" => self.import_scripts.push(parse_import_script(args)?),
            "wsgilazyinitialization" => self.lazy_initialization = Some(flag(args)?),
            "wsgiverbosedebugging" => self.verbose_debugging = Some(flag(args)?),
            "wsgiacceptmutex" => {
                one_arg(args)?;
            }
            "wsgisocketrotation" | "wsgidestroyinterpreter" => {
                flag(args)?;
            }
            other => {
                return Err(match directives::find(other) {
                    Some(d) if d.scope == Scope::Dir => format!(
                        "internal error: {} is a per-directory directive and belongs to the directory configuration, not the server's",
                        d.name
                    ),
                    _ => format!("{directive} is not a server-level mod_wsgi directive"),
                })
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(directives: &[(&str, &[&str])]) -> ServerConfig {
        let mut c = ServerConfig::default();
        for (d, a) in directives {
            c.apply(d, a).unwrap_or_else(|e| panic!("{d} {a:?}: {e}"));
        }
        c
    }

    #[test]
    fn defaults() {
        let c = ServerConfig::default();
        assert!(c.restrict_stdin());
        assert!(!c.restrict_stdout());
        assert!(c.restrict_signal());
        assert!(!c.restrict_embedded());
        assert!(!c.dont_write_bytecode());
        assert_eq!(c.python_optimize(), 0);
        assert!(c.lazy_initialization());
        assert!(!c.verbose_debugging());
        assert_eq!(c.socket_prefix(), "/var/run/apache2/wsgi");
        assert_eq!(c.socket_prefix_or("/run/httpd/wsgi"), "/run/httpd/wsgi");
        assert!(c.aliases.is_empty() && c.daemons.is_empty() && c.import_scripts.is_empty());
        assert_eq!(c.find_daemon("x"), None);
        assert!(c.preloads().is_empty());
    }

    #[test]
    fn accessors_follow_settings() {
        let c = with(&[
            ("WSGIRestrictStdin", &["Off"]),
            ("WSGIRestrictStdout", &["On"]),
            ("WSGIRestrictSignal", &["Off"]),
            ("WSGIRestrictEmbedded", &["On"]),
            ("WSGIDontWriteBytecode", &["On"]),
            ("WSGIPythonOptimize", &["2"]),
            ("WSGILazyInitialization", &["Off"]),
            ("WSGIVerboseDebugging", &["On"]),
            ("WSGISocketPrefix", &["run/wsgi"]),
        ]);
        assert!(!c.restrict_stdin());
        assert!(c.restrict_stdout());
        assert!(!c.restrict_signal());
        assert!(c.restrict_embedded());
        assert!(c.dont_write_bytecode());
        assert_eq!(c.python_optimize(), 2);
        assert!(!c.lazy_initialization());
        assert!(c.verbose_debugging());
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
    fn per_directory_directives_are_refused() {
        // The directive table sends these to DirConfig in every context
        // (WSGIProcessGroup, WSGIPassAuthorization, ... at server level
        // included), so reaching ServerConfig::apply is a routing bug.
        let mut c = ServerConfig::default();
        let per_dir = directives::DIRECTIVES
            .iter()
            .filter(|d| d.scope == Scope::Dir);
        for d in per_dir {
            let e = c.apply(&d.name.to_lowercase(), &["On"]).unwrap_err();
            assert!(e.starts_with("internal error:"), "{}: {e}", d.name);
            assert!(e.contains(d.name) && e.contains("per-directory"), "{e}");
        }
        assert_eq!(c, ServerConfig::default());
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
        assert!(c
            .apply("WSGIPythonHome", &[])
            .unwrap_err()
            .contains("needs one argument"));
        assert!(c
            .apply("WSGIPythonHome", &["a", "b"])
            .unwrap_err()
            .contains("takes one argument"));
        assert!(c
            .apply("WSGIRestrictStdin", &["maybe"])
            .unwrap_err()
            .contains("On or Off"));
        assert!(c.apply("WSGIPythonOptimize", &["5"]).is_err());
        assert!(c.apply("WSGIPythonHashSeed", &["x"]).is_err());
        assert!(c.apply("WSGISocketPrefix", &[""]).is_err());
        assert!(c.apply("WSGIScriptAlias", &["/a"]).is_err());
        assert!(c.apply("WSGIImportScript", &["/f"]).is_err());
        assert!(c.apply("WSGIDaemonProcess", &["d", "bogus=1"]).is_err());
        c.apply("WSGIDaemonProcess", &["d"]).unwrap();
        let e = c
            .apply("WSGIDaemonProcess", &["d", "threads=2"])
            .unwrap_err();
        assert!(e.contains("already defined"), "{e}");
        let e = c.apply("WSGINoSuchThing", &[]).unwrap_err();
        assert!(e.contains("not a server-level"), "{e}");
        // Older knobs: accepted and checked.
        c.apply("WSGIAcceptMutex", &["default"]).unwrap();
        c.apply("WSGISocketRotation", &["Off"]).unwrap();
        c.apply("WSGIDestroyInterpreter", &["On"]).unwrap();
        assert!(c.apply("WSGISocketRotation", &["x"]).is_err());
        assert!(c.apply("WSGIAcceptMutex", &[]).is_err());
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
            ("WSGIVerboseDebugging", &["On"]),
        ]);
        let m = ServerConfig::merge(&base, &add);
        assert_eq!(m.python_home.as_deref(), Some("/base"));
        assert!(m.restrict_stdin(), "a value set in the host wins");
        assert!(!m.restrict_signal());
        assert_eq!(m.python_hash_seed, Some(None));
        assert!(m.verbose_debugging());
        assert_eq!(m.socket_prefix(), "/base");
        // Merging with an empty host changes nothing; the free function agrees.
        assert_eq!(merge(&base, &ServerConfig::default()), base);
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
}
