"""Shared parts of the test stand-ins (tests/stack/images): a threaded HTTP server, logfmt logs,
Prometheus text metrics, config files with environment expansion, a Docker API client over the
unix socket, and atomic JSON files.

The stand-ins replace images that cannot be pulled on a machine without a registry. They listen
on the same ports, answer the same health endpoints the same way, support the health-check
commands of the real docker-compose.yml, and keep their state in the volumes mounted there.
"""

import http.client
import http.server
import json
import os
import re
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

STANDIN_NOTE = "test stand-in (GrafanaPanel tests/stack), not the real product"


# ------------------------------------------------------------------------------------------ logs

def log(level, msg, **fields):
    parts = [f"level={level}", f"ts={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
             f"msg={json.dumps(msg)}"]
    parts += [f"{k}={json.dumps(v) if isinstance(v, str) else v}" for k, v in fields.items()]
    print(" ".join(parts), flush=True)


def fail(msg, **fields):
    """Exit the way the real service does on a fatal configuration error."""
    log("error", msg, **fields)
    sys.exit(1)


# ------------------------------------------------------------------------------------ arguments

def flag(argv, name, default=None):
    """Value of a Go-style flag: -name=value, --name=value, or -name value."""
    for i, arg in enumerate(argv):
        for prefix in (f"-{name}=", f"--{name}="):
            if arg.startswith(prefix):
                return arg[len(prefix):]
        if arg in (f"-{name}", f"--{name}") and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            return argv[i + 1]
    return default


def has_flag(argv, name):
    return any(a in (f"-{name}", f"--{name}", f"-{name}=true", f"--{name}=true") for a in argv)


# -------------------------------------------------------------------------------- configuration

_ENVSUBST = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def expand_env_defaults(text):
    """${VAR} and ${VAR:-default}, as Loki's and Tempo's -config.expand-env do."""
    return _ENVSUBST.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), text)


_GRAFANA_ENV = re.compile(r"\$\$|\$__(env|file)\{([^}]*)\}|\$\{(\w+)\}|\$(\w+)")


def _grafana_expand_one(m):
    if m.group(0) == "$$":
        return "$"
    if m.group(1) == "file":
        try:
            with open(m.group(2), encoding="utf-8") as f:
                return f.read().strip()
        except OSError as e:
            fail("provisioning: cannot read $__file", path=m.group(2), err=str(e))
    if m.group(1) == "env":
        return os.environ.get(m.group(2), "")
    return os.environ.get(m.group(3) or m.group(4), "")


def expand_grafana_env(value):
    """Grafana provisioning: $VAR, ${VAR} and $__env{VAR} from the environment, $__file{path} from a
    file (its content trimmed), $$ for a literal $."""
    if isinstance(value, str):
        return _GRAFANA_ENV.sub(_grafana_expand_one, value)
    if isinstance(value, list):
        return [expand_grafana_env(v) for v in value]
    if isinstance(value, dict):
        return {k: expand_grafana_env(v) for k, v in value.items()}
    return value


def load_yaml(path, expand=None):
    import yaml  # python3-yaml in the base image
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        fail("cannot read config file", path=path, err=str(e))
    if expand:
        text = expand(text)
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        fail("cannot parse config file", path=path, err=str(e))


def dig(tree, *keys, default=None):
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return default
        tree = tree[key]
    return tree


def parse_duration(text):
    """Go/Prometheus style durations: 30d, 744h, 1h30m, 0 → seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    text = str(text).strip()
    if text in ("0", "infinite", ""):
        return 0
    total, matched = 0.0, ""
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)", text):
        total += float(number) * units[unit]
        matched += number + unit
    if matched != text:
        raise ValueError(f"invalid duration {text!r}")
    return int(total)


# -------------------------------------------------------------------------------------- storage

def write_json_atomic(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path, default):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def append_line(path, line):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line.rstrip("\n") + "\n")


# -------------------------------------------------------------------------------------- metrics

class Metrics:
    """Counters and gauges rendered in the Prometheus text format."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values = {}
        self._types = {}

    def inc(self, name, amount=1, **labels):
        self._add(name, "counter", amount, labels)

    def set(self, name, value, **labels):
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._types[name] = "gauge"
            self._values[key] = value

    def _add(self, name, kind, amount, labels):
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._types[name] = kind
            self._values[key] = self._values.get(key, 0) + amount

    def render(self, extra=()):
        lines = []
        with self._lock:
            items = sorted(self._values.items()) + sorted(extra)
            types = dict(self._types)
        seen = set()
        for (name, labels), value in items:
            if name not in seen:
                seen.add(name)
                lines.append(f"# TYPE {name} {types.get(name, 'gauge')}")
            label_text = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels)
            lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")
        return "\n".join(lines) + "\n"


def _escape_label(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# ----------------------------------------------------------------------------------- HTTP server

class Handler(http.server.BaseHTTPRequestHandler):
    """Base handler: subclasses define routes as (method, regex) → method name."""

    server_version = "standin"
    protocol_version = "HTTP/1.1"
    routes = ()
    metrics = None
    job = "standin"

    def log_message(self, fmt, *args):  # access logs go through log() only for errors
        pass

    def _dispatch(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(parsed.query)
        started = time.monotonic()
        status = 500
        try:
            for route_method, pattern, name in self.routes:
                match = re.fullmatch(pattern, parsed.path)
                if route_method == method and match:
                    status = getattr(self, name)(*match.groups()) or 200
                    break
            else:
                status = self.send_json(404, {"message": "Not found"})
        except BrokenPipeError:
            return
        except Exception as e:  # a bug in a stand-in must show, not hang the client
            log("error", "request failed", method=method, path=parsed.path, err=repr(e))
            try:
                status = self.send_json(500, {"message": f"stand-in error: {e!r}"})
            except OSError:
                pass
        if self.metrics is not None:
            self.metrics.inc("standin_http_requests_total", method=method, code=str(status))
            self.metrics.inc("standin_http_request_duration_seconds_sum", time.monotonic() - started)

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def get_metrics(self):
        return self.send_text(200, self.metrics.render(self.extra_metrics()), "text/plain; version=0.0.4")

    def extra_metrics(self):
        """Samples computed per scrape, as ((name, ((label, value), ...)), value) pairs."""
        return ()

    def body(self):
        # Clients that stream a body (.NET's JsonContent, for one) send it chunked, without a Content-Length.
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def json_body(self):
        try:
            return json.loads(self.body() or b"{}")
        except json.JSONDecodeError:
            return None

    def send_bytes(self, status, data, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status

    def send_json(self, status, obj, headers=None):
        return self.send_bytes(status, json.dumps(obj).encode(), "application/json", headers)

    def send_text(self, status, text, content_type="text/plain; charset=utf-8"):
        return self.send_bytes(status, text.encode(), content_type)

    def send_empty(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return status


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve_http(handler_cls, host, port, name="http"):
    server = _Server((host, int(port)), handler_cls)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    log("info", "listening", addr=f"{host}:{port}", protocol=name)
    return server


def listen_tcp(host, port, name):
    """A port that accepts connections and closes them: for protocols a stand-in does not speak
    (gRPC, Thrift), so that the port is open where the real service's would be."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(16)

    def accept():
        while True:
            conn, _ = sock.accept()
            conn.close()

    threading.Thread(target=accept, name=name, daemon=True).start()
    log("info", "listening", addr=f"{host}:{port}", protocol=name)


def split_endpoint(endpoint, default_port):
    host, _, port = str(endpoint).rpartition(":")
    return (host or "0.0.0.0"), int(port or default_port)


def wait_forever():
    while True:
        time.sleep(3600)


# ----------------------------------------------------------------------------------- Docker API

class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def docker_get(path, socket_path="/var/run/docker.sock", raw=False):
    """GET on the Docker Engine API (unversioned path). Returns parsed JSON, or bytes if raw."""
    conn = _UnixConnection(socket_path)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        data = response.read()
        if response.status >= 400:
            raise OSError(f"docker {path}: HTTP {response.status} {data[:200]!r}")
        return data if raw else json.loads(data)
    finally:
        conn.close()


def docker_socket_from(host):
    return host[len("unix://"):] if host.startswith("unix://") else host


def demux_docker_log(data):
    """Split Docker's multiplexed log stream (non-TTY containers) into (stream, line) pairs."""
    out, i = [], 0
    while i + 8 <= len(data):
        kind, size = data[i], int.from_bytes(data[i + 4:i + 8], "big")
        payload = data[i + 8:i + 8 + size]
        i += 8 + size
        stream = "stderr" if kind == 2 else "stdout"
        for line in payload.decode("utf-8", "replace").splitlines():
            out.append((stream, line))
    return out


def http_post_json(url, obj, headers=None, timeout=10):
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=timeout)
    try:
        body = json.dumps(obj).encode()
        conn.request("POST", parsed.path or "/", body,
                     {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def http_get_status(url, timeout=5):
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=timeout)
    try:
        conn.request("GET", parsed.path or "/")
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()
