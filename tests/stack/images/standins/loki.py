#!/usr/bin/env python3
"""Test stand-in for grafana/loki (single binary), installed as /usr/bin/loki.

- `loki -health` checks the local /ready and exits 0 or 1, like Loki 3.6.5+.
- `loki -config.file=F [-config.expand-env=true]` reads the config, refuses to start where the
  real Loki does (retention without a delete request store), creates its directories under the
  configured paths, answers /ready with 503 for READY_DELAY seconds and then "ready", accepts
  JSON pushes on /loki/api/v1/push and stores them under the chunks directory, and answers
  labels, label values and simple queries from what it stored: a stream selector followed by
  line filters (|= "text", != "text", |~ "regex", !~ "regex").
"""

import json
import os
import re
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import standin  # noqa: E402

VERSION = "3.6.7"
READY_DELAY = float(os.environ.get("STANDIN_READY_DELAY", "5"))


def health(argv):
    port = 3100
    config_file = standin.flag(argv, "config.file")
    if config_file and os.path.exists(config_file):
        port = standin.dig(standin.load_yaml(config_file), "server", "http_listen_port", default=3100)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=3) as r:
            return 0 if r.status == 200 else 1
    except OSError:
        return 1


class Store:
    """Pushed entries as JSON lines, one file per day, under the chunks directory."""

    def __init__(self, directory):
        self.directory = directory
        self.lock = threading.Lock()
        self.streams = {}  # frozenset(labels) -> list of (ts_ns, line)
        os.makedirs(directory, exist_ok=True)
        for name in sorted(os.listdir(directory)):
            if name.endswith(".jsonl"):
                with open(os.path.join(directory, name), encoding="utf-8") as f:
                    for row in f:
                        entry = json.loads(row)
                        self._remember(entry["stream"], entry["ts"], entry["line"])

    def _remember(self, labels, ts, line):
        self.streams.setdefault(frozenset(labels.items()), []).append((int(ts), line))

    def push(self, streams):
        count = 0
        with self.lock:
            path = os.path.join(self.directory, time.strftime("standin-%Y-%m-%d.jsonl", time.gmtime()))
            with open(path, "a", encoding="utf-8") as f:
                for stream in streams:
                    labels = stream.get("stream") or {}
                    for value in stream.get("values") or []:
                        ts, line = value[0], value[1]
                        f.write(json.dumps({"stream": labels, "ts": ts, "line": line}) + "\n")
                        self._remember(labels, ts, line)
                        count += 1
        return count

    def select(self, matchers):
        with self.lock:
            items = list(self.streams.items())
        return [(dict(k), v) for k, v in items if all(m(dict(k)) for m in matchers)]


def parse_selector(query):
    """{a="b", c=~"d"} → predicates. Enough for Grafana's label browser and simple queries."""
    body = re.match(r"\s*\{(.*?)\}", query or "")
    matchers = []
    for name, op, value in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', body.group(1) if body else ""):
        if op == "=":
            matchers.append(lambda l, n=name, v=value: l.get(n, "") == v)
        elif op == "!=":
            matchers.append(lambda l, n=name, v=value: l.get(n, "") != v)
        elif op == "=~":
            matchers.append(lambda l, n=name, v=value: re.fullmatch(v, l.get(n, "")) is not None)
        else:
            matchers.append(lambda l, n=name, v=value: re.fullmatch(v, l.get(n, "")) is None)
    return matchers


def parse_line_filters(query):
    """The line filters after the selector (|= != |~ !~ with a double-quoted string) as one predicate on a line."""
    selector = re.match(r"\s*\{.*?\}", query or "")
    rest = query[selector.end():] if selector else ""
    tests = []
    for op, value in re.findall(r'(\|=|!=|\|~|!~)\s*"((?:[^"\\]|\\.)*)"', rest):
        value = value.encode().decode("unicode_escape")
        if op == "|=":
            tests.append(lambda line, v=value: v in line)
        elif op == "!=":
            tests.append(lambda line, v=value: v not in line)
        elif op == "|~":
            tests.append(lambda line, v=value: re.search(v, line) is not None)
        else:
            tests.append(lambda line, v=value: re.search(v, line) is None)
    return lambda line: all(test(line) for test in tests)


def main(argv):
    if standin.has_flag(argv, "health"):
        return health(argv)

    config_file = standin.flag(argv, "config.file", "/etc/loki/local-config.yaml")
    expand = standin.expand_env_defaults if standin.has_flag(argv, "config.expand-env") else None
    config = standin.load_yaml(config_file, expand)

    retention_enabled = standin.dig(config, "compactor", "retention_enabled", default=False)
    if retention_enabled and not standin.dig(config, "compactor", "delete_request_store"):
        standin.fail("invalid compactor config: compactor.delete-request-store should be configured when retention is enabled")
    retention = standin.dig(config, "limits_config", "retention_period", default="0s")
    try:
        standin.parse_duration(retention)
    except ValueError as e:
        standin.fail("invalid limits_config.retention_period", err=str(e))

    prefix = standin.dig(config, "common", "path_prefix", default="/loki")
    chunks = standin.dig(config, "common", "storage", "filesystem", "chunks_directory", default=f"{prefix}/chunks")
    rules = standin.dig(config, "common", "storage", "filesystem", "rules_directory", default=f"{prefix}/rules")
    compactor_dir = standin.dig(config, "compactor", "working_directory", default=f"{prefix}/compactor")
    for directory in (chunks, rules, compactor_dir):
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            standin.fail("cannot create directory", path=directory, err=str(e))
    store = Store(chunks)
    metrics = standin.Metrics()
    metrics.set("loki_build_info", 1, version=VERSION, revision="standin", goversion="python")
    started = time.monotonic()

    class LokiHandler(standin.Handler):
        routes = (
            ("GET", r"/ready", "ready"),
            ("GET", r"/metrics", "get_metrics"),
            ("GET", r"/loki/api/v1/status/buildinfo", "buildinfo"),
            ("POST", r"/loki/api/v1/push", "push"),
            ("GET", r"/loki/api/v1/labels", "labels"),
            ("GET", r"/loki/api/v1/label/([^/]+)/values", "label_values"),
            ("GET", r"/loki/api/v1/query_range", "query_range"),
        )

        def ready(self):
            waited = time.monotonic() - started
            if waited < READY_DELAY:
                return self.send_text(503, f"Ingester not ready: waiting for {READY_DELAY:.0f}s after being ready\n")
            return self.send_text(200, "ready\n")


        def buildinfo(self):
            return self.send_json(200, {"version": VERSION, "revision": "standin", "branch": "standin"})

        def push(self):
            route = "loki_api_v1_push"
            if "json" not in (self.headers.get("Content-Type") or ""):
                # Real clients (Promtail, Alloy) send snappy protobuf; the stand-in only counts it.
                self.body()
                metrics.inc("loki_request_duration_seconds_count", route=route, status_code="204")
                return self.send_empty(204)
            payload = self.json_body()
            if payload is None or not isinstance(payload.get("streams"), list):
                metrics.inc("loki_request_duration_seconds_count", route=route, status_code="400")
                return self.send_text(400, "error parsing push request\n")
            count = store.push(payload["streams"])
            metrics.inc("loki_distributor_lines_received_total", count, tenant="fake")
            metrics.inc("loki_request_duration_seconds_count", route=route, status_code="204")
            return self.send_empty(204)

        def labels(self):
            names = sorted({k for labels, _ in store.select([]) for k in labels})
            return self.send_json(200, {"status": "success", "data": names})

        def label_values(self, name):
            values = sorted({labels[name] for labels, _ in store.select([]) if name in labels})
            return self.send_json(200, {"status": "success", "data": values})

        def query_range(self):
            query = (self.query.get("query") or [""])[0]
            limit = int((self.query.get("limit") or ["100"])[0])
            keep = parse_line_filters(query)
            result = []
            for labels, entries in store.select(parse_selector(query)):
                newest = sorted((e for e in entries if keep(e[1])), reverse=True)[:limit]
                if not newest:
                    continue
                result.append({"stream": labels, "values": [[str(ts), line] for ts, line in newest]})
            return self.send_json(200, {"status": "success", "data": {"resultType": "streams", "result": result}})

    LokiHandler.metrics = metrics
    port = standin.dig(config, "server", "http_listen_port", default=3100)
    standin.serve_http(LokiHandler, "0.0.0.0", port)
    standin.log("info", "Loki started", version=VERSION, note=standin.STANDIN_NOTE, retention_period=str(retention))
    standin.wait_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
