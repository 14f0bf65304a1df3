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
out="$CARGO_TARGET_DIR/test-output.txt"
# The emulator's Rust SDK suites log the operations they call; the fidelity suite checks the list.
export HASTACK_SDK_CALL_LOG="$CARGO_TARGET_DIR/sdk-calls.txt"
rm -f "$HASTACK_SDK_CALL_LOG"
set +e
TF_ACC=1 cargo test --no-fail-fast 2>&1 | tee "$out"
cargo_status=${PIPESTATUS[0]}

step "hastack-local fidelity suite: boto3 against the emulator, responses checked against botocore's models"
pyout="$CARGO_TARGET_DIR/pytest-output.txt"
HASTACK_LOCAL_BIN="$CARGO_TARGET_DIR/debug/hastack-local" python3 -m pytest -q -rA -p no:cacheprovider emulator/tests/python 2>&1 | tee "$pyout"
pytest_status=${PIPESTATUS[0]}

# One closing line over both runners.
count() { { grep -Eo "[0-9]+ $1" || true; } | awk '{s+=$1} END {print s+0}'; }
cargo_passed=$(grep -E '^test result:' "$out" | count passed)
cargo_failed=$(grep -E '^test result:' "$out" | count failed)
pyline=$(grep -E '^(=+ )?[0-9]+ (passed|failed)' "$pyout" | tail -n1)
py_passed=$(echo "$pyline" | count passed)
py_failed=$(echo "$pyline" | count failed)
echo "$((cargo_passed + py_passed)) passed, $((cargo_failed + py_failed)) failed"
[ "$cargo_status" = 0 ] && [ "$pytest_status" = 0 ]
