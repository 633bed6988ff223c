//! `--add-handler`: files with the given extensions are answered by the
//! generated resource.wsgi (which runs the script of each extension)
//! through WSGIHandlerScript, in the daemon process group when there is
//! one, else in Apache's children.

use std::fmt::Write as _;

use crate::quote::qp;
use crate::settings::Settings;

/// The handler name of resource.wsgi (mod_wsgi-express's).
const HANDLER: &str = "wsgi-resource";

pub fn handler_scripts(c: &mut String, s: &Settings) {
    if s.handler_scripts.is_empty() {
        return;
    }
    let _ = writeln!(c, "\n# Handlers by file name extension (--add-handler).");
    let _ = writeln!(
        c,
        "WSGIHandlerScript {HANDLER} {} \\\n    process-group={} application-group=%{{GLOBAL}}",
        qp(&s.resource_path()),
        s.handler_process_group()
    );
    for (ext, _) in &s.handler_scripts {
        let _ = writeln!(c, "AddHandler {HANDLER} {ext}");
    }
}
