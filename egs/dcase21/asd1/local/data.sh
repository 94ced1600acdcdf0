#!/usr/bin/env bash
# DCASE 2021 Task 2 corpus -> Kaldi-style data dirs (data/train, data/dev_test, data/eval_test).
#   stage 0: get the corpus: --download true fetches the 21 archives (development,
#            additional training, evaluation test), the evaluation list (attributes) and
#            the official evaluator's ground truth (labels, domains) into ground_truth/;
#            with DCASE2021 empty in db.sh, a synthetic corpus in the official layout is made.
#   stage 1: data preparation (train = dev train of sections 00-02 + additional train of
#            sections 03-05; dev_test and eval_test hold both domain folders) and the
#            training set's class labels: --label_scheme machine_section (default: a
#            section classifier), machine_section_attr (attribute strings), domain,
#            machine or cluster (fitted on data/train). An experiment keeps the labels it
#            trained with.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

stage=0                # first stage
stop_stage=1           # last stage
download=false         # true: download the official archives into downloads/
use_additional=true    # include the additional training set (sections 03-05) in data/train
download_dir=downloads # where archives go
synth_dir=corpus/synthetic_dcase2021  # where a synthetic corpus is generated
synth_seed=0           # seed of the synthetic corpus
synth_machines=""      # comma-separated machine types of the synthetic corpus (empty: all)
synth_duration=""      # synthetic clip length in seconds (empty: make_synthetic's default)
synth_source_train=""  # synthetic source-domain training clips per section (empty: default)
synth_target_train=""  # synthetic target-domain training clips per section (empty: default)
synth_test_per_condition=""  # synthetic test clips per section, domain and label (empty: default)
synth_official_sizes=false   # true: the official counts (1000 + 3 train per section, 2 x 2 x 100 test, 10 s)
label_scheme=machine_section  # utt2class: machine_section, machine_section_attr, domain, machine, cluster
num_clusters=8         # cluster scheme: clusters per machine type
cluster_method=gmm     # cluster scheme: gmm or kmeans
nj=2                   # parallel processes for synthesis
print_corpus=false     # true: print where the corpus is (or will be made) and exit

# shellcheck source=../path.sh
. ./path.sh
# shellcheck source=../db.sh
. ./db.sh
# shellcheck source=../../../../utils/parse_options.sh
. utils/parse_options.sh

# Where the corpus is: db.sh's DCASE2021, else a finished download, else the synthetic one.
if [ -n "${DCASE2021}" ]; then
    corpus=${DCASE2021}
elif [ "${download}" = true ] || [ -f "${download_dir}/dcase2021/.complete" ]; then
    corpus=${download_dir}/dcase2021
else
    corpus=${synth_dir}
fi
if [ "${print_corpus}" = true ]; then
    echo "${corpus}"
    exit 0
fi

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
    if [ "${download}" = true ]; then
        log "Downloading the official DCASE 2021 Task 2 archives into ${corpus}"
        python -m asd_lib.bin.download --dataset dcase2021 --download_dir "${download_dir}" \
            --corpus_dir "${corpus}"
        touch "${corpus}/.complete"
    elif [ "${corpus}" = "${synth_dir}" ]; then
        if [ -f "${synth_dir}/.complete" ]; then
            log "Synthetic corpus ${synth_dir} exists; skipped"
        else
            log "DCASE2021 is not set in db.sh: generating a synthetic corpus in ${synth_dir}"
            rm -rf "${synth_dir}"
            opts=(--official_sizes "${synth_official_sizes}")
            [ -n "${synth_machines}" ] && opts+=(--machines "${synth_machines}")
            [ -n "${synth_duration}" ] && opts+=(--duration "${synth_duration}")
            [ -n "${synth_source_train}" ] && opts+=(--source_train "${synth_source_train}")
            [ -n "${synth_target_train}" ] && opts+=(--target_train "${synth_target_train}")
            [ -n "${synth_test_per_condition}" ] && opts+=(--test_per_condition "${synth_test_per_condition}")
            python -m asd_lib.bin.make_synthetic --layout dcase2021 --out "${synth_dir}" \
                --seed "${synth_seed}" --nj "${nj}" "${opts[@]}"
            touch "${synth_dir}/.complete"
        fi
    else
        log "Using the corpus at ${corpus} (DCASE2021 in db.sh)"
    fi
fi

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    log "Preparing data/ from ${corpus} (additional training set: ${use_additional})"
    python -m asd_lib.bin.prepare_data --dataset dcase2021 --corpus_dir "${corpus}" \
        --data_dir data --use_additional "${use_additional}"
    # The training set gets classes (a test clip's class is unknown at test time); it
    # decides which types hide their attributes and is what clusters are fitted on.
    log "Class labels (${label_scheme}) for data/train"
    python -m asd_lib.bin.make_labels --scheme "${label_scheme}" --fit_dir data/train \
        --num_clusters "${num_clusters}" --cluster_method "${cluster_method}" data/train
fi
