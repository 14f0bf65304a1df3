#!/usr/bin/env bash
# The main job: build the provider, install it from a local filesystem mirror (as a user
# would from a registry), and run examples/spread-zones through terraform
# init → validate → plan → apply, then destroy.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export AWS_EC2_METADATA_DISABLED=true
export CHECKPOINT_DISABLE=1

cargo build -q -p terraform-provider-hastack
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
work=$(mktemp -d /tmp/hastack-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
pkg="$work/mirror/registry.terraform.io/hastack/hastack/$version/linux_amd64"
mkdir -p "$pkg"
cp "$CARGO_TARGET_DIR/debug/terraform-provider-hastack" "$pkg/terraform-provider-hastack_v$version"
cat > "$work/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path = "$work/mirror"
  }
}
CFG
cp examples/spread-zones/main.tf "$work/"
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
tf() { echo "\$ terraform $*" >&2; terraform -chdir="$work" "$@"; }

terraform version | head -n1
tf init -input=false -no-color >/dev/null
tf validate -no-color
tf plan -input=false -no-color -out="$work/plan" >/dev/null
tf apply -input=false -no-color "$work/plan" | sed -n '/^Outputs:/,$p'
echo "Plan after apply (must be empty):"
tf plan -input=false -no-color -detailed-exitcode >/dev/null && echo "  no changes"
tf destroy -auto-approve -input=false -no-color | tail -n1
