#!/usr/bin/env bash
# Merges the results of GPU validation runs (each unpacked: traces/, work/) into one folder, later
# runs replacing earlier files of the same name; then `validate.sh --analyze DEST` analyses all.
#   scripts/gpu/merge_results.sh DEST RUN1 [RUN2 ...]
set -euo pipefail
dest=${1:?usage: merge_results.sh DEST RUN1 [RUN2 ...]}
shift
mkdir -p "$dest/traces" "$dest/work"
for run in "$@"; do
  cp -a "$run"/traces/. "$dest/traces/" 2>/dev/null || true
  cp -a "$run"/work/. "$dest/work/" 2>/dev/null || true
  [ -f "$run/log.txt" ] && cat "$run/log.txt" >>"$dest/log.txt"
done
echo "merged $# runs into $dest"
