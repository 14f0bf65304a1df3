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

# Three long CPU-bound jobs run in the background, one after the other, at the lowest CPU and
# I/O priority: the release binary through cargo-zigbuild (~14 min cold on 2 cores), the fuzz
# targets' instrumented build (~7 min) and clippy (~6 min, in its own target dir, so it never
# holds the build directory's lock the tests' build needs). The host tests below leave most of
# the 2 cores idle (they wait on real servers), and at nice 19 a job only takes what the tests
# do not want. Clippy's verdict is read at the end; the release tests and the fuzzing itself
# run at the end too, in the foreground, on what is then built (their time limits are
# wall-clock and must not compete with the host tests).
bg="$CARGO_TARGET_DIR/background"
mkdir -p "$bg"
rm -f "$bg"/*.rc
step "background: release build, fuzz build, clippy (nice 19; logs in $bg)"
idle_io=()
ionice -c 3 true 2>/dev/null && idle_io=(ionice -c 3)
# Its own process group (setsid), ended with the script whatever way it ends.
BG="$bg" setsid nice -n 19 "${idle_io[@]}" bash -c '
  scripts/release.sh --build-only >"$BG/release.log" 2>&1; echo $? >"$BG/release.rc"
  FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$CARGO_TARGET_DIR/fuzz}" scripts/fuzz.sh --build-only >"$BG/fuzz.log" 2>&1
  echo $? >"$BG/fuzz.rc"
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR/clippy" cargo clippy --all-targets -- -D warnings >"$BG/clippy.log" 2>&1
  echo $? >"$BG/clippy.rc"
' &
bg_pid=$!
trap 'kill -- -"$bg_pid" 2>/dev/null || true' EXIT

step "build the provider binary the acceptance tests drive"
cargo build -p terraform-provider-hastack

step "cargo test (unit, conformance, acceptance with TF_ACC=1)"
out="$CARGO_TARGET_DIR/test-output.txt"
# The emulator's Rust SDK suites log the operations they call; the fidelity suite checks the list.
export HASTACK_SDK_CALL_LOG="$CARGO_TARGET_DIR/sdk-calls.txt"
rm -f "$HASTACK_SDK_CALL_LOG"
# What the acceptance tests measure (write loss, RTO, latencies, API calls), printed at the end.
export HASTACK_FIGURES="$CARGO_TARGET_DIR/figures.txt"
rm -f "$HASTACK_FIGURES"
# Newest Terraform for the whole suite; the oldest supported one (the terraform on PATH, when
# it is another) for the `_basic` tests and import after.
NEWEST=/usr/local/bin/terraform-libtf
[ -x "$NEWEST" ] || NEWEST=$(command -v terraform)
set +e
TF_ACC=1 TF_ACC_TERRAFORM_PATH="$NEWEST" cargo test --no-fail-fast 2>&1 | tee "$out"
cargo_status=${PIPESTATUS[0]}
OLDEST=$(command -v terraform || true)
if [ -n "$OLDEST" ] && [ "$(readlink -f "$OLDEST")" != "$(readlink -f "$NEWEST")" ]; then
  step "acceptance _basic tests on the oldest Terraform: $("$OLDEST" version | sed -n 1p)"
  # The same package selection as above (no -p): cargo resolves the same features and builds
  # nothing again (with -p acceptance-tests it rebuilt 1m44s of dependencies).
  # HASTACK_ACC_SECOND_PASS: the MariaDB test leaves out the steps that exercise only the
  # provider's own work (members moved to new instances, a member added and removed; about
  # 3 min), which the first pass ran.
  TF_ACC=1 TF_ACC_TERRAFORM_PATH="$OLDEST" HASTACK_ACC_SECOND_PASS=1 cargo test --no-fail-fast \
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

step "waiting for the background jobs"
wait "$bg_pid" || true
grep -hE '^\[(release|fuzz)\] (built|not built)' "$bg/release.log" "$bg/fuzz.log" >&2 || true
for job in release fuzz; do
  [ "$(cat "$bg/$job.rc" 2>/dev/null)" = 0 ] \
    || echo "background $job build failed (the step below builds again): see $bg/$job.log" >&2
done

step "cargo clippy -D warnings (run in the background)"
cat "$bg/clippy.log"
clippy_status=$(cat "$bg/clippy.rc" 2>/dev/null || echo 1)

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

if [ -s "$HASTACK_FIGURES" ]; then
  step "figures the tests measured (also in $HASTACK_FIGURES)"
  cat "$HASTACK_FIGURES"
fi

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
[ "$clippy_status" = 0 ] || echo "clippy failed (exit $clippy_status): see above"
[ "$clippy_status" = 0 ] && [ "$cargo_status" = 0 ] && [ "$pytest_status" = 0 ] && [ "$release_status" = 0 ] && [ "$fuzz_status" = 0 ]
