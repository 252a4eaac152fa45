#!/usr/bin/env bash
# Installs podpy system-wide (a virtualenv from Debian's python3 in /opt/podpy, the command in
# /usr/local/bin), makes a busybox image from Debian's busybox-static (no registry needed),
# and runs a first container.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then exec sudo -E bash "$0" "$@"; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3 python3-venv busybox-static uidmap catatonit nftables >/dev/null
VENV=/opt/podpy
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check .
chmod -R a+rX "$VENV"
ln -sf "$VENV/bin/podpy" /usr/local/bin/podpy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$VENV/bin/python" -c "import sys; sys.path.insert(0, '.'); from pathlib import Path; \
from tests.busybox import make_rootfs_tar; make_rootfs_tar(Path('$tmp/busybox.tar'))"
podpy import --change 'CMD ["/bin/sh"]' "$tmp/busybox.tar" busybox:latest >/dev/null
podpy images
if podpy help run >/dev/null 2>&1; then
    podpy run --rm busybox echo "hello from a podpy container"
fi
