#!/bin/bash
# hastack: configure one member of a hastack_redis_replica_group (run over SSM Run Command on
# every member). Redis and Sentinel from the OS packages. The auth token is read here, on the
# node, from Parameter Store with the node's own credentials: it never travels in this script,
# its parameters or its output. Idempotent: a configured member only gets runtime changes
# (CONFIG SET + CONFIG REWRITE, SENTINEL SET) and keeps the role Sentinel gave it.
set -euo pipefail
umask 077
# Parameter Store throttles and sometimes answers 5xx; the CLI's default of 3 attempts can run
# out under load, so retry longer (standard mode: exponential backoff with jitter).
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=10

GROUP='@GROUP@'
REGION='@REGION@'
TOKEN_PARAM='@TOKEN_PARAM@'
# The token's version this apply wrote or found, and whether the one before it stays valid
# (auth_token_update_strategy "rotate": two passwords until "set").
TOKEN_VERSION='@TOKEN_VERSION@'
KEEP_PREVIOUS='@KEEP_PREVIOUS@'
MEMBERS='@MEMBERS@'
PRIMARY='@PRIMARY@'
QUORUM='@QUORUM@'
DOWN_AFTER_MS='@DOWN_AFTER_MS@'
FAILOVER_TIMEOUT_MS='@FAILOVER_TIMEOUT_MS@'
PARALLEL_SYNCS='@PARALLEL_SYNCS@'
MIN_REPLICAS='@MIN_REPLICAS@'
MAX_LAG='@MAX_LAG@'
APPENDONLY='@APPENDONLY@'
MAXMEMORY_POLICY='@MAXMEMORY_POLICY@'
# User parameters, one "name value" per line (checked at plan time: no hastack-owned names).
PARAMETERS=$(base64 -d <<'HASTACK_PARAMETERS'
@PARAMETERS_B64@
HASTACK_PARAMETERS
)

STATE_DIR=/var/lib/hastack
MARK="$STATE_DIR/redis-$GROUP.configured"
mkdir -p "$STATE_DIR"
log() { echo "hastack-redis: $*"; }

# This member's private address: the one of ours among the host's addresses.
SELF=''
for ip in $(hostname -I); do
  for m in $MEMBERS; do [ "$ip" = "$m" ] && SELF=$ip; done
done
[ -n "$SELF" ] || { log "none of this host's addresses ($(hostname -I)) is a member ($MEMBERS)" >&2; exit 1; }

need() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  log "installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need redis-server redis-server
need redis-sentinel redis-sentinel
need aws awscli

token() { # version
  aws ssm get-parameter --region "$REGION" --name "$TOKEN_PARAM:$1" --with-decryption \
    --query Parameter.Value --output text
}
TOKEN=$(token "$TOKEN_VERSION")
[ -n "$TOKEN" ] || { log "the auth token parameter $TOKEN_PARAM is empty" >&2; exit 1; }
# The token before this one: what members not yet changed by this apply accept, and with
# "rotate" what clients that have not switched yet still use.
PREVIOUS=''
[ "$TOKEN_VERSION" -gt 1 ] && PREVIOUS=$(token $((TOKEN_VERSION - 1)))
PASSWORDS=">$TOKEN"
[ "$KEEP_PREVIOUS" = yes ] && [ -n "$PREVIOUS" ] && PASSWORDS=">$TOKEN >$PREVIOUS"
rcli() { redis-cli --no-auth-warning -h 127.0.0.1 -p 6379 "$@"; }
scli() { redis-cli --no-auth-warning -h 127.0.0.1 -p 26379 "$@"; }
# Commands on stdin: secrets never appear in a process's arguments. Fails on any error reply.
feed() { # cli
  local out
  out=$("$1" 2>&1) || { log "$1 failed" >&2; return 1; }
  if grep -qE '^(\(error\) )?(ERR|WRONGPASS|NOAUTH|EXECABORT)' <<< "$out"; then
    log "$1: $(grep -E 'ERR|WRONGPASS|NOAUTH|EXECABORT' <<< "$out" | head -1)" >&2
    return 1
  fi
}
# Authenticate with whichever token the member accepts now (the new one once changed).
authenticate() { # cli
  local t
  for t in "$TOKEN" "$PREVIOUS"; do
    [ -n "$t" ] || continue
    REDISCLI_AUTH="$t" "$1" PING 2>/dev/null | grep -q PONG && { export REDISCLI_AUTH="$t"; return 0; }
  done
  log "$1: neither the current nor the previous auth token is accepted" >&2
  return 1
}
# Barriers: every member that answers at all (a stopped one is skipped) is in step, within
# a minute. Setup runs on every member at once, so each waits for the others.
everywhere() { # what check
  local what=$1 check=$2 m pending
  for _ in $(seq 1 120); do
    pending=''
    for m in $MEMBERS; do "$check" "$m" || pending="$pending $m"; done
    [ -z "$pending" ] && return 0
    sleep 0.5
  done
  log "members$pending did not $what within a minute" >&2
  return 1
}
# Redis and Sentinel on $1 accept the new token, or do not answer at all.
accepts_token() {
  local port out
  for port in 6379 26379; do
    out=$(REDISCLI_AUTH="$TOKEN" timeout 2 redis-cli --no-auth-warning -h "$1" -p "$port" PING 2>&1) || true
    case "$out" in
      PONG) ;;
      *"Connection refused"*|*"timed out"*|*"No route"*|"") ;;
      *) return 1 ;;
    esac
  done
}
# Redis on $1 replicates with the new token and its Sentinel announces it (compared here,
# never printed), or it does not answer at all.
uses_token() {
  local auth pass
  auth=$(REDISCLI_AUTH="$TOKEN" timeout 2 redis-cli --no-auth-warning -h "$1" -p 6379 CONFIG GET masterauth 2>/dev/null | sed -n 2p | tr -d '\r') || return 0
  pass=$(REDISCLI_AUTH="$TOKEN" timeout 2 redis-cli --no-auth-warning -h "$1" -p 26379 SENTINEL CONFIG GET sentinel-pass 2>/dev/null | sed -n 2p | tr -d '\r') || return 0
  { [ -z "$auth" ] || [ "$auth" = "$TOKEN" ]; } && { [ -z "$pass" ] || [ "$pass" = "$TOKEN" ]; }
}
export REDISCLI_AUTH="$TOKEN"

wait_for() { # what command…
  local what=$1; shift
  for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "$what did not come up" >&2; return 1
}

# Before redis-server starts (at every boot): take the role the other members' Sentinels give.
# A member that was primary when its host went down would start as a primary again; a Sentinel
# that sees it so keeps that role for it until its next INFO (every 10 s) and, if cut off from
# the others then, can later take the real primary for that member and make it a replica,
# discarding writes it acknowledged (seen in the loss test: a partition after a stop round).
# Starting as a replica of the primary most answering Sentinels name leaves nothing stale. Run
# as root by systemd (ExecStartPre, "-": a failure never keeps Redis down); the token is read
# from redis.conf into the environment, never into arguments.
install -d -m 0755 /usr/local/sbin /etc/systemd/system/redis-server.service.d
cat > /usr/local/sbin/hastack-redis-rejoin <<REJOIN
#!/bin/bash
# Written by hastack for replica group $GROUP.
conf=/etc/redis/redis.conf
self='$SELF'
MEMBERS='$MEMBERS'
GROUP='$GROUP'
REJOIN
cat >> /usr/local/sbin/hastack-redis-rejoin <<'REJOIN'
export REDISCLI_AUTH="$(sed -n 's/^masterauth "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$conf" | head -1)"
declare -A votes
answers=0
for m in $MEMBERS; do
  [ "$m" = "$self" ] && continue
  a=$(timeout 2 redis-cli --no-auth-warning -h "$m" -p 26379 SENTINEL get-master-addr-by-name "$GROUP" 2>/dev/null | head -1 | tr -d '\r')
  case "$a" in [0-9]*.*) votes[$a]=$(( ${votes[$a]:-0} + 1 )); answers=$((answers + 1)) ;; esac
done
[ "$answers" -gt 0 ] || { echo "hastack-redis-rejoin: no other Sentinel answered: starting as configured"; exit 0; }
for a in "${!votes[@]}"; do
  [ $(( ${votes[$a]} * 2 )) -gt "$answers" ] || continue
  sed -i '/^\(replicaof\|slaveof\) /d' "$conf"
  if [ "$a" = "$self" ]; then
    echo "hastack-redis-rejoin: the Sentinels name this member primary"
  else
    echo "hastack-redis-rejoin: the Sentinels name $a primary: starting as its replica"
    echo "replicaof $a 6379" >> "$conf"
  fi
  chown redis:redis "$conf"
  exit 0
done
echo "hastack-redis-rejoin: the Sentinels disagree: starting as configured"
REJOIN
chmod 0755 /usr/local/sbin/hastack-redis-rejoin
cat > /etc/systemd/system/redis-server.service.d/hastack-rejoin.conf <<'UNIT'
[Service]
ExecStartPre=-+/usr/local/sbin/hastack-redis-rejoin
UNIT
systemctl daemon-reload >/dev/null 2>&1 || true

if [ ! -e "$MARK" ]; then
  log "first configuration ($([ "$SELF" = "$PRIMARY" ] && echo primary || echo "replica of $PRIMARY"))"
  install -d -o redis -g redis -m 0750 /etc/redis /var/lib/redis /var/log/redis
  {
    echo "# Written by hastack for replica group $GROUP; Sentinel and CONFIG REWRITE update it."
    echo "bind $SELF 127.0.0.1"
    echo "port 6379"
    echo "protected-mode no"
    echo "daemonize yes"
    echo "pidfile /run/redis/redis-server.pid"
    echo "logfile /var/log/redis/redis-server.log"
    echo "dir /var/lib/redis"
    echo "requirepass $TOKEN"
    echo "user default on $PASSWORDS ~* &* +@all"
    echo "masterauth $TOKEN"
    echo "min-replicas-to-write $MIN_REPLICAS"
    echo "min-replicas-max-lag $MAX_LAG"
    echo "appendonly $APPENDONLY"
    echo "appendfsync everysec"
    echo "replica-serve-stale-data yes"
    echo "repl-diskless-sync yes"
    [ -n "$MAXMEMORY_POLICY" ] && echo "maxmemory-policy $MAXMEMORY_POLICY"
    [ -n "$PARAMETERS" ] && printf '%s\n' "$PARAMETERS"
    [ "$SELF" != "$PRIMARY" ] && echo "replicaof $PRIMARY 6379"
  } > /etc/redis/redis.conf
  {
    echo "# Written by hastack for replica group $GROUP; Sentinel rewrites it."
    echo "port 26379"
    echo "bind $SELF 127.0.0.1"
    echo "protected-mode no"
    echo "daemonize yes"
    echo "pidfile /run/sentinel/redis-sentinel.pid"
    echo "logfile /var/log/redis/redis-sentinel.log"
    echo "dir /var/lib/redis"
    echo "requirepass $TOKEN"
    echo "user default on $PASSWORDS ~* &* +@all"
    echo "sentinel sentinel-pass $TOKEN"
    echo "sentinel announce-ip $SELF"
    echo "sentinel monitor $GROUP $PRIMARY 6379 $QUORUM"
    echo "sentinel auth-pass $GROUP $TOKEN"
    echo "sentinel down-after-milliseconds $GROUP $DOWN_AFTER_MS"
    echo "sentinel failover-timeout $GROUP $FAILOVER_TIMEOUT_MS"
    echo "sentinel parallel-syncs $GROUP $PARALLEL_SYNCS"
  } > /etc/redis/sentinel.conf
  chown redis:redis /etc/redis/redis.conf /etc/redis/sentinel.conf
  chmod 0640 /etc/redis/redis.conf /etc/redis/sentinel.conf
  install -d -o redis -g redis -m 0755 /run/sentinel
  systemctl enable redis-server redis-sentinel >/dev/null 2>&1 || true
  systemctl restart redis-server
  wait_for "redis-server" rcli PING
  systemctl restart redis-sentinel
  wait_for "redis-sentinel" scli PING
  touch "$MARK"
else
  log "configured before: runtime changes only"
  # The auth token, in three steps with every member in step: (1) accept the new token beside
  # the previous one; once all do, (2) use it for replication and Sentinel; once all do, (3)
  # with "set", stop accepting the previous one. No Sentinel or replica ever holds a token
  # another member refuses (that would look like an outage and start a failover).
  BOTH=">$TOKEN"
  [ -n "$PREVIOUS" ] && BOTH=">$TOKEN >$PREVIOUS"
  authenticate rcli
  feed rcli <<REDIS
ACL SETUSER default on $BOTH
REDIS
  authenticate scli
  feed scli <<SENTINEL
ACL SETUSER default on $BOTH
SENTINEL
  export REDISCLI_AUTH="$TOKEN"
  everywhere "accept the new token" accepts_token
  feed rcli <<REDIS
MULTI
CONFIG SET requirepass $TOKEN
ACL SETUSER default on resetpass $BOTH
CONFIG SET masterauth $TOKEN
EXEC
REDIS
  feed scli <<SENTINEL
SENTINEL SET $GROUP auth-pass $TOKEN
SENTINEL CONFIG SET sentinel-pass $TOKEN
SENTINEL FLUSHCONFIG
SENTINEL
  if [ "$PASSWORDS" != "$BOTH" ]; then
    everywhere "use the new token" uses_token
    feed rcli <<REDIS
ACL SETUSER default on resetpass $PASSWORDS
REDIS
    feed scli <<SENTINEL
ACL SETUSER default on resetpass $PASSWORDS
SENTINEL
  fi
  rcli CONFIG REWRITE >/dev/null
  scli SENTINEL FLUSHCONFIG >/dev/null
  rcli CONFIG SET min-replicas-to-write "$MIN_REPLICAS" >/dev/null
  rcli CONFIG SET min-replicas-max-lag "$MAX_LAG" >/dev/null
  rcli CONFIG SET appendonly "$APPENDONLY" >/dev/null
  [ -n "$MAXMEMORY_POLICY" ] && rcli CONFIG SET maxmemory-policy "$MAXMEMORY_POLICY" >/dev/null
  if [ -n "$PARAMETERS" ]; then
    while read -r key value; do
      [ -n "$key" ] && rcli CONFIG SET "$key" "$value" >/dev/null
    done <<< "$PARAMETERS"
  fi
  rcli CONFIG REWRITE >/dev/null
  scli SENTINEL SET "$GROUP" quorum "$QUORUM" >/dev/null
  scli SENTINEL SET "$GROUP" down-after-milliseconds "$DOWN_AFTER_MS" >/dev/null
  scli SENTINEL SET "$GROUP" failover-timeout "$FAILOVER_TIMEOUT_MS" >/dev/null
  scli SENTINEL SET "$GROUP" parallel-syncs "$PARALLEL_SYNCS" >/dev/null
  # Members that left the group: Sentinel forgets nothing by itself.
  known=$( { scli SENTINEL replicas "$GROUP"; scli SENTINEL sentinels "$GROUP"; } | tr -d '\r' | awk 'p{print;p=0} $0=="ip"{p=1}')
  for ip in $known; do
    case " $MEMBERS " in
      *" $ip "*) ;;
      *) log "sentinel still knows $ip, which left the group: SENTINEL RESET"; scli SENTINEL RESET "$GROUP" >/dev/null; break ;;
    esac
  done
fi
log "redis $(rcli ROLE | head -1) on $SELF; sentinel watching $(scli SENTINEL get-master-addr-by-name "$GROUP" | head -1)"
