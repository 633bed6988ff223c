//! Generates Rust bindings for the Apache httpd and APR headers.
//!
//! The header locations come from `apxs -q` and `apr-1-config` (never
//! hard-coded paths), so the module builds against whatever Apache 2.4
//! development files the machine has. `APXS` selects another `apxs`.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn query(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{cmd}`: {e}. Install Apache's development files \
             (Debian/Ubuntu: apt-get install apache2-dev) or set APXS to the apxs binary"
        )
    });
    if !out.status.success() {
        panic!(
            "`{cmd} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn main() {
    let apxs = env::var("APXS").unwrap_or_else(|_| "apxs".to_string());
    println!("cargo:rerun-if-env-changed=APXS");
    println!("cargo:rerun-if-changed=src/httpd/wrapper.h");
    println!("cargo:rerun-if-changed=build.rs");

    let include_dir = query(&apxs, &["-q", "INCLUDEDIR"]);
    let apr_include = query(&apxs, &["-q", "APR_INCLUDEDIR"]);
    let cppflags = query(&apxs, &["-q", "EXTRA_CPPFLAGS"]);
    let apr_flags = query("apr-1-config", &["--includes", "--cppflags"]);
    let apu_flags = Command::new("apu-1-config")
        .arg("--includes")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let version = query(&apxs, &["-q", "HTTPD_VERSION"]);
    println!("cargo:rustc-env=MOD_WSGI_RS_HTTPD_VERSION={version}");

    let mut builder = bindgen::Builder::default()
        .header("src/httpd/wrapper.h")
        .clang_arg(format!("-I{include_dir}"))
        .clang_arg(format!("-I{apr_include}"));
    for flag in cppflags
        .split_whitespace()
        .chain(apr_flags.split_whitespace())
        .chain(apu_flags.split_whitespace())
    {
        builder = builder.clang_arg(flag);
    }
    let bindings = builder
        .allowlist_function("(ap|apr|apu)_.*")
        .allowlist_type("(ap|apr|apu)_.*|request_rec|conn_rec|server_rec|module|command_rec|cmd_parms|cmd_how|process_rec|core_dir_config|core_server_config|htaccess_result|authn_provider|authz_provider|authn_status|authz_status")
        .allowlist_var("(ap_unixd_config|AP|APR|APLOG|HTTP|OR|ACCESS|RSRC|OPT|REQUEST|MODULE|M|AP_MPMQ|NOT_IN|GLOBAL|DECLINED|DONE|OK|SUSPENDED|EXEC_ON|ap|core|SATISFY|REMOTE)_?.*")
        .blocklist_function(".*_(strtold|ld)$")
        .blocklist_function("apr_strtold")
        .default_macro_constant_type(bindgen::MacroTypeVariation::Signed)
        .wrap_unsafe_ops(true)
        .generate_comments(false)
        .merge_extern_blocks(true)
        .derive_default(true)
        .layout_tests(false)
        .generate()
        .expect("bindgen failed on the Apache headers");

    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("httpd_bindings.rs");
    bindings
        .write_to_file(&out)
        .expect("cannot write the Apache bindings");
}
