# shellcheck shell=bash
# Sourced by every recipe script: activates tools/venv and sets the run environment.
# This file is shared (symlinked) by all recipes; it finds the repository through its own path.
MAIN_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../../.." && pwd)
export MAIN_ROOT
if [ ! -f "${MAIN_ROOT}/tools/venv/bin/activate" ]; then
    echo "path.sh: ${MAIN_ROOT}/tools/venv is missing; install it with: make -C ${MAIN_ROOT}/tools" >&2
    # shellcheck disable=SC2317
    return 1 2>/dev/null || exit 1
fi
# shellcheck disable=SC1091
. "${MAIN_ROOT}/tools/venv/bin/activate"
export LC_ALL=C
export PYTHONIOENCODING=UTF-8
export MPL_BACKEND=Agg
# Parallel data jobs use one thread each; training sets its own thread count.
export OMP_NUM_THREADS=1
