#!/usr/bin/env python3
"""Test stand-in for the `influx` CLI of influxdb:2.x, as the image's first-start scripts use it:

  influx bucket list [--org O] [--name N] --json
  influx auth create [--org O] --read-bucket ID [--write-bucket ID] [--description D] --json

It edits the state file of the InfluxDB stand-in (influxdb.py) directly, which is what the real
CLI achieves through the API of the setup-phase server. Output is JSON with one key per line, like
the real CLI's --json.
"""

import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import standin  # noqa: E402

BOLT = "/var/lib/influxdb2/influxd.bolt"


def options(args, repeatable=("--read-bucket", "--write-bucket")):
    parsed, flags, i = {}, set(), 0
    while i < len(args):
        arg = args[i]
        if arg in ("--json", "--hide-headers"):
            flags.add(arg)
            i += 1
            continue
        if not arg.startswith("--") or i + 1 >= len(args):
            sys.exit(f"Error: unknown or incomplete flag: {arg}")
        if arg in repeatable:
            parsed.setdefault(arg, []).append(args[i + 1])
        else:
            parsed[arg] = args[i + 1]
        i += 2
    return parsed, flags


def main(argv):
    state = standin.read_json(BOLT, None)
    if state is None or state.get("user") is None:
        sys.exit("Error: InfluxDB is not set up")
    org_name = os.environ.get("DOCKER_INFLUXDB_INIT_ORG")
    if argv[:2] == ["bucket", "list"]:
        opts, _ = options(argv[2:])
        org = next(o for o in state["orgs"] if o["name"] == opts.get("--org", org_name))
        buckets = [b for b in state["buckets"] if b["orgID"] == org["id"] and opts.get("--name") in (None, b["name"])]
        print(json.dumps(buckets, indent="\t"))
        return 0
    if argv[:2] == ["auth", "create"]:
        opts, _ = options(argv[2:])
        org = next(o for o in state["orgs"] if o["name"] == opts.get("--org", org_name))
        known = {b["id"] for b in state["buckets"]}
        permissions = []
        for action, flag in (("read", "--read-bucket"), ("write", "--write-bucket")):
            for bucket_id in opts.get(flag, []):
                if bucket_id not in known:
                    sys.exit(f"Error: bucket {bucket_id} not found")
                permissions.append({"action": action, "resource": {"type": "buckets", "id": bucket_id, "orgID": org["id"]}})
        if not permissions:
            sys.exit("Error: at least one permission is required")
        auth = {"id": uuid.uuid4().hex[:16], "token": uuid.uuid4().hex + uuid.uuid4().hex, "status": "active",
                "description": opts.get("--description", ""), "orgID": org["id"], "permissions": permissions}
        state.setdefault("authorizations", []).append(auth)
        standin.write_json_atomic(BOLT, state)
        print(json.dumps(auth, indent="\t"))
        return 0
    sys.exit(f"Error: the stand-in does not support: influx {' '.join(argv)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
