//! Who may use the site, decided by Python scripts: the host access check
//! (WSGIAccessScript) and the users and groups of HTTP authentication (the
//! module's `wsgi` and `wsgi-group` providers). They run in Apache's child
//! processes, for every URL of the site.

use clap::Args;

use crate::values;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Access and authentication")]
pub struct AuthArgs {
    /// A Python script whose allow_access(environ, host) decides whether a client may use
    /// the site: True lets it in, False gives 403 (WSGIAccessScript on every URL).
    #[arg(long, value_name = "SCRIPT")]
    pub host_access_script: Option<String>,

    /// A Python script that authenticates users on every URL: check_password(environ, user,
    /// password) for Basic, get_realm_hash(environ, user, realm) for Digest (the realm is
    /// SERVER-NAME:PORT); True (or the hash) lets the user in (WSGIAuthUserScript, Apache's
    /// `wsgi` provider).
    #[arg(long, value_name = "SCRIPT")]
    pub auth_user_script: Option<String>,

    /// HTTP authentication scheme of --auth-user-script: Basic (the default) or Digest.
    #[arg(long, value_name = "TYPE", value_parser = values::auth_type)]
    pub auth_type: Option<String>,

    /// With --auth-user-script: a Python script whose groups_for_user(environ, user) lists
    /// the user's groups; only members of --auth-group get in (WSGIAuthGroupScript, Require
    /// wsgi-group).
    #[arg(long, value_name = "SCRIPT")]
    pub auth_group_script: Option<String>,

    /// The group users must be in with --auth-group-script (default: wsgi).
    #[arg(long, value_name = "NAME", value_parser = values::conf_word)]
    pub auth_group: Option<String>,
}
