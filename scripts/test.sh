#!/usr/bin/env bash
# Installs everything the test suite needs (Debian packages, a virtualenv from Debian's python3)
# and runs the whole suite. Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then exec sudo -E bash "$0" "$@"; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    python3 python3-venv busybox-static uidmap runc docker-registry tmux openssl \
    apache2-utils iproute2 procps util-linux man-db groff-base zsh fish catatonit nftables git \
    passt slirp4netns buildah >/dev/null  # buildah: the oracle that encrypts images (test_encrypted_images)
# The venv comes from Debian's own python3 (3.11.2), the interpreter an ordinary user has.
VENV=/opt/podpy-test
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -e '.[test]'
chmod -R a+rX "$VENV"
"$VENV/bin/python" -m ruff check podpy tests bench
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
