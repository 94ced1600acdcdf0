#!/usr/bin/env bash
# Every experiment's results in one Markdown table per DCASE year, for RESULTS.md
# (thin wrapper over python -m asd_lib.bin.show_results; see its --help):
#
#   utils/show_results.sh [--sort_by AUC] [--out FILE] [exp ...]   (default: exp)
#
# One row per exp/<tag>/<inference_tag>/<set>/result.json: the year's headline numbers in %
# and the command that reproduces the experiment (its run.sh), relative to the current
# directory.
set -euo pipefail

# Find the asd_lib package from this script's real location (recipes link utils/ here).
root=$(cd -P "$(dirname "$(readlink -f "$0")")/.." && pwd)
export PYTHONPATH="${root}${PYTHONPATH:+:${PYTHONPATH}}"
python=${PYTHON:-}
if [ -z "${python}" ]; then
    if [ -x "${root}/tools/venv/bin/python" ]; then python=${root}/tools/venv/bin/python; else python=python3; fi
fi
exec "${python}" -m asd_lib.bin.show_results "$@"
