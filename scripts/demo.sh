#!/usr/bin/env bash
# The main job: the demo stack on hastack-local.
#   scripts/demo.sh          build, start hastack-local (its instances are real Linux hosts),
#                            pack the provider as a release (scripts/release.sh --dev),
#                            install it from the release's filesystem mirror, apply
#                            examples/web-tier — nginx on 3 instances in 3 zones, port 22
#                            closed, SSM-managed, behind a load balancer, with its nginx logs
#                            shipped to CloudWatch Logs and Session Manager preferences
#                            (examples/web-tier/ops.tf) — check that the next plan is empty,
#                            and show responses through the load balancer.
#   scripts/demo.sh destroy  destroy the stack and stop hastack-local.
# Settings: HASTACK_DEMO_DIR (default /tmp/hastack-demo), HASTACK_DEMO_PORT (4566),
# HASTACK_DEMO_PROFILE (fast; `realistic` waits like AWS: 20 s boots, 2 s operations).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export AWS_EC2_METADATA_DISABLED=true CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
DEMO=${HASTACK_DEMO_DIR:-/tmp/hastack-demo}
PORT=${HASTACK_DEMO_PORT:-4566}
PROFILE=${HASTACK_DEMO_PROFILE:-fast}
HL="$CARGO_TARGET_DIR/debug/hastack-local"
export TF_CLI_CONFIG_FILE="$DEMO/cli.tfrc"
tf() { echo "\$ terraform $*" >&2; terraform -chdir="$DEMO/stack" "$@"; }
hl() { "$HL" --state-dir "$DEMO/local" "$@"; }

if [ "${1:-}" = destroy ]; then
  [ -d "$DEMO/stack" ] || { echo "no demo stack in $DEMO"; exit 0; }
  # shellcheck disable=SC1091
  . "$DEMO/env"
  tf destroy -auto-approve -input=false -no-color | tail -n1
  hl down
  rm -rf "$DEMO"
  exit 0
fi

cargo build -q -p hastack-local
# The provider comes as a release does: scripts/release.sh builds and packs it (zip, manifest,
# SHA256SUMS, mirrors, lock hashes) and Terraform installs the zip from the release's filesystem
# mirror (packed layout). --dev: the debug build instead of the slow release build; unsigned, as
# a filesystem mirror checks hashes, not signatures.
mkdir -p "$DEMO/stack"
scripts/release.sh --dev --unsigned --out "$DEMO/release" > "$DEMO/release.log"
cat > "$DEMO/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path = "$DEMO/release/mirror/packed"
  }
}
CFG
cp examples/web-tier/*.tf "$DEMO/stack/"

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

terraform version | head -n1
tf init -input=false -no-color >/dev/null
tf validate -no-color
if ! tf apply -auto-approve -input=false -no-color > "$DEMO/apply.log" 2>&1; then
  cat "$DEMO/apply.log"
  echo "terraform apply failed (stack and hastack-local left for inspection; scripts/demo.sh destroy cleans up)" >&2
  exit 1
fi
grep -E 'Creation complete|Apply complete|^Outputs:|^[a-z_]+ = |^  |^}' "$DEMO/apply.log" || true
echo "Plan after apply (must be empty):"
tf plan -input=false -no-color -detailed-exitcode >/dev/null && echo "  no changes"

dns=$(tf output -raw load_balancer_dns_name)
# hastack-local publishes the load balancer's DNS name in /etc/hosts while it runs (with
# hosts); without hosts only its loopback port answers.
if getent hosts "$dns" >/dev/null; then
  lb="http://$dns"
else
  lb=$(hl load-balancers | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["endpoint"])')
fi
echo
echo "Load balancer web-lb: $dns"
echo "Responses (instance hostname and app version) of 6 requests, as a user would send them:"
echo "$ curl $lb/"
for _ in 1 2 3 4 5 6; do
  echo "  $(curl -fsS --max-time 2 "$lb/")"
done
echo "Instances by zone (hostname → zone):"
tf output -json instances | python3 -c 'import json,sys
for name, i in sorted(json.load(sys.stdin).items()):
    print("  {} → {} (SSM node {})".format(name, i["zone"], i["ssm_instance_id"]))'
cat <<TXT

The stack keeps running. Look around:
  export TF_CLI_CONFIG_FILE=$DEMO/cli.tfrc; . $DEMO/env
  terraform -chdir=$DEMO/stack plan
  $HL --state-dir $DEMO/local hosts        # boot logs of each instance
  $HL --state-dir $DEMO/local outage --name <instance> stop   # kill one; requests keep working
Destroy it with:
  ./scripts/demo.sh destroy
TXT
