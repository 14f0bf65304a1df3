#!/usr/bin/env bash
# Fuzzes hastack's decoders and wire parsers: every target under fuzz/ (cargo-fuzz, libFuzzer),
# each for a set time. Fails on any crash, timeout or out-of-memory, leaving the input that did
# it in fuzz/artifacts/<target>/ (replay: the target's binary with the file as argument).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   SECONDS per target (default 300), all targets by default
#   scripts/fuzz.sh --ci [TARGET...]        what CI runs: 8 s per target, seed 1 (the same run each
#                                           time: a CI failure is a finding, not chance)
#   scripts/fuzz.sh --build-only            install cargo-fuzz and build the targets, run nothing
#                                           (scripts/test.sh builds ahead this way)
#   scripts/fuzz.sh --keep-going [SECONDS] [TARGET...]
#                                           hunting: keep fuzzing past a finding (libFuzzer's fork
#                                           mode), so one known bug does not hide the next
#
# Runs on the pinned stable toolchain: `--sanitizer none` needs no nightly feature (the crates
# forbid unsafe code; libFuzzer's coverage instrumentation is stable). Overflow checks and debug
# assertions are on. Inputs in fuzz/regressions/<target>/ (crashes found before) replay first.
#
# Corpora: fuzz/corpus/<target>/ holds the committed seeds and is only read; what a run finds
# goes to fuzz/corpus-new/<target>/ (git-ignored), which later local runs start from.
#
# FUZZ_TARGET_DIR: where the instrumented build goes (default target/fuzz). Deliberately not
# CARGO_TARGET_DIR: instrumented artifacts must never overwrite the main build's.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
TRIPLE=x86_64-unknown-linux-gnu
export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target/fuzz}"

log() { printf '[fuzz] %s\n' "$*" >&2; }

secs=300
mode=()
build_only=false
if [ "${1:-}" = --build-only ]; then
  build_only=true
  shift
fi
if [ "${1:-}" = --keep-going ]; then
  mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  shift
fi
case "${1:-}" in
  --ci) secs=8; mode+=(-seed=1); shift ;;
  ''|*[!0-9]*) ;;
  *) secs=$1; shift ;;
esac

if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  log "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

mapfile -t all < <(cargo fuzz list --fuzz-dir fuzz)
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  printf '%s\n' "${all[@]}" | grep -qx -- "$t" || { log "no target $t (have: ${all[*]})"; exit 2; }
done

log "building ${#targets[@]} targets into $CARGO_TARGET_DIR"
start=$SECONDS
cargo fuzz build --fuzz-dir fuzz --sanitizer none --debug-assertions --target-dir "$CARGO_TARGET_DIR"
log "built in $((SECONDS - start)) s"
$build_only && exit 0
bin="$CARGO_TARGET_DIR/$TRIPLE/release"

# Inputs libFuzzer kept for a crash, a timeout or running out of memory.
findings() { find "$1" -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l; }

failed=0
rows=()
for t in "${targets[@]}"; do
  art="fuzz/artifacts/$t"
  mkdir -p "$art" "fuzz/corpus-new/$t"
  logf="$art/fuzz.log"
  regression=
  if compgen -G "fuzz/regressions/$t/*" >/dev/null \
    && ! "$bin/$t" -timeout=10 -rss_limit_mb=2048 fuzz/regressions/"$t"/* >"$art/regressions.log" 2>&1; then
    log "$t: an input in fuzz/regressions/$t/ fails (see $art/regressions.log)"
    regression="REGRESSION; "
    failed=1
  fi
  log "$t: ${secs}s"
  before=$(findings "$art")
  t0=$SECONDS
  set +e
  "$bin/$t" "${mode[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$art/" "fuzz/corpus-new/$t" "fuzz/corpus/$t" >"$logf" 2>&1
  status=$?
  set -e
  took=$((SECONDS - t0))
  # Executions: the final stats, or (fork mode) the last progress line.
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logf" | tail -n1)
  [ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' "$logf" | tail -n1)
  runs=${runs:-0}
  eps=$((runs / (took > 0 ? took : 1)))
  corpus=$(find "fuzz/corpus-new/$t" "fuzz/corpus/$t" -type f | wc -l)
  after=$(findings "$art")
  found=$((after - before))
  result=ok
  if [ "$status" -ne 0 ] || [ "$found" -gt 0 ]; then
    failed=1
    result="FAILED (exit $status): $(grep -m1 -E '^thread .* panicked|^==[0-9]+== ERROR' "$logf" || echo 'see log')"
    log "$t: $result; input in $art/, log $logf"
  fi
  rows+=("$(printf '%-24s %10s %8s %6s %8s %6s  %s' "$t" "$runs" "$eps" "$took" "$corpus" "$found" "$regression$result")")
done

printf '\n%-24s %10s %8s %6s %8s %6s  %s\n' target runs exec/s secs corpus crashes result
printf '%s\n' "${rows[@]}"
exit "$failed"
