#!/usr/bin/env bash
# The main job: the whole stack on hastack-local, and what it survives.
#   scripts/demo.sh          build, start hastack-local (its instances are real Linux hosts),
#                            pack the provider as a release (scripts/release.sh --dev),
#                            install it from the release's filesystem mirror, apply
#                            examples/environments/$HASTACK_DEMO_ENV (the ha-webapp module: web
#                            instances behind a load balancer, port 22 closed, a MariaDB
#                            primary with replicas, a Redis primary with replicas, logs in
#                            CloudWatch Logs, audited Session Manager shells), check that the
#                            next plan is empty, show responses through the load balancer, then
#                            stop the MariaDB primary's host, the Redis primary's host and one
#                            web host under a client loop and print the failed requests and the
#                            time until writes succeed again, one audited `whoami` session with
#                            its transcript from CloudWatch Logs, and the app's last log lines.
#   scripts/demo.sh destroy  destroy the stack, show that nothing is left, stop hastack-local.
# Settings: HASTACK_DEMO_ENV (prod: 3 zones, 3 web, 3 MariaDB, 3 Redis = 9 hosts, which fit a
# 2-core machine: ~35 s to apply on the fast profile; dev or staging are smaller),
# HASTACK_DEMO_FAULTS=0 (skip the faults), HASTACK_DEMO_DIR (default /tmp/hastack-demo),
# HASTACK_DEMO_PORT (4566), HASTACK_DEMO_PROFILE (fast; `realistic` waits like AWS: 20 s boots,
# 2 s operations).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export AWS_EC2_METADATA_DISABLED=true CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
DEMO=${HASTACK_DEMO_DIR:-/tmp/hastack-demo}
PORT=${HASTACK_DEMO_PORT:-4566}
PROFILE=${HASTACK_DEMO_PROFILE:-fast}
ENVIRONMENT=${HASTACK_DEMO_ENV:-prod}
HL="$CARGO_TARGET_DIR/debug/hastack-local"
export TF_CLI_CONFIG_FILE="$DEMO/cli.tfrc"
hl() { "$HL" --state-dir "$DEMO/local" "$@"; }

# What hastack-local holds: instances, load balancers, parameters, log groups (with streams).
leftovers() {
  hl state | python3 -c 'import json,sys
s = json.load(sys.stdin)
def walk(v, path=""):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from walk(x, path + "/" + k)
    elif isinstance(v, list):
        yield path, len(v)
counts = {}
for path, n in walk(s):
    key = path.rsplit("/", 1)[-1]
    counts[key] = counts.get(key, 0) + n
print(", ".join(f"{k}: {n}" for k, n in sorted(counts.items())) or "nothing")'
}

if [ "${1:-}" = destroy ]; then
  [ -f "$DEMO/stack_dir" ] || { echo "no demo stack in $DEMO"; exit 0; }
  STACK=$(cat "$DEMO/stack_dir")
  # shellcheck disable=SC1091
  . "$DEMO/env"
  echo "\$ terraform destroy" >&2
  terraform -chdir="$STACK" destroy -auto-approve -input=false -no-color | tail -n1
  echo "Left in hastack-local after destroy (log groups kept by retain_logs_on_destroy stay):"
  echo "  $(leftovers), hosts: $(hl hosts | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
  hl down
  rm -rf "$DEMO"
  exit 0
fi

case "$ENVIRONMENT" in dev|staging|prod) ;; *) echo "HASTACK_DEMO_ENV must be dev, staging or prod" >&2; exit 2 ;; esac
cargo build -q -p hastack-local
# The provider comes as a release does: scripts/release.sh builds and packs it (zip, manifest,
# SHA256SUMS, mirrors, lock hashes) and Terraform installs the zip from the release's filesystem
# mirror (packed layout). --dev: the debug build instead of the slow release build; unsigned, as
# a filesystem mirror checks hashes, not signatures.
mkdir -p "$DEMO/stack/modules" "$DEMO/stack/environments"
scripts/release.sh --dev --unsigned --out "$DEMO/release" > "$DEMO/release.log"
cat > "$DEMO/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path = "$DEMO/release/mirror/packed"
  }
}
CFG
# The module and the environment keep their places, so the root's "../../modules/ha-webapp" holds.
rm -rf "$DEMO/stack/modules/ha-webapp" "$DEMO/stack/environments/$ENVIRONMENT"
cp -r examples/modules/ha-webapp "$DEMO/stack/modules/"
cp -r "examples/environments/$ENVIRONMENT" "$DEMO/stack/environments/"
STACK="$DEMO/stack/environments/$ENVIRONMENT"
echo "$STACK" > "$DEMO/stack_dir"
tf() { echo "\$ terraform $*" >&2; terraform -chdir="$STACK" "$@"; }

if hl status >/dev/null 2>&1; then
  echo "hastack-local already runs (state in $DEMO/local)"
else
  hl up --port "$PORT" --profile "$PROFILE" > "$DEMO/env"
fi
# shellcheck disable=SC1091
. "$DEMO/env"
if ! hl status | python3 -c 'import json,sys; h=json.load(sys.stdin)["hosts"]; sys.exit(0 if h["available"] else (print("hastack-local cannot run instances as hosts here:", h.get("reason")) or 1))'; then
  echo "The demo needs hosts (root, network namespaces). Stopping." >&2
  hl down
  exit 1
fi

terraform version | sed -n 1p
echo "Environment: $ENVIRONMENT (examples/environments/$ENVIRONMENT, module examples/modules/ha-webapp)"
tf init -input=false -no-color >/dev/null
tf validate -no-color
started=$(date +%s)
if ! tf apply -auto-approve -input=false -no-color > "$DEMO/apply.log" 2>&1; then
  cat "$DEMO/apply.log"
  echo "terraform apply failed (stack and hastack-local left for inspection; scripts/demo.sh destroy cleans up)" >&2
  exit 1
fi
grep -E 'Creation complete|Apply complete' "$DEMO/apply.log" || true
echo "Applied in $(( $(date +%s) - started )) s."
echo "Plan after apply (must be empty):"
tf plan -input=false -no-color -detailed-exitcode >/dev/null && echo "  no changes"

tf output -json > "$DEMO/outputs.json"
url=$(tf output -raw url)
dns=${url#http://}; dns=${dns%/}
# hastack-local publishes the load balancer's DNS name in /etc/hosts while it runs (with hosts).
getent hosts "$dns" >/dev/null || url="$(hl load-balancers | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["endpoint"])')/"
echo
echo "The app through the load balancer: $url"
echo "Each answer: the web instance and zone, the MariaDB primary that took the write and the"
echo "replica that counted the rows, the Redis count and the Redis primary's address."
echo "$ curl $url"
for _ in 1 2 3 4 5 6; do
  echo "  $(curl -fsS --max-time 3 "$url")"
done
python3 - "$DEMO/outputs.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
print("Web instances (port 22 closed; shell through Session Manager only):")
for name, i in sorted(o["web_instances"]["value"].items()):
    print(f"  {name}  {i['zone']}  SSM node {i['ssm_instance_id']}")
print(f"MariaDB primary: {o['db_primary']['value']}   Redis primary: {o['redis_primary']['value']}")
PY
echo
faults=()
[ "${HASTACK_DEMO_FAULTS:-1}" = 0 ] && faults=(--no-faults)
[ ${#faults[@]} -eq 0 ] && echo "Resilience: each host stopped while a client sends requests through the load balancer (≤ 20/s)."
status=0
python3 scripts/demo/resilience.py --url "$url" --outputs "$DEMO/outputs.json" \
  --hl "$HL --state-dir $DEMO/local" "${faults[@]}" || status=$?
echo
echo "After the faults (failover ran on the nodes; Terraform only reads it):"
tf apply -refresh-only -auto-approve -input=false -no-color > "$DEMO/refresh.log" 2>&1 || cat "$DEMO/refresh.log"
echo "  MariaDB primary: $(tf output -raw db_primary)   Redis primary: $(tf output -raw redis_primary)"
cat <<TXT

The stack keeps running. Look around:
  export TF_CLI_CONFIG_FILE=$DEMO/cli.tfrc; . $DEMO/env
  terraform -chdir=$STACK plan
  $HL --state-dir $DEMO/local hosts        # boot logs of each instance
  $HL --state-dir $DEMO/local outage --name <instance> stop
Destroy it with:
  ./scripts/demo.sh destroy
TXT
exit "$status"
