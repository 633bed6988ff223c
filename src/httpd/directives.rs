//! Apache's view of the directives: the static `command_rec` table built
//! from `config::directives::DIRECTIVES`, the config create/merge callbacks,
//! and the one dispatcher that hands arguments to the pure config code.

use super::ffi;
use super::pool::Pool;
use super::server::Server;
use crate::config::directives::{self, Context, Directive, GlueCheck, Scope, DIRECTIVES};
use crate::config::{DirConfig, ServerConfig};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::Mutex;

const N: usize = DIRECTIVES.len();

/// A command table Apache can read from any thread.
#[repr(transparent)]
pub(crate) struct CommandTable(pub [ffi::command_rec; N + 1]);

// SAFETY: the table is immutable after construction and only holds pointers
// to 'static strings and functions.
unsafe impl Sync for CommandTable {}

const fn req_override(ctx: Context) -> c_int {
    match ctx {
        Context::Global | Context::Server => ffi::RSRC_CONF,
        Context::Directory => ffi::RSRC_CONF | ffi::ACCESS_CONF,
        Context::Htaccess => ffi::RSRC_CONF | ffi::ACCESS_CONF | ffi::OR_FILEINFO,
        Context::Auth => ffi::ACCESS_CONF | ffi::OR_AUTHCFG,
    }
}

const fn build() -> [ffi::command_rec; N + 1] {
    // SAFETY: an all-zero command_rec is the table terminator Apache expects.
    let mut table: [ffi::command_rec; N + 1] = unsafe { std::mem::zeroed() };
    let mut i = 0;
    while i < N {
        let d = &DIRECTIVES[i];
        table[i] = ffi::command_rec {
            name: d.c_name.as_ptr(),
            func: ffi::cmd_func {
                take_argv: Some(dispatch),
            },
            cmd_data: std::ptr::without_provenance_mut(i),
            req_override: req_override(d.context),
            args_how: ffi::cmd_how_TAKE_ARGV,
            errmsg: d.c_help.as_ptr(),
        };
        i += 1;
    }
    table
}

pub(crate) static COMMANDS: CommandTable = CommandTable(build());

/// Table rows of directives read in the current configuration pass that
/// have no effect, with the reason (Apache reads its configuration on one
/// thread; the lock only makes the static safe).
static NO_EFFECT_READ: Mutex<Vec<(usize, &'static str)>> = Mutex::new(Vec::new());

fn note_no_effect(row: usize, why: &'static str) {
    let mut rows = NO_EFFECT_READ.lock().unwrap_or_else(|e| e.into_inner());
    if !rows.iter().any(|(r, _)| *r == row) {
        rows.push((row, why));
    }
}

/// Logs "NAME has no effect in mod_wsgi_rs: WHY" once for each such
/// directive the configuration used, and "WSGIDaemonProcess GROUP: OPTION
/// has no effect in mod_wsgi_rs: WHY" for each such daemon option. Called
/// from post_config in every configuration pass (so nothing carries over
/// to the next); logs only in the real start-up pass, when the error log
/// is open.
pub(crate) fn log_no_effect(s: &Server) {
    let rows = std::mem::take(&mut *NO_EFFECT_READ.lock().unwrap_or_else(|e| e.into_inner()));
    if super::server::is_config_check_pass() {
        return;
    }
    for (d, why) in rows
        .into_iter()
        .filter_map(|(i, why)| Some((DIRECTIVES.get(i)?, why)))
    {
        let msg = format!("{} has no effect in mod_wsgi_rs: {why}", d.name);
        super::log::server_at(s, super::log::Level::Warn, &msg);
    }
    // Each group once (every virtual host's merged configuration lists the
    // main server's groups too).
    let mut seen = std::collections::HashSet::new();
    for vhost in s.iter() {
        let Some(cfg) = vhost.config() else { continue };
        for g in cfg.daemons.iter().filter(|g| seen.insert(g.name.clone())) {
            for (option, why) in g.no_effect_notes() {
                let msg = format!(
                    "WSGIDaemonProcess {}: {option} has no effect in mod_wsgi_rs: {why}",
                    g.name
                );
                super::log::server_at(s, super::log::Level::Warn, &msg);
            }
        }
    }
}

/// The row's check that needs Apache (see [`GlueCheck`]), made before the
/// row's action runs.
fn glue_check(d: &Directive, args: &[&str]) -> Result<(), String> {
    match (d.glue_check, args.first()) {
        // Validate the pattern with Apache's own regex engine.
        (GlueCheck::ApacheRegex, Some(pattern)) => super::regex::Regex::compile(pattern).map(drop),
        _ => Ok(()),
    }
}

/// The one handler for every directive: `cmd->info` is its table index.
unsafe extern "C" fn dispatch(
    cmd: *mut ffi::cmd_parms,
    mconfig: *mut c_void,
    argc: c_int,
    argv: *const *mut c_char,
) -> *const c_char {
    // A panic must never read as success (a NULL return means "OK").
    let failed =
        c"mod_wsgi_rs internal error while reading this directive (please report it)".as_ptr();
    crate::httpd::guard::ffi_guard(failed, || {
        // SAFETY: Apache passes a live cmd_parms, the per-dir config it
        // created with create_dir_config, and argc NUL-terminated strings.
        let cmd = unsafe { &*cmd };
        let d = &DIRECTIVES[cmd.info as usize];
        // SAFETY: cmd.pool is the live configuration pool.
        let pool = unsafe { Pool::from_raw(cmd.pool) };
        let args: Vec<String> = (0..argc.max(0) as usize)
            .map(|i| {
                // SAFETY: i < argc, and each argv entry is a C string.
                let arg = unsafe { super::pool::cstr_bytes(*argv.add(i)) };
                String::from_utf8_lossy(arg).into_owned()
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();

        if d.context == Context::Global {
            // SAFETY: ap_check_cmd_context reads the live cmd_parms.
            let err = unsafe {
                ffi::ap_check_cmd_context(cmd as *const _ as *mut _, ffi::GLOBAL_ONLY as u32)
            };
            if !err.is_null() {
                return err;
            }
        }
        let result = glue_check(d, &args).and_then(|()| match d.scope() {
            Scope::Server => {
                // SAFETY: the server's config slot holds the ServerConfig
                // that create_server_config made for it.
                let cfg = super::module_config(unsafe { (*cmd.server).module_config })
                    as *mut ServerConfig;
                // SAFETY: as above; nothing else holds a reference to it
                // while a directive is read.
                match unsafe { cfg.as_mut() } {
                    Some(cfg) => directives::apply_server(cfg, d.name, &args),
                    None => Err("internal error: no server configuration".into()),
                }
            }
            // SAFETY: mconfig is the DirConfig from create_dir_config.
            Scope::Dir => match unsafe { (mconfig as *mut DirConfig).as_mut() } {
                Some(cfg) => directives::apply_dir(cfg, d.name, &args),
                None => Err("internal error: no directory configuration".into()),
            },
        });
        if let (Ok(()), Some(why)) = (&result, directives::no_effect_note(d, &args)) {
            note_no_effect(cmd.info as usize, why);
        }
        match result {
            Ok(()) => std::ptr::null(),
            Err(msg) => pool.strdup(format!("{}: {msg}", d.name).as_bytes()) as *const c_char,
        }
    })
}

pub(crate) unsafe extern "C" fn create_server_config(
    p: *mut ffi::apr_pool_t,
    _s: *mut ffi::server_rec,
) -> *mut c_void {
    // SAFETY: Apache passes the live config pool.
    // SAFETY: Apache passes a live pool that outlives the merged config.
    let pool = unsafe { Pool::from_raw(p) };
    pool.keep(ServerConfig::default()) as *mut c_void
}

pub(crate) unsafe extern "C" fn merge_server_config(
    p: *mut ffi::apr_pool_t,
    base: *mut c_void,
    add: *mut c_void,
) -> *mut c_void {
    // SAFETY: both are ServerConfigs from create_server_config, alive as
    // long as the config pool.
    let (base, add) = unsafe {
        (
            &*(base as *const ServerConfig),
            &*(add as *const ServerConfig),
        )
    };
    // SAFETY: Apache passes a live pool that outlives the merged config.
    let pool = unsafe { Pool::from_raw(p) };
    pool.keep(ServerConfig::merge(base, add)) as *mut c_void
}

pub(crate) unsafe extern "C" fn create_dir_config(
    p: *mut ffi::apr_pool_t,
    _dir: *mut c_char,
) -> *mut c_void {
    // SAFETY: Apache passes a live pool.
    // SAFETY: Apache passes a live pool that outlives the merged config.
    let pool = unsafe { Pool::from_raw(p) };
    pool.keep(DirConfig::default()) as *mut c_void
}

pub(crate) unsafe extern "C" fn merge_dir_config(
    p: *mut ffi::apr_pool_t,
    base: *mut c_void,
    add: *mut c_void,
) -> *mut c_void {
    // SAFETY: both are DirConfigs from create_dir_config; `p` outlives the
    // merged result's use (it is the request or config pool).
    let (base, add) = unsafe { (&*(base as *const DirConfig), &*(add as *const DirConfig)) };
    // SAFETY: Apache passes a live pool that outlives the merged config.
    let pool = unsafe { Pool::from_raw(p) };
    pool.keep(DirConfig::merge(base, add)) as *mut c_void
}
