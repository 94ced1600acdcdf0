#!/usr/bin/env bash
# Several systems over repeated trials on one corpus, then one results table (mean ± std
# [min, max] over the trials) and the paired comparison of every system with a reference.
# Run from a recipe directory:
#
#   utils/run_trials.sh [--num_trials 3] [--reference conf/tuning/train_raw_logmel.yaml] \
#       CONFIG [CONFIG ...] [-- run.sh options]
#
# Stages 0-2 run first (skipped when complete); then, per training config, stages 3-5 with
# --num_trials and the inference config its header names ("# Scoring (stage 4):
# --inference_config X"); then utils/show_results.sh over these systems' trials and
# python -m asd_lib.bin.compare of each system (A) with the reference (B). The tables are
# also written to exp/trials_summary.md.
set -euo pipefail

num_trials=3                                       # trials (seeds 0..N-1) of every system
reference=conf/tuning/train_raw_logmel.yaml        # config of the system compared against
help_message="Usage: $0 [options] CONFIG [CONFIG ...] [-- run.sh options]"

# shellcheck source-path=SCRIPTDIR source=parse_options.sh
. "$(dirname "$0")/parse_options.sh"

configs=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do configs+=("$1"); shift; done
[ $# -gt 0 ] && shift  # the --
if [ "${#configs[@]}" -eq 0 ]; then
    echo "${help_message}" >&2
    exit 2
fi
for arg in "$@"; do
    case "${arg}" in
        --train_config*|--inference_config*|--num_trials*|--seeds*|--stage*|--stop-stage*|--stop_stage*)
            echo "$0: ${arg%%=*} is set by this script; give the configs as arguments and" \
                "--num_trials before them" >&2
            exit 2 ;;
    esac
done
if [ ! -x ./run.sh ]; then
    echo "$0: run it from a recipe directory (one with run.sh)" >&2
    exit 2
fi

# The inference config a training config's header names.
decode_of() {
    local decode
    decode=$(sed -n 's/^# Scoring (stage 4): --inference_config //p' "$1")
    if [ -z "${decode}" ]; then
        echo "$0: $1 has no '# Scoring (stage 4): --inference_config X' line" >&2
        exit 2
    fi
    echo "${decode}"
}
# exp/<name>_seed*/<inference tag>: the trials of a config scored with its inference config.
trials_of() {
    echo "exp/$(basename "$1" .yaml)_seed*/$(basename "$(decode_of "$1")" .yaml)_best"
}

for config in "${configs[@]}" "${reference}"; do
    [ -f "${config}" ] || { echo "$0: ${config}: no such config" >&2; exit 2; }
    decode_of "${config}" >/dev/null
done

systems=("${configs[@]}")
if [[ " ${configs[*]} " != *" ${reference} "* ]]; then systems+=("${reference}"); fi
# shellcheck source=/dev/null
. ./path.sh
./run.sh --stage 0 --stop-stage 2 "$@"
patterns=()
for config in "${systems[@]}"; do
    ./run.sh --stage 3 --stop-stage 5 --train_config "${config}" \
        --inference_config "$(decode_of "${config}")" --num_trials "${num_trials}" "$@"
    patterns+=("$(basename "${config}" .yaml)_seed*")
done

summary=exp/trials_summary.md
{
    echo "## Results over ${num_trials} trials"
    echo
    utils/show_results.sh exp --experiments "${patterns[@]}"
    for config in "${configs[@]}"; do
        [ "${config}" = "${reference}" ] && continue
        echo
        echo "## $(basename "${config}" .yaml) against $(basename "${reference}" .yaml)"
        echo
        python -m asd_lib.bin.compare "$(trials_of "${config}")" "$(trials_of "${reference}")"
    done
} > "${summary}.tmp"
mv "${summary}.tmp" "${summary}"
cat "${summary}"
