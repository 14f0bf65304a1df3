#!/usr/bin/env bash
# Benchmarks (print numbers and ratios): our protocol layer against the tf-provider baseline,
# then the web tier apply against its critical path.
# tf-provider's build needs protoc, which setup installs here only for this script.
set -euo pipefail
# Terraform must not phone home for update checks (no network here).
export CHECKPOINT_DISABLE=1
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
if ! command -v protoc >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
fi
cargo build --release -q -p terraform-provider-hastack
bin="$CARGO_TARGET_DIR/release/terraform-provider-hastack"
size=$(stat -c %s "$bin")
awk -v s="$size" 'BEGIN { printf "release binary (LTO, 1 codegen unit, stripped, panic=abort): %d bytes (%.1f MiB)\n", s, s / 1048576 }'
cargo bench -q -p hastack-bench --bench protocol
# The web tier's apply on hastack-local's realistic profile against its critical path, and the
# API calls per operation against the minimum (needs hosts: root, network namespaces).
cargo build -q -p terraform-provider-hastack -p hastack-local
TF_ACC=1 cargo test -q -p acceptance-tests --test bench_web_tier -- --ignored --nocapture
