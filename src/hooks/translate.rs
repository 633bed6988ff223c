//! `translate_name`: map a URL to a script by the virtual host's
//! `WSGIScriptAlias`/`WSGIScriptAliasMatch` lines.

use crate::config::Mounted;
use crate::httpd::ffi;
use crate::httpd::log::{self, Level};
use crate::httpd::regex;
use crate::httpd::request::Request;
use std::os::raw::c_int;

/// The longest `r->filename` set for Apache's directory walk: its
/// `apr_filepath_merge` refuses a path within a few bytes of PATH_MAX
/// (4093 bytes and more on Linux: it counts separators and the NUL; logged
/// as "Module bug? Request filename path … is invalid"), and the walk then
/// skips `<Directory>`/`<Files>` sections and leaves the script unfound.
/// Kept a little lower, with room to spare.
const LONGEST_FILENAME: usize = libc::PATH_MAX as usize - 16;

pub(crate) fn translate_name(r: &Request) -> c_int {
    let Some(cfg) = r.server().config() else {
        return ffi::DECLINED;
    };
    if cfg.aliases.is_empty() {
        return ffi::DECLINED;
    }
    let uri = r.uri();
    for (i, alias) in cfg.aliases.iter().enumerate() {
        let found = if alias.is_regex {
            let Some(re) = regex::cached(&alias.url) else {
                continue;
            };
            let Some(groups) = re.captures(uri) else {
                continue;
            };
            // The captures are offsets into these same bytes.
            alias
                .match_regex_bytes(uri, &groups)
                .map(|(n, file, filename)| {
                    (n, String::from_utf8_lossy(&file).into_owned(), filename)
                })
        } else {
            alias
                .match_uri_bytes(uri)
                .map(|(n, filename)| (n, alias.file.clone(), filename))
        };
        if let Some((consumed, script, filename)) = found {
            if filename.len() > LONGEST_FILENAME {
                if let Err(status) = set_long_filename(r, &script, &filename) {
                    return status;
                }
            } else {
                r.set_filename(&filename);
            }
            r.set_handler(c"wsgi-script");
            r.notes().set(c"alias-forced-type", c"wsgi-script");
            r.set_mounted(Mounted {
                alias: i,
                consumed,
                script,
            });
            return ffi::OK;
        }
    }
    ffi::DECLINED
}

/// `script` + the rest of the URL is too long for Apache's directory walk.
/// The rest is PATH_INFO, not a file: r->filename becomes the script and
/// r->path_info the rest, so the walk only looks at the script (and applies
/// its <Directory>/<Files> sections). An alias to a directory cannot be
/// served that way (the walk finds the script inside the rest): 414, and a
/// log line that says why.
fn set_long_filename(r: &Request, script: &str, filename: &[u8]) -> Result<(), c_int> {
    let Some(rest) = filename
        .strip_prefix(script.as_bytes())
        .filter(|rest| !rest.is_empty())
    else {
        r.set_filename(filename);
        return Ok(());
    };
    if std::fs::metadata(script).is_ok_and(|m| m.is_dir()) {
        log::request(
            r,
            Level::Err,
            &format!(
                "URL too long for a file path: the WSGIScriptAlias directory '{script}' followed \
                 by the rest of the URL is {} bytes, over PATH_MAX ({}), so Apache cannot look \
                 for the script in it; answering 414 (map a WSGIScriptAlias to the script file \
                 itself to serve long PATH_INFO)",
                filename.len(),
                libc::PATH_MAX
            ),
        );
        return Err(ffi::HTTP_REQUEST_URI_TOO_LARGE);
    }
    r.set_filename(script.as_bytes());
    r.set_path_info(rest);
    Ok(())
}
