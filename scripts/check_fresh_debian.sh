#!/usr/bin/env bash
# Checks the README's set-up command on a fresh Debian 12: debootstraps a minimal bookworm into
# a folder, clones this repository into it, and runs `bash scripts/setup.sh && bash
# scripts/build.sh && bash scripts/demo.sh` there as root (no GPU, no /usr/local/cuda: CUDA comes
# from NVIDIA's PyPI wheels). Needs root, network access to deb.debian.org and PyPI, and about
# 6 GB of disk. With TESTS=1 it then runs `bash scripts/test.sh` too. Behind a TLS-intercepting
# proxy, CA_BUNDLE=FILE gives pip its certificates inside the new system (nothing else is copied).
#
#   scripts/check_fresh_debian.sh [ROOT]        (default /srv/infc-deb12; removed first)
#   REUSE=1 keeps an earlier ROOT (its packages) and only clones and runs again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="${1:-/srv/infc-deb12}"
log() { printf '[fresh-debian] %s\n' "$*" >&2; }
command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get install -y -q debootstrap </dev/null; }
for m in proc sys dev; do umount -l "$root/$m" 2>/dev/null || true; done
if [[ "${REUSE:-0}" == 1 && -x "$root/bin/bash" ]]; then
  log "reusing $root"
  rm -rf "$root/infc"
else
  rm -rf "$root"
  log "debootstrap bookworm (minbase) into $root"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
trap 'for m in proc sys dev; do umount -l "$root/$m" 2>/dev/null || true; done' EXIT
log "cloning $(git rev-parse --short HEAD) into $root/infc"
git clone -q . "$root/infc"
ca_env=()
if [[ -n "${CA_BUNDLE:-}" ]]; then
  cp "$CA_BUNDLE" "$root/etc/infc-ca-bundle.crt"
  ca_env=(PIP_CERT=/etc/infc-ca-bundle.crt SSL_CERT_FILE=/etc/infc-ca-bundle.crt)
fi
steps='bash scripts/setup.sh && bash scripts/build.sh && bash scripts/demo.sh'
[[ "${TESTS:-0}" == 1 ]] && steps="$steps && bash scripts/test.sh"
log "running: $steps"
start=$(date +%s)
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CI=true "${ca_env[@]}" \
  bash -c "cd /infc && $steps"
log "passed in $(( $(date +%s) - start )) s"
