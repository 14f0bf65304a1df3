#!/bin/bash
# hastack: one member's view of its hastack_redis_replica_group, as one JSON line on stdout:
# its role and replication offset, its link to the primary, and what its Sentinel says.
set -uo pipefail
# Parameter Store throttles and sometimes answers 5xx; the CLI's default of 3 attempts can run
# out under load, so retry longer (standard mode: exponential backoff with jitter).
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=10
GROUP='@GROUP@'
REGION='@REGION@'
TOKEN_PARAM='@TOKEN_PARAM@'
# The current token; during a rotation's apply, members not yet changed accept only the one
# before it.
read -r REDISCLI_AUTH VERSION <<< "$(aws ssm get-parameter --region "$REGION" --name "$TOKEN_PARAM" \
  --with-decryption --query 'Parameter.[Value,Version]' --output text 2>/dev/null)" || true
# Without the token Redis answers NOAUTH, which is not a member being down: no report at all
# (the provider looks again) rather than a false "down".
[ -n "${REDISCLI_AUTH:-}" ] || { echo "hastack: cannot read the auth token from $TOKEN_PARAM" >&2; exit 1; }
export REDISCLI_AUTH
if [ "${VERSION:-0}" -gt 1 ] 2>/dev/null \
  && timeout 3 redis-cli --no-auth-warning -h 127.0.0.1 -p 6379 PING 2>&1 | grep -q WRONGPASS; then
  REDISCLI_AUTH=$(aws ssm get-parameter --region "$REGION" --name "$TOKEN_PARAM:$((VERSION - 1))" \
    --with-decryption --query Parameter.Value --output text 2>/dev/null) || REDISCLI_AUTH=''
fi
# Only a Redis that refuses connections is "down"; one that is slow (a busy host, a fork for an
# AOF rewrite), still loading, or that rejects the token is no report: the provider looks again.
repl=$(timeout 10 redis-cli --no-auth-warning -h 127.0.0.1 -p 6379 INFO replication 2>&1 | tr -d '\r')
case "$repl" in
  *"Connection refused"*) repl='' ;;
  *NOAUTH* | *WRONGPASS* | *"invalid password"*)
    echo "hastack: Redis rejected the auth token: $(head -c 80 <<< "$repl")" >&2; exit 1 ;;
  *role:*) ;;
  *) echo "hastack: Redis did not answer INFO: $(head -c 80 <<< "$repl")" >&2; exit 1 ;;
esac
scli() { timeout 5 redis-cli --no-auth-warning -h 127.0.0.1 -p 26379 "$@" 2>/dev/null | tr -d '\r'; }
master=$(scli SENTINEL master "$GROUP")
replicas=$(scli SENTINEL replicas "$GROUP")
sentinels=$(scli SENTINEL sentinels "$GROUP")
REPL="$repl" MASTER="$master" REPLICAS="$replicas" SENTINELS="$sentinels" SELF="$(hostname -I)" python3 - <<'PY'
import json, os
info = dict(l.split(":", 1) for l in os.environ["REPL"].splitlines() if ":" in l)
m = os.environ["MASTER"].splitlines()
sentinel = dict(zip(m[0::2], m[1::2]))


def live(listing):
    """Entries of a SENTINEL replicas/sentinels listing (flat name/value lines, each entry
    starting at "name") that Sentinel does not think down: Sentinel never forgets a member
    that left, it only flags it."""
    entries, cur = [], None
    lines = listing.splitlines()
    for k, v in zip(lines[0::2], lines[1::2]):
        if k == "name":
            cur = {}
            entries.append(cur)
        if cur is not None:
            cur[k] = v
    down = {"s_down", "o_down", "disconnected"}
    return sum(1 for e in entries if not down & set(e.get("flags", "").split(",")))


role = info.get("role", "")
out = {
    "addresses": os.environ["SELF"].split(),
    "redis_up": bool(info),
    "role": {"master": "primary", "slave": "replica"}.get(role, role or "down"),
    "offset": int(info.get("master_repl_offset", "0") or 0),
    "link_status": info.get("master_link_status", "") if role == "slave" else "",
    "primary_host": info.get("master_host", ""),
    "connected_replicas": int(info.get("connected_slaves", "0") or 0),
    "sentinel_up": bool(sentinel),
    "sentinel_primary": sentinel.get("ip", ""),
    "sentinel_flags": sentinel.get("flags", ""),
    "sentinel_replicas": live(os.environ["REPLICAS"]) if sentinel else 0,
    "sentinel_sentinels": live(os.environ["SENTINELS"]) + 1 if sentinel else 0,
    "failover_epoch": int(sentinel.get("config-epoch", "0") or 0),
}
print(json.dumps(out))
PY
