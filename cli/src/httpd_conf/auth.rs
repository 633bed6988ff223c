//! `--host-access-script` and `--auth-user-script` (with
//! `--auth-group-script`): the module's access check and its `wsgi` and
//! `wsgi-group` providers on every URL of the site, as mod_wsgi-express
//! sets them up.

use std::fmt::Write as _;

use crate::quote::{q, qp};
use crate::settings::Settings;

pub fn access_and_authentication(c: &mut String, s: &Settings) {
    let auth = &s.auth;
    if !auth.any() {
        return;
    }
    let _ = writeln!(
        c,
        "\n# Who may use the site (--host-access-script, --auth-*)."
    );
    if let Some(script) = &auth.access_script {
        let _ = writeln!(
            c,
            "<Location />\n    WSGIAccessScript {}\n</Location>",
            qp(script)
        );
    }
    let Some(user) = &auth.user else {
        return;
    };
    let kind = &user.auth_type;
    let _ = writeln!(
        c,
        "<Location />\n    AuthType {kind}\n    AuthName {}\n    Auth{kind}Provider wsgi\n    \
         WSGIAuthUserScript {}",
        q(&format!("{}:{}", s.server_name, s.port)),
        qp(&user.script)
    );
    if let Some((script, _)) = &user.group {
        let _ = writeln!(c, "    WSGIAuthGroupScript {}", qp(script));
    }
    let _ = writeln!(c, "    <RequireAll>\n        Require valid-user");
    if let Some((_, group)) = &user.group {
        let _ = writeln!(c, "        Require wsgi-group {}", q(group));
    }
    let _ = writeln!(c, "    </RequireAll>\n</Location>");
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::settings::{Auth, UserAuth};

    #[test]
    fn basic_with_groups_and_an_access_script() {
        let mut s = Settings::for_tests();
        s.auth = Auth {
            access_script: Some(PathBuf::from("/srv/access.py")),
            user: Some(UserAuth {
                script: PathBuf::from("/srv/users.py"),
                auth_type: "Digest".into(),
                group: Some((PathBuf::from("/srv/groups.py"), "admins".into())),
            }),
        };
        let mut c = String::new();
        access_and_authentication(&mut c, &s);
        for line in [
            "WSGIAccessScript \"/srv/access.py\"",
            "AuthType Digest",
            "AuthName \"localhost:8000\"",
            "AuthDigestProvider wsgi",
            "WSGIAuthUserScript \"/srv/users.py\"",
            "WSGIAuthGroupScript \"/srv/groups.py\"",
            "Require valid-user",
            "Require wsgi-group \"admins\"",
        ] {
            assert!(c.contains(line), "{line} not in {c}");
        }
        assert!(crate::httpd_conf::httpd_conf(&s).contains("AuthDigestProvider wsgi"));
    }

    #[test]
    fn nothing_without_scripts() {
        let mut c = String::new();
        access_and_authentication(&mut c, &Settings::for_tests());
        assert!(c.is_empty());
    }
}
