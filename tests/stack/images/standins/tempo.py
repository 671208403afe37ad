#!/usr/bin/env python3
"""Test stand-in for grafana/tempo 2.x, installed as /tempo (the real image's entrypoint).

Reads the config (with -config.expand-env), refuses a missing or invalid block retention, binds
each configured receiver on the endpoint the config gives (a receiver left on localhost is as
unreachable from other containers as the real one), and serves the HTTP API on
server.http_listen_port: /ready (503 for READY_DELAY seconds, then "ready"), /metrics,
/api/echo, /api/traces/{id}, /api/search. OTLP/HTTP spans (protobuf, as the OpenTelemetry SDKs
send them, read by otlp_proto.py; or JSON, gzip-compressed or not) and Zipkin (JSON) spans are
stored in the WAL directory as OTLP/JSON; gRPC and Thrift ports accept connections only. The
metrics generator is not emulated: nothing is remote-written to Prometheus.
"""

import gzip
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import otlp_proto  # noqa: E402
import standin  # noqa: E402

VERSION = "2.9.0"
READY_DELAY = float(os.environ.get("STANDIN_READY_DELAY", "5"))


class TraceStore:
    def __init__(self, wal):
        self.wal = wal
        self.lock = threading.Lock()
        self.traces = {}  # trace id (hex) -> list of OTLP resourceSpans
        os.makedirs(wal, exist_ok=True)
        for name in sorted(os.listdir(wal)):
            if name.endswith(".json"):
                with open(os.path.join(wal, name), encoding="utf-8") as f:
                    self._index(json.load(f))

    def _index(self, payload):
        for resource_spans in payload.get("resourceSpans") or []:
            for scope in resource_spans.get("scopeSpans") or []:
                for span in scope.get("spans") or []:
                    trace_id = str(span.get("traceId", "")).lower()
                    self.traces.setdefault(trace_id, []).append(
                        {"resource": resource_spans.get("resource", {}), "scopeSpans": [{"spans": [span]}]})

    def add(self, payload):
        with self.lock:
            path = os.path.join(self.wal, f"{time.time_ns()}.json")
            standin.write_json_atomic(path, payload)
            before = sum(len(v) for v in self.traces.values())
            self._index(payload)
            return sum(len(v) for v in self.traces.values()) - before


def zipkin_to_otlp(spans):
    resource_spans = []
    for span in spans:
        service = (span.get("localEndpoint") or {}).get("serviceName", "unknown")
        start = int(span.get("timestamp", 0)) * 1000
        resource_spans.append({
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{"spans": [{
                "traceId": span.get("traceId", ""), "spanId": span.get("id", ""), "name": span.get("name", ""),
                "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + int(span.get("duration", 0)) * 1000)}]}]})
    return {"resourceSpans": resource_spans}


def service_name(resource):
    for attribute in resource.get("attributes") or []:
        if attribute.get("key") == "service.name":
            return (attribute.get("value") or {}).get("stringValue", "")
    return ""


def main(argv):
    config_file = standin.flag(argv, "config.file", "/etc/tempo.yaml")
    expand = standin.expand_env_defaults if standin.has_flag(argv, "config.expand-env") else None
    config = standin.load_yaml(config_file, expand)

    retention = standin.dig(config, "compactor", "compaction", "block_retention", default="336h")
    try:
        standin.parse_duration(retention)
    except ValueError as e:
        standin.fail("invalid compactor.compaction.block_retention", err=str(e))
    if standin.dig(config, "storage", "trace", "backend") != "local":
        standin.fail("the stand-in supports storage.trace.backend: local only")
    wal = standin.dig(config, "storage", "trace", "wal", "path", default="/var/tempo/wal")
    blocks = standin.dig(config, "storage", "trace", "local", "path", default="/var/tempo/blocks")
    for directory in (wal, blocks):
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            standin.fail("cannot create directory (the volume must be writable by uid 10001)", path=directory, err=str(e))
    store = TraceStore(wal)
    metrics = standin.Metrics()
    metrics.set("tempo_build_info", 1, version=VERSION, revision="standin")
    started = time.monotonic()

    def accept(payload, receiver):
        count = store.add(payload)
        metrics.inc("tempo_distributor_spans_received_total", count, tenant="single-tenant")
        metrics.inc("tempo_receiver_accepted_spans", count, receiver=receiver, transport="http")

    class TempoHandler(standin.Handler):
        routes = (
            ("GET", r"/ready", "ready"),
            ("GET", r"/metrics", "get_metrics"),
            ("GET", r"/api/echo", "echo"),
            ("GET", r"/api/status/buildinfo", "buildinfo"),
            ("GET", r"/api/traces/([0-9a-fA-F]+)", "trace"),
            ("GET", r"/api/v2/traces/([0-9a-fA-F]+)", "trace"),
            ("GET", r"/api/search", "search"),
            ("POST", r"/v1/traces", "otlp"),
            ("POST", r"/api/v2/spans", "zipkin"),
            ("POST", r"/api/traces", "jaeger"),
        )

        def ready(self):
            if time.monotonic() - started < READY_DELAY:
                return self.send_text(503, "Ingester not ready: waiting for ring\n")
            return self.send_text(200, "ready\n")


        def echo(self):
            return self.send_text(200, "echo")

        def buildinfo(self):
            return self.send_json(200, {"version": VERSION, "revision": "standin", "branch": "standin"})

        def trace(self, trace_id):
            batches = store.traces.get(trace_id.lower())
            if not batches:
                return self.send_text(404, "trace not found\n")
            return self.send_json(200, {"batches": batches})

        def search(self):
            found = []
            for trace_id, batches in list(store.traces.items())[-20:]:
                spans = [s for b in batches for scope in b["scopeSpans"] for s in scope["spans"]]
                start = min(int(s.get("startTimeUnixNano", 0)) for s in spans)
                end = max(int(s.get("endTimeUnixNano", 0)) for s in spans)
                found.append({"traceID": trace_id, "rootServiceName": service_name(batches[0]["resource"]),
                              "rootTraceName": spans[0].get("name", ""), "startTimeUnixNano": str(start),
                              "durationMs": max(0, (end - start) // 1_000_000)})
            return self.send_json(200, {"traces": found, "metrics": {"inspectedTraces": len(store.traces)}})

        def otlp(self):
            body = self.body()
            if "gzip" in (self.headers.get("Content-Encoding") or "").lower():
                try:
                    body = gzip.decompress(body)
                except (OSError, EOFError) as e:
                    return self.refuse_otlp(f"the body is not valid gzip: {e}")
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type == "application/x-protobuf":
                try:
                    payload = otlp_proto.decode_export_trace_request(body)
                except otlp_proto.DecodeError as e:
                    return self.refuse_otlp(f"the body is not an ExportTraceServiceRequest: {e}")
                accept(payload, "otlp")
                # An empty ExportTraceServiceResponse: everything accepted.
                return self.send_bytes(200, b"", "application/x-protobuf")
            if content_type == "application/json":
                try:
                    payload = json.loads(body or b"{}")
                except json.JSONDecodeError:
                    payload = None
                if not isinstance(payload, dict) or "resourceSpans" not in payload:
                    return self.refuse_otlp("expected an OTLP/JSON object with resourceSpans")
                accept(payload, "otlp")
                return self.send_json(200, {})
            return self.refuse_otlp(f"unsupported Content-Type {content_type!r}: send application/x-protobuf or application/json")

        def refuse_otlp(self, reason):
            metrics.inc("tempo_receiver_refused_spans", 1, receiver="otlp", transport="http")
            return self.send_text(400, reason + "\n")

        def zipkin(self):
            payload = self.json_body()
            if not isinstance(payload, list):
                return self.send_text(400, "expected a JSON array of Zipkin spans\n")
            accept(zipkin_to_otlp(payload), "zipkin")
            return self.send_empty(202)

        def jaeger(self):
            self.body()  # Thrift over HTTP: accepted, not decoded
            return self.send_empty(202)

    TempoHandler.metrics = metrics
    standin.serve_http(TempoHandler, "0.0.0.0", standin.dig(config, "server", "http_listen_port", default=3200), "http")

    receivers = standin.dig(config, "distributor", "receivers", default={}) or {}
    otlp = standin.dig(receivers, "otlp", "protocols", default={}) or {}
    if "http" in otlp:
        host, port = standin.split_endpoint(standin.dig(otlp, "http", "endpoint", default="localhost:4318"), 4318)
        standin.serve_http(TempoHandler, host, port, "otlp-http")
    if "grpc" in otlp:
        host, port = standin.split_endpoint(standin.dig(otlp, "grpc", "endpoint", default="localhost:4317"), 4317)
        standin.listen_tcp(host, port, "otlp-grpc")
    if "zipkin" in receivers:
        host, port = standin.split_endpoint(standin.dig(receivers, "zipkin", "endpoint", default="localhost:9411"), 9411)
        standin.serve_http(TempoHandler, host, port, "zipkin")
    jaeger = standin.dig(receivers, "jaeger", "protocols", default={}) or {}
    for protocol, default_port in (("grpc", 14250), ("thrift_http", 14268)):
        if protocol in jaeger:
            host, port = standin.split_endpoint(standin.dig(jaeger, protocol, "endpoint", default=f"localhost:{default_port}"), default_port)
            if protocol == "thrift_http":
                standin.serve_http(TempoHandler, host, port, "jaeger-thrift-http")
            else:
                standin.listen_tcp(host, port, "jaeger-grpc")
    if "opencensus" in receivers:
        host, port = standin.split_endpoint(standin.dig(receivers, "opencensus", "endpoint", default="localhost:55678"), 55678)
        standin.listen_tcp(host, port, "opencensus")

    standin.log("info", "Tempo started", version=VERSION, note=standin.STANDIN_NOTE, block_retention=str(retention))
    standin.wait_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
