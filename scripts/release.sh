#!/usr/bin/env bash
# Builds a signed, registry-format release of terraform-provider-hastack (goreleaser-style).
#
#   scripts/release.sh [options] [VERSION]
#
# VERSION defaults to the workspace version in Cargo.toml (the one place it is kept) and must
# equal it. Steps (README "Releasing" explains each):
#   1. check the version and the signing key before building anything;
#   2. build linux_amd64 with cargo-zigbuild against glibc 2.17 (runs on HCP Terraform's
#      runners and any Linux since 2012), and each other platform of HASTACK_RELEASE_TARGETS whose
#      Rust standard library is installed; the others are reported, never faked;
#   3. check the linux_amd64 binary: its --version, and no GLIBC_ symbol above 2.17;
#   4. scripts/release/package.py: zips, manifest, SHA256SUMS, its detached GPG signature,
#      filesystem mirror (packed + unpacked), network mirror and registry API data, h1:/zh: hashes;
#   5. print the sizes and the glibc symbols the binary needs.
#
# Options:
#   --out DIR     output folder (default dist/VERSION; emptied first)
#   --host HOST   provider source hostname for the mirrors and the lock entry
#                 (default registry.terraform.io, i.e. `source = "hastack/hastack"`)
#   --download-base URL  where the registry API's download answers point (e.g. the GitHub
#                 release's download URL); default: registry/downloads/… beside them
#   --dev         debug build for this machine only, no zig, no glibc check: for the demo and
#                 local tries, never for distribution
#   --unsigned    no SHA256SUMS.sig (filesystem mirrors do not check signatures); refused
#                 together with a signing key
#   --build-only  step 2 only (no key needed, nothing packed): scripts/test.sh builds ahead
#                 this way, in the background while the host tests run
# Environment:
#   HASTACK_RELEASE_GPG_KEY      an armored secret key (RSA or DSA) to sign with, imported into
#                                a throwaway GNUPGHOME (what CI secrets provide)
#   HASTACK_RELEASE_GPG_KEY_ID   otherwise: the key to use from the caller's keyring
#   HASTACK_RELEASE_GPG_PASSPHRASE  the key's passphrase, if it has one
#   HASTACK_RELEASE_TARGETS      platforms to build (default below); linux_amd64 is required
#   HASTACK_RELEASE_MAX_GLIBC    newest glibc symbol version allowed (default 2.17)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_TERM_COLOR=never

log() { printf '[release] %s\n' "$*" >&2; }
die() { printf '[release] error: %s\n' "$*" >&2; exit 1; }

OUT="" HOST=registry.terraform.io DEV=false UNSIGNED=false VERSION="" DOWNLOAD_BASE="" BUILD_ONLY=false
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=${2:?--out needs a folder}; shift 2 ;;
    --host) HOST=${2:?--host needs a hostname}; shift 2 ;;
    --download-base) DOWNLOAD_BASE=${2:?--download-base needs a URL}; shift 2 ;;
    --dev) DEV=true; shift ;;
    --unsigned) UNSIGNED=true; shift ;;
    --build-only) BUILD_ONLY=true; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$VERSION" ] || die "one VERSION only"; VERSION=$1; shift ;;
  esac
done

# 1. Version and key, before the long build.
CARGO_VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
[ -n "$CARGO_VERSION" ] || die "no version in Cargo.toml's [workspace.package]"
VERSION=${VERSION:-$CARGO_VERSION}
VERSION=${VERSION#v}
[[ "$VERSION" =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]] \
  || die "version '$VERSION' is not MAJOR.MINOR.PATCH[-PRERELEASE]"
[ "$VERSION" = "$CARGO_VERSION" ] \
  || die "version $VERSION differs from Cargo.toml's $CARGO_VERSION: bump [workspace.package] version (and CHANGELOG.md) first"
if ! $DEV && ! $BUILD_ONLY && ! grep -q "^## \[$VERSION\]" CHANGELOG.md; then
  die "CHANGELOG.md has no '## [$VERSION]' section"
fi
OUT=${OUT:-$ROOT/dist/$VERSION}

GNUPG_ARGS=()
if [ -n "${HASTACK_RELEASE_GPG_KEY:-}" ] || [ -n "${HASTACK_RELEASE_GPG_KEY_ID:-}" ]; then
  $UNSIGNED && die "--unsigned with a signing key: choose one"
  command -v gpg >/dev/null || die "gpg not found (Debian package gnupg; scripts/setup.sh installs it)"
  if [ -n "${HASTACK_RELEASE_GPG_KEY:-}" ]; then
    GNUPGHOME_TMP=$(mktemp -d)
    trap 'gpgconf --homedir "$GNUPGHOME_TMP" --kill all 2>/dev/null || true; rm -rf "$GNUPGHOME_TMP"' EXIT
    printf '%s\n' "$HASTACK_RELEASE_GPG_KEY" | gpg --homedir "$GNUPGHOME_TMP" --batch --import 2>/dev/null \
      || die "HASTACK_RELEASE_GPG_KEY is not an armored secret key gpg can import"
    key_id=$(gpg --homedir "$GNUPGHOME_TMP" --batch --with-colons --list-secret-keys | awk -F: '$1=="sec"{print $5}')
    [ "$(printf '%s\n' "$key_id" | grep -c .)" = 1 ] || die "HASTACK_RELEASE_GPG_KEY must hold exactly one secret key"
    GNUPG_ARGS=(--gpg-key-id "$key_id" --gnupghome "$GNUPGHOME_TMP")
  else
    GNUPG_ARGS=(--gpg-key-id "$HASTACK_RELEASE_GPG_KEY_ID")
  fi
elif $UNSIGNED || $BUILD_ONLY; then
  GNUPG_ARGS=(--unsigned)
else
  die "no signing key: set HASTACK_RELEASE_GPG_KEY (armored) or HASTACK_RELEASE_GPG_KEY_ID, or pass --unsigned"
fi

# 2. Build.
# OS_ARCH → Rust target. Terraform's names; goreleaser's default set for a provider.
TARGETS=${HASTACK_RELEASE_TARGETS:-linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64 freebsd_amd64}
MAX_GLIBC=${HASTACK_RELEASE_MAX_GLIBC:-2.17}
triple_of() {
  case "$1" in
    linux_amd64) echo x86_64-unknown-linux-gnu ;;
    linux_arm64) echo aarch64-unknown-linux-gnu ;;
    linux_386) echo i686-unknown-linux-gnu ;;
    linux_arm) echo armv7-unknown-linux-gnueabihf ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    windows_amd64) echo x86_64-pc-windows-gnu ;;
    windows_arm64) echo aarch64-pc-windows-gnullvm ;;
    freebsd_amd64) echo x86_64-unknown-freebsd ;;
    *) return 1 ;;
  esac
}
case " $TARGETS " in *" linux_amd64 "*) ;; *) die "HASTACK_RELEASE_TARGETS must include linux_amd64 (what HCP Terraform runs)" ;; esac
SYSROOT=$(rustc --print sysroot)
started=$(date +%s)
BINARIES=() BUILT=() NOT_BUILT=()
if $DEV; then
  host_plat="$(uname -s | tr '[:upper:]' '[:lower:]')_$(case "$(uname -m)" in x86_64) echo amd64 ;; aarch64|arm64) echo arm64 ;; *) uname -m ;; esac)"
  log "DEVELOPMENT build ($host_plat only, debug profile, this machine's libc): not for distribution"
  cargo build -q --locked -p terraform-provider-hastack
  BINARIES+=(--binary "$host_plat=$CARGO_TARGET_DIR/debug/terraform-provider-hastack")
  BUILT+=("$host_plat")
  LINUX_BIN=$CARGO_TARGET_DIR/debug/terraform-provider-hastack
else
  python3 -m ziglang version >/dev/null 2>&1 || command -v zig >/dev/null \
    || die "zig not found: pip install ziglang (scripts/setup.sh does)"
  command -v cargo-zigbuild >/dev/null || die "cargo-zigbuild not found: pip install cargo-zigbuild (scripts/setup.sh does)"
  for plat in $TARGETS; do
    triple=$(triple_of "$plat") || die "unknown platform $plat (known: see triple_of in $0)"
    if [ ! -d "$SYSROOT/lib/rustlib/$triple/lib" ]; then
      [ "$plat" = linux_amd64 ] && die "the Rust standard library for $triple is not installed"
      NOT_BUILT+=("$plat: Rust standard library for $triple not installed (rustup target add $triple)")
      continue
    fi
    zig_target=$triple
    case "$triple" in *-linux-gnu*) zig_target="$triple.$MAX_GLIBC" ;; esac
    log "cargo zigbuild --release --target $zig_target"
    if cargo zigbuild --release --locked -p terraform-provider-hastack --target "$zig_target" >&2; then
      exe=terraform-provider-hastack
      case "$triple" in *windows*) exe=$exe.exe ;; esac
      BINARIES+=(--binary "$plat=$CARGO_TARGET_DIR/$triple/release/$exe")
      BUILT+=("$plat")
    else
      [ "$plat" = linux_amd64 ] && die "linux_amd64 failed to build"
      NOT_BUILT+=("$plat: the build failed (output above)")
    fi
  done
  LINUX_BIN=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/terraform-provider-hastack
fi
built=$(date +%s)
if $BUILD_ONLY; then
  log "built ${BUILT[*]} in $((built - started)) s (--build-only: nothing packed)"
  [ "${#NOT_BUILT[@]}" = 0 ] || log "not built: ${NOT_BUILT[*]}"
  exit 0
fi

# 3. Check the binary Terraform will run on Linux.
got=$("$LINUX_BIN" --version)
[ "$got" = "terraform-provider-hastack $VERSION" ] || die "the binary reports '$got', expected version $VERSION"
glibc_versions=$(objdump -T "$LINUX_BIN" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -Vu || true)
max_glibc=$(printf '%s\n' "$glibc_versions" | sed 's/GLIBC_//' | sort -V | tail -n1)
if ! $DEV && [ -n "$max_glibc" ] \
   && [ "$(printf '%s\n%s\n' "$max_glibc" "$MAX_GLIBC" | sort -V | tail -n1)" != "$MAX_GLIBC" ]; then
  die "linux_amd64 needs GLIBC_$max_glibc, newer than $MAX_GLIBC"
fi

# 4. Package.
rm -rf "$OUT"
mkdir -p "$OUT"
python3 scripts/release/package.py --version "$VERSION" --out "$OUT" --host "$HOST" \
  --download-base "$DOWNLOAD_BASE" "${BINARIES[@]}" "${GNUPG_ARGS[@]}" >&2

# 5. Report.
echo "terraform-provider-hastack $VERSION$($DEV && echo ' (DEVELOPMENT build)') in $OUT"
echo "built: ${BUILT[*]} ($((built - started)) s)"
for n in "${NOT_BUILT[@]}"; do echo "not built: $n"; done
echo "linux_amd64 binary: $(stat -c %s "$LINUX_BIN") bytes; zip: $(stat -c %s "$OUT"/terraform-provider-hastack_"${VERSION}"_linux_amd64.zip 2>/dev/null || echo '-') bytes"
echo "dynamic libraries: $(readelf -d "$LINUX_BIN" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
echo "glibc symbol versions needed: $(printf '%s' "$glibc_versions" | tr '\n' ' ') (newest: ${max_glibc:-none})"
echo "lock file entry: $OUT/lock.hcl"
sed 's/^/  /' "$OUT/lock.hcl"
[ -f "$OUT/terraform-provider-hastack_${VERSION}_SHA256SUMS.sig" ] \
  && echo "signed by GPG key $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signing_keys"]["gpg_public_keys"][0]["key_id"])' "$OUT/registry/v1/providers/hastack/hastack/$VERSION/download/linux/amd64")" \
  || echo "UNSIGNED"
