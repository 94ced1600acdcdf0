#!/usr/bin/env bash
# DCASE 2025 Task 2 corpus -> Kaldi-style data dirs (data/train, data/dev_test, data/eval_test).
#   stage 0: get the corpus: --download true fetches the 7 development and 16 evaluation
#            archives and the evaluation list (labels, domains, attributes; the official
#            evaluator's ground truth could not be read to check it); with DCASE2025 empty in
#            db.sh, a synthetic corpus in the official layout is made.
#   stage 1: data preparation (train = dev train + additional train of the 8 evaluation types)
#            and the training set's class labels: --label_scheme machine_section_attr
#            (default; the domain where the attributes are hidden), domain, machine or
#            cluster (fitted on data/train). An experiment keeps the labels it trained with.
#            --supplemental true also writes data/supplemental (clean machine or noise-only
#            recordings; their file names are globbed, not parsed; no class labels);
#            --supplemental_in_train true adds them to data/train as an extra training set
#            (normal clips, source domain unless named, no attributes: a class of their own
#            under the attribute label schemes).
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

stage=0                # first stage
stop_stage=1           # last stage
download=false         # true: download the official archives into downloads/
use_additional=true    # include the additional training set (evaluation types) in data/train
separate_eval_train=false  # true: the additional training set goes to data/eval_train instead
supplemental=false     # true: <M>/supplemental/ recordings to data/supplemental (no system uses them)
supplemental_in_train=false  # true: <M>/supplemental/ recordings join data/train (ours; off in the baseline)
download_dir=downloads # where archives go
synth_dir=corpus/synthetic_dcase2025  # where a synthetic corpus is generated
synth_seed=0           # seed of the synthetic corpus
synth_machines=""      # comma-separated machine types of the synthetic corpus (empty: all)
synth_duration=""      # synthetic clip length in seconds (empty: make_synthetic's default)
synth_source_train=""  # synthetic source-domain training clips per type (empty: default)
synth_target_train=""  # synthetic target-domain training clips per type (empty: default)
synth_test_per_condition=""  # synthetic test clips per domain and label (empty: default)
synth_supplemental=""  # synthetic supplemental recordings per type (empty: default)
synth_official_sizes=false   # true: the official counts (990 + 10 train, 4 x 50 test, 100 supplemental, 10 s)
label_scheme=machine_section_attr  # utt2class: machine_section_attr, domain, machine or cluster
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

# Where the corpus is: db.sh's DCASE2025, else a finished download, else the synthetic one.
if [ -n "${DCASE2025}" ]; then
    corpus=${DCASE2025}
elif [ "${download}" = true ] || [ -f "${download_dir}/dcase2025/.complete" ]; then
    corpus=${download_dir}/dcase2025
else
    corpus=${synth_dir}
fi
if [ "${print_corpus}" = true ]; then
    echo "${corpus}"
    exit 0
fi

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
    if [ "${download}" = true ]; then
        log "Downloading the official DCASE 2025 Task 2 archives into ${corpus}"
        python -m asd_lib.bin.download --dataset dcase2025 --download_dir "${download_dir}" \
            --corpus_dir "${corpus}"
        touch "${corpus}/.complete"
    elif [ "${corpus}" = "${synth_dir}" ]; then
        if [ -f "${synth_dir}/.complete" ]; then
            log "Synthetic corpus ${synth_dir} exists; skipped"
        else
            log "DCASE2025 is not set in db.sh: generating a synthetic corpus in ${synth_dir}"
            rm -rf "${synth_dir}"
            opts=(--official_sizes "${synth_official_sizes}")
            [ -n "${synth_machines}" ] && opts+=(--machines "${synth_machines}")
            [ -n "${synth_duration}" ] && opts+=(--duration "${synth_duration}")
            [ -n "${synth_source_train}" ] && opts+=(--source_train "${synth_source_train}")
            [ -n "${synth_target_train}" ] && opts+=(--target_train "${synth_target_train}")
            [ -n "${synth_test_per_condition}" ] && opts+=(--test_per_condition "${synth_test_per_condition}")
            [ -n "${synth_supplemental}" ] && opts+=(--supplemental "${synth_supplemental}")
            python -m asd_lib.bin.make_synthetic --layout dcase2025 --out "${synth_dir}" \
                --seed "${synth_seed}" --nj "${nj}" "${opts[@]}"
            touch "${synth_dir}/.complete"
        fi
    else
        log "Using the corpus at ${corpus} (DCASE2025 in db.sh)"
    fi
fi

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    log "Preparing data/ from ${corpus} (additional training set: ${use_additional})"
    python -m asd_lib.bin.prepare_data --dataset dcase2025 --corpus_dir "${corpus}" \
        --data_dir data --use_additional "${use_additional}" \
        --separate_eval_train "${separate_eval_train}" --supplemental "${supplemental}" \
        --supplemental_in_train "${supplemental_in_train}"
    # The training sets get classes (a test clip's class is unknown at test time); they
    # decide which types hide their attributes and are what clusters are fitted on.
    sets=()
    for dset in train eval_train; do
        [ -f "data/${dset}/wav.scp" ] && sets+=("data/${dset}")
    done
    fit_opts=()
    for dset in "${sets[@]}"; do fit_opts+=(--fit_dir "${dset}"); done
    log "Class labels (${label_scheme}) for ${sets[*]}"
    python -m asd_lib.bin.make_labels --scheme "${label_scheme}" "${fit_opts[@]}" \
        --num_clusters "${num_clusters}" --cluster_method "${cluster_method}" "${sets[@]}"
fi
