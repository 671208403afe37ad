#!/usr/bin/env python3
"""Test stand-in for grafana/alloy, installed as /bin/alloy.

`alloy run CONFIG [--storage.path=DIR] [--server.http.listen-addr=HOST:PORT] [--disable-reporting]`
(or `alloy validate CONFIG`: load it, report what is wrong, exit) reads an Alloy configuration (alloy_syntax.py) and runs the four components the stack's log
pipeline uses, the way Alloy wires them: discovery.docker (containers through the Docker API on
the configured socket), discovery.relabel (its `rule` blocks, exported as `rules` and applied to
its `targets` as `output`), loki.source.docker (the logs of each target, labelled through
`relabel_rules` with `__meta_docker_container_log_stream` set per line, `__` labels dropped) and
loki.write (Loki JSON pushes to each `endpoint`). Any other component, an unknown argument, a
missing required one or a reference to nothing stops it with an error, as Alloy refuses such a
configuration. Read positions are kept under the storage path, per loki.source.docker component,
so a restart does not re-ship. /-/ready answers 200 "Alloy is ready." once the configuration is
loaded, /-/healthy 200 unless a component is unhealthy, /metrics counts sent and dropped entries.
"""

import calendar
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import alloy_syntax  # noqa: E402
import standin  # noqa: E402

VERSION = "v1.21.2"
INTERVAL = float(os.environ.get("STANDIN_SHIP_INTERVAL", "5"))
RELABEL_ACTIONS = ("replace", "keep", "drop")


def relabel(labels, rules):
    """Prometheus relabelling (replace, keep, drop); None when a rule drops the set."""
    labels = dict(labels)
    for rule in rules:
        value = rule.get("separator", ";").join(labels.get(s, "") for s in rule.get("source_labels") or [])
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        action = rule.get("action", "replace")
        if action == "keep" and not match or action == "drop" and match:
            return None
        if action == "replace" and match and rule.get("target_label"):
            replaced = match.expand(re.sub(r"\$\{?(\d+)\}?", r"\\\1", rule.get("replacement", "$1")))
            if replaced:
                labels[rule["target_label"]] = replaced
            else:
                labels.pop(rule["target_label"], None)
    return labels


class Component:
    """One block of the configuration: its arguments checked against the ones it knows."""

    required = ()
    optional = ()
    block_names = ()

    def __init__(self, graph, block):
        self.graph = graph
        self.block = block
        self.id = f"{block.name}.{block.label}"
        self.healthy = True
        for name in block.attributes:
            if name not in self.required + self.optional:
                standin.fail("unrecognized attribute name", component=self.id, name=name, line=block.line)
        for name in self.required:
            if name not in block.attributes:
                standin.fail("missing required attribute", component=self.id, name=name, line=block.line)
        for child in block.blocks:
            if child.name not in self.block_names:
                standin.fail("unrecognized block name", component=self.id, name=child.name, line=child.line)

    def arg(self, name, default=None):
        return self.graph.evaluate(self.block.attributes.get(name, default))

    def export(self, name):
        standin.fail("component has no such export", component=self.id, export=name)

    def start(self):
        pass


class DiscoveryDocker(Component):
    required = ("host",)
    optional = ("refresh_interval", "port", "host_networking_host", "match_first_network")
    exports = ("targets",)

    def __init__(self, graph, block):
        super().__init__(graph, block)
        self.refresh = standin.parse_duration(self.arg("refresh_interval", "60s"))
        self.cached, self.fetched = [], 0.0

    def export(self, name):
        if time.monotonic() - self.fetched >= self.refresh:
            socket_path = standin.docker_socket_from(self.arg("host"))
            try:
                containers = standin.docker_get("/containers/json", socket_path)
                self.healthy = True
            except OSError as e:
                self.healthy = False
                standin.log("warn", "docker discovery failed", component=self.id, err=str(e))
                return self.cached
            targets = []
            for c in containers:
                target = {"__meta_docker_container_id": c["Id"], "__meta_docker_container_name": c["Names"][0],
                          "__meta_docker_container_network_mode": (c.get("HostConfig") or {}).get("NetworkMode", "")}
                for key, value in (c.get("Labels") or {}).items():
                    target["__meta_docker_container_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)] = value
                targets.append(target)
            self.cached, self.fetched = targets, time.monotonic()
        return self.cached


class DiscoveryRelabel(Component):
    required = ("targets",)
    block_names = ("rule",)
    exports = ("output", "rules")
    rule_arguments = ("source_labels", "separator", "regex", "modulus", "target_label", "replacement", "action")

    def __init__(self, graph, block):
        super().__init__(graph, block)
        self.rules = []
        for rule in block.children("rule"):
            unknown = set(rule.attributes) - set(self.rule_arguments)
            if unknown:
                standin.fail("unrecognized attribute name", component=self.id, name=sorted(unknown)[0], line=rule.line)
            values = {k: graph.evaluate(v) for k, v in rule.attributes.items()}
            if values.get("action", "replace") not in RELABEL_ACTIONS:
                standin.fail("relabel action not supported by the stand-in", component=self.id, action=values["action"])
            try:
                re.compile(values.get("regex", "(.*)"))
            except re.error as e:
                standin.fail("invalid regex", component=self.id, line=rule.line, err=str(e))
            self.rules.append(values)

    def export(self, name):
        if name == "rules":
            return self.rules
        return [t for t in (relabel(target, self.rules) for target in self.arg("targets")) if t is not None]


class LokiWrite(Component):
    block_names = ("endpoint",)
    optional = ("external_labels", "max_streams")
    exports = ("receiver",)

    def __init__(self, graph, block):
        super().__init__(graph, block)
        self.urls = [graph.evaluate(e.attributes.get("url")) for e in block.children("endpoint")]
        if not self.urls or not all(self.urls):
            standin.fail("at least one endpoint with a url is required", component=self.id)

    def export(self, name):
        return self

    def push(self, streams):
        """Sends the streams to every endpoint; False when one refused them (the entries are dropped)."""
        count = sum(len(s["values"]) for s in streams)
        delivered = True
        for url in self.urls:
            try:
                status, error = standin.http_post_json(url, {"streams": streams}), ""
            except OSError as e:
                status, error = 0, str(e)
            host = re.sub(r"^\w+://([^/]+).*$", r"\1", url)
            if status // 100 == 2:
                self.graph.metrics.inc("loki_write_sent_entries_total", count, component_id=self.id, host=host)
            else:
                delivered = False
                self.graph.metrics.inc("loki_write_dropped_entries_total", count, component_id=self.id, host=host)
                standin.log("warn", "push to Loki failed", component=self.id, url=url, status=status, err=error)
        return delivered


class LokiSourceDocker(Component):
    required = ("host", "targets", "forward_to")
    optional = ("labels", "relabel_rules", "refresh_interval")

    def __init__(self, graph, block):
        super().__init__(graph, block)
        self.positions_file = os.path.join(graph.storage_path, self.id, "positions.yml")
        self.positions = load_positions(self.positions_file)

    def read_container(self, socket_path, cid):
        key = f"cursor-{cid}"
        # No position yet: from the start of the container's log, as Alloy does (since=0).
        since = self.positions.get(key, "0")
        data = standin.docker_get(f"/containers/{cid}/logs?stdout=1&stderr=1&timestamps=1&since={since}", socket_path, raw=True)
        entries, last = [], float(since)
        for stream, line in standin.demux_docker_log(data):
            stamp, _, text = line.partition(" ")
            match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", stamp)
            if not match:
                continue
            seconds = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")) + float(match.group(2) or 0)
            if seconds <= float(since):
                continue
            entries.append((stream, int(seconds * 1e9), text))
            last = max(last, seconds)
        return entries, (key, f"{last:.9f}")

    def ship_once(self):
        socket_path = standin.docker_socket_from(self.arg("host"))
        rules = self.arg("relabel_rules") or []
        base = self.arg("labels") or {}
        streams, positions, seen = [], [], set()
        for target in self.arg("targets"):
            cid = target.get("__meta_docker_container_id")
            if not cid or cid in seen:  # one reader per container, like Alloy
                continue
            seen.add(cid)
            entries, position = self.read_container(socket_path, cid)
            by_stream = {}
            for stream, ts, text in entries:
                by_stream.setdefault(stream, []).append([str(ts), text])
            for stream, values in by_stream.items():
                labels = relabel({**base, **target, "__meta_docker_container_log_stream": stream}, rules)
                if labels is None:
                    continue
                self.graph.metrics.inc("loki_source_docker_target_entries_total", len(values), component_id=self.id)
                streams.append({"stream": {k: v for k, v in labels.items() if not k.startswith("__")}, "values": values})
            positions.append(position)
        if streams and not all([receiver.push(streams) for receiver in self.arg("forward_to")]):
            return
        for key, value in positions:
            self.positions[key] = value
        save_positions(self.positions_file, self.positions)

    def run(self):
        while True:
            try:
                self.ship_once()
                self.healthy = True
            except Exception as e:  # keep shipping; show what went wrong
                standin.log("error", "reading container logs failed", component=self.id, err=repr(e))
            time.sleep(INTERVAL)

    def start(self):
        threading.Thread(target=self.run, name=self.id, daemon=True).start()


COMPONENTS = {
    "discovery.docker": DiscoveryDocker,
    "discovery.relabel": DiscoveryRelabel,
    "loki.source.docker": LokiSourceDocker,
    "loki.write": LokiWrite,
}


def load_positions(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    import yaml  # python3-yaml in the image
    return {k: str(v) for k, v in ((yaml.safe_load(text) or {}).get("positions") or {}).items()}


def save_positions(path, positions):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("positions:\n")
        for key in sorted(positions):
            f.write(f'  {key}: "{positions[key]}"\n')
    os.replace(tmp, path)


class Graph:
    def __init__(self, blocks, storage_path, metrics):
        self.storage_path = storage_path
        self.metrics = metrics
        self.components = {}
        for block in blocks:
            kind = COMPONENTS.get(block.name)
            if kind is None:
                standin.fail("component not supported by the stand-in", name=block.name, line=block.line)
            if block.label is None:
                standin.fail("component requires a label", name=block.name, line=block.line)
            self.components[f"{block.name}.{block.label}"] = (kind, block)
        for kind, block in list(self.components.values()):
            self.check_references(block)
        self.components = {key: kind(self, block) for key, (kind, block) in self.components.items()}

    def check_references(self, block):
        def walk(value):
            if isinstance(value, alloy_syntax.Reference):
                self.target_of(value)
            elif isinstance(value, list):
                for v in value:
                    walk(v)
            elif isinstance(value, dict):
                for v in value.values():
                    walk(v)
        for value in block.attributes.values():
            walk(value)
        for child in block.blocks:
            self.check_references(child)

    def target_of(self, reference):
        key, export = ".".join(reference.parts[:-1]), reference.parts[-1]
        if key not in self.components:
            standin.fail("reference to an undefined component", reference=repr(reference), line=reference.line)
        kind = self.components[key][0] if isinstance(self.components[key], tuple) else type(self.components[key])
        if export not in getattr(kind, "exports", ()):
            standin.fail("component has no such export", reference=repr(reference), line=reference.line)
        return key, export

    def evaluate(self, value):
        if isinstance(value, alloy_syntax.Reference):
            key, export = self.target_of(value)
            return self.components[key].export(export)
        if isinstance(value, list):
            return [self.evaluate(v) for v in value]
        if isinstance(value, dict):
            return {k: self.evaluate(v) for k, v in value.items()}
        return value

    def unhealthy(self):
        return [key for key, c in self.components.items() if not c.healthy]


def parse_arguments(argv):
    known = {"storage.path": "data-alloy/", "server.http.listen-addr": "127.0.0.1:12345", "disable-reporting": None}
    if len(argv) < 2 or argv[0] not in ("run", "validate"):
        standin.fail("usage: alloy run|validate CONFIG [flags]", args=" ".join(argv))
    options, path = {}, None
    for arg in argv[1:]:
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            if name not in known:
                standin.fail("unknown flag", flag=arg)
            options[name] = value or "true"
        elif path is None:
            path = arg
        else:
            standin.fail("only one configuration path is accepted", args=" ".join(argv))
    return path, {**known, **options}


def main(argv):
    path, options = parse_arguments(argv)
    try:
        with open(path, encoding="utf-8") as f:
            blocks = alloy_syntax.parse(f.read())
    except OSError as e:
        standin.fail("cannot read config file", path=path, err=str(e))
    except alloy_syntax.SyntaxError_ as e:
        standin.fail("cannot parse config file", path=path, err=str(e))
    metrics = standin.Metrics()
    metrics.set("alloy_build_info", 1, version=VERSION)
    graph = Graph(blocks, options["storage.path"], metrics)
    if argv[0] == "validate":  # like `alloy validate`: exit 0 when the configuration loads
        return 0

    class AlloyHandler(standin.Handler):
        routes = (
            ("GET", r"/-/ready", "ready"),
            ("GET", r"/-/healthy", "healthy"),
            ("GET", r"/metrics", "get_metrics"),
        )

        def ready(self):
            return self.send_text(200, "Alloy is ready.\n")

        def healthy(self):
            unhealthy = graph.unhealthy()
            if unhealthy:
                return self.send_text(500, "unhealthy components: " + ", ".join(unhealthy) + "\n")
            return self.send_text(200, "All Alloy components are healthy.\n")

    AlloyHandler.metrics = metrics
    for component in graph.components.values():
        component.start()
    host, port = standin.split_endpoint(options["server.http.listen-addr"], 12345)
    standin.serve_http(AlloyHandler, host, port)
    standin.log("info", "now listening for http traffic", service="http", addr=f"{host}:{port}",
                version=VERSION, note=standin.STANDIN_NOTE)
    standin.wait_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
