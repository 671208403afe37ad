#!/usr/bin/env python3
"""Test stand-in for grafana/grafana, installed as /run.sh (the real image's entrypoint).

Start-up, as Grafana does it:
- the backend database (GF_DATABASE_*): with postgres it logs in with psql as the configured
  user and creates a table, so a wrong password or a missing `grafana` database fails the start;
- the remote cache (GF_REMOTE_CACHE_*): with redis it pings with the configured password;
- provisioning from GF_PATHS_PROVISIONING (default /etc/grafana/provisioning): data sources
  (environment expansion, $$ for a literal $, one default per organization, the organization
  must exist) and file dashboard providers (folders, uids), as the real server reads them;
- the first start creates the admin from GF_SECURITY_ADMIN_USER/PASSWORD and organization 1;
  later starts keep the stored password, as Grafana does.

HTTP on 3000, basic auth and service account tokens (Bearer), the subset of the API the portal and
the tests use: /api/health (503 when the database fails), /metrics, /api/datasources[/uid/{uid}],
/api/dashboards/uid/{uid}, /api/search, /api/folders[/{uid}], /api/org, /api/orgs[/{id}[/users]],
/api/user, /api/users[/{id}|/lookup], /api/admin/users[/{id}[/password]],
/api/serviceaccounts[/{id}/tokens]. As in Grafana, a service account acts in its own organization
with its role and is never a server admin, so the admin API refuses its tokens.
Users, organizations, memberships and service accounts are kept in /var/lib/grafana/grafana-standin.json.

The web UI is not Grafana's: /d/{uid} answers a small page naming the dashboard a link opens (or
"Dashboard not found"), without asking for a sign-in, so browser tests can follow the portal's links.
"""

import base64
import glob
import hashlib
import html
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import standin  # noqa: E402

VERSION = "12.3.1"
ENV = os.environ
DATA = ENV.get("GF_PATHS_DATA", "/var/lib/grafana")
PROVISIONING = ENV.get("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning")
STATE_FILE = os.path.join(DATA, "grafana-standin.json")
ROLES = ("Viewer", "Editor", "Admin")


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def slugify(title):
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", title.lower())).strip("-")


def hash_password(password, salt=None):
    salt = salt or secrets.token_hex(8)
    return salt, hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10000).hex()


def password_policy_error(password):
    """Grafana's strong password policy (auth.basic password_policy)."""
    if ENV.get("GF_AUTH_BASIC_PASSWORD_POLICY", "false").lower() != "true":
        return None if len(password) >= 4 else "New password is too short"
    if len(password) < 12:
        return "New password is too short"
    if not (re.search(r"[A-Z]", password) and re.search(r"[a-z]", password)
            and re.search(r"\d", password) and re.search(r"[^A-Za-z0-9]", password)):
        return "New password must include at least one uppercase letter, one lowercase letter, one digit and one symbol"
    return None


# ------------------------------------------------------------------------ database and cache

class Database:
    def __init__(self):
        self.kind = ENV.get("GF_DATABASE_TYPE", "sqlite3")
        host, _, port = ENV.get("GF_DATABASE_HOST", "127.0.0.1:5432").partition(":")
        self.env = {**ENV, "PGHOST": host, "PGPORT": port or "5432", "PGUSER": ENV.get("GF_DATABASE_USER", "root"),
                    "PGPASSWORD": ENV.get("GF_DATABASE_PASSWORD", ""), "PGDATABASE": ENV.get("GF_DATABASE_NAME", "grafana"),
                    "PGCONNECT_TIMEOUT": "3", "PGSSLMODE": ENV.get("GF_DATABASE_SSL_MODE", "disable")}
        self.lock = threading.Lock()
        self.checked_at, self.ok = 0.0, False

    def _psql(self, sql):
        return subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-qAtc", sql], env=self.env,
                              capture_output=True, text=True, timeout=10)

    def migrate(self):
        if self.kind != "postgres":
            return
        deadline = time.monotonic() + 30
        while True:
            result = self._psql("CREATE TABLE IF NOT EXISTS standin_migration_log (id serial PRIMARY KEY, "
                                "migration_id text NOT NULL, timestamp timestamptz NOT NULL DEFAULT now()); "
                                "INSERT INTO standin_migration_log (migration_id) VALUES ('standin start');")
            if result.returncode == 0:
                standin.log("info", "migrations completed", database="postgres", host=self.env["PGHOST"], name=self.env["PGDATABASE"])
                self.ok, self.checked_at = True, time.monotonic()
                return
            if time.monotonic() > deadline:
                standin.fail("failed to connect to database", err=result.stderr.strip())
            time.sleep(1)

    def healthy(self):
        if self.kind != "postgres":
            return True
        with self.lock:
            if time.monotonic() - self.checked_at > 5:
                try:
                    self.ok = self._psql("SELECT 1").returncode == 0
                except subprocess.TimeoutExpired:
                    self.ok = False
                self.checked_at = time.monotonic()
            return self.ok


def check_remote_cache():
    if ENV.get("GF_REMOTE_CACHE_TYPE") != "redis":
        return
    fields = dict(part.split("=", 1) for part in ENV.get("GF_REMOTE_CACHE_CONNSTR", "").split(",") if "=" in part)
    host, _, port = fields.get("addr", "127.0.0.1:6379").partition(":")
    args = ["redis-cli", "-h", host, "-p", port or "6379", "-n", fields.get("db", "0"), "ping"]
    env = {**ENV, "REDISCLI_AUTH": fields.get("password", "")}
    deadline = time.monotonic() + 30
    while True:
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=10)
        if result.stdout.strip() == "PONG":
            standin.log("info", "remote cache reachable", type="redis", addr=fields.get("addr", ""))
            return
        if time.monotonic() > deadline:
            standin.fail("remote cache: redis ping failed", err=(result.stdout + result.stderr).strip())
        time.sleep(1)


# ------------------------------------------------------------------------------ users and orgs

class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.data = standin.read_json(STATE_FILE, None)
        if self.data is None:
            user = ENV.get("GF_SECURITY_ADMIN_USER", "admin")
            password = ENV.get("GF_SECURITY_ADMIN_PASSWORD", "admin")
            salt, digest = hash_password(password)
            self.data = {"next_user": 2, "next_org": 2,
                         "orgs": [{"id": 1, "name": "Main Org.", "created": now_iso()}],
                         "users": [{"id": 1, "uid": secrets.token_hex(7), "login": user, "email": "admin@localhost", "name": "",
                                    "salt": salt, "password": digest, "isGrafanaAdmin": True, "isDisabled": False,
                                    "orgId": 1, "created": now_iso(), "updated": now_iso()}],
                         "members": [{"orgId": 1, "userId": 1, "role": "Admin"}]}
            self.save()
            standin.log("info", "created admin user", login=user)

    def save(self):
        standin.write_json_atomic(STATE_FILE, self.data)

    def org(self, org_id):
        return next((o for o in self.data["orgs"] if o["id"] == org_id), None)

    def user(self, user_id):
        return next((u for u in self.data["users"] if u["id"] == user_id), None)

    def user_by_login(self, login_or_email):
        key = login_or_email.lower()
        return next((u for u in self.data["users"] if key in (u["login"].lower(), u["email"].lower())), None)

    def role(self, org_id, user_id):
        return next((m["role"] for m in self.data["members"] if m["orgId"] == org_id and m["userId"] == user_id), None)

    def service_account_by_token(self, token):
        digest = hashlib.sha256(token.encode()).hexdigest()
        return next((sa for sa in self.data.get("service_accounts", []) if digest in sa["tokens"]), None)

    def authenticate(self, header):
        if header and header.startswith("Bearer "):
            sa = self.service_account_by_token(header[7:].strip())
            if sa is None or sa["isDisabled"]:
                return None
            # Acts as its organization's member with its role; never a server admin.
            return {"id": sa["id"], "uid": sa["uid"], "login": sa["login"], "email": "", "name": sa["name"], "isGrafanaAdmin": False,
                    "isDisabled": False, "orgId": sa["orgId"], "serviceAccountRole": sa["role"],
                    "created": sa["created"], "updated": sa["created"]}
        if not header or not header.startswith("Basic "):
            return None
        try:
            login, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        user = self.user_by_login(login)
        if user is None or user["isDisabled"] or hash_password(password, user["salt"])[1] != user["password"]:
            return None
        return user


# -------------------------------------------------------------------------------- provisioning

class Provisioned:
    def __init__(self, state):
        self.datasources, self.folders, self.dashboards = [], [], []
        self._load_datasources(state)
        self._load_dashboards(state)

    @staticmethod
    def _files(kind):
        return sorted(glob.glob(f"{PROVISIONING}/{kind}/*.yaml") + glob.glob(f"{PROVISIONING}/{kind}/*.yml"))

    def _load_datasources(self, state):
        for path in self._files("datasources"):
            config = standin.expand_grafana_env(standin.load_yaml(path))
            for ds in config.get("datasources") or []:
                if not ds.get("name") or not ds.get("type"):
                    standin.fail("datasource provisioning: name and type are required", file=path)
                org_id = int(ds.get("orgId") or 1)
                if state.org(org_id) is None:
                    standin.fail("Failed to provision data sources: organization not found", orgId=org_id, file=path)
                uid = ds.get("uid") or secrets.token_hex(7)
                if any(d["uid"] == uid and d["orgId"] == org_id for d in self.datasources):
                    standin.fail("datasource provisioning: the same uid is used more than once", uid=uid, file=path)
                self.datasources.append({
                    "id": len(self.datasources) + 1, "uid": uid, "orgId": org_id, "name": ds["name"], "type": ds["type"],
                    "typeName": ds["type"].capitalize(), "access": ds.get("access", "proxy"), "url": ds.get("url", ""),
                    "user": ds.get("user", ""), "database": ds.get("database", ""), "basicAuth": bool(ds.get("basicAuth")),
                    "isDefault": bool(ds.get("isDefault")), "jsonData": ds.get("jsonData") or {},
                    "secureJsonFields": {k: True for k in (ds.get("secureJsonData") or {})},
                    "readOnly": not ds.get("editable", False), "version": 1})
        for org_id in {d["orgId"] for d in self.datasources}:
            if sum(1 for d in self.datasources if d["orgId"] == org_id and d["isDefault"]) > 1:
                standin.fail("datasource.yaml config is invalid. Only one datasource per organization can be marked as default")
        standin.log("info", "provisioned data sources", count=len(self.datasources))

    def _folder(self, org_id, uid, title):
        folder = next((f for f in self.folders if f["orgId"] == org_id and f["title"] == title), None)
        if folder is None:
            folder = {"id": 1000 + len(self.folders) + 1, "uid": uid or secrets.token_hex(7), "orgId": org_id, "title": title}
            self.folders.append(folder)
        return folder

    def _load_dashboards(self, state):
        for path in self._files("dashboards"):
            config = standin.expand_grafana_env(standin.load_yaml(path))
            for provider in config.get("providers") or []:
                if provider.get("type", "file") != "file":
                    continue
                org_id = int(provider.get("orgId") or 1)
                if state.org(org_id) is None:
                    standin.fail("Failed to provision dashboards: organization not found", orgId=org_id, provider=provider.get("name", ""))
                root = (provider.get("options") or {}).get("path", "")
                if not os.path.isdir(root):
                    standin.log("error", "Cannot read directory", provider=provider.get("name", ""), path=root)
                    continue
                by_structure = (provider.get("options") or {}).get("foldersFromFilesStructure", False)
                for file in sorted(glob.glob(f"{root}/**/*.json", recursive=True)):
                    self._load_dashboard(file, root, org_id, provider, by_structure)
        standin.log("info", "provisioned dashboards", count=len(self.dashboards), folders=len(self.folders))

    def _load_dashboard(self, file, root, org_id, provider, by_structure):
        try:
            with open(file, encoding="utf-8") as f:
                model = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            standin.log("error", "failed to load dashboard from file", file=file, err=str(e))
            return
        uid = model.get("uid") or secrets.token_hex(7)
        if any(d["uid"] == uid and d["orgId"] == org_id for d in self.dashboards):
            standin.log("error", "the same UID is used more than once", uid=uid, file=file)
            return
        relative_dir = os.path.relpath(os.path.dirname(file), root)
        if by_structure and relative_dir != ".":
            folder = self._folder(org_id, None, relative_dir)
        elif provider.get("folder"):
            folder = self._folder(org_id, provider.get("folderUid"), provider["folder"])
        else:
            folder = None
        dashboard_id = len(self.dashboards) + 1
        self.dashboards.append({"id": dashboard_id, "uid": uid, "orgId": org_id, "title": model.get("title", ""),
                                "tags": model.get("tags") or [], "folder": folder, "file": os.path.relpath(file, root),
                                "model": {**model, "id": dashboard_id, "uid": uid, "version": model.get("version") or 1}})


# ------------------------------------------------------------------------------------------ HTTP

def user_view(u):
    return {"id": u["id"], "uid": u["uid"], "name": u["name"], "login": u["login"], "email": u["email"],
            "avatarUrl": "", "isAdmin": u["isGrafanaAdmin"], "isDisabled": u["isDisabled"],
            "lastSeenAt": u["updated"], "lastSeenAtAge": "", "authLabels": []}


def user_detail(u):
    return {"id": u["id"], "uid": u["uid"], "email": u["email"], "name": u["name"], "login": u["login"], "theme": "",
            "orgId": u["orgId"], "isGrafanaAdmin": u["isGrafanaAdmin"], "isDisabled": u["isDisabled"], "isExternal": False,
            "authLabels": [], "updatedAt": u["updated"], "createdAt": u["created"], "avatarUrl": ""}


def folder_url(folder):
    return f"/dashboards/f/{folder['uid']}/{slugify(folder['title'])}"


def make_handler(state, provisioned, database, metrics):
    class GrafanaHandler(standin.Handler):
        routes = (
            ("GET", r"/api/health", "health"),
            ("HEAD", r"/api/health", "health"),
            ("GET", r"/metrics", "get_metrics"),
            ("GET", r"/", "root"),
            ("GET", r"/login", "login"),
            ("GET", r"/d/([^/]+)(?:/[^/]*)?", "dashboard_page"),
            ("GET", r"/api/datasources", "datasources"),
            ("GET", r"/api/datasources/uid/([^/]+)", "datasource"),
            ("GET", r"/api/dashboards/uid/([^/]+)", "dashboard"),
            ("GET", r"/api/search", "search"),
            ("GET", r"/api/folders", "folders"),
            ("GET", r"/api/folders/([^/]+)", "folder"),
            ("GET", r"/api/org", "current_org"),
            ("GET", r"/api/orgs", "orgs"),
            ("POST", r"/api/orgs", "create_org"),
            ("GET", r"/api/orgs/(\d+)", "get_org"),
            ("GET", r"/api/orgs/name/([^/]+)", "get_org_by_name"),
            ("DELETE", r"/api/orgs/(\d+)", "delete_org"),
            ("GET", r"/api/orgs/(\d+)/users", "org_users"),
            ("POST", r"/api/orgs/(\d+)/users", "add_org_user"),
            ("DELETE", r"/api/orgs/(\d+)/users/(\d+)", "remove_org_user"),
            ("GET", r"/api/user", "current_user"),
            ("GET", r"/api/users", "users"),
            ("GET", r"/api/users/lookup", "lookup_user"),
            ("GET", r"/api/users/(\d+)", "get_user"),
            ("POST", r"/api/admin/users", "create_user"),
            ("DELETE", r"/api/admin/users/(\d+)", "delete_user"),
            ("PUT", r"/api/admin/users/(\d+)/password", "set_password"),
            ("POST", r"/api/serviceaccounts", "create_service_account"),
            ("POST", r"/api/serviceaccounts/(\d+)/tokens", "create_service_account_token"),
        )

        # ---- auth helpers: each returns the user, or None after sending the error
        def signed_in(self):
            user = state.authenticate(self.headers.get("Authorization"))
            if user is None:
                self.send_json(401, {"message": "Invalid username or password", "messageId": "password-auth.failed", "statusCode": 401})
            return user

        def server_admin(self):
            user = self.signed_in()
            if user is not None and not user["isGrafanaAdmin"]:
                self.send_json(403, {"message": "Permission denied"})
                return None
            return user

        def org_context(self, min_role="Viewer"):
            """(user, orgId) for the request's organization: X-Grafana-Org-Id or the user's current one."""
            user = self.signed_in()
            if user is None:
                return None, None
            header = self.headers.get("X-Grafana-Org-Id")
            org_id = int(header) if header and header.isdigit() else user["orgId"]
            if "serviceAccountRole" in user:
                role = user["serviceAccountRole"] if org_id == user["orgId"] else None
            else:
                role = state.role(org_id, user["id"])
            if role is None and not user["isGrafanaAdmin"]:
                self.send_json(401, {"message": "User does not belong to the organization"})
                return None, None
            if not user["isGrafanaAdmin"] and ROLES.index(role) < ROLES.index(min_role):
                self.send_json(403, {"message": "Permission denied"})
                return None, None
            return user, org_id

        # ---- unauthenticated
        def health(self):
            ok = database.healthy()
            return self.send_json(200 if ok else 503, {"commit": "standin", "database": "ok" if ok else "failing", "version": VERSION})

        def extra_metrics(self):
            with state.lock:
                return [(("grafana_stat_total_users", ()), str(len(state.data["users"]))),
                        (("grafana_stat_total_orgs", ()), str(len(state.data["orgs"]))),
                        (("grafana_stat_totals_dashboard", ()), str(len(provisioned.dashboards)))]

        def root(self):
            self.send_response(302)
            self.send_header("Location", "/login")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return 302

        def login(self):
            return self.send_text(200, f"<!doctype html><title>Grafana</title><p>Grafana {VERSION} ({standin.STANDIN_NOTE})</p>",
                                  "text/html; charset=utf-8")

        def dashboard_page(self, uid):
            orgs = self.query.get("orgId") or ["1"]
            org_id = int(orgs[0]) if orgs[0].isdigit() else 1
            d = next((d for d in provisioned.dashboards if d["uid"] == uid and d["orgId"] == org_id), None)
            title = d["title"] if d else "Dashboard not found"
            page = (f"<!doctype html><title>{html.escape(title)} - Dashboards - Grafana</title>"
                    f"<h1 data-dashboard-uid=\"{html.escape(uid if d else '')}\" data-org-id=\"{org_id}\">{html.escape(title)}</h1>"
                    f"<p>{standin.STANDIN_NOTE}: this page only names the dashboard a link opens.</p>")
            return self.send_text(200 if d else 404, page, "text/html; charset=utf-8")

        # ---- data sources, dashboards, folders
        def datasources(self):
            user, org_id = self.org_context("Admin")
            if user is None:
                return 401
            return self.send_json(200, [d for d in provisioned.datasources if d["orgId"] == org_id])

        def datasource(self, uid):
            user, org_id = self.org_context("Viewer")
            if user is None:
                return 401
            found = next((d for d in provisioned.datasources if d["uid"] == uid and d["orgId"] == org_id), None)
            return self.send_json(200, found) if found else self.send_json(404, {"message": "Data source not found"})

        def dashboard(self, uid):
            user, org_id = self.org_context("Viewer")
            if user is None:
                return 401
            d = next((d for d in provisioned.dashboards if d["uid"] == uid and d["orgId"] == org_id), None)
            if d is None:
                return self.send_json(404, {"message": "Dashboard not found"})
            folder = d["folder"]
            meta = {"type": "db", "canSave": False, "canEdit": True, "canAdmin": True, "canStar": True, "canDelete": False,
                    "slug": slugify(d["title"]), "url": f"/d/{d['uid']}/{slugify(d['title'])}", "expires": "0001-01-01T00:00:00Z",
                    "created": now_iso(), "updated": now_iso(), "updatedBy": "Anonymous", "createdBy": "Anonymous",
                    "version": d["model"]["version"], "hasAcl": False, "isFolder": False,
                    "folderId": folder["id"] if folder else 0, "folderUid": folder["uid"] if folder else "",
                    "folderTitle": folder["title"] if folder else "General", "folderUrl": folder_url(folder) if folder else "",
                    "provisioned": True, "provisionedExternalId": d["file"]}
            return self.send_json(200, {"dashboard": d["model"], "meta": meta})

        def search(self):
            user, org_id = self.org_context("Viewer")
            if user is None:
                return 401
            text = (self.query.get("query") or [""])[0].lower()
            kind = (self.query.get("type") or [""])[0]
            tags = self.query.get("tag") or []
            folder_uids = {u for v in self.query.get("folderUIDs") or [] for u in v.split(",") if u}
            dashboard_uids = {u for v in self.query.get("dashboardUIDs") or [] for u in v.split(",") if u}
            limit = int((self.query.get("limit") or ["1000"])[0])
            hits = []
            if kind in ("", "dash-folder") and not tags and not dashboard_uids:
                for f in sorted((f for f in provisioned.folders if f["orgId"] == org_id), key=lambda f: f["title"].lower()):
                    if text in f["title"].lower() and not folder_uids:
                        hits.append({"id": f["id"], "uid": f["uid"], "orgId": org_id, "title": f["title"], "uri": f"db/{slugify(f['title'])}",
                                     "url": folder_url(f), "slug": "", "type": "dash-folder", "tags": [], "isStarred": False, "sortMeta": 0})
            if kind in ("", "dash-db"):
                for d in sorted((d for d in provisioned.dashboards if d["orgId"] == org_id), key=lambda d: d["title"].lower()):
                    folder = d["folder"]
                    if text not in d["title"].lower() or not all(t in d["tags"] for t in tags):
                        continue
                    if folder_uids and (folder["uid"] if folder else "general") not in folder_uids:
                        continue
                    if dashboard_uids and d["uid"] not in dashboard_uids:
                        continue
                    hit = {"id": d["id"], "uid": d["uid"], "orgId": org_id, "title": d["title"], "uri": f"db/{slugify(d['title'])}",
                           "url": f"/d/{d['uid']}/{slugify(d['title'])}", "slug": "", "type": "dash-db", "tags": d["tags"],
                           "isStarred": False, "sortMeta": 0}
                    if folder:
                        hit.update({"folderId": folder["id"], "folderUid": folder["uid"], "folderTitle": folder["title"],
                                    "folderUrl": folder_url(folder)})
                    hits.append(hit)
            return self.send_json(200, hits[:limit])

        def folders(self):
            user, org_id = self.org_context("Viewer")
            if user is None:
                return 401
            return self.send_json(200, [{"id": f["id"], "uid": f["uid"], "title": f["title"]}
                                        for f in provisioned.folders if f["orgId"] == org_id])

        def folder(self, uid):
            user, org_id = self.org_context("Viewer")
            if user is None:
                return 401
            f = next((f for f in provisioned.folders if f["uid"] == uid and f["orgId"] == org_id), None)
            if f is None:
                return self.send_json(404, {"message": "folder not found"})
            return self.send_json(200, {"id": f["id"], "uid": f["uid"], "orgId": org_id, "title": f["title"], "url": folder_url(f),
                                        "hasAcl": False, "canSave": True, "canEdit": True, "canAdmin": True, "version": 1})

        # ---- organizations
        def current_org(self):
            user, org_id = self.org_context("Viewer")
            if user is None:
                return 401
            return self.send_json(200, {"id": org_id, "name": state.org(org_id)["name"], "address": {}})

        def orgs(self):
            if self.server_admin() is None:
                return 403
            with state.lock:
                return self.send_json(200, [{"id": o["id"], "name": o["name"]} for o in state.data["orgs"]])

        def create_org(self):
            user = self.server_admin()
            if user is None:
                return 403
            body = self.json_body() or {}
            name = str(body.get("name") or "").strip()
            if not name:
                return self.send_json(400, {"message": "bad request data"})
            with state.lock:
                if any(o["name"].lower() == name.lower() for o in state.data["orgs"]):
                    return self.send_json(409, {"message": "Organization name taken"})
                org_id = state.data["next_org"]
                state.data["next_org"] += 1
                state.data["orgs"].append({"id": org_id, "name": name, "created": now_iso()})
                state.data["members"].append({"orgId": org_id, "userId": user["id"], "role": "Admin"})
                state.save()
            return self.send_json(200, {"orgId": org_id, "message": "Organization created"})

        def get_org(self, org_id):
            if self.server_admin() is None:
                return 403
            org = state.org(int(org_id))
            if org is None:
                return self.send_json(404, {"message": "Organization not found"})
            return self.send_json(200, {"id": org["id"], "name": org["name"], "address": {}})

        def get_org_by_name(self, name):
            if self.server_admin() is None:
                return 403
            name = urllib.parse.unquote(name)
            with state.lock:
                org = next((o for o in state.data["orgs"] if o["name"] == name), None)
            if org is None:
                return self.send_json(404, {"message": "Organization not found"})
            return self.send_json(200, {"id": org["id"], "name": org["name"], "address": {}})

        def delete_org(self, org_id):
            user = self.server_admin()
            if user is None:
                return 403
            org_id = int(org_id)
            with state.lock:
                if state.org(org_id) is None:
                    return self.send_json(404, {"message": "Failed to delete organization. ID not found"})
                if org_id == user["orgId"]:
                    return self.send_json(400, {"message": "Can not delete org for current user"})
                state.data["orgs"] = [o for o in state.data["orgs"] if o["id"] != org_id]
                state.data["members"] = [m for m in state.data["members"] if m["orgId"] != org_id]
                for u in state.data["users"]:
                    if u["orgId"] == org_id:
                        u["orgId"] = 1
                state.save()
            return self.send_json(200, {"message": "Organization deleted"})

        def org_users(self, org_id):
            if self.server_admin() is None:
                return 403
            org_id = int(org_id)
            with state.lock:
                members = [m for m in state.data["members"] if m["orgId"] == org_id]
                rows = []
                for m in members:
                    u = state.user(m["userId"])
                    rows.append({"orgId": org_id, "userId": u["id"], "email": u["email"], "name": u["name"], "login": u["login"],
                                 "role": m["role"], "avatarUrl": "", "lastSeenAt": u["updated"], "lastSeenAtAge": ""})
            return self.send_json(200, rows)

        def add_org_user(self, org_id):
            if self.server_admin() is None:
                return 403
            org_id = int(org_id)
            body = self.json_body() or {}
            role = body.get("role", "Viewer")
            if role not in ROLES:
                return self.send_json(400, {"message": "Invalid role specified"})
            with state.lock:
                if state.org(org_id) is None:
                    return self.send_json(404, {"message": "Organization not found"})
                user = state.user_by_login(str(body.get("loginOrEmail") or ""))
                if user is None:
                    return self.send_json(404, {"message": "User not found"})
                if state.role(org_id, user["id"]):
                    return self.send_json(409, {"message": "User is already member of this organization"})
                state.data["members"].append({"orgId": org_id, "userId": user["id"], "role": role})
                state.save()
            return self.send_json(200, {"message": "User added to organization", "userId": user["id"]})

        def remove_org_user(self, org_id, user_id):
            if self.server_admin() is None:
                return 403
            org_id, user_id = int(org_id), int(user_id)
            with state.lock:
                if not state.role(org_id, user_id):
                    return self.send_json(404, {"message": "User not found"})
                state.data["members"] = [m for m in state.data["members"] if not (m["orgId"] == org_id and m["userId"] == user_id)]
                state.save()
            return self.send_json(200, {"message": "User removed from organization"})

        # ---- users
        def current_user(self):
            user = self.signed_in()
            return self.send_json(200, user_detail(user)) if user else 401

        def users(self):
            if self.server_admin() is None:
                return 403
            text = (self.query.get("query") or [""])[0].lower()
            per_page = int((self.query.get("perpage") or ["1000"])[0])
            page = int((self.query.get("page") or ["1"])[0])
            with state.lock:
                found = [user_view(u) for u in state.data["users"]
                         if not text or text in u["login"].lower() or text in u["email"].lower() or text in u["name"].lower()]
            return self.send_json(200, found[(page - 1) * per_page:page * per_page])

        def lookup_user(self):
            if self.server_admin() is None:
                return 403
            with state.lock:
                user = state.user_by_login((self.query.get("loginOrEmail") or [""])[0])
            return self.send_json(200, user_detail(user)) if user else self.send_json(404, {"message": "user not found"})

        def get_user(self, user_id):
            if self.server_admin() is None:
                return 403
            user = state.user(int(user_id))
            return self.send_json(200, user_detail(user)) if user else self.send_json(404, {"message": "user not found"})

        def create_user(self):
            if self.server_admin() is None:
                return 403
            body = self.json_body() or {}
            login = str(body.get("login") or body.get("email") or "").strip()
            email = str(body.get("email") or login).strip()
            password = str(body.get("password") or "")
            if not login:
                return self.send_json(400, {"message": "Validation error, need to specify either username or email"})
            problem = password_policy_error(password)
            if problem:
                return self.send_json(400, {"message": problem})
            org_id = int(body.get("OrgId") or body.get("orgId") or 1)
            with state.lock:
                if state.org(org_id) is None:
                    return self.send_json(400, {"message": "Organization ID is not valid"})
                if state.user_by_login(login) or state.user_by_login(email):
                    return self.send_json(412, {"message": "User already exists"})
                user_id = state.data["next_user"]
                state.data["next_user"] += 1
                salt, digest = hash_password(password)
                state.data["users"].append({"id": user_id, "uid": secrets.token_hex(7), "login": login, "email": email,
                                            "name": str(body.get("name") or ""), "salt": salt, "password": digest,
                                            "isGrafanaAdmin": False, "isDisabled": False, "orgId": org_id,
                                            "created": now_iso(), "updated": now_iso()})
                state.data["members"].append({"orgId": org_id, "userId": user_id, "role": "Viewer"})
                state.save()
                uid = state.user(user_id)["uid"]
            return self.send_json(200, {"id": user_id, "uid": uid, "message": "User created"})

        def delete_user(self, user_id):
            if self.server_admin() is None:
                return 403
            user_id = int(user_id)
            with state.lock:
                if state.user(user_id) is None:
                    return self.send_json(404, {"message": "user not found"})
                state.data["users"] = [u for u in state.data["users"] if u["id"] != user_id]
                state.data["members"] = [m for m in state.data["members"] if m["userId"] != user_id]
                state.save()
            return self.send_json(200, {"message": "User deleted"})

        def set_password(self, user_id):
            if self.server_admin() is None:
                return 403
            password = str((self.json_body() or {}).get("password") or "")
            problem = password_policy_error(password)
            if problem:
                return self.send_json(400, {"message": problem})
            with state.lock:
                user = state.user(int(user_id))
                if user is None:
                    return self.send_json(404, {"message": "user not found"})
                user["salt"], user["password"] = hash_password(password)
                user["updated"] = now_iso()
                state.save()
            return self.send_json(200, {"message": "User password updated"})

        # ---- service accounts
        def create_service_account(self):
            user, org_id = self.org_context("Admin")
            if user is None:
                return 401
            body = self.json_body() or {}
            name = str(body.get("name") or "").strip()
            role = body.get("role") or "Viewer"
            if not name or role not in ROLES:
                return self.send_json(400, {"message": "Required a name and a role of Viewer, Editor or Admin"})
            with state.lock:
                accounts = state.data.setdefault("service_accounts", [])
                if any(a["orgId"] == org_id and a["name"] == name for a in accounts):
                    return self.send_json(400, {"message": "service account already exists"})
                account = {"id": state.data["next_user"], "uid": secrets.token_hex(7), "orgId": org_id, "name": name,
                           "login": f"sa-{org_id}-{slugify(name)}", "role": role, "isDisabled": bool(body.get("isDisabled")),
                           "tokens": [], "created": now_iso()}
                state.data["next_user"] += 1
                accounts.append(account)
                state.save()
            return self.send_json(201, {k: account[k] for k in ("id", "uid", "name", "login", "orgId", "isDisabled", "role")} | {"tokens": 0})

        def create_service_account_token(self, account_id):
            user, org_id = self.org_context("Admin")
            if user is None:
                return 401
            name = str((self.json_body() or {}).get("name") or "").strip()
            key = "glsa_" + secrets.token_urlsafe(24)
            with state.lock:
                account = next((a for a in state.data.get("service_accounts", [])
                                if a["id"] == int(account_id) and a["orgId"] == org_id), None)
                if account is None:
                    return self.send_json(404, {"message": "service account not found"})
                account["tokens"].append(hashlib.sha256(key.encode()).hexdigest())
                state.save()
            return self.send_json(200, {"id": len(account["tokens"]), "name": name, "key": key})

    return GrafanaHandler


def main(argv):
    os.makedirs(DATA, exist_ok=True)
    database = Database()
    database.migrate()
    check_remote_cache()
    state = State()
    provisioned = Provisioned(state)
    metrics = standin.Metrics()
    metrics.set("grafana_build_info", 1, version=VERSION, edition="oss", revision="standin")
    handler = make_handler(state, provisioned, database, metrics)
    handler.metrics = metrics
    standin.serve_http(handler, "0.0.0.0", int(ENV.get("GF_SERVER_HTTP_PORT", "3000")))
    standin.log("info", "HTTP Server Listen", version=VERSION, note=standin.STANDIN_NOTE)
    standin.wait_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
