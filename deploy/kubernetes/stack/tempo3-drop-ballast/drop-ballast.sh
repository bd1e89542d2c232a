#!/bin/sh
# Manifests in on stdin, out on stdout: drop the one list item that passes the removed flag.
# Fails (non-zero) if the flag is not there, so a chart change that drops it is noticed.
set -eu
in=$(mktemp)
trap 'rm -f "$in"' EXIT
cat >"$in"
grep -q -- '^[[:space:]]*- -mem-ballast-size-mbs=' "$in" || {
  echo "tempo3-drop-ballast: no -mem-ballast-size-mbs argument found" >&2
  exit 1
}
sed -e '/^[[:space:]]*- -mem-ballast-size-mbs=/d' "$in"
