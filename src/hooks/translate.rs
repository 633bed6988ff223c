//! `translate_name`: map a URL to a script by the virtual host's
//! `WSGIScriptAlias`/`WSGIScriptAliasMatch` lines.

use crate::config::{self, Mounted};
use crate::httpd::ffi;
use crate::httpd::regex;
use crate::httpd::request::Request;
use std::os::raw::c_int;

pub fn translate_name(r: &Request) -> c_int {
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
            let text = String::from_utf8_lossy(uri);
            alias.match_regex(&text, &groups).map(|m| {
                let file = config::alias::substitute_groups(&alias.file, &text, &groups);
                (m.consumed, file, m.filename.into_bytes())
            })
        } else {
            config::alias::alias_match_bytes(alias.url.as_bytes(), uri)
                .filter(|&n| n > 0)
                .map(|n| {
                    let rest = if alias.url == "/" { uri } else { &uri[n..] };
                    let mut filename = alias.file.clone().into_bytes();
                    filename.extend_from_slice(rest);
                    (n, alias.file.clone(), filename)
                })
        };
        if let Some((consumed, script, filename)) = found {
            r.set_filename(&filename);
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
