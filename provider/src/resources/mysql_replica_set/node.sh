#!/bin/bash
# hastack: configure one member of a hastack_mysql_replica_set (run over SSM Run Command on every
# member): MariaDB with hastack's safety settings, etcd on the first three members, and the
# agent that holds or follows the leader lease. The replication password is read here from
# Parameter Store with the node's credentials; it is written only to the agent's 0600
# configuration and to MariaDB (never in this script, its parameters or its output).
# Idempotent: a configured member only gets its configuration files rewritten and the agent
# restarted; data and replication stay as they are.
set -euo pipefail
umask 077
# Parameter Store throttles and sometimes answers 5xx; the CLI's default of 3 attempts can run
# out under load, so retry longer (standard mode: exponential backoff with jitter).
export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=10

SET='@SET@'
REGION='@REGION@'
MEMBERS='@MEMBERS@'
ETCD_MEMBERS='@ETCD_MEMBERS@'
# The member that replaces an etcd member of a running set: it joins the existing cluster.
ETCD_JOIN='@ETCD_JOIN@'
INITIAL_PRIMARY='@PRIMARY@'
TTL='@TTL@'
AUTO='@AUTO@'
BLOCK='@BLOCK@'
SEMISYNC_TIMEOUT_MS='@SEMISYNC_TIMEOUT_MS@'
REPL_PARAM='@REPL_PARAM@'
PARAMETERS=$(base64 -d <<'HASTACK_PARAMETERS'
@PARAMETERS_B64@
HASTACK_PARAMETERS
)

STATE_DIR=/var/lib/hastack
MARK="$STATE_DIR/mysql-$SET.configured"
mkdir -p "$STATE_DIR" /etc/hastack /usr/local/lib/hastack
log() { echo "hastack-mysql: $*"; }

SELF='' INDEX=0 i=0
for m in $MEMBERS; do
  for ip in $(hostname -I); do [ "$ip" = "$m" ] && { SELF=$m; INDEX=$i; }; done
  i=$((i + 1))
done
[ -n "$SELF" ] || { log "none of this host's addresses ($(hostname -I)) is a member ($MEMBERS)" >&2; exit 1; }

need() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  log "installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need mariadbd mariadb-server
need mariadb-dump mariadb-client
need aws awscli
need python3 python3

REPL_PASSWORD=$(aws ssm get-parameter --region "$REGION" --name "$REPL_PARAM" --with-decryption \
  --query Parameter.Value --output text)
[ -n "$REPL_PASSWORD" ] || { log "the replication password parameter $REPL_PARAM is empty" >&2; exit 1; }

# MariaDB: hastack's settings come last, so no other file overrides them.
{
  echo "# Written by hastack for replica set $SET: safety settings users cannot override."
  echo "[mariadbd]"
  # Unique for as long as the set lives: a member moved to a new instance keeps its index but
  # not its address, and replicas skip events carrying their own server_id.
  echo "server_id = $(IFS=. read -r a b c d <<< "$SELF"; echo $(( (a << 24) + (b << 16) + (c << 8) + d )))"
  echo "bind_address = 0.0.0.0"
  echo "log_bin = mariadb-bin"
  echo "log_slave_updates = ON"
  echo "binlog_format = ROW"
  echo "gtid_domain_id = 0"
  echo "gtid_strict_mode = ON"
  echo "sync_binlog = 1"
  echo "innodb_flush_log_at_trx_commit = 1"
  echo "sync_master_info = 1"
  echo "relay_log_recovery = ON"
  echo "skip_slave_start = ON"
  echo "read_only = ON"
  # The agent turns it on when it promotes this member, and never off: a primary's commits
  # wait for a replica. At boot a member is a replica, so nothing it writes can block.
  echo "rpl_semi_sync_master_enabled = OFF"
  echo "rpl_semi_sync_slave_enabled = ON"
  echo "rpl_semi_sync_master_wait_point = AFTER_SYNC"
  echo "rpl_semi_sync_master_wait_no_slave = ON"
  echo "rpl_semi_sync_master_timeout = $SEMISYNC_TIMEOUT_MS"
  echo "slave_net_timeout = 4"
  [ -n "$PARAMETERS" ] && printf '%s\n' "$PARAMETERS"
} > /etc/mysql/mariadb.conf.d/99-hastack.cnf
chmod 0644 /etc/mysql/mariadb.conf.d/99-hastack.cnf
# The mariadb client prints a failed statement by default, and some carry a password (users,
# replication): never into a Run Command's output or the agent's log.
printf '%s\n' "# Written by hastack: a failed statement is never printed (some carry a password)." \
  "[mysql]" "loose-print-query-on-error = 0" > /etc/mysql/mariadb.conf.d/98-hastack-client.cnf
chmod 0644 /etc/mysql/mariadb.conf.d/98-hastack-client.cnf

# etcd on the first members (3, or 5 in larger sets): the leader lease lives there.
ETCD_URLS='' CLUSTER='' n=0
for m in $ETCD_MEMBERS; do
  ETCD_URLS="$ETCD_URLS\"http://$m:2379\","
  CLUSTER="${CLUSTER}m$n=http://$m:2380,"
  n=$((n + 1))
done
case " $ETCD_MEMBERS " in
  *" $SELF "*)
    need etcd etcd-server
    DATA=/var/lib/etcd/hastack-$SET
    if [ -d "$DATA/member" ]; then
      # etcd keeps its membership in its data: the configuration it started with stays.
      :
    else
      NAME='' STATE=new INITIAL=${CLUSTER%,}
      n=0; for m in $ETCD_MEMBERS; do [ "$m" = "$SELF" ] && NAME=m$n; n=$((n + 1)); done
      if [ "$SELF" = "$ETCD_JOIN" ]; then
        # Replacing a member of a running cluster: add this one (a name no predecessor had)
        # through the others, and start with the membership they report.
        NAME="m-$SELF"
        others=''
        for m in $ETCD_MEMBERS; do [ "$m" != "$SELF" ] && others="$others $m"; done
        INITIAL=$(SELF="$SELF" NAME="$NAME" OTHERS="$others" python3 - <<'PY'
import json, os, sys, urllib.request

me = f"http://{os.environ['SELF']}:2380"


def call(path, body):
    last = None
    for ip in os.environ["OTHERS"].split():
        req = urllib.request.Request(f"http://{ip}:2379{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return json.load(r)
        except OSError as e:
            last = e
    sys.exit(f"no etcd member answered {path}: {last}")


members = call("/v3/cluster/member/list", {}).get("members", [])
if not any(me in m.get("peerURLs", []) for m in members):
    call("/v3/cluster/member/add", {"peerURLs": [me]})
    members = call("/v3/cluster/member/list", {}).get("members", [])
pairs = []
for m in members:
    name = m.get("name") or (os.environ["NAME"] if me in m.get("peerURLs", []) else "")
    pairs += [f"{name}={u}" for u in m.get("peerURLs", []) if name]
print(",".join(pairs))
PY
)
        STATE=existing
        log "joining etcd as $NAME: $INITIAL"
      fi
      cat > /etc/default/etcd <<CONF
# Written by hastack for replica set $SET.
ETCD_NAME=$NAME
ETCD_DATA_DIR=$DATA
ETCD_LISTEN_PEER_URLS=http://$SELF:2380
ETCD_LISTEN_CLIENT_URLS=http://$SELF:2379,http://127.0.0.1:2379
ETCD_INITIAL_ADVERTISE_PEER_URLS=http://$SELF:2380
ETCD_ADVERTISE_CLIENT_URLS=http://$SELF:2379
ETCD_INITIAL_CLUSTER=$INITIAL
ETCD_INITIAL_CLUSTER_STATE=$STATE
ETCD_INITIAL_CLUSTER_TOKEN=hastack-$SET
ETCD_HEARTBEAT_INTERVAL=100
ETCD_ELECTION_TIMEOUT=1000
# A member cut off and back must not force an election (and a lease extension) on its return.
ETCD_PRE_VOTE=true
CONF
      chmod 0644 /etc/default/etcd
      install -d -o etcd -g etcd -m 0700 "$DATA"
    fi
    systemctl enable etcd >/dev/null 2>&1 || true
    systemctl is-active etcd >/dev/null 2>&1 || systemctl start etcd
    ;;
esac

# The agent: configuration (with the replication password, 0600), program, service.
REPL_PASSWORD="$REPL_PASSWORD" SET="$SET" SELF="$SELF" MEMBERS="$MEMBERS" ETCD_URLS="[${ETCD_URLS%,}]" \
INITIAL_PRIMARY="$INITIAL_PRIMARY" TTL="$TTL" AUTO="$AUTO" BLOCK="$BLOCK" python3 - <<'PY'
import json, os
conf = {
    "set": os.environ["SET"], "self": os.environ["SELF"], "members": os.environ["MEMBERS"].split(),
    "etcd": json.loads(os.environ["ETCD_URLS"]),
    "initial_primary": os.environ["INITIAL_PRIMARY"], "ttl": int(os.environ["TTL"]),
    "automatic_failover": os.environ["AUTO"] == "true", "block_period": float(os.environ["BLOCK"]),
    "replication_password": os.environ["REPL_PASSWORD"],
}
fd = os.open("/etc/hastack/mysql-agent.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump(conf, f)
PY
# Renamed into place: an agent (re)starting meanwhile never reads a half-written file.
base64 -d > /usr/local/lib/hastack/mysql-agent.py.new <<'HASTACK_AGENT'
@AGENT_B64@
HASTACK_AGENT
chmod 0755 /usr/local/lib/hastack/mysql-agent.py.new
mv -f /usr/local/lib/hastack/mysql-agent.py.new /usr/local/lib/hastack/mysql-agent.py
cat > /etc/systemd/system/hastack-mysql-agent.service <<'UNIT'
[Unit]
Description=hastack MariaDB agent (leader lease in etcd)
After=network-online.target mariadb.service etcd.service
[Service]
ExecStart=/usr/bin/python3 /usr/local/lib/hastack/mysql-agent.py /etc/hastack/mysql-agent.json
# The same file as under the init script (what an operator and a log pipeline read).
StandardOutput=append:/var/log/hastack-mysql-agent.log
StandardError=append:/var/log/hastack-mysql-agent.log
Restart=always
RestartSec=1
[Install]
WantedBy=multi-user.target
UNIT
cat > /etc/init.d/hastack-mysql-agent <<'INIT'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          hastack-mysql-agent
# Required-Start:    $network mariadb
# Required-Stop:     $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: hastack MariaDB agent
### END INIT INFO
PIDFILE=/run/hastack-mysql-agent.pid
case "$1" in
  start)
    start-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile $PIDFILE \
      --startas /bin/sh -- -c 'exec /usr/bin/python3 /usr/local/lib/hastack/mysql-agent.py /etc/hastack/mysql-agent.json >>/var/log/hastack-mysql-agent.log 2>&1' ;;
  stop) start-stop-daemon --stop --quiet --oknodo --retry 5 --pidfile $PIDFILE; rm -f $PIDFILE ;;
  restart|force-reload|reload) "$0" stop; "$0" start ;;
  status) start-stop-daemon --status --pidfile $PIDFILE ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 1 ;;
esac
INIT
chmod 0755 /etc/init.d/hastack-mysql-agent

if [ ! -e "$MARK" ]; then
  log "first configuration of $SELF (member $INDEX)"
  systemctl enable mariadb >/dev/null 2>&1 || true
  systemctl restart mariadb
  for _ in $(seq 1 100); do mariadb -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
  # The replication user, on every member and outside the binlog (each may become primary;
  # it is also what a diverged member rebuilds itself with).
  mariadb --loose-skip-print-query-on-error <<SQL
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'hastack_repl'@'%' IDENTIFIED BY '$REPL_PASSWORD';
ALTER USER 'hastack_repl'@'%' IDENTIFIED BY '$REPL_PASSWORD';
GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR, SELECT, RELOAD, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER ON *.* TO 'hastack_repl'@'%';
SQL
  touch "$MARK"
else
  log "configured before: configuration rewritten, data kept"
  # Dynamic server variables take effect now (the file keeps them for restarts).
  if [ -n "$PARAMETERS" ]; then
    while IFS= read -r line; do
      [ -n "$line" ] && mariadb -e "SET GLOBAL $line"
    done <<< "$PARAMETERS"
  fi
fi
systemctl enable hastack-mysql-agent >/dev/null 2>&1 || true
# Restart the agent only when its program or configuration changed (a restarted primary's agent
# takes its lease back, but there is no reason to make it).
SUM=$(cat /usr/local/lib/hastack/mysql-agent.py /etc/hastack/mysql-agent.json | sha256sum | cut -c1-64)
if [ "$(cat "$STATE_DIR/mysql-agent.sum" 2>/dev/null)" != "$SUM" ] || ! systemctl is-active hastack-mysql-agent >/dev/null 2>&1; then
  systemctl restart hastack-mysql-agent
  echo "$SUM" > "$STATE_DIR/mysql-agent.sum"
  log "agent (re)started on $SELF"
else
  log "agent unchanged on $SELF"
fi
