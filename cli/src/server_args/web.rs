//! What Apache itself does around the application: static files, errors,
//! proxies, connections, compression, status, extra handlers and services.

use clap::{ArgAction, Args};

use crate::values;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Web server")]
pub struct WebArgs {
    /// A directory request in the document root is answered with this file when it exists
    /// (DirectoryIndex) instead of going to the application.
    #[arg(long, value_name = "FILE-NAME", value_parser = values::file_name)]
    pub directory_index: Option<String>,

    /// List the files of a directory of the document root that has no index (mod_autoindex).
    #[arg(long)]
    pub directory_listing: bool,

    /// Directives .htaccess files in the document root may set (AllowOverride), e.g.
    /// FileInfo. Repeatable.
    #[arg(long, value_name = "DIRECTIVE-TYPE", action = ArgAction::Append,
          value_parser = values::conf_word)]
    pub allow_override: Vec<String>,

    /// Include this file of rewrite rules (mod_rewrite) in the document root's <Directory>.
    #[arg(long, value_name = "FILE")]
    pub rewrite_rules: Option<String>,

    /// The page Apache gives for an error STATUS (ErrorDocument): a URL path or a quoted
    /// message. Repeatable.
    #[arg(long, value_names = ["STATUS", "URL"], num_args = 2, action = ArgAction::Append)]
    pub error_document: Vec<String>,

    /// The application's error responses are replaced by Apache's error documents
    /// (WSGIErrorOverride On).
    #[arg(long)]
    pub error_override: bool,

    /// Proxy everything under URL-PATH to URL (mod_proxy, WebSockets too), with
    /// X-Forwarded-Prefix/-Port/-Scheme. Repeatable.
    #[arg(long, visible_alias = "proxy-url-alias", value_names = ["URL-PATH", "URL"],
          num_args = 2, action = ArgAction::Append)]
    pub proxy_mount_point: Vec<String>,

    /// Proxy every request for host name HOSTNAME to URL. Repeatable.
    #[arg(long, value_names = ["HOSTNAME", "URL"], num_args = 2, action = ArgAction::Append)]
    pub proxy_virtual_host: Vec<String>,

    /// Time limit of proxied requests (ProxyTimeout; default --socket-timeout).
    #[arg(long, value_name = "SECONDS", value_parser = values::whole::<u64>(1, 86_400))]
    pub proxy_timeout: Option<u64>,

    /// A header trusted to describe the client when the request comes from a trusted proxy
    /// (WSGITrustedProxyHeaders), e.g. X-Forwarded-For. Repeatable.
    #[arg(long, value_name = "HEADER-NAME", action = ArgAction::Append,
          value_parser = values::header_name)]
    pub trust_proxy_header: Vec<String>,

    /// Address or subnet of a trusted proxy (WSGITrustedProxies; default: any client, when
    /// --trust-proxy-header is given). Repeatable.
    #[arg(long, value_name = "ADDRESS/SUBNET", action = ArgAction::Append,
          value_parser = values::conf_word)]
    pub trust_proxy: Vec<String>,

    /// How long an idle client connection is kept open (0: no keep-alive).
    #[arg(long, value_name = "SECONDS", default_value_t = 2,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub keep_alive_timeout: u64,

    /// Listen backlog of Apache's sockets (ListenBacklog).
    #[arg(long, value_name = "NUMBER", default_value_t = 500,
          value_parser = values::whole::<u32>(1, 65535))]
    pub server_backlog: u32,

    /// Seconds to receive the request line and headers (mod_reqtimeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 15,
          value_parser = values::whole::<u32>(0, 86_400))]
    pub header_timeout: u32,

    /// Upper bound of the header time once extended by --header-min-rate (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = values::whole::<u32>(0, 86_400))]
    pub header_max_timeout: u32,

    /// Bytes per second of headers that extend --header-timeout by a second.
    #[arg(long, value_name = "BYTES", default_value_t = 500,
          value_parser = values::whole::<u32>(0, 1 << 30))]
    pub header_min_rate: u32,

    /// Seconds to receive the request body (mod_reqtimeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 15,
          value_parser = values::whole::<u32>(0, 86_400))]
    pub body_timeout: u32,

    /// Upper bound of the body time once extended by --body-min-rate (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 0,
          value_parser = values::whole::<u32>(0, 86_400))]
    pub body_max_timeout: u32,

    /// Bytes per second of body that extend --body-timeout by a second.
    #[arg(long, value_name = "BYTES", default_value_t = 500,
          value_parser = values::whole::<u32>(0, 1 << 30))]
    pub body_min_rate: u32,

    /// Compress text responses (HTML, CSS, JavaScript, JSON, XML, plain text) with gzip for
    /// clients that accept it (mod_deflate).
    #[arg(long)]
    pub compress_responses: bool,

    /// Serve Apache's status page at /server-status, to this machine only (mod_status).
    #[arg(long)]
    pub server_status: bool,

    /// Serve the module's metrics for Prometheus at /server-metrics, to this machine only
    /// (SetHandler wsgi-metrics), and turn on mod_wsgi.server_metrics().
    #[arg(long)]
    pub server_metrics: bool,

    /// Run executable *.cgi files of the document root as CGI scripts (mod_cgid/mod_cgi).
    #[arg(long)]
    pub with_cgi: bool,

    /// Present HEAD requests to the application as GET: On, Off or Auto (when an output
    /// filter needs the body).
    #[arg(long, value_name = "OFF|ON|AUTO", default_value = "Auto",
          value_parser = values::on_off_auto)]
    pub map_head_to_get: String,

    /// Accept request bodies sent with chunked transfer encoding (WSGIChunkedRequest On).
    #[arg(long)]
    pub chunked_request: bool,

    /// Send wsgi.file_wrapper responses with sendfile() (WSGIEnableSendfile On).
    #[arg(long)]
    pub enable_sendfile: bool,

    /// Do not reload the WSGI script when its file changes (WSGIScriptReloading Off).
    #[arg(long)]
    pub disable_reloading: bool,

    /// Files with this extension (under the document root or a --url-alias directory) are
    /// answered by the WSGI script SCRIPT: its handle_request(environ, start_response), or
    /// its application (WSGIHandlerScript, AddHandler). Repeatable.
    #[arg(long, value_names = ["EXTENSION", "SCRIPT"], num_args = 2, action = ArgAction::Append)]
    pub add_handler: Vec<String>,

    /// Run the Python script SCRIPT in a daemon process of its own, named service:SERVICE
    /// (WSGIImportScript), e.g. a task queue worker. Repeatable.
    #[arg(long, value_names = ["SERVICE", "SCRIPT"], num_args = 2, action = ArgAction::Append)]
    pub service_script: Vec<String>,

    /// User the process of SERVICE runs as when started as root. Repeatable.
    #[arg(long, value_names = ["SERVICE", "USERNAME"], num_args = 2, action = ArgAction::Append)]
    pub service_user: Vec<String>,

    /// Group the process of SERVICE runs as when started as root. Repeatable.
    #[arg(long, value_names = ["SERVICE", "GROUP"], num_args = 2, action = ArgAction::Append)]
    pub service_group: Vec<String>,
}

/// The pairs of a two-valued repeatable option.
pub fn pairs(v: &[String]) -> impl Iterator<Item = (&str, &str)> {
    v.chunks_exact(2).map(|p| (p[0].as_str(), p[1].as_str()))
}
