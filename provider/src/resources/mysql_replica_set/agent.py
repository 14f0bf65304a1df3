#!/usr/bin/python3
"""hastack MariaDB agent: one per member of a hastack_mysql_replica_set (python3 standard library).

Consensus is etcd's, not ours: the primary holds the key /hastack/mysql/<set>/leader under a
lease (Patroni's rules). Every loop (1 s) the primary renews the lease, or demotes itself
(read_only=ON, app sessions killed) before the lease can expire. When the key is gone, each
replica stops its IO thread, applies its relay log and publishes its GTID position; once every
live member has reported, the most advanced one takes the key in an etcd transaction (the
key's create revision is the fencing epoch), leaves read-only, and the others follow it with
MASTER_USE_GTID=current_pos (a former primary asks for its own last transaction too, so an
unacknowledged tail shows as divergence, and the member rebuilds itself from the primary). A returning old primary rejoins as a replica. HTTP on :8008:
GET /primary is 200 only while this member holds the lease with writes on; GET /replica is 200
on a replica whose SQL and IO threads run; GET /status is this member's JSON view.
Configuration: /etc/hastack/mysql-agent.json (0600; the replication password stays there).
"""
import base64
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

CONF = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "/etc/hastack/mysql-agent.json"))
SET = CONF["set"]
ME = CONF["self"]
MEMBERS = CONF["members"]  # private IPs, by index
ETCD = CONF["etcd"]  # client URLs
TTL = int(CONF.get("ttl", 5))
LOOP = 1.0
ELECTING_LOOP = 0.2  # while an election runs: members report and the winner sees them sooner
RETRY = 2.0  # demote when the lease could not be renewed for TTL - RETRY seconds
DOWN_AFTER = 2.0  # MariaDB is down once it has not answered for this long
ETCD_CHECK = 5.0  # how often the primary checks that etcd's leader is on another member
REQUEST_FOR = 60.0  # a switchover request counts for this long (switchover.sh waits 50 s)
HANDOVER_FOR = 45.0  # the primary lets go of the lease only this long after the request
AUTO = bool(CONF.get("automatic_failover", True))
BLOCK = float(CONF.get("block_period", 300))
PREFIX = f"/hastack/mysql/{SET}/"
STATE = {"role": "starting", "leader": "", "epoch": 0, "writable": False, "last_error": "",
         "gtid": "", "lag": None, "io": "", "sql": "", "failovers": 0, "last_failover": 0.0,
         "replicating": False}
LOCK = threading.Lock()


def log(msg):
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    print(f"{stamp} {now:.3f} hastack-mysql-agent: {msg}", flush=True)


# --- etcd v3 JSON gateway --------------------------------------------------------------
def b64(s):
    return base64.b64encode(s.encode()).decode()


def unb64(s):
    return base64.b64decode(s).decode() if s else ""


# This member's own etcd first (when it runs one), then the others; whichever answered last
# is asked first next time, so an unreachable member costs one timeout, not one per call.
ETCD.sort(key=lambda url: 0 if url == f"http://{ME}:2379" else 1)


def post(url, body, timeout):
    """One etcd gRPC-gateway call: JSON in, JSON out."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"{}")


def etcd(path, body, timeout=1.0):
    last = None
    for url in list(ETCD):
        try:
            out = post(url + path, body, timeout)
            if ETCD[0] != url:
                ETCD.remove(url)
                ETCD.insert(0, url)
            return out
        except (urllib.error.URLError, OSError, ValueError) as e:
            last = e
    raise OSError(f"etcd unreachable: {last}")


def get(key):
    value, revision, _ = get_kv(key)
    return value, revision


def get_kv(key):
    """(value, create revision, lease id) of key, or (None, 0, None)."""
    r = etcd("/v3/kv/range", {"key": b64(PREFIX + key)})
    kvs = r.get("kvs") or []
    if not kvs:
        return None, 0, None
    kv = kvs[0]
    return unb64(kv.get("value", "")), int(kv.get("create_revision", 0)), kv.get("lease")


def get_prefix(key):
    start = PREFIX + key
    end = start[:-1] + chr(ord(start[-1]) + 1)
    r = etcd("/v3/kv/range", {"key": b64(start), "range_end": b64(end)})
    return {unb64(kv["key"])[len(start):]: unb64(kv.get("value", "")) for kv in r.get("kvs") or []}


def put(key, value, lease=None):
    body = {"key": b64(PREFIX + key), "value": b64(value)}
    if lease:
        body["lease"] = lease
    etcd("/v3/kv/put", body)


def delete(key):
    etcd("/v3/kv/deleterange", {"key": b64(PREFIX + key)})


def grant(ttl):
    return etcd("/v3/lease/grant", {"TTL": ttl})["ID"]


def keepalive(lease):
    r = etcd("/v3/lease/keepalive", {"ID": lease})
    return int((r.get("result") or {}).get("TTL", 0)) > 0


def revoke(lease):
    try:
        etcd("/v3/lease/revoke", {"ID": lease})
    except OSError:
        pass


def local_etcd(path, body, timeout=0.5):
    """This member's own etcd only (None when it runs none or does not answer)."""
    try:
        return post(f"http://{ME}:2379{path}", body, timeout)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def move_etcd_leader():
    """Called on the primary: when its own etcd leads the etcd cluster, hand raft leadership
    to another member's etcd. Losing the primary's host then never also loses the etcd leader,
    which would add an etcd election (and the lease extension a new etcd leader grants every
    lease) to the failover. Returns what happened, or None when nothing had to move."""
    st = local_etcd("/v3/maintenance/status", {})
    if not st:
        return None
    me = (st.get("header") or {}).get("member_id")
    if not me or st.get("leader") != me:
        return None
    members = (local_etcd("/v3/cluster/member/list", {}) or {}).get("members") or []
    for m in members:
        if m.get("ID") == me or m.get("isLearner"):
            continue
        # MoveLeader goes to the leader, that is to this member's etcd; it answers once the
        # target leads (or fails when the target cannot take over: the next check tries again).
        if local_etcd("/v3/maintenance/transfer-leadership", {"targetID": m["ID"]}, timeout=2.0) is not None:
            return f"moved etcd leadership to {m.get('name') or m['ID']}"
    return "could not move etcd leadership: no other member's etcd took it"


def put_while_leader(key, value, epoch):
    """Put key only while the leader key of `epoch` (its create revision) exists: a handover
    key written for a primary that is already gone must never count."""
    r = etcd("/v3/kv/txn", {
        "compare": [{"key": b64(PREFIX + "leader"), "target": "CREATE", "create_revision": str(epoch)}],
        "success": [{"request_put": {"key": b64(PREFIX + key), "value": b64(value)}}],
    })
    return bool(r.get("succeeded"))


def clear_handover(request_done):
    """Delete the handover keys, and the switchover request too when it is done. Called before
    a leaseholder turns writes on: no handover key may outlive writes it does not cover."""
    for k in ("handover_pos", "handover_ready") + (("switchover",) if request_done else ()):
        delete(k)


def take(key, value, lease):
    """Create key only if it does not exist: the etcd transaction that makes a leader."""
    r = etcd("/v3/kv/txn", {
        "compare": [{"key": b64(PREFIX + key), "target": "CREATE", "create_revision": "0"}],
        "success": [{"request_put": {"key": b64(PREFIX + key), "value": b64(value), "lease": lease}}],
    })
    return bool(r.get("succeeded"))


# --- MariaDB through its command-line client (root over the unix socket) --------------
def sql(query, timeout=5):
    # A failed statement is never printed back (CHANGE MASTER carries the replication password;
    # node.sh's client file says the same, this holds even without it).
    p = subprocess.run(["mariadb", "--loose-skip-print-query-on-error", "-N", "-B", "--connect-timeout=2"],
                       input=query, text=True,
                       capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    return [line.split("\t") for line in p.stdout.splitlines()]


def slave_status():
    p = subprocess.run(["mariadb", "-B", "--connect-timeout=2", "-e", "SHOW SLAVE STATUS"],
                       text=True, capture_output=True, timeout=5)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    lines = p.stdout.splitlines()
    if len(lines) < 2:
        return {}
    return dict(zip(lines[0].split("\t"), lines[1].split("\t")))


def variable(name):
    rows = sql(f"SELECT @@GLOBAL.{name}")
    return rows[0][0] if rows else ""


def gtid0(pos):
    """The domain-0 GTID of a GTID position ("0-1-42,1-2-7" → "0-1-42"), or ""."""
    for part in pos.split(","):
        if part.strip().startswith("0-"):
            return part.strip()
    return ""


def seq(gtid):
    """The sequence number of domain 0 in a GTID position ("0-1-42" → 42)."""
    best = 0
    for part in gtid.split(","):
        bits = part.strip().split("-")
        if len(bits) == 3 and bits[0] == "0":
            best = max(best, int(bits[2]))
    return best


def repl_password():
    return CONF["replication_password"]


def follow(leader, st=None):
    """Replicate from `leader` (`st`: this member's SHOW SLAVE STATUS, when just read)."""
    # A former primary keeps semi-sync master on after a demotion without restart; as a
    # replica with log_slave_updates its SQL thread would then wait for an acknowledgement
    # of every applied transaction from replicas it does not have, and stall.
    if variable("rpl_semi_sync_master_enabled") == "1":
        log("semi-sync master off (this member is a replica now)")
        sql("SET GLOBAL rpl_semi_sync_master_enabled=OFF")
    if st is None:
        st = slave_status()
    if st.get("Master_Host") == leader and st.get("Slave_IO_Running") == "Yes" and st.get("Slave_SQL_Running") == "Yes":
        return
    log(f"following {leader}")
    sql("SET SESSION lock_wait_timeout = 2; SET GLOBAL read_only = ON", timeout=5)
    sql("STOP SLAVE")
    sql(f"CHANGE MASTER TO MASTER_HOST='{leader}', MASTER_PORT=3306, MASTER_USER='hastack_repl', "
        f"MASTER_PASSWORD='{repl_password()}', MASTER_USE_GTID=current_pos, MASTER_CONNECT_RETRY=1, "
        f"MASTER_HEARTBEAT_PERIOD=1")
    sql("START SLAVE")


DUMP = "/var/lib/hastack/mysql-seed.sql"
# Exists from the moment a copy starts replacing this member's data until the copy is complete
# and its position set: while it does, the member copies again and counts in no election.
COPYING = "/var/lib/hastack/mysql-copying"


def copying():
    return os.path.exists(COPYING)


def discard(path):
    """Remove `path` if it is there (a file that cannot be removed shows up where it is next
    created, with O_EXCL)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def leader_gtid(leader):
    """The leader's gtid_current_pos, asked over the private network ("" when it holds no
    transaction; None when it does not answer). Not gtid_binlog_pos: a leader that was itself
    copied has an empty binlog until its next write, and still has data."""
    env = dict(os.environ, MYSQL_PWD=repl_password())
    p = subprocess.run(["mariadb", "-N", "-B", "--connect-timeout=2", "-h", leader, "-u", "hastack_repl",
                        "-e", "SELECT @@GLOBAL.gtid_current_pos"],
                       env=env, text=True, capture_output=True, timeout=5)
    return p.stdout.strip() if p.returncode == 0 else None


def rebuild(leader, why):
    """Replace this member's data with a consistent copy of the leader's (mariadb-dump over the
    private network, GTID position included, streamed to a file so memory stays flat), then
    follow it. COPYING marks the data partial from the moment it is first changed until the
    copy's position is set."""
    log(f"{why}: copying {leader}'s data")
    started = time.time()
    env = dict(os.environ, MYSQL_PWD=repl_password())
    sql("STOP SLAVE")
    sql("RESET SLAVE ALL")
    try:
        discard(DUMP)
        # The copy holds the users' password hashes: readable by root only from the start.
        with os.fdopen(os.open(DUMP, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            dump = subprocess.run(
                ["mariadb-dump", "-h", leader, "-u", "hastack_repl", "--all-databases", "--single-transaction",
                 "--gtid", "--master-data=2", "--routines", "--events", "--triggers",
                 # The users arrive as rows of mysql.global_priv: without a FLUSH PRIVILEGES
                 # after them the server would not know them until its next restart.
                 "--flush-privileges",
                 # InnoDB's statistics are the server's own (rebuilt as it goes), and reloading
                 # them under a running server can collide with its own updates.
                 "--ignore-table=mysql.innodb_index_stats", "--ignore-table=mysql.innodb_table_stats"],
                env=env, stdout=out, stderr=subprocess.PIPE, timeout=600)
        if dump.returncode != 0:
            log(f"mariadb-dump from {leader}: {dump.stderr.decode()[-300:]}")
            raise RuntimeError(f"the dump from {leader} failed (exit {dump.returncode}; see the agent's log)")
        # The position is a comment line at the dump's end (--master-data=2 with --gtid); the
        # tables' contents (the help tables among them) are never lines starting with "--".
        found = None
        with open(DUMP, "rb") as f:
            for line in f:
                if line.startswith(b"-- SET GLOBAL gtid_slave_pos="):
                    found = re.match(rb"-- SET GLOBAL gtid_slave_pos='([0-9,-]*)';", line)
        if not found:
            raise RuntimeError(f"the dump from {leader} carries no GTID position")
        # From here the data is partial until the copy's position is set.
        open(COPYING, "w").close()
        # Nothing of this member's own history stays: no binlog, no replication position, no
        # database the leader does not have (a diverged tail's DDL; the copy recreates the
        # others and replaces their tables).
        sql("RESET MASTER")
        sql("SET GLOBAL gtid_slave_pos=''")
        # Readers still connected (the sidecar stopped sending new ones) would hold the tables
        # the copy drops and replaces.
        kill_app_sessions()
        for (db,) in sql("SHOW DATABASES"):
            if db not in ("mysql", "information_schema", "performance_schema", "sys") and not db.startswith("#"):
                sql(f"SET SESSION sql_log_bin=0; DROP DATABASE `{db.replace('`', '``')}`", timeout=120)
        with open(DUMP, "rb") as f:
            load = subprocess.run(["mariadb", "--loose-skip-print-query-on-error", "--init-command=SET sql_log_bin=0"],
                                  stdin=f, capture_output=True, timeout=600)
        if load.returncode != 0:
            # Its message may quote table data: the log only, not /status.
            log(f"loading the copy: {load.stderr.decode()[-300:]}")
            raise RuntimeError(f"loading the copy of {leader}'s data failed (exit {load.returncode}; see the agent's log)")
        size = os.path.getsize(DUMP)
    finally:
        discard(DUMP)
    pos = found.group(1).decode()
    if pos:
        # The binlog continues from the copy's position: this member's own next transaction
        # (as primary) follows it, and a copy taken from this member carries it (mariadb-dump
        # reads the position from the binlog, empty after RESET MASTER).
        sql(f"SET GLOBAL gtid_binlog_state='{pos}'")
    sql(f"SET GLOBAL gtid_slave_pos='{pos}'")
    os.unlink(COPYING)
    log(f"copied {leader}'s data at {pos} ({size} bytes in {time.time() - started:.1f}s)")
    follow(leader)


def kill_app_sessions():
    """End every app session (after read_only is on; none holds READ ONLY ADMIN), so clients
    reconnect through the sidecar to the new primary."""
    for row in sql("SELECT id FROM information_schema.processlist WHERE user NOT IN "
                   "('root','system user','hastack_repl','event_scheduler','') AND id <> CONNECTION_ID()"):
        try:
            sql(f"KILL CONNECTION {row[0]}")
        except RuntimeError:
            pass


def demote(why):
    """Stop writes. read_only waits for commits in flight, and on a primary cut off from its
    replicas those wait for an acknowledgement that cannot come. Ending their sessions would
    not do: the interrupted commit completes and its client may still get an OK for a write
    no replica has. So when read_only cannot be set at once, MariaDB is stopped hard (its
    supervisor restarts it read-only); no pending commit is ever acknowledged, and the
    unacknowledged tail makes this member rebuild itself when it follows the new primary."""
    with LOCK:
        STATE["writable"] = False
    log(f"demoting: {why}")
    try:
        sql("SET SESSION lock_wait_timeout = 1; SET GLOBAL read_only = ON", timeout=4)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        log(f"read_only blocked by commits waiting for a replica ({e}): stopping MariaDB hard")
        subprocess.run(["pkill", "-9", "-x", "mariadbd"], check=False)
        return
    try:
        kill_app_sessions()
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        log(f"could not end app sessions: {e}")


def promote(epoch, renewed):
    """Leave read-only as the primary of `epoch`, whose lease was last renewed at `renewed`:
    never once the watchdog would already demote (the lease may be gone by then)."""
    log(f"promoting (epoch {epoch})")
    sql("STOP SLAVE")
    sql("RESET SLAVE ALL")
    # From now on every commit waits for a replica to have it (never switched off again).
    sql("SET GLOBAL rpl_semi_sync_master_enabled=ON")
    if time.time() - renewed > TTL - RETRY:
        raise RuntimeError(f"the lease was renewed {time.time() - renewed:.1f}s ago: writes stay off")
    sql("SET GLOBAL read_only=OFF")
    with LOCK:
        STATE.update(role="primary", writable=True, epoch=epoch)


def drain():
    """Stop receiving, apply what was received, and return gtid_current_pos."""
    st = slave_status()
    if st:
        sql("STOP SLAVE IO_THREAD")
        st = slave_status()
        io = st.get("Gtid_IO_Pos", "")
        if io and st.get("Slave_SQL_Running") == "Yes":
            sql(f"SELECT MASTER_GTID_WAIT('{io}', 5)", timeout=8)
    return variable("gtid_current_pos")


class Agent:
    def __init__(self):
        self.lease = None
        self.renewed = 0.0
        self.mlease = None
        # The epoch (leader key revision) whose primary this member last held or replicated
        # from without error: a former primary's unacknowledged tail never outranks it.
        self.synced = 0
        # Since when MariaDB has not answered (None: it answers).
        self.down_since = None
        # When the primary last checked where etcd's leader is.
        self.etcd_checked = 0.0
        # Whether this member's election report may still be in etcd.
        self.candidate = False
        # Failed copies in a row, and when the next may start.
        self.copy_failures = 0
        self.copy_after = 0.0
        # Whether this loop saw replication running (what GET /replica serves).
        self.replicating = False

    def member_lease(self):
        """This member's liveness key (its own lease): who must report in an election."""
        try:
            if self.mlease is None or not keepalive(self.mlease):
                self.mlease = grant(TTL)
                put(f"members/{ME}", "1", self.mlease)
        except (OSError, KeyError):
            self.mlease = None

    def step(self):
        """One loop; GET /replica serves what it found (not replicating unless it saw both
        threads run, whatever path or error ended it)."""
        self.replicating = False
        try:
            self.loop()
        finally:
            with LOCK:
                STATE["replicating"] = self.replicating

    def loop(self):
        mariadb_up = True
        try:
            ro = variable("read_only")
            self.down_since = None
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
            # One failed query (a busy server, a connection refused once) is not an outage: it
            # is down after DOWN_AFTER seconds of failures. A crashed mariadbd is restarted by
            # its supervisor within that, and keeps its lease.
            now = time.time()
            if self.down_since is None:
                self.down_since = now
                log(f"MariaDB does not answer: {e}")
            mariadb_up = now - self.down_since < DOWN_AFTER
            ro = "1"
        # Only a member whose MariaDB answers counts in an election.
        if mariadb_up and not copying():
            self.member_lease()
        elif self.mlease is not None:
            revoke(self.mlease)
            self.mlease = None
        try:
            leader, epoch = get("leader")
        except OSError as e:
            # No etcd quorum reachable: a primary must stop writes before its lease expires.
            if STATE["role"] == "primary" and time.time() - self.renewed > TTL - RETRY:
                demote(f"cannot renew the lease ({e})")
                with LOCK:
                    STATE["role"] = "demoted"
            with LOCK:
                STATE["last_error"] = str(e)
            return
        if leader == ME:
            if not mariadb_up:
                log("MariaDB is down: giving up the lease")
                if self.lease:
                    revoke(self.lease)
                self.lease = None
                with LOCK:
                    STATE.update(role="down", writable=False)
                return
            if self.lease is None:
                # A restarted agent (new configuration, or a crash): the key is still ours, so
                # keep renewing the same lease; writes never stop for it.
                self.lease = get_kv("leader")[2]
                self.renewed = time.time()
                log(f"holding the lease again after a restart (epoch {epoch})")
                if self.lease is None:
                    return
            try:
                ok = keepalive(self.lease)
            except OSError:
                ok = False
            if ok:
                self.renewed = time.time()
                self.synced = epoch
                with LOCK:
                    STATE.update(leader=ME, epoch=epoch)
                request = self.switchover_request()
                # Hand over while the request is young (the target then has 15 s to take the
                # key before the request expires) and the target is live.
                if (request and request[0] != ME and time.time() - request[2] < HANDOVER_FOR
                        and request[0] in get_prefix("members/")):
                    self.hand_over(request[1], epoch, ro)
                    return
                if ro == "1":
                    # Read-only while holding the lease: just elected (campaign's cleanup
                    # failed), MariaDB restarted (it boots read-only), or a switchover
                    # abandoned or to a member that is gone. First no handover key may outlive
                    # the writes about to start, then promote() (which also ends replication
                    # left over from before this member took the key).
                    clear_handover(request is None or request[0] == ME)
                    promote(epoch, self.renewed)
                with LOCK:
                    STATE.update(role="primary", writable=True, leader=ME, epoch=epoch)
                if time.time() - self.etcd_checked > ETCD_CHECK:
                    self.etcd_checked = time.time()
                    moved = move_etcd_leader()
                    if moved:
                        log(moved)
            elif time.time() - self.renewed > TTL - RETRY:
                demote("lease lost")
                self.lease = None
                with LOCK:
                    STATE["role"] = "demoted"
            return
        if STATE["role"] == "primary" or (ro == "0" and leader != ME):
            demote(f"leader is {leader or 'nobody'}")
            self.lease = None
        if leader:
            with LOCK:
                STATE.update(leader=leader, epoch=epoch, role="replica" if mariadb_up else "down", writable=False)
            if self.candidate:
                # A report put after the winner cleared them would count in the next election.
                self.clear_candidate()
            if mariadb_up:
                self.follow_or_rebuild(leader)
                request = self.switchover_request()
                if request and request[0] == ME:
                    self.catch_up(request[1], epoch)
                st = slave_status()
                running = st.get("Slave_IO_Running") == "Yes" and st.get("Slave_SQL_Running") == "Yes"
                self.replicating = running and not copying()
                if running:
                    self.synced = epoch
            return
        # No leader.
        if STATE["leader"]:
            log(f"no leader (it was {STATE['leader']})")
            with LOCK:
                STATE["leader"] = ""
        if not mariadb_up or copying():
            # (A member whose data is a partial copy never takes the key, by any path.)
            return
        # A handover: the last primary stopped writes, published where, and its target
        # confirmed it had applied everything up to there. Any leaseholder deletes both keys
        # before it takes writes, so a matching pair covers every write since: only the target
        # takes the key (however old the request is by now), while it is live.
        ready = get("handover_ready")[0] or ""
        if ready and ready == (get("handover_pos")[0] or "").partition("|")[0]:
            target = ready.split("/")[1].partition(" ")[0] if ready.count("/") >= 2 else ""
            if target == ME:
                self.campaign(first=False, planned=True)
                return
            if target in get_prefix("members/"):
                return
        if self.switchover_request():
            # A switchover with no handover (the primary went away before it, or the set has
            # no primary: a promotion by hand), or whose target is gone: the target may not
            # have every acknowledged write, so the most advanced member wins an election
            # (asked for by the switchover, so neither automatic_failover_enabled nor the block
            # period holds it back) and hands over to the target after.
            self.elect()
            return
        init = get("initialized")[0]
        if init is None:
            # A new set: only the initial primary may start it.
            if ME == CONF["initial_primary"]:
                self.campaign(first=True)
            return
        if not AUTO:
            with LOCK:
                STATE.update(role="no-leader", last_error="automatic failover is off")
            return
        last = float(get("last_failover")[0] or 0)
        if time.time() - last < BLOCK:
            with LOCK:
                STATE.update(role="no-leader", last_error=f"failover blocked until {last + BLOCK:.0f}")
            return
        self.elect()

    def switchover_request(self):
        """The pending planned switchover as (target, request, time asked) while it is fresh
        (REQUEST_FOR), else None. The request is the key's whole value (target and time)."""
        value = get("switchover")[0]
        if not value:
            return None
        target, _, since = value.partition(" ")
        try:
            asked = float(since or 0)
        except ValueError:
            return None
        return (target, value, asked) if time.time() - asked <= REQUEST_FOR else None

    def hand_over(self, request, epoch, ro):
        """The primary's part of a switchover: stop writes, say where they stopped, and let go
        of the lease once the target has applied everything up to there. Every loop does
        whatever is still missing, so a step that failed (MariaDB stopped hard because
        read_only was blocked by commits waiting for a replica, an etcd call that timed out, a
        restarted agent) is done again rather than holding the switchover until it is
        abandoned. The position's token, "<epoch>/<request>/<when writes stopped>", names this
        primary, this request and this stop of writes: the target's confirmation counts only
        for the very position it confirms."""
        target = request.partition(" ")[0]
        with LOCK:
            writable = STATE["writable"]
            STATE.update(role="handing-over", writable=False)
        stopped_now = writable or ro != "1"
        if stopped_now:
            demote(f"switchover to {target}")
        token = (get("handover_pos")[0] or "").partition("|")[0]
        if stopped_now or not token.startswith(f"{epoch}/{request}/"):
            # Where writes stopped, read once MariaDB itself says they have (after a hard stop
            # it answers again read-only).
            if variable("read_only") == "1":
                token = f"{epoch}/{request}/{time.time():.6f}"
                # gtid_current_pos, not gtid_binlog_pos: a member rebuilt from a dump has an
                # empty binlog until its next transaction.
                if put_while_leader("handover_pos", f"{token}|{variable('gtid_current_pos')}", epoch):
                    log(f"writes stopped for the switchover to {target}")
            return
        if get("handover_ready")[0] == token:
            log(f"{target} has every transaction: releasing the lease")
            revoke(self.lease)
            self.lease = None
            with LOCK:
                STATE["role"] = "replica"

    def catch_up(self, request, epoch):
        """The target's part: apply everything up to where this epoch's primary stopped
        writes, then confirm that very position (only while that primary holds the key)."""
        token, _, pos = (get("handover_pos")[0] or "").partition("|")
        if not token.startswith(f"{epoch}/{request}/") or get("handover_ready")[0] == token:
            return
        # This member's last transaction must be exactly the primary's last (GTID strict mode,
        # one domain). gtid_current_pos, not MASTER_GTID_WAIT alone: that waits on
        # gtid_slave_pos, which never reaches a position this member wrote itself as primary
        # (a switch back with no write in between). A higher or different last transaction is
        # a tail the primary does not have: never confirmed (the member rebuilds itself).
        want = gtid0(pos)
        have = gtid0(variable("gtid_current_pos"))
        if have != want:
            if seq(have) >= seq(want):
                with LOCK:
                    STATE["last_error"] = f"switchover: this member has {have}, the primary {want}"
                return
            rows = sql(f"SELECT MASTER_GTID_WAIT('{pos}', 1)", timeout=4)
            if not rows or rows[0][0] != "0" or gtid0(variable("gtid_current_pos")) != want:
                return
        if put_while_leader("handover_ready", token, epoch):
            log(f"caught up to {pos or 'an empty binlog'} for the switchover")

    def follow_or_rebuild(self, leader):
        if copying():
            # A copy that failed or was interrupted (a dump or load error, a restart): this
            # member's data is partial, whatever its positions say.
            self.rebuild(leader, "an unfinished copy")
            return
        st = slave_status()
        if not st and not variable("gtid_current_pos"):
            # A new member (never replicated, nothing written): when the set has data, a copy
            # of the leader's, not a replay of its whole binlog (slow, one commit per
            # transaction, and impossible once old binlogs are purged).
            have = leader_gtid(leader)
            if have is None:
                raise RuntimeError(f"a new member: the leader {leader} does not answer")
            if have:
                self.rebuild(leader, "a new member")
                return
        follow(leader, st)
        st = slave_status()
        errors = (st.get("Last_IO_Errno", "0"), st.get("Last_SQL_Errno", "0"))
        stopped = st.get("Slave_IO_Running") == "No" or st.get("Slave_SQL_Running") == "No"
        if stopped and errors != ("0", "0"):
            # Diverged (a former primary's unacknowledged tail, or a gap): copy the leader.
            self.rebuild(leader, f"replication from {leader} fails with {errors}")

    def rebuild(self, leader, why):
        """[rebuild], without counting in an election meanwhile: the copy can take longer than
        a liveness lease, and an election waits for every live member's report."""
        if self.mlease is not None:
            revoke(self.mlease)
            self.mlease = None
        with LOCK:
            STATE.update(role="copying", last_error=f"{why}: copying {leader}'s data")
        if time.time() < self.copy_after:
            # A copy that keeps failing (a full disk, a load longer than its limit) is not
            # retried every second against the leader.
            with LOCK:
                STATE["last_error"] = f"{why}: the last copy failed; next try at {self.copy_after:.0f}"
            return
        try:
            rebuild(leader, why)
        except Exception:
            self.copy_failures += 1
            self.copy_after = time.time() + min(5 * 2 ** (self.copy_failures - 1), 600)
            raise
        self.copy_failures, self.copy_after = 0, 0.0
        with LOCK:
            STATE.update(role="replica", last_error="")

    def clear_candidate(self):
        try:
            delete(f"candidates/{ME}")
            self.candidate = False
        except OSError:
            pass

    def elect(self):
        if self.mlease is None:
            # A report must lapse with this member: without its liveness lease it waits.
            return
        pos = drain()
        # Set first: a put that times out may still have been applied.
        self.candidate = True
        put(f"candidates/{ME}", f"{self.synced} {pos}", self.mlease)
        live = set(get_prefix("members/"))
        reports = get_prefix("candidates/")
        missing = [m for m in live if m not in reports]
        if missing:
            with LOCK:
                STATE.update(role="electing", last_error=f"waiting for {', '.join(sorted(missing))} to report")
            return
        # The most advanced in the latest epoch wins; ties go to the lowest index.
        def rank(m):
            epoch, _, pos = reports[m].partition(" ")
            return (int(epoch or 0), seq(pos), -MEMBERS.index(m) if m in MEMBERS else -99)
        best = max((m for m in reports if m in live), key=rank, default=None)
        if best != ME:
            with LOCK:
                STATE.update(role="electing", last_error=f"{best} is more advanced")
            return
        self.campaign(first=False)

    def campaign(self, first, planned=False):
        # The lease runs from no earlier than this.
        granted = time.time()
        lease = grant(TTL)
        if not take("leader", ME, lease):
            revoke(lease)
            return
        self.lease = lease
        self.renewed = granted
        _, epoch = get("leader")
        if first:
            put("initialized", ME)
        elif not planned:
            put("last_failover", str(time.time()))
            with LOCK:
                STATE["failovers"] += 1
                STATE["last_failover"] = time.time()
        # Before writes start (if this fails, the next loop clears them, then promotes).
        request = self.switchover_request()
        clear_handover(planned or (request is not None and request[0] == ME))
        promote(epoch, self.renewed)
        for m in get_prefix("candidates/"):
            try:
                delete(f"candidates/{m}")
            except OSError:
                pass

    def watchdog(self):
        """Patroni's rule, kept even when etcd calls are slow: a primary that has not renewed
        its lease for TTL - RETRY seconds stops writes, before the lease can expire and a
        replica be promoted."""
        while True:
            time.sleep(0.1)
            with LOCK:
                primary = STATE["role"] == "primary" and STATE["writable"]
            if primary and self.lease is not None and time.time() - self.renewed > TTL - RETRY:
                demote(f"lease not renewed for {time.time() - self.renewed:.1f}s")
                self.lease = None
                with LOCK:
                    STATE["role"] = "demoted"

    def run(self):
        threading.Thread(target=self.watchdog, daemon=True).start()
        while True:
            started = time.time()
            try:
                self.step()
                with LOCK:
                    STATE["last_error"] = "" if STATE["role"] in ("primary", "replica") else STATE["last_error"]
            except Exception as e:  # keep looping whatever happens
                with LOCK:
                    STATE["last_error"] = f"{type(e).__name__}: {e}"
                log(f"loop error: {e}")
            with LOCK:
                period = ELECTING_LOOP if STATE["role"] == "electing" else LOOP
            time.sleep(max(0.0, period - (time.time() - started)))


def status():
    with LOCK:
        out = dict(STATE)
    out["self"] = ME
    try:
        out["gtid"] = variable("gtid_current_pos")
        out["read_only"] = variable("read_only") == "1"
        st = slave_status()
        out["io"] = st.get("Slave_IO_Running", "")
        out["sql"] = st.get("Slave_SQL_Running", "")
        out["master_host"] = st.get("Master_Host", "")
        lag = st.get("Seconds_Behind_Master", "")
        out["lag"] = int(lag) if lag.isdigit() else None
        out["semisync_master"] = sql("SELECT @@GLOBAL.rpl_semi_sync_master_enabled")[0][0] == "1"
        stat = dict((r[0], r[1]) for r in sql("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_%'") if len(r) == 2)
        out["semisync_on"] = stat.get("Rpl_semi_sync_master_status") == "ON"
        out["semisync_clients"] = int(stat.get("Rpl_semi_sync_master_clients", "0") or 0)
        out["app_users"] = sorted(r[0] for r in sql(
            "SELECT User FROM mysql.user WHERE Host = '%' AND User <> 'hastack_repl'") if r)
        out["mariadb_up"] = True
    except Exception as e:
        out["mariadb_up"] = False
        out["last_error"] = out.get("last_error") or str(e)
    try:
        out["last_failover"] = float(get("last_failover")[0] or 0)
    except (OSError, ValueError):
        pass
    return out


class Http(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with LOCK:
            role, writable, replicating = STATE["role"], STATE["writable"], STATE["replicating"]
        if self.path == "/primary":
            code = 200 if role == "primary" and writable else 503
            body = {"role": role}
        elif self.path == "/replica":
            # A replica whose threads run (a member copying or whose replication stopped on an
            # error serves no reads).
            code = 200 if role == "replica" and replicating else 503
            body = {"role": role}
        elif self.path == "/status":
            code, body = 200, status()
        else:
            code, body = 404, {"error": "no such path"}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_OPTIONS = do_GET

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Health checkers (HAProxy) hang up once they have the status line: not worth a traceback
        # in the log an operator reads after a failover.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    if "--status" in sys.argv:
        print(json.dumps(status()))
        return
    # A copy left by an agent that was stopped mid-way holds password hashes: never kept.
    discard(DUMP)
    server = Server(("0.0.0.0", 8008), Http)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log(f"started for {SET} on {ME} (etcd {', '.join(ETCD)})")
    Agent().run()


if __name__ == "__main__":
    main()
