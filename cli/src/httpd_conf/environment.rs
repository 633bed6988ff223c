//! The request environment: `--setenv` (SetEnv) and `--passenv` (PassEnv)
//! reach every request's WSGI environ.

use std::fmt::Write as _;

use crate::quote::q;
use crate::settings::Settings;

pub fn request_environment(c: &mut String, s: &Settings) {
    for (name, value) in s.env.setenv_pairs() {
        let _ = writeln!(c, "SetEnv {} {}", q(name), q(value));
    }
    for name in &s.env.passenv {
        let _ = writeln!(c, "PassEnv {}", q(name));
    }
}
