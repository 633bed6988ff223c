//! HTTPS (mod_ssl) and HTTP/2 (mod_http2).

use clap::{ArgAction, Args};

use crate::values;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "HTTPS and HTTP/2")]
pub struct HttpsArgs {
    /// Also accept HTTPS on this port (mod_ssl); needs --ssl-certificate-file and
    /// --ssl-certificate-key-file (or --ssl-certificate).
    #[arg(long, visible_alias = "ssl-port", value_name = "NUMBER",
          value_parser = values::whole::<u16>(1, 65535))]
    pub https_port: Option<u16>,

    /// The server's certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub ssl_certificate_file: Option<String>,

    /// The private key of the certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub ssl_certificate_key_file: Option<String>,

    /// PATH.crt and PATH.key: the certificate and its key in one option.
    #[arg(long, value_name = "PATH")]
    pub ssl_certificate: Option<String>,

    /// CA certificates for client authentication: every HTTPS request must then present a
    /// client certificate they signed (or only those under --ssl-verify-client).
    #[arg(long, value_name = "FILE")]
    pub ssl_ca_certificate_file: Option<String>,

    /// Require a client certificate only under this URL (with --ssl-ca-certificate-file).
    /// Repeatable.
    #[arg(long, value_name = "URL", action = ArgAction::Append, value_parser = values::url_path)]
    pub ssl_verify_client: Vec<String>,

    /// Certificates of the CAs between the server's certificate and a root.
    #[arg(long, value_name = "FILE")]
    pub ssl_certificate_chain_file: Option<String>,

    /// Put mod_ssl's SSL_* variables into the WSGI environ (SSLOptions +StdEnvVars).
    #[arg(long)]
    pub ssl_environment: bool,

    /// Redirect every plain HTTP request to HTTPS (needs --https-port).
    #[arg(long)]
    pub https_only: bool,

    /// Strict-Transport-Security header sent over HTTPS with --https-only, e.g.
    /// 'max-age=31536000'.
    #[arg(long, value_name = "PARAMS", value_parser = values::header_value)]
    pub hsts_policy: Option<String>,

    /// Offer HTTP/2 (mod_http2: h2 over HTTPS, h2c over plain HTTP).
    #[arg(long)]
    pub http2: bool,
}
