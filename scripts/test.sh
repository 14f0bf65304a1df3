#!/usr/bin/env bash
# Runs every check and test: formatting, clippy, unit, conformance and acceptance tests
# (the latter through the real terraform CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TERM_COLOR=never
# The AWS SDK's default credential chain must never reach for the instance metadata
# service (an address outside this machine) during tests.
export AWS_EC2_METADATA_DISABLED=true
export CHECKPOINT_DISABLE=1

step() { printf '\n== %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --all-targets -- -D warnings

step "build the provider binary the acceptance tests drive"
cargo build -p terraform-provider-hastack

step "cargo test (unit, conformance, acceptance with TF_ACC=1)"
TF_ACC=1 cargo test --no-fail-fast 2>&1 | tee "$CARGO_TARGET_DIR/test-output.txt"
status=${PIPESTATUS[0]}

passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed' "$CARGO_TARGET_DIR/test-output.txt" | awk '{p+=$4; f+=$6} END {print p+0}')
failed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed; [0-9]+ failed' "$CARGO_TARGET_DIR/test-output.txt" | awk '{p+=$4; f+=$6} END {print f+0}')
echo "${passed} passed, ${failed} failed"
exit "$status"
