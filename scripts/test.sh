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

# The two long optimised builds (the release binary through cargo-zigbuild, ~10 min cold on 2
# cores, and the fuzz targets' instrumented build, ~4 min) start now in the background, at the
# lowest CPU and I/O priority: the host tests below leave most of the 2 cores idle (they wait on
# real servers), and at nice 19 a build only takes what the tests do not want. The release tests
# and the fuzzing itself run at the end, in the foreground, on what is then already built (their
# time limits are wall-clock and must not compete with the host tests).
prebuild_log="$CARGO_TARGET_DIR/prebuild.log"
mkdir -p "$CARGO_TARGET_DIR"
step "background: release and fuzz builds (nice 19, log in $prebuild_log)"
idle_io=()
ionice -c 3 true 2>/dev/null && idle_io=(ionice -c 3)
# Its own process group (setsid), ended with the script whatever way it ends.
setsid nice -n 19 "${idle_io[@]}" bash -c '
  scripts/release.sh --build-only && FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$CARGO_TARGET_DIR/fuzz}" scripts/fuzz.sh --build-only
' >"$prebuild_log" 2>&1 &
prebuild_pid=$!
trap 'kill -- -"$prebuild_pid" 2>/dev/null || true' EXIT

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
# Newest Terraform for the whole suite; the oldest supported one (the terraform on PATH, when
# it is another) for the `_basic` tests and import after.
NEWEST=/usr/local/bin/terraform-libtf
[ -x "$NEWEST" ] || NEWEST=$(command -v terraform)
set +e
TF_ACC=1 TF_ACC_TERRAFORM_PATH="$NEWEST" cargo test --no-fail-fast 2>&1 | tee "$out"
cargo_status=${PIPESTATUS[0]}
OLDEST=$(command -v terraform || true)
if [ -n "$OLDEST" ] && [ "$(readlink -f "$OLDEST")" != "$(readlink -f "$NEWEST")" ]; then
  step "acceptance _basic tests on the oldest Terraform: $("$OLDEST" version | head -n1)"
  TF_ACC=1 TF_ACC_TERRAFORM_PATH="$OLDEST" cargo test -p acceptance-tests --no-fail-fast \
    --test lightsail_load_balancer --test lightsail_lb_attachment --test lightsail_ha_instance \
    --test redis_replica_group --test mysql_replica_set --test provider_config \
    --test ssm_session_policy --test cloudwatch_log_pipeline --test ha_webapp \
    -- _basic 2>&1 | tee -a "$out"
  [ "${PIPESTATUS[0]}" = 0 ] || cargo_status=1
fi

step "hastack-local fidelity suite: boto3 against the emulator, responses checked against botocore's models"
pyout="$CARGO_TARGET_DIR/pytest-output.txt"
HASTACK_LOCAL_BIN="$CARGO_TARGET_DIR/debug/hastack-local" python3 -m pytest -q -rA -p no:cacheprovider emulator/tests/python 2>&1 | tee "$pyout"
pytest_status=${PIPESTATUS[0]}

step "waiting for the background builds"
prebuild_status=0
wait "$prebuild_pid" || prebuild_status=$?
grep -E '^\[(release|fuzz)\]' "$prebuild_log" >&2 || true
[ "$prebuild_status" = 0 ] || echo "background builds failed (exit $prebuild_status; the steps below build again): see $prebuild_log" >&2

# The one release build of the run (cargo-zigbuild, release profile: ~10 min cold on 2 cores;
# a build without fat LTO at opt-level 1 took as long, so the profile is not the cost), made by
# scripts/release.sh itself and shared by every release test: the glibc 2.17 check reads that
# binary, and Terraform installs it from a throwaway HTTPS registry and from mirrors.
step "release: scripts/release.sh, then terraform init from a throwaway registry and mirrors (both Terraform versions)"
relout="$CARGO_TARGET_DIR/pytest-release-output.txt"
python3 -m pytest -q -rA -p no:cacheprovider scripts/release/tests 2>&1 | tee "$relout"
release_status=${PIPESTATUS[0]}

# Brief fuzzing (scripts/fuzz.sh --ci: the regression inputs, then 8 s per target with a fixed
# seed). Its instrumented build goes to its own target dir (about 4 min cold on 2 cores).
step "fuzz: scripts/fuzz.sh --ci"
fuzz_status=0
FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$CARGO_TARGET_DIR/fuzz}" scripts/fuzz.sh --ci || fuzz_status=$?

# One closing line over both runners.
count() { { grep -Eo "[0-9]+ $1" || true; } | awk '{s+=$1} END {print s+0}'; }
cargo_passed=$(grep -E '^test result:' "$out" | count passed)
cargo_failed=$(grep -E '^test result:' "$out" | count failed)
# pytest's closing line of each run (fidelity suite, release tests).
# A fixture that fails is an error in pytest's words: counted as failed.
pyline=$(for f in "$pyout" "$relout"; do grep -E '^(=+ )?[0-9]+ (passed|failed|errors?)' "$f" | tail -n1; done)
py_passed=$(echo "$pyline" | count passed)
py_failed=$(( $(echo "$pyline" | count failed) + $(echo "$pyline" | count 'errors?') ))
py_skipped=$(echo "$pyline" | count skipped)
skipped=$(( $(grep -c '^SKIPPED ' "$out" || true) + py_skipped ))
echo "$((cargo_passed + py_passed)) passed, $((cargo_failed + py_failed)) failed, $skipped skipped"
[ "$fuzz_status" = 0 ] || echo "fuzzing found something (scripts/fuzz.sh --ci exit $fuzz_status): see fuzz/artifacts/"
[ "$cargo_status" = 0 ] && [ "$pytest_status" = 0 ] && [ "$release_status" = 0 ] && [ "$fuzz_status" = 0 ]
