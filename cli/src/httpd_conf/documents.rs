//! Files Apache serves itself: MIME types, the document root (with the
//! rewrite that lets the application have the rest of the URL space, its
//! index, listings, CGI scripts and rewrite rules), error documents and the
//! static files of --url-alias; and the grants that let Apache read them.

use std::fmt::Write as _;
use std::path::Path;

use crate::discover;
use crate::quote::{q, qp};
use crate::settings::Settings;

pub fn document_root(c: &mut String, s: &Settings) {
    let root = &s.server_root;
    let types = s
        .mime_types
        .clone()
        .or_else(discover::mime_types)
        .unwrap_or_else(|| root.join("mime.types"));
    let _ = writeln!(c, "\nTypesConfig {}", qp(&types));
    let doc_root = s
        .document_root
        .clone()
        .unwrap_or_else(|| root.join("htdocs"));
    let w = &s.web;
    let index = w.directory_index.as_deref().unwrap_or("index.html");
    let _ = writeln!(
        c,
        "DocumentRoot {}\nDirectoryIndex {}\n<Directory />\n    Options None\n    AllowOverride None\n    Require all denied\n</Directory>",
        qp(&doc_root),
        q(index),
    );
    let mut options = String::from("FollowSymLinks");
    if w.directory_listing {
        options.push_str(" Indexes");
    }
    if w.with_cgi {
        options.push_str(" ExecCGI");
    }
    let overrides = if w.allow_override.is_empty() {
        "None".to_string()
    } else {
        w.allow_override.join(" ")
    };
    let _ = writeln!(
        c,
        "<Directory {}>\n    Options {options}\n    AllowOverride {overrides}\n    Require all granted",
        qp(&doc_root)
    );
    if let Some(rules) = &s.rewrite_rules {
        let _ = writeln!(c, "    RewriteEngine On\n    Include {}", qp(rules));
    }
    let _ = writeln!(c, "</Directory>");
    if w.with_cgi {
        let _ = writeln!(c, "AddHandler cgi-script .cgi");
    }
    if s.has_application() && s.document_root.is_some() && s.mount_point == "/" {
        // A file that exists in the document root is served as is (and,
        // with --directory-index, a directory that has that index); every
        // other URL goes to the application.
        let doc = doc_root.display();
        let _ = writeln!(
            c,
            "RewriteEngine On\nRewriteCond {} -f\nRewriteRule ^/(.*)$ {} [L]",
            q(&format!("{doc}%{{REQUEST_URI}}")),
            q(&format!("{doc}/$1"))
        );
        if let Some(index) = &w.directory_index {
            let _ = writeln!(
                c,
                "RewriteCond {} -f\nRewriteRule ^/(.*)$ {} [L]",
                q(&format!("{doc}%{{REQUEST_URI}}/{index}")),
                q(&format!("{doc}/$1"))
            );
        }
    }
}

/// `--error-document STATUS URL` lines.
pub fn error_documents(c: &mut String, s: &Settings) {
    for (status, doc) in crate::server_args::pairs(&s.web.error_document) {
        let _ = writeln!(c, "ErrorDocument {status} {}", q(doc));
    }
}

pub fn url_aliases(c: &mut String, s: &Settings) {
    if !s.url_aliases.is_empty() {
        let _ = writeln!(c, "\n# Static files (--url-alias).");
    }
    for (url, path) in &s.url_aliases {
        let _ = writeln!(c, "Alias {} {}", q(url), qp(path));
        if path.is_file() {
            grant_file(c, path);
        } else {
            grant_directory(c, path);
        }
    }
}

fn grant_directory(c: &mut String, dir: &Path) {
    let _ = writeln!(
        c,
        "<Directory {}>\n    Options FollowSymLinks\n    AllowOverride None\n    Require all granted\n</Directory>",
        qp(dir)
    );
}

/// Lets Apache serve one file (and nothing else of its directory).
pub fn grant_file(c: &mut String, file: &Path) {
    let dir = file.parent().unwrap_or(Path::new("/"));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let _ = writeln!(
        c,
        "<Directory {}>\n    <Files {}>\n        Require all granted\n    </Files>\n</Directory>",
        qp(dir),
        q(&name)
    );
}
