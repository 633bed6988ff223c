# WSGIAuthUserScript / WSGIAuthGroupScript for tests/test_auth_scripts.py.
import hashlib
import os

USERS = {"alice": "secret", "bob": "hunter2", "grouperr": "x"}
GROUPS = {"alice": ["admins", "staff"], "bob": ["staff"], "grouperr": None}


def check_password(environ, user, password):
    if user == "boom":
        raise RuntimeError("check_password exploded for boom")
    if user == "wrongtype":
        return 42
    if user == "renamed":
        return "someone-else" if password == "x" else False
    if user == "envcheck":
        # The credentials never reach the script's environ.
        return ("HTTP_AUTHORIZATION" not in environ
                and environ["REQUEST_URI"].startswith("/basic")
                and environ["REMOTE_ADDR"] == "127.0.0.1"
                and hasattr(environ["wsgi.errors"], "write"))
    if user == "group":
        # password: the application group the script is expected to run in
        return environ["mod_wsgi.application_group"] == password
    if user == "where":
        # (SetEnv STATE_DIR applies after authentication: found from here)
        root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
        with open(os.path.join(root, "state", "auth_pid"), "w") as f:
            f.write(str(os.getpid()))
        return True
    if user not in USERS:
        return None
    return USERS[user] == password


def get_realm_hash(environ, user, realm):
    if user not in USERS:
        return None
    text = "%s:%s:%s" % (user, realm, USERS[user])
    return hashlib.md5(text.encode()).hexdigest()


def groups_for_user(environ, user):
    groups = GROUPS.get(user, [])
    if groups is None:
        raise RuntimeError("groups_for_user exploded for %s" % user)
    return [g.encode() if user == "bob" else g for g in groups]
