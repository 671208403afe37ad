"""OTLP/HTTP protobuf for the Tempo stand-in: an ExportTraceServiceRequest read into the OTLP JSON shape.

The image has no protobuf package (and no registry to fetch one), so this reads the protobuf wire
format by hand, for the fields of opentelemetry/proto/collector/trace/v1 that the stand-in keeps:
resource attributes, scope name and version, and each span's ids, name, kind, times, attributes
and status. Unknown fields are skipped, as a protobuf reader does. The result uses the field names
and encodings of OTLP/JSON (hex ids, nanoseconds and int64 values as strings), so a stored trace
reads the same whichever encoding the exporter chose.
"""

import struct


class DecodeError(ValueError):
    pass


def _varint(data, pos):
    result = shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint longer than 10 bytes")


def fields(data):
    """(field number, wire type, value) of a message: an int for varint and fixed, bytes for length-delimited."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            if pos + 8 > len(data):
                raise DecodeError("truncated fixed64")
            value, pos = struct.unpack_from("<Q", data, pos)[0], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise DecodeError("truncated length-delimited field")
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            if pos + 4 > len(data):
                raise DecodeError("truncated fixed32")
            value, pos = struct.unpack_from("<I", data, pos)[0], pos + 4
        else:
            raise DecodeError(f"unsupported wire type {wire}")
        yield number, wire, value


def _signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def _any_value(data):
    for number, _, value in fields(data):
        if number == 1:
            return {"stringValue": value.decode("utf-8", "replace")}
        if number == 2:
            return {"boolValue": bool(value)}
        if number == 3:
            return {"intValue": str(_signed(value))}
        if number == 4:
            return {"doubleValue": struct.unpack("<d", struct.pack("<Q", value))[0]}
        if number == 5:
            return {"arrayValue": {"values": [_any_value(v) for n, _, v in fields(value) if n == 1]}}
        if number == 6:
            return {"kvlistValue": {"values": [_key_value(v) for n, _, v in fields(value) if n == 1]}}
        if number == 7:
            return {"bytesValue": value.hex()}
    return {}


def _key_value(data):
    pair = {"key": "", "value": {}}
    for number, _, value in fields(data):
        if number == 1:
            pair["key"] = value.decode("utf-8", "replace")
        elif number == 2:
            pair["value"] = _any_value(value)
    return pair


def _span(data):
    span = {"attributes": []}
    for number, _, value in fields(data):
        if number == 1:
            span["traceId"] = value.hex()
        elif number == 2:
            span["spanId"] = value.hex()
        elif number == 3:
            span["traceState"] = value.decode("utf-8", "replace")
        elif number == 4:
            span["parentSpanId"] = value.hex()
        elif number == 5:
            span["name"] = value.decode("utf-8", "replace")
        elif number == 6:
            span["kind"] = value
        elif number == 7:
            span["startTimeUnixNano"] = str(value)
        elif number == 8:
            span["endTimeUnixNano"] = str(value)
        elif number == 9:
            span["attributes"].append(_key_value(value))
        elif number == 15:
            status = {}
            for n, _, v in fields(value):
                if n == 2:
                    status["message"] = v.decode("utf-8", "replace")
                elif n == 3:
                    status["code"] = v
            span["status"] = status
    return span


def _scope_spans(data):
    scope_spans = {"scope": {}, "spans": []}
    for number, _, value in fields(data):
        if number == 1:
            for n, _, v in fields(value):
                if n == 1:
                    scope_spans["scope"]["name"] = v.decode("utf-8", "replace")
                elif n == 2:
                    scope_spans["scope"]["version"] = v.decode("utf-8", "replace")
        elif number == 2:
            scope_spans["spans"].append(_span(value))
    return scope_spans


def _resource_spans(data):
    resource_spans = {"resource": {"attributes": []}, "scopeSpans": []}
    for number, _, value in fields(data):
        if number == 1:
            resource_spans["resource"]["attributes"] = [_key_value(v) for n, _, v in fields(value) if n == 1]
        elif number == 2:
            resource_spans["scopeSpans"].append(_scope_spans(value))
    return resource_spans


def decode_export_trace_request(data):
    """An ExportTraceServiceRequest (protobuf bytes) as OTLP/JSON: {"resourceSpans": [...]}; DecodeError if malformed."""
    try:
        return {"resourceSpans": [_resource_spans(value) for number, wire, value in fields(data) if number == 1 and wire == 2]}
    except (struct.error, UnicodeDecodeError, TypeError, AttributeError) as e:
        raise DecodeError(str(e)) from e
