#!/bin/bash
# hastack: planned switchover of a hastack_redis_replica_group from OLD to NEW, run on NEW.
# Redis's FAILOVER command does not work under Sentinel and SENTINEL FAILOVER picks its own
# replica, so: every other replica gets replica-priority 0 (never chosen), writes pause on
# OLD, NEW catches up to OLD's offset, Sentinel promotes NEW, OLD follows NEW at once, writes
# resume (on OLD they now fail with READONLY: clients retry through the sidecar). No write
# acknowledged by OLD is lost: NEW has every one before it is promoted.
set -euo pipefail
# Parameter Store throttles and sometimes answers 5xx; the CLI's default of 3 attempts can run
# out under load, so retry longer (standard mode: exponential backoff with jitter).
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=10
GROUP='@GROUP@'
REGION='@REGION@'
TOKEN_PARAM='@TOKEN_PARAM@'
OLD='@OLD@'
NEW='@NEW@'
OTHERS='@OTHERS@'
log() { echo "hastack-switchover: $*"; }
read -r REDISCLI_AUTH VERSION <<< "$(aws ssm get-parameter --region "$REGION" --name "$TOKEN_PARAM" \
  --with-decryption --query 'Parameter.[Value,Version]' --output text)"
[ -n "$REDISCLI_AUTH" ] || { log "no auth token in $TOKEN_PARAM"; exit 1; }
export REDISCLI_AUTH
# A member this apply has not changed yet accepts only the token before the current one.
if [ "$VERSION" -gt 1 ] && timeout 5 redis-cli --no-auth-warning -h "$NEW" -p 6379 PING 2>&1 | grep -q WRONGPASS; then
  REDISCLI_AUTH=$(aws ssm get-parameter --region "$REGION" --name "$TOKEN_PARAM:$((VERSION - 1))" \
    --with-decryption --query Parameter.Value --output text)
fi
# Bounded: a member that is going away (or gone) must not hold the switchover up.
r() { local h=$1; shift; timeout 5 redis-cli --no-auth-warning -h "$h" -p 6379 "$@" | tr -d '\r'; }
info() { r "$1" INFO replication | sed -n "s/^$2://p"; }

restore() {
  for h in $OTHERS $NEW; do r "$h" CONFIG SET replica-priority 100 >/dev/null 2>&1 || true; done
  r "$OLD" CLIENT UNPAUSE >/dev/null 2>&1 || true
}
trap restore EXIT

sentinel() { timeout 5 redis-cli --no-auth-warning -h 127.0.0.1 -p 26379 "$@" | tr -d '\r'; }
# Each replica's "<ip> <priority>" as this member's Sentinel last read it.
seen_priorities() {
  sentinel SENTINEL REPLICAS "$GROUP" \
    | awk 'NR % 2 == 1 { k = $0; next } k == "ip" { ip = $0 } k == "slave-priority" { print ip, $0 }'
}

# Never chosen: every other replica (one that does not answer cannot be chosen either).
for h in $OTHERS; do r "$h" CONFIG SET replica-priority 0 >/dev/null || log "$h does not answer"; done
r "$NEW" CONFIG SET replica-priority 1 >/dev/null
# Sentinel reads the priorities from each replica's INFO, every 10 s: until it has read the new
# ones it could promote another replica. Wait (writes still flow) until it has.
for _ in $(seq 1 150); do
  seen=$(seen_priorities) || seen=''
  # NEW at 1, and every other replica Sentinel knows at 0.
  ok=$(NEW="$NEW" OTHERS="$OTHERS" awk '
    BEGIN { n = split(ENVIRON["OTHERS"], o, " "); for (i = 1; i <= n; i++) other[o[i]] = 1 }
    $1 == ENVIRON["NEW"] && $2 == "1" { new_ok = 1 }
    ($1 in other) && $2 != "0" { bad = 1 }
    END { print (new_ok && !bad) ? "true" : "false" }' <<< "$seen")
  [ "$ok" = true ] && break
  sleep 0.1
done
[ "$ok" = true ] || { log "Sentinel has not seen the replica priorities: $(tr '\n' ' ' <<< "$seen")" >&2; exit 1; }
# Writes wait (they do not fail) for at most 10 s; reads go on.
r "$OLD" CLIENT PAUSE 10000 WRITE >/dev/null
target=$(info "$OLD" master_repl_offset)
for _ in $(seq 1 100); do
  got=$(info "$NEW" slave_repl_offset)
  [ "${got:-0}" -ge "$target" ] && break
  sleep 0.05
done
[ "${got:-0}" -ge "$target" ] || { log "$NEW did not catch up ($got < $target)" >&2; exit 1; }
log "$NEW has offset $got of $target: promoting"
answer=$(sentinel SENTINEL FAILOVER "$GROUP")
[ "$answer" = OK ] || { log "SENTINEL FAILOVER: $answer" >&2; exit 1; }
for _ in $(seq 1 200); do
  [ "$(info "$NEW" role)" = master ] && break
  sleep 0.05
done
[ "$(info "$NEW" role)" = master ] || { log "Sentinel did not promote $NEW" >&2; exit 1; }
# What Sentinel would do some seconds later: OLD follows NEW now, so it stops being a master.
r "$OLD" REPLICAOF "$NEW" 6379 >/dev/null
r "$OLD" CONFIG REWRITE >/dev/null || true
log "switched over from $OLD to $NEW"
