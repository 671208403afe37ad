#!/usr/bin/env python3
"""Test stand-in for influxdb:2.x (the image's entrypoint plus influxd).

First start (DOCKER_INFLUXDB_INIT_MODE=setup on an empty /var/lib/influxdb2): checks the init
variables the way the real entrypoint does (username, password of 8+ characters, org, bucket,
retention), records the setup in /var/lib/influxdb2/influxd.bolt (JSON here), writes the CLI
config /etc/influxdb2/influx-configs, and runs the executable *.sh files of
/docker-entrypoint-initdb.d (like the image, with run-parts) with the `influx` CLI stand-in
(influx.py: `bucket list`, `auth create --read-bucket`) on the PATH. Then serves on 8086: /health,
/ping, /ready, /api/v2/setup, and with a token /api/v2/orgs, /api/v2/buckets (the buckets the token
may read) and /api/v2/write (the operator token, or a token with write permission on the bucket;
403 otherwise), which appends line protocol under /var/lib/influxdb2/engine. Flux queries are not
emulated (501). Like the image, it runs as whatever user it is started as (no chown, no su).
"""

import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import standin  # noqa: E402

VERSION = "v2.7.12"
DATA = "/var/lib/influxdb2"
CONFIG = "/etc/influxdb2"
BOLT = f"{DATA}/influxd.bolt"
INIT_SCRIPTS = "/docker-entrypoint-initdb.d"


def run_init_scripts():
    """The image's run_user_scripts: run-parts over the executable *.sh files, stopping on an error."""
    if not os.path.isdir(INIT_SCRIPTS):
        return
    env = {**os.environ, "PATH": f"/opt/standin/bin:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    for name in sorted(os.listdir(INIT_SCRIPTS)):
        path = os.path.join(INIT_SCRIPTS, name)
        if not name.endswith("sh") or not os.access(path, os.X_OK):
            continue
        standin.log("info", "Executing user-provided script", script=path)
        result = subprocess.run([path], env=env, check=False)
        if result.returncode != 0:
            standin.fail("user-provided script failed", script=path, status=result.returncode)


def setup_from_environment():
    env = os.environ
    missing = [name for name in ("DOCKER_INFLUXDB_INIT_USERNAME", "DOCKER_INFLUXDB_INIT_PASSWORD",
                                 "DOCKER_INFLUXDB_INIT_ORG", "DOCKER_INFLUXDB_INIT_BUCKET") if not env.get(name)]
    if missing:
        standin.fail("missing required init variables for setup mode", missing=",".join(missing))
    if len(env["DOCKER_INFLUXDB_INIT_PASSWORD"]) < 8:
        standin.fail("password is too short: must be at least 8 characters")
    retention = env.get("DOCKER_INFLUXDB_INIT_RETENTION", "")
    try:
        every_seconds = standin.parse_duration(retention) if retention else 0
    except ValueError as e:
        standin.fail("invalid DOCKER_INFLUXDB_INIT_RETENTION", err=str(e))
    org_id, bucket_id = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
    state = {
        "user": env["DOCKER_INFLUXDB_INIT_USERNAME"],
        "token": env.get("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN") or uuid.uuid4().hex,
        "orgs": [{"id": org_id, "name": env["DOCKER_INFLUXDB_INIT_ORG"]}],
        "buckets": [{"id": bucket_id, "orgID": org_id, "name": env["DOCKER_INFLUXDB_INIT_BUCKET"],
                     "retentionRules": [{"type": "expire", "everySeconds": every_seconds}] if every_seconds else []}],
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    standin.write_json_atomic(BOLT, state)
    os.makedirs(CONFIG, exist_ok=True)
    with open(f"{CONFIG}/influx-configs", "w", encoding="utf-8") as f:
        f.write(f'[default]\n  url = "http://localhost:8086"\n  token = "{state["token"]}"\n'
                f'  org = "{env["DOCKER_INFLUXDB_INIT_ORG"]}"\n  active = true\n')
    standin.log("info", "setup complete", org=env["DOCKER_INFLUXDB_INIT_ORG"], bucket=env["DOCKER_INFLUXDB_INIT_BUCKET"],
                retention=retention or "infinite")
    run_init_scripts()
    return standin.read_json(BOLT, state)


def main(argv):
    state = standin.read_json(BOLT, None)
    if state is None:
        if os.environ.get("DOCKER_INFLUXDB_INIT_MODE") == "setup":
            state = setup_from_environment()
        else:
            state = {"user": None, "token": None, "orgs": [], "buckets": []}
            standin.write_json_atomic(BOLT, state)
    elif os.environ.get("DOCKER_INFLUXDB_INIT_MODE") == "setup":
        standin.log("info", "found existing boltdb file, skipping setup wrapper")
    started = time.time()
    metrics = standin.Metrics()
    metrics.set("influxdb_build_info", 1, version=VERSION)

    class InfluxHandler(standin.Handler):
        routes = (
            ("GET", r"/health", "health"),
            ("GET", r"/ping", "ping"),
            ("HEAD", r"/ping", "ping"),
            ("GET", r"/ready", "ready"),
            ("GET", r"/metrics", "get_metrics"),
            ("GET", r"/api/v2/setup", "setup_allowed"),
            ("GET", r"/api/v2/orgs", "orgs"),
            ("GET", r"/api/v2/buckets", "buckets"),
            ("POST", r"/api/v2/write", "write"),
            ("POST", r"/api/v2/query", "query_flux"),
        )

        def token(self):
            header = self.headers.get("Authorization") or ""
            for scheme in ("Token ", "Bearer "):
                if header.startswith(scheme):
                    return header[len(scheme):]
            return None

        def authorisation(self):
            """("operator", None) for the operator token, ("token", permissions) for another one, else None."""
            token = self.token()
            if token is None:
                return None
            if state["token"] is not None and token == state["token"]:
                return ("operator", None)
            found = next((a for a in state.get("authorizations", []) if a["token"] == token and a["status"] == "active"), None)
            return None if found is None else ("token", found["permissions"])

        def authorised(self):
            return self.authorisation() is not None

        def may(self, action, bucket):
            kind, permissions = self.authorisation()
            return kind == "operator" or any(
                p["action"] == action and p["resource"]["type"] == "buckets" and p["resource"].get("id") in (None, bucket["id"])
                for p in permissions)

        def unauthorised(self):
            return self.send_json(401, {"code": "unauthorized", "message": "unauthorized access"})

        def health(self):
            return self.send_json(200, {"name": "influxdb", "message": "ready for queries and writes", "status": "pass",
                                        "checks": [], "version": VERSION, "commit": "standin"})

        def ping(self):
            self.send_response(204)
            self.send_header("X-Influxdb-Build", "OSS")
            self.send_header("X-Influxdb-Version", VERSION)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return 204

        def ready(self):
            return self.send_json(200, {"status": "ready", "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                                        "up": f"{time.time() - started:.0f}s"})


        def setup_allowed(self):
            return self.send_json(200, {"allowed": state["user"] is None})

        def orgs(self):
            if not self.authorised():
                return self.unauthorised()
            return self.send_json(200, {"orgs": state["orgs"]})

        def buckets(self):
            if not self.authorised():
                return self.unauthorised()
            name = (self.query.get("name") or [None])[0]
            return self.send_json(200, {"buckets": [b for b in state["buckets"]
                                                    if name in (None, b["name"]) and self.may("read", b)]})

        def write(self):
            # Read first: a refused write must not leave its body on a kept-alive connection.
            body = self.body()
            if not self.authorised():
                return self.unauthorised()
            org = (self.query.get("org") or [""])[0]
            bucket_name = (self.query.get("bucket") or [""])[0]
            org_ids = {o["id"] for o in state["orgs"] if org in (o["name"], o["id"])}
            bucket = next((b for b in state["buckets"] if b["name"] == bucket_name and b["orgID"] in org_ids), None)
            if bucket is None:
                return self.send_json(404, {"code": "not found", "message": f'bucket "{bucket_name}" not found'})
            if not self.may("write", bucket):
                return self.send_json(403, {"code": "forbidden", "message": "insufficient permissions for write"})
            lines = [line for line in body.decode("utf-8", "replace").splitlines() if line.strip()]
            for line in lines:
                standin.append_line(f"{DATA}/engine/data/{bucket['id']}.lp", line)
            metrics.inc("http_api_requests_total", handler="write", status="204")
            return self.send_empty(204)

        def query_flux(self):
            if not self.authorised():
                return self.unauthorised()
            self.body()
            return self.send_json(501, {"code": "not implemented", "message": "test stand-in: Flux queries are not emulated"})

    InfluxHandler.metrics = metrics
    standin.serve_http(InfluxHandler, "0.0.0.0", 8086)
    standin.log("info", "InfluxDB started", version=VERSION, note=standin.STANDIN_NOTE)
    standin.wait_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
