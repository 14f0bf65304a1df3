#!/bin/bash
# PID 1 of one emulated Lightsail instance. Runs inside the host's own network, mount, UTS and
# PID namespaces: gives it a private /etc, /var, /root and /usr/local (overlays on the machine's, so nothing it
# does reaches the machine's files), a fresh /run and /tmp, its hostname, the stand-in agents,
# runs user data once at first boot like cloud-init, then stays up reaping orphans.
# Usage: host-init.sh HOST_DIR HOSTNAME
set -euo pipefail
host_dir=$1
name=$2

hostname "$name"
# /usr/local too: what a host installs there (an app, an agent) is its own, as on an instance.
for d in etc var root usr/local; do
  k=${d//\//-}
  mkdir -p "$host_dir/$k.upper" "$host_dir/$k.work"
  mount -t overlay "hastack-$k" -o "lowerdir=/$d,upperdir=$host_dir/$k.upper,workdir=$host_dir/$k.work" "/$d"
done
# The machine's own AWS credentials (if it has any) are not the host's.
if [ -e /root/.aws ] && [ ! -e "$host_dir/root.upper/.aws" ]; then rm -rf /root/.aws; fi
mount -t tmpfs -o mode=0755 hastack-run /run
# The host's own directory stays reachable at /run/hastack/host once /tmp is private.
mkdir -p /run/hastack/host
mount --bind "$host_dir" /run/hastack/host
host_dir=/run/hastack/host
mount -t tmpfs -o mode=1777 hastack-tmp /tmp
echo "$name" > /etc/hostname
printf '127.0.0.1 localhost\n%s %s\n' "$(cat "$host_dir/private-ip")" "$name" > /etc/hosts
# Load balancers' names (hastack-local keeps this file current while the host runs).
cat "$host_dir/lb-hosts" >> /etc/hosts 2>/dev/null || true

mkdir -p /run/hastack/bin
cp "$host_dir"/tools/* /run/hastack/bin/
chmod 0755 /run/hastack/bin/*
export PATH=/run/hastack/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cp "$host_dir/env" /run/hastack/env

echo "hastack-local: ${name} booted at $(date -u +%FT%TZ)" >> "$host_dir/boot.log"
# Services enabled on an earlier boot (systemctl enable) start again, as systemd would.
systemctl boot >> "$host_dir/boot.log" 2>&1 || true
if [ -s "$host_dir/user-data" ] && [ ! -e "$host_dir/user-data.done" ]; then
  touch "$host_dir/user-data.done"
  (
    cd /
    echo "hastack-local: running user data"
    if bash "$host_dir/user-data"; then
      echo "hastack-local: user data finished"
    else
      echo "hastack-local: user data failed with exit code $?"
    fi
  ) >> "$host_dir/boot.log" 2>&1 &
fi

# Stay up as init: reap whatever gets orphaned, until the host is stopped.
trap 'exit 0' TERM
while true; do
  wait -n 2>/dev/null || sleep 1
done
