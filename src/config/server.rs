//! The per-server (main server and virtual host) configuration.

use super::alias::{parse_import_script, parse_script_alias, ScriptAlias, ScriptAliasOptions};
use super::daemon::DaemonProcess;
use super::daemon_options::parse_daemon_process;
use super::values::{
    flag, one_arg, parse_hash_seed, parse_optimize, parse_python_path, parse_switch_interval, pick,
};

/// The default `WSGISocketPrefix` (Debian's Apache run directory).
pub(crate) const DEFAULT_SOCKET_PREFIX: &str = "/var/run/apache2/wsgi";

/// Configuration of the server-scoped directives (`Scope::Server` in the
/// directive table, which applies them through the setters below), set in the main server or a virtual host. The
/// per-directory directives (`WSGIProcessGroup`, `WSGIPassAuthorization`
/// and the rest) are not kept here even when written at server level:
/// Apache hands those to the server's default
/// [`DirConfig`](super::dir::DirConfig). `None` / empty means "not set
/// here"; the accessor methods give the effective value with mod_wsgi's
/// defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerConfig {
    /// `WSGIPythonHome`
    pub(crate) python_home: Option<String>,
    /// `WSGIPythonPath` (split on `:`; the last directive wins, as in mod_wsgi)
    pub(crate) python_path: Vec<String>,
    /// `WSGIPythonOptimize`
    pub(crate) python_optimize: Option<u8>,
    /// `WSGIPythonHashSeed`: `Some(None)` = `random`.
    pub(crate) python_hash_seed: Option<Option<u32>>,
    /// `WSGIPythonWarnings` (each directive adds one `-W` option)
    pub(crate) python_warnings: Vec<String>,
    /// `WSGIDontWriteBytecode`
    pub(crate) dont_write_bytecode: Option<bool>,
    /// `WSGIRestrictEmbedded`
    pub(crate) restrict_embedded: Option<bool>,
    /// `WSGIRestrictStdin`
    pub(crate) restrict_stdin: Option<bool>,
    /// `WSGIRestrictStdout`
    pub(crate) restrict_stdout: Option<bool>,
    /// `WSGIRestrictSignal`
    pub(crate) restrict_signal: Option<bool>,
    /// `WSGISocketPrefix` (the caller makes it ServerRoot-relative, as
    /// `ap_server_root_relative` does)
    pub(crate) socket_prefix: Option<String>,
    /// `WSGIScriptAlias` / `WSGIScriptAliasMatch`, in configuration order.
    pub(crate) aliases: Vec<ScriptAlias>,
    /// `WSGIDaemonProcess`
    pub(crate) daemons: Vec<DaemonProcess>,
    /// `WSGIImportScript`: (file, options with both groups set).
    pub(crate) import_scripts: Vec<(String, ScriptAliasOptions)>,
    /// `WSGIPythonEggs`: `PYTHON_EGG_CACHE` in Apache children (embedded
    /// mode; a daemon group uses its `python-eggs=` only, as in mod_wsgi).
    pub(crate) python_eggs: Option<String>,
    /// `WSGISwitchInterval`: `sys.setswitchinterval()` in Apache children
    /// (embedded mode; a daemon group uses its `switch-interval=`).
    pub(crate) switch_interval: Option<f64>,
    /// `WSGIServerMetrics`: whether `mod_wsgi.server_metrics()` may report
    /// in embedded mode (default Off; daemon groups: `server-metrics=`).
    pub(crate) server_metrics: Option<bool>,
    /// `WSGIFreeThreading` (only meaningful for a free-threaded CPython
    /// build, which mod_wsgi_rs does not support: On is logged as having no
    /// effect).
    pub(crate) free_threading: Option<bool>,
}

fn pick_vec<T: Clone>(base: &[T], add: &[T]) -> Vec<T> {
    if add.is_empty() {
        base.to_vec()
    } else {
        add.to_vec()
    }
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
            python_eggs: pick(&base.python_eggs, &add.python_eggs),
            switch_interval: pick(&base.switch_interval, &add.switch_interval),
            server_metrics: pick(&base.server_metrics, &add.server_metrics),
            free_threading: pick(&base.free_threading, &add.free_threading),
        }
    }

    /// `WSGIRestrictStdin` (default Off, as in mod_wsgi 6.1: only an
    /// explicit On replaces sys.stdin with a `mod_wsgi.Restricted`).
    pub(crate) fn restrict_stdin(&self) -> bool {
        self.restrict_stdin.unwrap_or(false)
    }

    /// `WSGIRestrictStdout` (default Off).
    pub(crate) fn restrict_stdout(&self) -> bool {
        self.restrict_stdout.unwrap_or(false)
    }

    /// `WSGIRestrictSignal` (default On).
    pub(crate) fn restrict_signal(&self) -> bool {
        self.restrict_signal.unwrap_or(true)
    }

    /// `WSGIRestrictEmbedded` (default Off).
    pub(crate) fn restrict_embedded(&self) -> bool {
        self.restrict_embedded.unwrap_or(false)
    }

    /// `WSGIDontWriteBytecode` (default Off).
    pub(crate) fn dont_write_bytecode(&self) -> bool {
        self.dont_write_bytecode.unwrap_or(false)
    }

    /// `WSGIPythonOptimize` (default 0).
    pub(crate) fn python_optimize(&self) -> u8 {
        self.python_optimize.unwrap_or(0)
    }

    /// `WSGIServerMetrics` (default Off).
    pub(crate) fn server_metrics(&self) -> bool {
        self.server_metrics.unwrap_or(false)
    }

    /// `WSGISocketPrefix`, or [`DEFAULT_SOCKET_PREFIX`].
    pub(crate) fn socket_prefix(&self) -> &str {
        self.socket_prefix_or(DEFAULT_SOCKET_PREFIX)
    }

    /// `WSGISocketPrefix`, or the caller's default (e.g. derived from
    /// `DEFAULT_REL_RUNTIMEDIR`).
    pub(crate) fn socket_prefix_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.socket_prefix.as_deref().unwrap_or(default)
    }

    /// The daemon process group called `name`, if this configuration can
    /// see it (after merging: the main server's and this host's own).
    pub(crate) fn find_daemon(&self, name: &str) -> Option<&DaemonProcess> {
        self.daemons.iter().find(|d| d.name == name)
    }

    /// Scripts to preload at process start: every `WSGIImportScript`, then
    /// every script alias that names both groups (see
    /// [`ScriptAlias::preload`]), without repeats.
    pub(crate) fn preloads(&self) -> Vec<(String, ScriptAliasOptions)> {
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

    // --- directive setters (rows of `super::directives::DIRECTIVES`; the
    // argument count is checked there; On/Off directives store straight
    // into their field) ---

    /// `WSGIScriptAlias URL-path file options…`
    pub(crate) fn add_script_alias(&mut self, args: &[&str]) -> Result<(), String> {
        self.aliases.push(parse_script_alias(args, false)?);
        Ok(())
    }

    /// `WSGIScriptAliasMatch regex file options…`
    pub(crate) fn add_script_alias_match(&mut self, args: &[&str]) -> Result<(), String> {
        self.aliases.push(parse_script_alias(args, true)?);
        Ok(())
    }

    /// `WSGIImportScript file options…`
    pub(crate) fn add_import_script(&mut self, args: &[&str]) -> Result<(), String> {
        self.import_scripts.push(parse_import_script(args)?);
        Ok(())
    }

    /// `WSGIDaemonProcess name options…`: each name once across the server.
    pub(crate) fn add_daemon_process(&mut self, args: &[&str]) -> Result<(), String> {
        let d = parse_daemon_process(args)?;
        if self.find_daemon(&d.name).is_some() {
            return Err(format!(
                "a daemon process group named '{}' is already defined; each name must be unique across the whole server",
                d.name
            ));
        }
        self.daemons.push(d);
        Ok(())
    }

    /// `WSGIPythonHome path`
    pub(crate) fn set_python_home(&mut self, args: &[&str]) -> Result<(), String> {
        self.python_home = Some(one_arg(args)?.to_string());
        Ok(())
    }

    /// `WSGIPythonPath a:b:…` (the last directive wins)
    pub(crate) fn set_python_path(&mut self, args: &[&str]) -> Result<(), String> {
        self.python_path = parse_python_path(one_arg(args)?);
        Ok(())
    }

    /// `WSGIPythonOptimize 0|1|2`
    pub(crate) fn set_python_optimize(&mut self, args: &[&str]) -> Result<(), String> {
        self.python_optimize = Some(parse_optimize(one_arg(args)?)?);
        Ok(())
    }

    /// `WSGIPythonWarnings filter` (each directive adds one)
    pub(crate) fn add_python_warning(&mut self, args: &[&str]) -> Result<(), String> {
        self.python_warnings.push(one_arg(args)?.to_string());
        Ok(())
    }

    /// `WSGIPythonHashSeed random|N`
    pub(crate) fn set_python_hash_seed(&mut self, args: &[&str]) -> Result<(), String> {
        self.python_hash_seed = Some(parse_hash_seed(one_arg(args)?)?);
        Ok(())
    }

    /// `WSGIPythonEggs directory`
    pub(crate) fn set_python_eggs(&mut self, args: &[&str]) -> Result<(), String> {
        self.python_eggs = Some(one_arg(args)?.to_string());
        Ok(())
    }

    /// `WSGISwitchInterval seconds` (a positive number, such as 0.005)
    pub(crate) fn set_switch_interval(&mut self, args: &[&str]) -> Result<(), String> {
        self.switch_interval = Some(parse_switch_interval(one_arg(args)?)?);
        Ok(())
    }

    /// `WSGIServerMetrics On|Off`
    pub(crate) fn set_server_metrics(&mut self, args: &[&str]) -> Result<(), String> {
        self.server_metrics = Some(flag(args)?);
        Ok(())
    }

    /// `WSGIFreeThreading On|Off`
    pub(crate) fn set_free_threading(&mut self, args: &[&str]) -> Result<(), String> {
        self.free_threading = Some(flag(args)?);
        Ok(())
    }

    /// `WSGISocketPrefix path` (not empty)
    pub(crate) fn set_socket_prefix(&mut self, args: &[&str]) -> Result<(), String> {
        let p = one_arg(args)?;
        if p.is_empty() {
            return Err("needs a path, such as /var/run/apache2/wsgi".to_string());
        }
        self.socket_prefix = Some(p.to_string());
        Ok(())
    }
}
