//! HTTPS: the port, the certificate and its key, client certificates, and
//! whether plain HTTP is redirected.

use std::path::{Path, PathBuf};

use crate::cli::ServerArgs;
use crate::discover;
use crate::error::{CliError, Result};
use crate::quote::check_conf_text;

#[derive(Clone, Debug)]
pub struct Https {
    pub port: u16,
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub ca_certificate: Option<PathBuf>,
    /// URL paths needing a client certificate (empty: the whole site, when
    /// there is a CA file).
    pub verify_client: Vec<String>,
    pub chain: Option<PathBuf>,
    pub environment: bool,
    pub only: bool,
    pub hsts_policy: Option<String>,
}

fn existing_file(option: &str, value: &Path) -> Result<PathBuf> {
    let p = discover::absolute(value);
    if !p.is_file() {
        return Err(CliError::fail(format!(
            "--{option} {} does not exist",
            p.display()
        )));
    }
    check_conf_text(&format!("--{option}"), &p.display().to_string())?;
    Ok(p)
}

/// The HTTPS settings, when --https-port is given; the options that need it
/// are errors without it.
pub fn https(command: &str, a: &ServerArgs) -> Result<Option<Https>> {
    let h = &a.https;
    let Some(port) = h.https_port else {
        let needs_port = [
            ("https-only", h.https_only),
            ("hsts-policy", h.hsts_policy.is_some()),
            ("ssl-certificate-file", h.ssl_certificate_file.is_some()),
            ("ssl-certificate", h.ssl_certificate.is_some()),
            (
                "ssl-ca-certificate-file",
                h.ssl_ca_certificate_file.is_some(),
            ),
        ];
        if let Some((name, _)) = needs_port.iter().find(|(_, given)| *given) {
            return Err(CliError::usage(
                command,
                format!("--{name} needs --https-port (the port for HTTPS, e.g. 8443)"),
            ));
        }
        return Ok(None);
    };
    if port == a.port {
        return Err(CliError::usage(
            command,
            format!("--https-port {port} is also --port: give them different ports"),
        ));
    }
    let (cert, key) = match (
        &h.ssl_certificate_file,
        &h.ssl_certificate_key_file,
        &h.ssl_certificate,
    ) {
        (Some(c), Some(k), _) => (PathBuf::from(c), PathBuf::from(k)),
        (None, None, Some(both)) => (
            PathBuf::from(format!("{both}.crt")),
            PathBuf::from(format!("{both}.key")),
        ),
        _ => {
            return Err(CliError::usage(
                command,
                "--https-port needs --ssl-certificate-file and --ssl-certificate-key-file (or \
                 --ssl-certificate PATH for PATH.crt and PATH.key); `openssl req -x509 -newkey \
                 rsa:2048 -nodes -keyout server.key -out server.crt -subj /CN=localhost` makes \
                 a self-signed pair",
            ))
        }
    };
    let ca_certificate = h
        .ssl_ca_certificate_file
        .as_deref()
        .map(|f| existing_file("ssl-ca-certificate-file", Path::new(f)))
        .transpose()?;
    if h.hsts_policy.is_some() && !h.https_only {
        crate::error::warn(
            "--hsts-policy is only sent with --https-only: add it, or drop the policy",
        );
    }
    if !h.ssl_verify_client.is_empty() && ca_certificate.is_none() {
        return Err(CliError::usage(
            command,
            "--ssl-verify-client needs --ssl-ca-certificate-file (the CAs of the client \
             certificates)",
        ));
    }
    Ok(Some(Https {
        port,
        certificate: existing_file("ssl-certificate-file", &cert)?,
        key: existing_file("ssl-certificate-key-file", &key)?,
        ca_certificate,
        verify_client: h.ssl_verify_client.clone(),
        chain: h
            .ssl_certificate_chain_file
            .as_deref()
            .map(|f| existing_file("ssl-certificate-chain-file", Path::new(f)))
            .transpose()?,
        environment: h.ssl_environment,
        only: h.https_only,
        hsts_policy: h.hsts_policy.clone(),
    }))
}
