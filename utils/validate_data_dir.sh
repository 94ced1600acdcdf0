#!/usr/bin/env bash
# Validate Kaldi-style data directories (see asd_lib/data/datadir.py for the checks).
#
#   utils/validate_data_dir.sh [--check-audio] [--require FILE]... <data-dir> [<data-dir> ...]
#
# Prints "validated <dir>: <n> utterances" per directory; exits 1 naming the file and the
# fix when a directory is broken, 2 on misuse.
set -euo pipefail

usage() {
  echo "Usage: $0 [--check-audio] [--require FILE]... <data-dir> [<data-dir> ...]" >&2
  echo "  --check-audio    every audio file in wav.scp must exist and be non-empty" >&2
  echo "  --require FILE   FILE (e.g. utt2label) must exist besides wav.scp, utt2machine," >&2
  echo "                   utt2section; may be repeated" >&2
  exit 2
}

args=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --check-audio | --check_audio) args+=(--check_audio true); shift ;;
    --require)
      if [ "$#" -lt 2 ]; then usage; fi
      args+=(--require "$2"); shift 2 ;;
    --require=*) args+=(--require "${1#*=}"); shift ;;
    -h | --help) usage ;;
    --) shift; break ;;
    -*) echo "$0: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
if [ "$#" -eq 0 ]; then usage; fi

# Find the asd_lib package from this script's real location (recipes link utils/ here).
root=$(cd -P "$(dirname "$0")/.." && pwd)
export PYTHONPATH="${root}${PYTHONPATH:+:${PYTHONPATH}}"
exec "${PYTHON:-python3}" -m asd_lib.bin.validate_data_dir ${args[@]+"${args[@]}"} -- "$@"
