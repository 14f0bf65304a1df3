#!/bin/bash
# hastack: the data-tier sidecar on one member of a hastack_lightsail_ha_instance group.
# HAProxy on loopback routes the app to the current primary of each replica group it uses,
# so the app never knows an address: Redis on 127.0.0.1:6379 (`role:master` TCP check),
# MariaDB writes on 127.0.0.1:3306 and reads on 127.0.0.1:3307 (HTTP check of each node's
# agent, `/primary` or `/replica` on port 8008). Auth tokens the checks need are read here
# from Parameter Store with the node's credentials and written only to haproxy.cfg (0600).
# Idempotent: HAProxy is reloaded only when its configuration changed; an empty list stops it.
set -euo pipefail
umask 077
# Parameter Store throttles and sometimes answers 5xx; the CLI's default of 3 attempts can run
# out under load, so retry longer (standard mode: exponential backoff with jitter).
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=10
REGION='@REGION@'
SPEC=$(base64 -d <<'HASTACK_SIDECARS'
@SPEC_B64@
HASTACK_SIDECARS
)
log() { echo "hastack-sidecar: $*"; }
CFG=/etc/haproxy/haproxy.cfg

if [ "$SPEC" = "[]" ]; then
  if [ -e /var/lib/hastack/sidecar.configured ]; then
    systemctl stop haproxy >/dev/null 2>&1 || true
    systemctl disable haproxy >/dev/null 2>&1 || true
    rm -f /var/lib/hastack/sidecar.configured
    log "no sidecar wanted: haproxy stopped"
  fi
  exit 0
fi
command -v haproxy >/dev/null 2>&1 || { log "installing haproxy"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }
command -v aws >/dev/null 2>&1 || { log "installing awscli"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null; }
mkdir -p /etc/haproxy /var/lib/hastack /run/haproxy

NEW=$(SPEC="$SPEC" REGION="$REGION" python3 - <<'PY'
import json, os, subprocess
spec = json.loads(os.environ["SPEC"])
def secret(name):
    return subprocess.run(
        ["aws", "ssm", "get-parameter", "--region", os.environ["REGION"], "--name", name,
         "--with-decryption", "--query", "Parameter.Value", "--output", "text"],
        check=True, capture_output=True, text=True).stdout.strip()
out = [
    "# Written by hastack (the data-tier sidecar). Changes are overwritten at the next apply.",
    "global",
    "  maxconn 4096",
    "  stats socket /run/haproxy/admin.sock mode 600 level admin",
    # Checks' verdicts survive a reload (the state is saved just before it).
    "  server-state-file /run/haproxy/server-state",
    "defaults",
    "  load-server-state-from-file global",
    "  mode tcp",
    "  timeout connect 1s",
    "  timeout client 1h",
    "  timeout server 1h",
    "  timeout check 1s",
]
# A server is named after its address: after a reload HAProxy applies the saved state of a
# server of the same name, address included (init-addr starts with "last"), so a member moved
# to a new instance under a reused name was still reached at its old, deleted address.
def servers(s, port, check):
    for b in s["backends"]:
        out.append(f"  server {s['name']}-{b.replace('.', '-').replace(':', '-')} {b}:{port} {check}")
for s in spec:
    name = s["name"]
    if s["engine"] == "redis":
        token = secret(s["auth_parameter"])
        out += [
            f"listen redis-{name}",
            "  bind 127.0.0.1:6379",
            "  option tcp-check",
            "  tcp-check connect",
            f"  tcp-check send AUTH\\ {token}\\r\\n",
            "  tcp-check expect string +OK",
            "  tcp-check send info\\ replication\\r\\n",
            "  tcp-check expect string role:master",
            "  tcp-check send QUIT\\r\\n",
            "  tcp-check expect string +OK",
        ]
        servers(s, 6379, "check inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions")
    elif s["engine"] == "mariadb":
        for role, port in (("primary", 3306), ("replica", 3307)):
            out += [
                f"listen mysql-{name}-{role}",
                f"  bind 127.0.0.1:{port}",
                f"  option httpchk GET /{role}",
                "  http-check expect status 200",
                "  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions",
            ]
            servers(s, 3306, "check port 8008")
    else:
        raise SystemExit(f"unknown sidecar engine {s['engine']!r}")
print("\n".join(out))
PY
)
if [ -e "$CFG" ] && [ "$(cat "$CFG")" = "$NEW" ] && systemctl is-active haproxy >/dev/null 2>&1; then
  log "unchanged"
  exit 0
fi
printf '%s\n' "$NEW" > "$CFG.new"
chmod 0600 "$CFG.new"
haproxy -c -q -f "$CFG.new"
mv "$CFG.new" "$CFG"
systemctl enable haproxy >/dev/null 2>&1 || true
if systemctl is-active haproxy >/dev/null 2>&1; then
  python3 - <<'PY' || true
import socket
s = socket.socket(socket.AF_UNIX)
s.connect("/run/haproxy/admin.sock")
s.sendall(b"show servers state\n")
out = b""
while chunk := s.recv(65536):
    out += chunk
open("/run/haproxy/server-state", "wb").write(out)
PY
  systemctl reload haproxy
  log "reloaded"
else
  systemctl start haproxy
  log "started"
fi
# HAProxy starts a server UP until its checks say otherwise: wait until every server has been
# checked and settled (UP or DOWN, not going either way), so no connection reaches a replica.
python3 - <<'PY'
import csv, io, socket, sys, time
deadline = time.time() + 15
while time.time() < deadline:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect("/run/haproxy/admin.sock")
        s.sendall(b"show stat\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        rows = list(csv.DictReader(io.StringIO(out.decode().lstrip("# "))))
        servers = [r for r in rows if r.get("svname") not in ("FRONTEND", "BACKEND")]
        if servers and all(r["status"] in ("UP", "DOWN") and not r.get("check_status", "").startswith("INI") for r in servers):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit("haproxy's checks did not settle in 15 s")
PY
log "checks settled"
touch /var/lib/hastack/sidecar.configured
