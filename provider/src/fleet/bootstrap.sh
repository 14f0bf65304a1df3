#!/bin/bash
# hastack bootstrap for one hastack_lightsail_ha_instance member, run by cloud-init as user data.
# Installs the Amazon SSM agent when missing, registers this host as a managed node with its
# hybrid activation, starts the agent, then runs the module's own user data.
# Idempotent: a registered host is not registered again, and the app's user data runs once.
# The activation code is never echoed: it stays in this file (readable by root only).
set -euo pipefail
umask 077

REGION='@REGION@'
ACTIVATION_ID='@ACTIVATION_ID@'
ACTIVATION_CODE='@ACTIVATION_CODE@'
STATE_DIR=/var/lib/hastack
mkdir -p "$STATE_DIR"

log() { echo "hastack-bootstrap: $*"; }

install_agent() {
  if command -v amazon-ssm-agent >/dev/null 2>&1 || [ -x /snap/amazon-ssm-agent/current/amazon-ssm-agent ]; then
    return 0
  fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) log "unsupported architecture $(uname -m)"; return 1 ;;
  esac
  local base="https://s3.${REGION}.amazonaws.com/amazon-ssm-${REGION}/latest"
  if command -v dpkg >/dev/null 2>&1; then
    log "installing amazon-ssm-agent (deb, ${arch})"
    curl -fsSL --retry 5 -o /tmp/amazon-ssm-agent.deb "${base}/debian_${arch}/amazon-ssm-agent.deb"
    dpkg -i /tmp/amazon-ssm-agent.deb
    rm -f /tmp/amazon-ssm-agent.deb
  elif command -v rpm >/dev/null 2>&1; then
    log "installing amazon-ssm-agent (rpm, ${arch})"
    [ "$arch" = amd64 ] && arch=x86_64
    yum install -y "${base}/linux_${arch}/amazon-ssm-agent.rpm"
  else
    log "no dpkg or rpm: cannot install amazon-ssm-agent"
    return 1
  fi
}

agent_bin() {
  if command -v amazon-ssm-agent >/dev/null 2>&1; then
    command -v amazon-ssm-agent
  else
    echo /snap/amazon-ssm-agent/current/amazon-ssm-agent
  fi
}

agent_unit() {
  if [ -x /snap/amazon-ssm-agent/current/amazon-ssm-agent ] && ! command -v amazon-ssm-agent >/dev/null 2>&1; then
    echo snap.amazon-ssm-agent.amazon-ssm-agent
  else
    echo amazon-ssm-agent
  fi
}

install_agent
if [ -s /var/lib/amazon/ssm/registration ]; then
  log "already registered with SSM"
else
  systemctl stop "$(agent_unit)" >/dev/null 2>&1 || true
  # Registration output names the managed node; the code itself is never printed.
  "$(agent_bin)" -register -code "$ACTIVATION_CODE" -id "$ACTIVATION_ID" -region "$REGION" -y
fi
systemctl enable --now "$(agent_unit)"
log "amazon-ssm-agent running"

# Port 22 is closed by the firewall; sshd goes too, so opening the port by mistake opens nothing.
for unit in ssh sshd; do
  if systemctl is-enabled "$unit" >/dev/null 2>&1; then
    systemctl disable --now "$unit" >/dev/null 2>&1 && log "disabled $unit"
  fi
done

# The module's user data, once.
if [ -n '@HAS_USER_DATA@' ] && [ ! -e "$STATE_DIR/user-data.done" ]; then
  base64 -d <<'HASTACK_USER_DATA' | gzip -dc > "$STATE_DIR/user-data"
@USER_DATA_B64@
HASTACK_USER_DATA
  chmod 0700 "$STATE_DIR/user-data"
  touch "$STATE_DIR/user-data.done"
  log "running the module's user data"
  # The app gets the usual umask, not this script's private one.
  umask 022
  if head -c 2 "$STATE_DIR/user-data" | grep -q '#!'; then
    "$STATE_DIR/user-data"
  else
    bash "$STATE_DIR/user-data"
  fi
  log "user data finished"
fi
