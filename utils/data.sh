#!/usr/bin/env bash
# Stages 0-1 of a recipe whose corpus is in asd_lib's registry (asd_lib/corpus/<dataset>/):
# the corpus -> Kaldi-style data dirs (data/train, data/dev_test, data/eval_test, and the
# sets the corpus's options add). Every recipe's local/data.sh is a link to this script and
# asd.sh passes it the recipe's --dataset; the year's facts (machine types, sections,
# archives, sizes) live in its corpus package, not here.
#   stage 0: get the corpus: --download true fetches the official archives, the evaluation
#            list and, where it could be read, the official evaluator's ground truth
#            (labels, domains) into ground_truth/; with the corpus's db.sh variable (the
#            dataset in upper case, e.g. DCASE2024) empty, a synthetic corpus in the official
#            layout is made (its sizes: python -m asd_lib.bin.make_synthetic --layout
#            <dataset> --help; an option of another corpus's sizes is an error there).
#   stage 1: data preparation (train = dev train + the additional training set) and the
#            training sets' class labels: --label_scheme machine_section, machine,
#            machine_section_attr (the domain where the attributes are hidden), domain or
#            cluster (fitted on the training sets); empty: the corpus's default
#            (machine_section for dcase2020 and dcase2021, machine_section_attr for
#            2022-2025). An experiment keeps the labels it trained with.
# path.sh, db.sh and utils/ are sourced from the recipe directory; shellcheck finds them
# from this script and from its links (egs/<corpus>/asd1/local/data.sh):
# shellcheck source-path=SCRIPTDIR/../egs/TEMPLATE/asd1 source-path=SCRIPTDIR/..
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

dataset=""             # corpus name, the recipe's --dataset (asd.sh passes it)
stage=0                # first stage
stop_stage=1           # last stage
download=false         # true: download the official archives into downloads/
use_additional=true    # include the additional training set (sections or types of the evaluation set) in data/train
separate_eval_train=false  # true: the additional training set goes to data/eval_train instead (2023-2025)
supplemental=false     # true: <M>/supplemental/ recordings to data/supplemental (2025; no system uses them)
supplemental_in_train=false  # true: <M>/supplemental/ recordings join data/train (2025; ours, off in the baseline)
download_dir=downloads # where archives go
synth_dir=""           # where a synthetic corpus is generated (empty: corpus/synthetic_<dataset>)
synth_seed=0           # seed of the synthetic corpus
synth_machines=""      # comma-separated machine types of the synthetic corpus (empty: all)
synth_duration=""      # synthetic clip length in seconds (empty: make_synthetic's default)
synth_source_train=""  # 2021-2025: synthetic source-domain training clips per section (empty: default)
synth_target_train=""  # 2021-2025: synthetic target-domain training clips per section (empty: default)
synth_test_per_condition=""  # 2021-2025: synthetic test clips per section, domain and label (empty: default)
synth_supplemental=""  # 2025: synthetic supplemental recordings per type (empty: default)
synth_train_per_id=""  # 2020: synthetic training clips per machine ID (empty: default)
synth_test_per_id=""   # 2020: synthetic dev-test normal and anomalous clips per ID (empty: default)
synth_eval_test_per_id=""  # 2020: synthetic eval-test clips per ID (empty: default)
synth_official_sizes=false   # true: the official counts and clip length (2021-2025)
label_scheme=""        # utt2class: machine_section, machine, machine_section_attr, domain or cluster (empty: the corpus's)
num_clusters=8         # cluster scheme: clusters per machine type
cluster_method=gmm     # cluster scheme: gmm or kmeans
nj=2                   # parallel processes for synthesis
print_corpus=false     # true: print where the corpus is (or will be made) and exit

. ./path.sh
. ./db.sh
. utils/parse_options.sh

if ! [[ "${dataset}" =~ ^[a-z][a-z0-9_]*$ ]]; then
    log "Error: --dataset must name a corpus of asd_lib (e.g. dcase2024), got '${dataset}'"
    exit 2
fi
corpus_var=${dataset^^}
synth_dir=${synth_dir:-corpus/synthetic_${dataset}}

# Where the corpus is: db.sh's variable, else a finished download, else the synthetic one.
if [ -n "${!corpus_var:-}" ]; then
    corpus=${!corpus_var}
elif [ "${download}" = true ] || [ -f "${download_dir}/${dataset}/.complete" ]; then
    corpus=${download_dir}/${dataset}
else
    corpus=${synth_dir}
fi
if [ "${print_corpus}" = true ]; then
    echo "${corpus}"
    exit 0
fi

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
    if [ "${download}" = true ]; then
        log "Downloading the official ${dataset} archives into ${corpus}"
        python -m asd_lib.bin.download --dataset "${dataset}" --download_dir "${download_dir}" \
            --corpus_dir "${corpus}"
        touch "${corpus}/.complete"
    elif [ "${corpus}" = "${synth_dir}" ]; then
        if [ -f "${synth_dir}/.complete" ]; then
            log "Synthetic corpus ${synth_dir} exists; skipped"
        else
            log "${corpus_var} is not set in db.sh: generating a synthetic corpus in ${synth_dir}"
            rm -rf "${synth_dir}"
            # the sizes given (make_synthetic refuses a size its corpus does not have)
            opts=()
            [ -n "${synth_machines}" ] && opts+=(--machines "${synth_machines}")
            [ -n "${synth_duration}" ] && opts+=(--duration "${synth_duration}")
            [ -n "${synth_source_train}" ] && opts+=(--source_train "${synth_source_train}")
            [ -n "${synth_target_train}" ] && opts+=(--target_train "${synth_target_train}")
            [ -n "${synth_test_per_condition}" ] && opts+=(--test_per_condition "${synth_test_per_condition}")
            [ -n "${synth_supplemental}" ] && opts+=(--supplemental "${synth_supplemental}")
            [ -n "${synth_train_per_id}" ] && opts+=(--train_per_id "${synth_train_per_id}")
            [ -n "${synth_test_per_id}" ] && opts+=(--test_normal_per_id "${synth_test_per_id}" \
                --test_anomaly_per_id "${synth_test_per_id}")
            [ -n "${synth_eval_test_per_id}" ] && opts+=(--eval_test_per_id "${synth_eval_test_per_id}")
            [ "${synth_official_sizes}" = true ] && opts+=(--official_sizes true)
            python -m asd_lib.bin.make_synthetic --layout "${dataset}" --out "${synth_dir}" \
                --seed "${synth_seed}" --nj "${nj}" "${opts[@]}"
            touch "${synth_dir}/.complete"
        fi
    else
        log "Using the corpus at ${corpus} (${corpus_var} in db.sh)"
    fi
fi

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    log "Preparing data/ from ${corpus} (additional training set: ${use_additional})"
    # options of some corpora only (prepare_data refuses one its corpus does not have)
    opts=()
    [ "${separate_eval_train}" = true ] && opts+=(--separate_eval_train true)
    [ "${supplemental}" = true ] && opts+=(--supplemental true)
    [ "${supplemental_in_train}" = true ] && opts+=(--supplemental_in_train true)
    python -m asd_lib.bin.prepare_data --dataset "${dataset}" --corpus_dir "${corpus}" \
        --data_dir data --use_additional "${use_additional}" "${opts[@]}"
    # The training sets get classes (a test clip's class is unknown at test time); they
    # decide which types hide their attributes and are what clusters are fitted on.
    sets=()
    for dset in train eval_train; do
        [ -f "data/${dset}/wav.scp" ] && sets+=("data/${dset}")
    done
    label_opts=(--dataset "${dataset}")
    [ -n "${label_scheme}" ] && label_opts+=(--scheme "${label_scheme}")
    for dset in "${sets[@]}"; do label_opts+=(--fit_dir "${dset}"); done
    log "Class labels (${label_scheme:-the ${dataset} default}) for ${sets[*]}"
    python -m asd_lib.bin.make_labels "${label_opts[@]}" --num_clusters "${num_clusters}" \
        --cluster_method "${cluster_method}" "${sets[@]}"
fi
