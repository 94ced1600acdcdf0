#!/usr/bin/env bash
# DCASE 2020 Task 2 corpus -> Kaldi-style data dirs (data/train, data/dev_test, data/eval_test).
#   stage 0: get the corpus: --download true fetches the 18 official archives (+ ground truth);
#            with DCASE2020 empty in db.sh, a synthetic corpus in the official layout is made.
#   stage 1: data preparation and the training set's class labels (utt2class = machine_id,
#            41 classes).
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

stage=0                # first stage
stop_stage=1           # last stage
download=false         # true: download the official archives into downloads/
use_additional=true    # include the additional training set (eval IDs) in data/train
download_dir=downloads # where archives go
synth_dir=corpus/synthetic_dcase2020  # where a synthetic corpus is generated
synth_seed=0           # seed of the synthetic corpus
synth_duration=""      # synthetic clip length in seconds (empty: make_synthetic's default)
synth_train_per_id=""  # synthetic training clips per machine ID (empty: default)
synth_test_per_id=""   # synthetic dev-test normal and anomalous clips per ID (empty: default)
synth_eval_test_per_id=""  # synthetic eval-test clips per ID (empty: default)
nj=2                   # parallel processes for synthesis
print_corpus=false     # true: print where the corpus is (or will be made) and exit

# shellcheck source=../path.sh
. ./path.sh
# shellcheck source=../db.sh
. ./db.sh
# shellcheck source=../../../../utils/parse_options.sh
. utils/parse_options.sh

# Where the corpus is: db.sh's DCASE2020, else a finished download, else the synthetic one.
if [ -n "${DCASE2020}" ]; then
    corpus=${DCASE2020}
elif [ "${download}" = true ] || [ -f "${download_dir}/dcase2020/.complete" ]; then
    corpus=${download_dir}/dcase2020
else
    corpus=${synth_dir}
fi
if [ "${print_corpus}" = true ]; then
    echo "${corpus}"
    exit 0
fi

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
    if [ "${download}" = true ]; then
        log "Downloading the official DCASE 2020 Task 2 archives into ${corpus}"
        python -m asd_lib.bin.download --dataset dcase2020 --download_dir "${download_dir}" \
            --corpus_dir "${corpus}"
        touch "${corpus}/.complete"
    elif [ "${corpus}" = "${synth_dir}" ]; then
        if [ -f "${synth_dir}/.complete" ]; then
            log "Synthetic corpus ${synth_dir} exists; skipped"
        else
            log "DCASE2020 is not set in db.sh: generating a synthetic corpus in ${synth_dir}"
            rm -rf "${synth_dir}"
            opts=()
            [ -n "${synth_duration}" ] && opts+=(--duration "${synth_duration}")
            [ -n "${synth_train_per_id}" ] && opts+=(--train_per_id "${synth_train_per_id}")
            [ -n "${synth_test_per_id}" ] && opts+=(--test_normal_per_id "${synth_test_per_id}" \
                --test_anomaly_per_id "${synth_test_per_id}")
            [ -n "${synth_eval_test_per_id}" ] && opts+=(--eval_test_per_id "${synth_eval_test_per_id}")
            python -m asd_lib.bin.make_synthetic --layout dcase2020 --out "${synth_dir}" \
                --seed "${synth_seed}" --nj "${nj}" "${opts[@]}"
            touch "${synth_dir}/.complete"
        fi
    else
        log "Using the corpus at ${corpus} (DCASE2020 in db.sh)"
    fi
fi

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    log "Preparing data/ from ${corpus} (additional training set: ${use_additional})"
    python -m asd_lib.bin.prepare_data --dataset dcase2020 --corpus_dir "${corpus}" \
        --data_dir data --use_additional "${use_additional}"
    # Training classes: the machine IDs (a test clip's ID is in its official name too).
    python -m asd_lib.bin.make_labels --scheme machine_section data/train
fi
