#!/usr/bin/env python3
"""Test stand-in for cAdvisor, installed as /usr/bin/cadvisor.

Serves /healthz ("ok") and /metrics on 8080. The metrics describe the running containers as
the Docker API (the mounted /var/run/docker.sock) and the cgroup files (the mounted /sys) show
them, under cAdvisor's names: container_last_seen, container_start_time_seconds,
container_cpu_usage_seconds_total, container_memory_working_set_bytes,
container_spec_memory_limit_bytes, with the name, id and image labels and the labels named in
--whitelisted_container_labels.
"""

import datetime
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import standin  # noqa: E402

VERSION = "0.56.2"
CGROUP = "/sys/fs/cgroup"


def read_number(*paths):
    for path in paths:
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().split()[0]
            return None if text == "max" else int(text)
        except (OSError, ValueError, IndexError):
            continue
    return None


def memory_stat(container_id):
    for path in (f"{CGROUP}/memory/docker/{container_id}/memory.stat", f"{CGROUP}/system.slice/docker-{container_id}.scope/memory.stat"):
        try:
            with open(path, encoding="ascii") as f:
                return dict((k, int(v)) for k, v in (line.split() for line in f if line.strip()))
        except OSError:
            continue
    return {}


def container_series(whitelist):
    now = time.time()
    series = []
    for c in standin.docker_get("/containers/json"):
        cid = c["Id"]
        labels = {"id": f"/docker/{cid}", "name": c["Names"][0].lstrip("/"), "image": c["Image"]}
        for key in whitelist:
            if key in (c.get("Labels") or {}):
                labels["container_label_" + "".join(ch if ch.isalnum() else "_" for ch in key)] = c["Labels"][key]
        key = tuple(sorted(labels.items()))
        series.append((("container_last_seen", key), f"{now:.3f}"))
        try:
            started = standin.docker_get(f"/containers/{cid}/json")["State"]["StartedAt"]
            started_at = datetime.datetime.fromisoformat(started[:26].rstrip("Z") + "+00:00").timestamp()
            series.append((("container_start_time_seconds", key), f"{started_at:.3f}"))
        except (OSError, KeyError, ValueError):
            pass
        cpu_ns = read_number(f"{CGROUP}/cpuacct/docker/{cid}/cpuacct.usage", f"{CGROUP}/cpu,cpuacct/docker/{cid}/cpuacct.usage")
        if cpu_ns is not None:
            series.append((("container_cpu_usage_seconds_total", key + (("cpu", "total"),)), f"{cpu_ns / 1e9:.6f}"))
        usage = read_number(f"{CGROUP}/memory/docker/{cid}/memory.usage_in_bytes",
                            f"{CGROUP}/system.slice/docker-{cid}.scope/memory.current")
        if usage is not None:
            inactive = memory_stat(cid).get("total_inactive_file", 0)
            series.append((("container_memory_working_set_bytes", key), str(max(0, usage - inactive))))
        limit = read_number(f"{CGROUP}/memory/docker/{cid}/memory.limit_in_bytes",
                            f"{CGROUP}/system.slice/docker-{cid}.scope/memory.max")
        # cgroup v1 reports "no limit" as a huge number; cAdvisor reports 0.
        series.append((("container_spec_memory_limit_bytes", key), str(limit if limit and limit < 1 << 62 else 0)))
    return series


def main(argv):
    whitelist = [l for l in (standin.flag(argv, "whitelisted_container_labels", "") or "").split(",") if l]
    port = int(standin.flag(argv, "port", "8080"))
    metrics = standin.Metrics()
    metrics.set("cadvisor_version_info", 1, cadvisorVersion=VERSION, cadvisorRevision="standin")

    class CadvisorHandler(standin.Handler):
        routes = (
            ("GET", r"/healthz", "healthz"),
            ("GET", r"/metrics", "get_metrics"),
        )

        def healthz(self):
            return self.send_text(200, "ok")

        def extra_metrics(self):
            try:
                return container_series(whitelist)
            except OSError as e:
                standin.log("warn", "cannot read containers", err=str(e))
                return []

    CadvisorHandler.metrics = metrics
    standin.serve_http(CadvisorHandler, "0.0.0.0", port)
    standin.log("info", "cAdvisor started", version=VERSION, note=standin.STANDIN_NOTE)
    standin.wait_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
