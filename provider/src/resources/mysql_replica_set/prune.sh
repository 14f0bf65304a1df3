#!/bin/bash
# hastack: remove from a hastack_mysql_replica_set's etcd cluster every member whose address
# is not one of KEEP (a member that was replaced), through the etcd on this member. Run after
# the replacement has joined and the set is healthy, before the old instance is deleted.
set -euo pipefail
KEEP='@KEEP@' python3 - <<'PY'
import json, os, urllib.parse, urllib.request


def call(path, body):
    req = urllib.request.Request(f"http://127.0.0.1:2379{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


keep = set(os.environ["KEEP"].split())
members = call("/v3/cluster/member/list", {}).get("members", [])
for m in members:
    hosts = {urllib.parse.urlparse(u).hostname for u in m.get("peerURLs", [])}
    if hosts and not hosts & keep:
        call("/v3/cluster/member/remove", {"ID": m["ID"]})
        print(f"hastack-mysql: etcd member {m.get('name') or m['ID']} ({', '.join(sorted(hosts))}) removed")
left = call("/v3/cluster/member/list", {}).get("members", [])
print(f"hastack-mysql: etcd has {len(left)} members")
PY
