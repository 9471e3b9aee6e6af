#!/usr/bin/env bash
# Unpacks Postfix's smtp-sink (the fake remote server of the outbound tests) into .dizi/cache/postfix
# without installing or running Postfix. Run once after apt-get (CI: from .ci/run); tests never download.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.dizi/cache/postfix
if [ -x "$dest/usr/sbin/smtp-sink" ]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # apt's _apt user writes the download there
(cd "$work" && apt-get download postfix >/dev/null)
mkdir -p "$dest"
dpkg-deb -x "$work"/postfix_*.deb "$dest"
# without arguments it prints its usage: proof that it and its libraries load
usage=$(LD_LIBRARY_PATH="$dest/usr/lib/postfix" "$dest/usr/sbin/smtp-sink" 2>&1 || true)
case "$usage" in *usage*) ;; *) echo "smtp-sink unpacked but does not run: $usage" >&2; exit 1 ;; esac
echo "smtp-sink ready in $dest/usr/sbin"
