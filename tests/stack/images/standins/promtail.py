#!/usr/bin/env python3
"""Test stand-in for grafana/promtail, installed as /usr/bin/promtail.

Reads the config and ships logs to the first client URL as Loki JSON pushes: files matched by
the __path__ globs of static_configs, and the logs of the containers found through
docker_sd_configs (Docker API on the configured socket), labelled through relabel_configs
(replace actions). Positions are saved in the configured positions file, so a restart does not
re-ship. /ready answers 200 "Ready" once there are targets (or server.health_check_target is
false), else 500 like Promtail; /metrics counts sent and dropped entries.
"""

import calendar
import glob
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import standin  # noqa: E402

VERSION = "3.6.7"
INTERVAL = float(os.environ.get("STANDIN_SHIP_INTERVAL", "5"))


def relabel(meta, rules):
    labels = dict(meta)
    for rule in rules or []:
        if rule.get("action", "replace") != "replace":
            continue
        value = (rule.get("separator", ";")).join(labels.get(s, "") for s in rule.get("source_labels") or [])
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        if match and rule.get("target_label"):
            replaced = match.expand(re.sub(r"\$\{?(\d+)\}?", r"\\\1", rule.get("replacement", "$1")))
            if replaced:
                labels[rule["target_label"]] = replaced
            else:
                labels.pop(rule["target_label"], None)
    return {k: v for k, v in labels.items() if not k.startswith("__")}


def load_positions(path):
    import yaml
    try:
        with open(path, encoding="utf-8") as f:
            return {k: str(v) for k, v in ((yaml.safe_load(f) or {}).get("positions") or {}).items()}
    except FileNotFoundError:
        return {}


def save_positions(path, positions):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("positions:\n")
        for key in sorted(positions):
            f.write(f'  {key}: "{positions[key]}"\n')
    os.replace(tmp, path)


class Shipper:
    def __init__(self, config, metrics):
        self.config = config
        self.metrics = metrics
        self.positions_file = standin.dig(config, "positions", "filename", default="/tmp/positions.yaml")
        self.positions = load_positions(self.positions_file)
        clients = config.get("clients") or []
        if not clients or not clients[0].get("url"):
            standin.fail("at least one client with a url is required")
        self.url = clients[0]["url"]
        self.targets = 0

    def file_targets(self, job):
        for static in job.get("static_configs") or []:
            labels = dict(static.get("labels") or {})
            for path in sorted(glob.glob(labels.get("__path__", ""))):
                if os.path.isfile(path):
                    meta = {**labels, "__path__": path, "filename": path}
                    yield f"file:{path}", path, relabel(meta, job.get("relabel_configs"))

    def read_file(self, key, path):
        offset = int(self.positions.get(path, "0"))
        try:
            size = os.path.getsize(path)
            if size < offset:
                offset = 0  # truncated or rotated
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read(1 << 20)
        except OSError:
            return [], None
        complete = data[:data.rfind(b"\n") + 1]
        lines = complete.decode("utf-8", "replace").splitlines()
        return [(time.time_ns(), line) for line in lines], (path, str(offset + len(complete)))

    def docker_targets(self, job):
        for sd in job.get("docker_sd_configs") or []:
            socket_path = standin.docker_socket_from(sd.get("host", "unix:///var/run/docker.sock"))
            for c in standin.docker_get("/containers/json", socket_path):
                meta = {"__meta_docker_container_id": c["Id"], "__meta_docker_container_name": c["Names"][0]}
                for key, value in (c.get("Labels") or {}).items():
                    meta["__meta_docker_container_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)] = value
                yield socket_path, c["Id"], meta

    def read_container(self, socket_path, cid):
        key = f"cursor-{cid}"
        since = self.positions.get(key, str(int(time.time()) - 60))
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
        streams, positions, targets = [], [], 0
        for job in self.config.get("scrape_configs") or []:
            for key, path, labels in self.file_targets(job):
                targets += 1
                entries, position = self.read_file(key, path)
                if entries:
                    streams.append({"stream": labels, "values": [[str(ts), line] for ts, line in entries]})
                if position:
                    positions.append(position)
            try:
                for socket_path, cid, meta in self.docker_targets(job):
                    targets += 1
                    entries, position = self.read_container(socket_path, cid)
                    by_stream = {}
                    for stream, ts, text in entries:
                        by_stream.setdefault(stream, []).append([str(ts), text])
                    for stream, values in by_stream.items():
                        labels = relabel({**meta, "__meta_docker_container_log_stream": stream}, job.get("relabel_configs"))
                        streams.append({"stream": labels, "values": values})
                    positions.append(position)
            except OSError as e:
                standin.log("warn", "docker service discovery failed", job=job.get("job_name", ""), err=str(e))
        self.targets = targets
        self.metrics.set("promtail_targets_active_total", targets)
        if streams:
            count = sum(len(s["values"]) for s in streams)
            try:
                status = standin.http_post_json(self.url, {"streams": streams})
            except OSError as e:
                status, error = 0, str(e)
            else:
                error = ""
            if status // 100 != 2:
                self.metrics.inc("promtail_dropped_entries_total", count, host=self.url)
                standin.log("warn", "push to Loki failed", url=self.url, status=status, err=error)
                return
            self.metrics.inc("promtail_sent_entries_total", count, host=self.url)
        for key, value in positions:
            self.positions[key] = value
        save_positions(self.positions_file, self.positions)

    def run(self):
        while True:
            try:
                self.ship_once()
            except Exception as e:  # keep shipping; show what went wrong
                standin.log("error", "shipping failed", err=repr(e))
            time.sleep(INTERVAL)


def main(argv):
    config = standin.load_yaml(standin.flag(argv, "config.file", "/etc/promtail/config.yml"),
                               standin.expand_env_defaults if standin.has_flag(argv, "config.expand-env") else None)
    metrics = standin.Metrics()
    metrics.set("promtail_build_info", 1, version=VERSION)
    shipper = Shipper(config, metrics)
    check_targets = standin.dig(config, "server", "health_check_target", default=True)

    class PromtailHandler(standin.Handler):
        routes = (
            ("GET", r"/ready", "ready"),
            ("GET", r"/metrics", "get_metrics"),
        )

        def ready(self):
            if check_targets and shipper.targets == 0:
                return self.send_text(500, "Not ready: Unable to find any logs to tail. Please verify permissions, volumes, scrape_config, etc.\n")
            return self.send_text(200, "Ready\n")


    PromtailHandler.metrics = metrics
    standin.serve_http(PromtailHandler, "0.0.0.0", standin.dig(config, "server", "http_listen_port", default=9080))
    standin.log("info", "Promtail started", version=VERSION, note=standin.STANDIN_NOTE)
    threading.Thread(target=shipper.run, name="shipper", daemon=True).start()
    standin.wait_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
