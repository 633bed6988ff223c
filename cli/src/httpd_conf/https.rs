//! HTTPS (mod_ssl) and HTTP/2: the HTTPS listener and its virtual host,
//! the redirect of --https-only, HSTS, client certificates.

use std::fmt::Write as _;

use crate::quote::{q, qp};
use crate::settings::Settings;

/// --https-only: plain HTTP is redirected before anything else (static
/// files included) can answer it.
pub fn redirect(c: &mut String, s: &Settings) {
    if let Some(h) = s.https.as_ref().filter(|h| h.only) {
        let _ = writeln!(
            c,
            "\n# --https-only\nRewriteEngine On\nRewriteCond %{{HTTPS}} !=on\n\
             RewriteRule ^ https://%{{SERVER_NAME}}:{}%{{REQUEST_URI}} [R=301,L]",
            h.port
        );
    }
}

/// Server-wide lines: Protocols, the HTTPS Listen and its virtual host.
pub fn server(c: &mut String, s: &Settings) {
    if s.http2 {
        let _ = writeln!(c, "\n# HTTP/2 (--http2).\nProtocols h2 h2c http/1.1");
    }
    let Some(h) = &s.https else {
        return;
    };
    let _ = writeln!(
        c,
        "\n# HTTPS (--https-port).\nListen {} https",
        s.listen_on(h.port)
    );
    if h.only {
        let _ = writeln!(
            c,
            "RewriteEngine On\nRewriteCond %{{HTTPS}} !=on\n\
             RewriteRule ^ https://%{{SERVER_NAME}}:{}%{{REQUEST_URI}} [R=301,L]",
            h.port
        );
    }
    for url in &h.verify_client {
        let _ = writeln!(
            c,
            "<Location {}>\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n</Location>",
            q(url)
        );
    }
    if s.server_aliases.is_empty() {
        let _ = writeln!(
            c,
            "<VirtualHost *:{}>\nServerName {}\n{}</VirtualHost>",
            h.port,
            s.server_name,
            vhost_ssl(s, h.port)
        );
    }
}

/// The lines a virtual host on `port` needs: the TLS settings on the HTTPS
/// port, and the main server's rewrite rules (not inherited by default).
pub fn vhost_ssl(s: &Settings, port: u16) -> String {
    let mut v = String::from("RewriteEngine On\nRewriteOptions Inherit\n");
    let Some(h) = s.https.as_ref().filter(|h| h.port == port) else {
        return v;
    };
    let _ = writeln!(
        v,
        "SSLEngine On\nSSLCertificateFile {}\nSSLCertificateKeyFile {}",
        qp(&h.certificate),
        qp(&h.key)
    );
    if let Some(chain) = &h.chain {
        let _ = writeln!(v, "SSLCertificateChainFile {}", qp(chain));
    }
    if let Some(ca) = &h.ca_certificate {
        let verify = if h.verify_client.is_empty() {
            "require\nSSLVerifyDepth 1"
        } else {
            "none"
        };
        let _ = writeln!(
            v,
            "SSLCACertificateFile {}\nSSLVerifyClient {verify}",
            qp(ca)
        );
    }
    if h.environment {
        let _ = writeln!(v, "SSLOptions +StdEnvVars");
    }
    if let (true, Some(policy)) = (h.only, &h.hsts_policy) {
        let _ = writeln!(
            v,
            "Header always set Strict-Transport-Security {}",
            q(policy)
        );
    }
    v
}
