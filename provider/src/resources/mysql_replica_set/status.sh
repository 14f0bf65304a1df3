#!/bin/bash
# hastack: one member's view of its hastack_mysql_replica_set: the agent's /status as one JSON line.
# An agent that does not answer is no report (exit 1), not a "down" one: on a busy host /status
# (a few mariadb calls and an etcd read) can be slow, and the provider looks again at members
# that have not reported before it records them down.
set -uo pipefail
/usr/bin/python3 - <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen("http://127.0.0.1:8008/status", timeout=20) as r:
        print(json.dumps(json.load(r)))
except Exception as e:
    print(f"hastack: the agent did not answer: {e}", file=sys.stderr)
    sys.exit(1)
PY
