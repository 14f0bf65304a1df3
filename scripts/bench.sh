#!/usr/bin/env bash
# Benchmarks our protocol layer against the tf-provider baseline (prints numbers and ratios).
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
cargo bench -q -p hastack-bench --bench protocol
