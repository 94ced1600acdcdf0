#!/usr/bin/env bash
# Every DCASE 2020 method of conf/tuning/ on the make-demo synthetic corpus (1 s clips),
# CPU-sized (*.demo.yaml), then the per-ID standardised ensemble of STgram-MFN and the
# MobileNetV2 classifiers, then one results table: the "ours" rows of RESULTS.md.
#   local/run_methods_demo.sh [--methods "stgram_mfn clp_scf ..."]
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

methods="stgram_mfn clp_scf tastgram_noisy_arcmix osscl_tfstgram osscl_mel mobilenetv2_ssl ae_baseline"
nj=2                   # parallel data jobs

# shellcheck source=../path.sh
. ./path.sh
# shellcheck source=../../../../utils/parse_options.sh
. utils/parse_options.sh

demo=(--nj "${nj}" --segment_sec 1 --local_data_opts "--synth_duration 1" --plot false)
./run.sh --stage 0 --stop-stage 2 "${demo[@]}"
for method in ${methods}; do
    config=conf/tuning/train_${method}.demo.yaml
    [ "${method}" = stgram_mfn ] && config=conf/train_stgram_mfn.demo.yaml
    # the inference config the training config's header names
    decode=$(sed -n 's/^# Scoring (stage 4): --inference_config //p' "${config}")
    log "${method}: ${config}, scored with ${decode}"
    ./run.sh --stage 3 --stop-stage 5 --train_config "${config}" --inference_config "${decode}" \
        "${demo[@]}"
done
./run.sh --stage 6 --stop-stage 6 --ensemble_tag stgram_mobilenetv2 "${demo[@]}" \
    --ensemble_systems "exp/train_stgram_mfn.demo/neg_log_prob_best exp/train_mobilenetv2_ssl.demo/neg_prob_best"
utils/show_results.sh exp
