#!/bin/bash
# hastack: planned switchover of a hastack_mysql_replica_set to this member, run on it. The
# agents do the work through etcd: the primary stops writes and publishes its last GTID
# position, this member applies everything up to it, then the primary lets go of the lease and
# this member takes it. No acknowledged write is lost: it has every one before it is promoted.
set -euo pipefail
SET='@SET@'
ETCD_MEMBERS='@ETCD_MEMBERS@'
log() { echo "hastack-mysql-switchover: $*"; }
SET="$SET" ETCD="$ETCD_MEMBERS" SELF="$(hostname -I)" /usr/bin/python3 - <<'PY'
import base64, json, os, sys, time, urllib.request
prefix = f"/hastack/mysql/{os.environ['SET']}/"
def call(url, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=2) as r:
        return json.load(r)
def etcd(path, body):
    last = None
    for ip in os.environ["ETCD"].split():
        try:
            return call(f"http://{ip}:2379", path, body)
        except OSError as e:
            last = e
    raise SystemExit(f"etcd unreachable: {last}")
b = lambda s: base64.b64encode(s.encode()).decode()
def primary_ok():
    try:
        with urllib.request.urlopen("http://127.0.0.1:8008/primary", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False
def wait_primary(seconds):
    """Exit once this member is primary, within `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if primary_ok():
            print(f"hastack-mysql-switchover: {target} is primary")
            sys.exit(0)
        time.sleep(0.2)
if primary_ok():
    print("hastack-mysql-switchover: already primary")
    sys.exit(0)
status = json.load(urllib.request.urlopen("http://127.0.0.1:8008/status", timeout=2))
target = status["self"]
etcd("/v3/kv/put", {"key": b(prefix + "switchover"), "value": b(f"{target} {time.time()}")})
wait_primary(50)
# Give up only while a member holds the lease (the primary, writing again by now: it lets go
# only within 45 s of the request). With none, a handover may be under way: the agents finish
# it, or elect, with the request left in place.
# Not when this member holds it: it took the key and is about to take writes.
done = etcd("/v3/kv/txn", {
    "compare": [
        {"key": b(prefix + "leader"), "target": "CREATE", "result": "GREATER", "create_revision": "0"},
        {"key": b(prefix + "leader"), "target": "VALUE", "result": "NOT_EQUAL", "value": b(target)},
    ],
    "success": [{"request_delete_range": {"key": b(prefix + k)}} for k in ("switchover", "handover_pos", "handover_ready")],
}).get("succeeded")
if done:
    raise SystemExit(f"{target} did not become primary within 50 s (switchover abandoned; the old primary resumes)")
wait_primary(10)
raise SystemExit(f"{target} did not become primary within 60 s, and no other member holds the lease: the agents finish the handover or elect a primary")
PY
