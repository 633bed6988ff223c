//! Files Apache serves itself: MIME types, the document root (with the
//! rewrite that lets the application have the rest of the URL space) and
//! the static files of --url-alias; and the grants that let Apache read
//! them.

use std::fmt::Write as _;
use std::path::Path;

use crate::discover;
use crate::quote::{q, qp};
use crate::settings::Settings;

pub fn document_root(c: &mut String, s: &Settings) {
    let root = &s.server_root;
    let types = discover::mime_types().unwrap_or_else(|| root.join("mime.types"));
    let _ = writeln!(c, "\nTypesConfig {}", qp(&types));
    let doc_root = s
        .document_root
        .clone()
        .unwrap_or_else(|| root.join("htdocs"));
    let _ = writeln!(
        c,
        "DocumentRoot {}\nDirectoryIndex index.html\n<Directory />\n    Options None\n    AllowOverride None\n    Require all denied\n</Directory>",
        qp(&doc_root),
    );
    grant_directory(c, &doc_root);
    if s.document_root.is_some() && s.mount_point == "/" {
        // A file that exists in the document root is served as is; every
        // other URL goes to the application.
        let _ = writeln!(
            c,
            "RewriteEngine On\nRewriteCond {} -f\nRewriteRule ^/(.*)$ {} [L]",
            q(&format!("{}%{{REQUEST_URI}}", doc_root.display())),
            q(&format!("{}/$1", doc_root.display()))
        );
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
