#!/usr/bin/env bash
# Long chaos runs (CI runs one round of each; see scripts/test.sh). Needs root and hosts.
#   scripts/chaos.sh [ROUNDS]   default 10 rounds per fault
# MariaDB: every round kills mariadbd on, isolates (nftables: cut from its peers, still
# reachable by apps), stops, partitions or fails the zone of the primary of a 3-member
# hastack_mysql_replica_set while writers insert ids through an app instance's sidecar, then
# checks every acknowledged id against every member's rows; a negative control (10 ms semi-sync
# timeout) must lose writes. Redis: the same with kill, stop, partition and zone, WAIT-confirmed
# and plain writes. Prints one row per round and the RTO figures (fault → first acknowledged
# write; detection / election / routing). Then the whole stack (the ha-webapp module's dev
# environment, every resource type) under random API faults (~20 % of calls: throttling, 503,
# 500; 15 % of changing Lightsail calls' operations end Failed), once per seed: applies and
# destroys needed, API calls, faults injected. Then interrupted runs of the web tier (realistic
# latencies): 5 rounds per seed of SIGINT to apply and to destroy at seeded moments (10 per
# seed), SIGKILL of terraform and of the provider mid-apply; how fast terraform stopped, and
# whether the next apply adopted what the killed one made.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-10}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
export TF_ACC=1 CHECKPOINT_DISABLE=1 AWS_EC2_METADATA_DISABLED=true
export TF_ACC_TERRAFORM_PATH=${TF_ACC_TERRAFORM_PATH:-$(command -v terraform-libtf || command -v terraform)}
cargo build -q -p terraform-provider-hastack
mlog=$(mktemp /tmp/hastack-chaos-mysql.XXXXXX)
echo "== mariadb: $ROUNDS rounds per fault (kill, isolate, stop, partition, zone) + negative control; log $mlog" >&2
HASTACK_MYSQL_ROUNDS=$ROUNDS cargo test -q -p acceptance-tests --test mysql_replica_set \
  -- --nocapture loses_no >"$mlog" 2>&1 || { tail -n 60 "$mlog"; echo "FAILED (log $mlog)"; exit 1; }
python3 - "$mlog" <<'PY'
import re, statistics, sys
pat = re.compile(r"round (\d+) \((\w+)\): (\d+) acknowledged, (\d+) lost; RTO ([\d.-]+)s \(detection ([\d.-]+)s, election ([\d.-]+)s, routing ([\d.-]+)s\); at most (\d+) writable")
rows = [m.groups() for m in map(pat.search, open(sys.argv[1])) if m]
print(f"{'round':>5} {'fault':<9} {'acked':>6} {'lost':>4} {'RTO s':>6} {'detect':>6} {'elect':>6} {'route':>6} {'writable':>8}")
for r in rows:
    print(f"{r[0]:>5} {r[1]:<9} {r[2]:>6} {r[3]:>4} {float(r[4]):>6.2f} {float(r[5]):>6.2f} {float(r[6]):>6.2f} {float(r[7]):>6.2f} {r[8]:>8}")
rto = sorted(float(r[4]) for r in rows)
if rto:
    print(f"\n{len(rows)} rounds: acknowledged writes lost {sum(int(r[3]) for r in rows)}; RTO p50 {statistics.median(rto):.2f}s max {rto[-1]:.2f}s")
# Per fault: RTO p50/max and the split's medians (a kill mostly restarts mariadbd in place:
# its detection/election are then 0 and the RTO is the restart).
for fault in dict.fromkeys(r[1] for r in rows):
    rs = [r for r in rows if r[1] == fault]
    f = sorted(float(r[4]) for r in rs)
    med = lambda i: statistics.median(float(r[i]) for r in rs)
    print(f"{fault:<9} {len(rs):>2} rounds: RTO p50 {statistics.median(f):.2f}s max {f[-1]:.2f}s; "
          f"detection p50 {med(5):.2f}s, election p50 {med(6):.2f}s, routing p50 {med(7):.2f}s")
for line in open(sys.argv[1]):
    if "negative control" in line:
        print(line.strip())
PY

log=$(mktemp /tmp/hastack-chaos-redis.XXXXXX)
echo "== redis: $ROUNDS rounds per fault (kill, stop, partition, zone); log $log" >&2
HASTACK_REDIS_ROUNDS=$ROUNDS cargo test -q -p acceptance-tests --test redis_replica_group \
  -- --nocapture loses_no >"$log" 2>&1 || { tail -n 60 "$log"; echo "FAILED (log $log)"; exit 1; }
python3 - "$log" <<'PY'
import re, statistics, sys
rows = []
pat = re.compile(r"round (\d+) \((\w+)\): WAIT writes (\d+) acked, (\d+) lost; plain writes (\d+) acked, (\d+) lost; "
                 r"RTO ([\d.-]+)s \(detection ([\d.-]+)s, election ([\d.-]+)s, routing ([\d.-]+)s\); two writable primaries for ([\d.]+)s")
for line in open(sys.argv[1]):
    m = pat.search(line)
    if m:
        rows.append(m.groups())
print(f"{'round':>5} {'fault':<9} {'wait ok':>7} {'lost':>4} {'plain ok':>8} {'lost':>4} {'RTO s':>6} {'detect':>6} {'elect':>6} {'route':>6} {'2 primaries s':>13}")
for r in rows:
    print(f"{r[0]:>5} {r[1]:<9} {r[2]:>7} {r[3]:>4} {r[4]:>8} {r[5]:>4} {float(r[6]):>6.2f} {float(r[7]):>6.2f} {float(r[8]):>6.2f} {float(r[9]):>6.2f} {float(r[10]):>13.1f}")
rto = sorted(float(r[6]) for r in rows)
if rto:
    print(f"\n{len(rows)} rounds: WAIT-confirmed lost {sum(int(r[3]) for r in rows)}, plain lost {sum(int(r[5]) for r in rows)} of {sum(int(r[4]) for r in rows)}")
    print(f"RTO p50 {statistics.median(rto):.2f}s max {rto[-1]:.2f}s; detection p50 {statistics.median(float(r[7]) for r in rows):.2f}s, "
          f"election p50 {statistics.median(float(r[8]) for r in rows):.2f}s, routing p50 {statistics.median(float(r[9]) for r in rows):.2f}s")
PY

flog=$(mktemp /tmp/hastack-chaos-faults.XXXXXX)
echo "== whole stack under random API faults: $ROUNDS seeds; log $flog" >&2
for seed in $(seq 100 10 $((100 + 10 * (ROUNDS - 1)))); do
  HASTACK_FAULT_SEED=$seed cargo test -q -p acceptance-tests --test ha_webapp \
    -- --nocapture converges_under_random_api_faults >>"$flog" 2>&1 \
    || { tail -n 60 "$flog"; echo "FAILED at seed $seed (log $flog)"; exit 1; }
done
python3 - "$flog" <<'PY'
import re, sys
pat = re.compile(r"seed (\d+)\): (\d+) apply run\(s\), (\d+) destroy run\(s\), (\d+) API calls, (\d+) faults injected")
rows = [m.groups() for m in map(pat.search, open(sys.argv[1])) if m]
print(f"{'seed':>5} {'applies':>7} {'destroys':>8} {'calls':>6} {'faults':>6} {'share':>6}")
for r in rows:
    print(f"{r[0]:>5} {r[1]:>7} {r[2]:>8} {r[3]:>6} {r[4]:>6} {int(r[4]) / int(r[3]):>6.1%}")
if rows:
    print(f"\n{len(rows)} runs converged, each with an empty plan after apply and nothing left after destroy")
PY

ilog=$(mktemp /tmp/hastack-chaos-interrupts.XXXXXX)
echo "== interrupted runs: 5 rounds (10 SIGINT moments) and 3 kills per seed, $ROUNDS seeds; log $ilog" >&2
for seed in $(seq 1 "$ROUNDS"); do
  HASTACK_INTERRUPT_ROUNDS=5 HASTACK_INTERRUPT_SEED=$seed cargo test -q -p acceptance-tests \
    --test interrupts -- --nocapture >>"$ilog" 2>&1 \
    || { tail -n 60 "$ilog"; echo "FAILED at seed $seed (log $ilog)"; exit 1; }
done
python3 - "$ilog" <<'PY'
import re, statistics, sys
sig = re.compile(r"round (\d+): SIGINT to (\w+) at ([\d.]+)s: (stopped ([\d.]+)s after the signal|finished before the signal); exit (\S+); the next \w+ took ([\d.]+)s")
kill = re.compile(r"(KillTerraform|KillProvider) at ([\d.]+)s: exit (\S+); provider processes left running 10 s later: (\d+); the next apply (.*)")
seeds = re.compile(r"interrupts \(seed (\d+)\): uninterrupted apply ([\d.]+)s, destroy ([\d.]+)s")
lines = open(sys.argv[1]).read().splitlines()
print(f"{'seed':>4} {'run':<8} {'at s':>6} {'stopped in s':>12} {'exit':>8} {'next run s':>10}")
seed, stops = "?", []
for l in lines:
    if m := seeds.search(l):
        seed = m.group(1)
    elif m := sig.search(l):
        stopped = m.group(5) or "-"
        if m.group(5):
            stops.append(float(m.group(5)))
        print(f"{seed:>4} {m.group(2):<8} {float(m.group(3)):>6.2f} {stopped:>12} {m.group(6):>8} {float(m.group(7)):>10.1f}")
    elif m := kill.search(l):
        print(f"{seed:>4} {m.group(1):<14} at {float(m.group(2)):.2f}s exit {m.group(3)}, orphaned providers {m.group(4)}; next apply {m.group(5)}")
if stops:
    print(f"\n{len(stops)} SIGINTs during a run: terraform stopped in p50 {statistics.median(stops):.2f}s, max {max(stops):.2f}s; every next run converged")
PY
