#!/bin/bash
# hastack: one member's view of its hastack_mysql_replica_set: the agent's /status as one JSON line.
set -uo pipefail
/usr/bin/python3 - <<'PY'
import json, urllib.request
try:
    with urllib.request.urlopen("http://127.0.0.1:8008/status", timeout=5) as r:
        print(json.dumps(json.load(r)))
except Exception as e:
    print(json.dumps({"role": "down", "last_error": f"agent: {e}"}))
PY
