#!/usr/bin/env bash
# Installs podpy system-wide: a virtualenv from Debian's python3 in /opt/podpy, the command in
# PREFIX/bin, the man pages (`man podpy-run`) and the bash, zsh and fish completions where those
# shells look for them; then makes a busybox image from Debian's busybox-static (no registry
# needed) and runs a first container.
#
#   scripts/install.sh [--prefix DIR] [--docs-only]
#
# --prefix DIR   where the command, man pages and completions go (default /usr/local)
# --docs-only    only the man pages and completions (no packages, no virtualenv, no image)
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=/usr/local
DOCS_ONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX=$2; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; shift ;;
        --docs-only) DOCS_ONLY=1; shift ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "Error: unknown option $1" >&2; exit 125 ;;
    esac
done

install_docs() {
    # man-db reads PREFIX/share/man (MANDATORY_MANPATH /usr/local/share/man on Debian); bash-completion,
    # zsh (site-functions in its default fpath) and fish (vendor_completions.d) read PREFIX/share
    local man1="$PREFIX/share/man/man1"
    install -d -m 755 "$man1" "$PREFIX/share/bash-completion/completions" \
        "$PREFIX/share/zsh/site-functions" "$PREFIX/share/fish/vendor_completions.d"
    install -m 644 man/*.1 "$man1/"
    install -m 644 completions/podpy.bash "$PREFIX/share/bash-completion/completions/podpy"
    install -m 644 completions/_podpy "$PREFIX/share/zsh/site-functions/_podpy"
    install -m 644 completions/podpy.fish "$PREFIX/share/fish/vendor_completions.d/podpy.fish"
    if [ "$(id -u)" = 0 ] && command -v mandb >/dev/null; then mandb -q "$PREFIX/share/man" || true; fi
}

if [ "$DOCS_ONLY" = 1 ]; then
    install_docs
    exit 0
fi
if [ "$(id -u)" != 0 ]; then exec sudo -E bash "$0" --prefix "$PREFIX"; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends python3 python3-venv busybox-static uidmap catatonit nftables \
    man-db bash-completion >/dev/null
VENV=/opt/podpy
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check .
chmod -R a+rX "$VENV"
install -d -m 755 "$PREFIX/bin"
ln -sf "$VENV/bin/podpy" "$PREFIX/bin/podpy"
install_docs
"$PREFIX/bin/podpy" image import-busybox busybox:latest >/dev/null
"$PREFIX/bin/podpy" images
"$PREFIX/bin/podpy" run --rm busybox echo "hello from a podpy container"
