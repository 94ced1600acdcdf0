#!/usr/bin/env bash
# Shared stage script of every asd_lib recipe (ESPnet egs2 pattern): run.sh calls it with
# the corpus-specific options. Stages:
#   0 corpus (download or synthesise)   1 data preparation      2 dump fixed-length waveforms
#   3 training                          4 inference             5 scoring
#   6 combination of several systems (needs --ensemble_systems)
# Training configs hold training; inference configs (conf/decode/*.yaml) hold scoring:
# stage 4-5 of exp/<tag> with --inference_config conf/decode/X.yaml write
# exp/<tag>/<inference_tag>/<set>/ (inference_tag default: X_<checkpoint>).
# Stages 1, 2, 4, 5 and 6 write a .done marker last, keyed on their inputs and options,
# and skip work whose marker matches; stage 0 marks a finished corpus (.complete); stage 3
# resumes from its checkpoint and does nothing when training is complete.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}
printf -v run_args '%q ' "$0" "$@"  # kept for the experiment's run.sh

# General
stage=0                # first stage to run
stop_stage=5           # last stage to run
nj=4                   # parallel jobs for data steps (capped at the number of clips)
ngpu=0                 # 0: CPU; N >= 1: N GPUs (N > 1: DistributedDataParallel via torchrun)
# Corpus and data (stages 0-2)
dataset=dcase2020      # corpus (python -m asd_lib.bin.make_synthetic --help lists them):
                       # official names and metrics; db.sh's variable ${dataset^^} is its path
download=false         # true: fetch the official archives in stage 0
use_additional=true    # add the additional training set (the eval IDs' train clips)
local_data_opts=""     # more options for local/data.sh
train_set=train        # training data dir name under data/
test_sets="dev_test eval_test"  # test data dir names (missing ones are skipped)
sample_rate=16000      # dump sample rate; other rates are resampled
segment_sec=10         # dumped clip length in seconds (crop; tile or pad shorter clips)
short_clip=tile        # tile or pad clips shorter than segment_sec
dump_copy=auto         # auto: reference clips needing no conversion in place; always: copy all
# Training (stage 3)
train_config=""        # training YAML (required for stages 3-5)
train_args=""          # extra options for asd_lib.bin.train, e.g. "--seed 1"
tag=""                 # suffix of the experiment dir name
asd_exp=""             # experiment dir (default: exp/<config name><tag>)
# Inference and scoring (stages 4-5)
inference_config=""    # inference YAML: back-end, its options, batch size (required for 4-5)
inference_args=""      # options overriding its keys, e.g. "--backend knn --backend_conf '{k: 4}'"
inference_checkpoint=best  # best, latest or epochN
inference_tag=""       # output dir exp/<tag>/<inference_tag> (default: <config name>_<checkpoint>)
plot=true              # stage 5 also draws ROC, score and t-SNE plots and exp/<tag>/report.md
# Combination of systems (stage 6)
ensemble_systems=""    # inference dirs to combine, e.g. "exp/a/x_best exp/b/y_best" (2 or more)
ensemble_tag=""        # output dir exp/ensemble_<tag>/combined (default tag: level_fusion)
ensemble_level=score   # score: standardised scores fused; embedding: embeddings summed
ensemble_fusion=mean   # score level: mean or max of the per-section standardised scores
ensemble_weights=""    # comma-separated weight per system (default: all 1)
ensemble_inference_config=""  # embedding level: inference YAML whose back-end scores them

help_message="Usage: $0 [options]   e.g. $0 --stage 0 --stop-stage 5 --train_config conf/x.yaml"

# shellcheck source=path.sh
. ./path.sh
# shellcheck source=cmd.sh
. ./cmd.sh
# shellcheck source=../../../utils/parse_options.sh
. utils/parse_options.sh
SECONDS=0

if [ $# -ne 0 ]; then
    log "${help_message}"
    log "Error: positional arguments are not supported: $*"
    exit 2
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 3 ]; then
    if [ -z "${train_config}" ]; then
        log "Error: --train_config is required for stages 3-5"
        exit 2
    fi
    [ -f "${train_config}" ] || { log "Error: ${train_config}: no such config file"; exit 2; }
fi
if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 4 ]; then
    if [ -z "${inference_config}" ]; then
        log "Error: --inference_config is required for stages 4-5 (e.g. conf/decode/neg_log_prob.yaml)"
        exit 2
    fi
    [ -f "${inference_config}" ] || { log "Error: ${inference_config}: no such inference config"; exit 2; }
fi
if [ -z "${asd_exp}" ]; then
    asd_exp=exp/$(basename "${train_config:-none}" .yaml)${tag}
fi
if [ -z "${inference_tag}" ]; then
    inference_tag=$(basename "${inference_config:-none}" .yaml)
    if [ -n "${inference_args}" ]; then
        # ESPnet's rule: the overrides join the tag, e.g. "--backend knn" -> "_backendknn"
        inference_tag+=$(echo "${inference_args}" | sed -e "s/--/_/g" -e "s/[ '\"{}:,|=]//g")
    fi
    inference_tag+=_${inference_checkpoint}
fi
infer_dir=${asd_exp}/${inference_tag}

# Skip-or-run markers: "done_key DIR KEY" is true when DIR/.done holds KEY.
done_key() { [ -f "$1/.done" ] && [ "$(cat "$1/.done")" = "$2" ]; }
# md5 of the given files' contents (missing files count as empty)
files_md5() { { cat "$@" 2>/dev/null || true; } | md5sum | cut -c1-32; }

# Data dirs of this run that exist: the training set, then the test sets.
existing_sets() {
    local dset
    for dset in ${train_set} ${test_sets}; do
        if [ -f "data/${dset}/wav.scp" ]; then echo "${dset}"; fi
    done
}

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
    log "Stage 0: corpus (download=${download})"
    # shellcheck disable=SC2086
    local/data.sh --stage 0 --stop-stage 0 --download "${download}" \
        --use-additional "${use_additional}" ${local_data_opts}
fi

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    # keyed on the options, the corpus location (db.sh, environment) and the corpus markers
    _corpus_var=${dataset^^}
    _key="${download} ${use_additional} ${local_data_opts} ${!_corpus_var:-} $(files_md5 db.sh) $( { find -L corpus downloads -maxdepth 2 -name .complete -printf '%p %T@\n' 2>/dev/null || true; } | LC_ALL=C sort | md5sum | cut -c1-32)"
    if done_key data "${_key}"; then
        log "Stage 1: data/ is complete for these options and corpus; skipped"
    else
        log "Stage 1: data preparation into data/"
        rm -f data/.done
        # shellcheck disable=SC2086
        local/data.sh --stage 1 --stop-stage 1 --download "${download}" \
            --use-additional "${use_additional}" ${local_data_opts}
        for dset in $(existing_sets); do
            if [ "${dset}" = "${train_set}" ]; then
                utils/validate_data_dir.sh --require utt2class "data/${dset}"
            else
                utils/validate_data_dir.sh "data/${dset}"
            fi
        done
        echo "${_key}" > data/.done
    fi
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    log "Stage 2: dump ${segment_sec} s waveforms to dump/<set>/feats.scp (clean clips in place)"
    for dset in $(existing_sets); do
        _dir=dump/${dset}
        _key="$(md5sum < "data/${dset}/wav.scp" | cut -c1-32) sr=${sample_rate} sec=${segment_sec} short=${short_clip} copy=${dump_copy}"
        if done_key "${_dir}" "${_key}"; then
            # the waveforms are current; labels may have changed (another label scheme)
            for f in utt2class label_scheme utt2domain utt2attr utt2label; do
                if [ -f "data/${dset}/${f}" ]; then cp "data/${dset}/${f}" "${_dir}/${f}"; fi
            done
            log "dump/${dset} is complete; skipped (labels refreshed)"
            continue
        fi
        rm -rf "${_dir}"
        mkdir -p "${_dir}/split" "${_dir}/log"
        _nclips=$(wc -l < "data/${dset}/wav.scp")
        _nj=$(( nj < _nclips ? nj : _nclips ))
        _outs=""
        for n in $(seq "${_nj}"); do _outs+=" ${_dir}/split/wav.${n}.scp"; done
        # shellcheck disable=SC2086
        utils/split_scp.sh "data/${dset}/wav.scp" ${_outs}
        ${train_cmd} JOB=1:"${_nj}" "${_dir}/log/dump.JOB.log" \
            python -m asd_lib.bin.dump --wav_scp "${_dir}/split/wav.JOB.scp" \
                --out_prefix "${_dir}/split/feats.JOB" --sample_rate "${sample_rate}" \
                --segment_sec "${segment_sec}" --short_clip "${short_clip}" --copy "${dump_copy}"
        for n in $(seq "${_nj}"); do cat "${_dir}/split/feats.${n}.scp"; done \
            | LC_ALL=C sort -k1,1 > "${_dir}/feats.scp.tmp"
        mv "${_dir}/feats.scp.tmp" "${_dir}/feats.scp"
        for f in wav.scp utt2machine utt2section utt2domain utt2attr utt2label utt2class label_scheme; do
            if [ -f "data/${dset}/${f}" ]; then cp "data/${dset}/${f}" "${_dir}/${f}"; fi
        done
        utils/validate_data_dir.sh "${_dir}"
        echo "${sample_rate}" > "${_dir}/sample_rate"  # checked by training and inference
        echo "${_key}" > "${_dir}/.done"
        log "dumped ${_nclips} clips of ${dset} with ${_nj} jobs"
    done
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    log "Stage 3: training ${asd_exp} (progress: tail -f ${asd_exp}/log/train.log)"
    mkdir -p "${asd_exp}/log"
    # Re-running this experiment from a stage: ${asd_exp}/run.sh --stage N
    {
        echo "#!/usr/bin/env bash"
        echo "# Re-runs this experiment with the options it was made with; add e.g. --stage 4."
        printf 'cd %q && %s "$@"\n' "$(pwd)" "${run_args}"
    } > "${asd_exp}/run.sh"
    chmod +x "${asd_exp}/run.sh"
    _train="python -m asd_lib.bin.train"
    if [ "${ngpu}" -gt 1 ]; then
        _train="python -m torch.distributed.run --standalone --nproc_per_node ${ngpu} -m asd_lib.bin.train"
    fi
    # shellcheck disable=SC2086
    ${cuda_cmd} --gpu "${ngpu}" "${asd_exp}/log/train.log" \
        ${_train} --config "${train_config}" --train_dir "dump/${train_set}" \
            --exp_dir "${asd_exp}" --ngpu "${ngpu}" ${train_args}
    grep -E "epoch [0-9]+ \(|training (finished|already)" "${asd_exp}/log/train.log" | tail -n 3 >&2 || true
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    log "Stage 4: inference (${inference_config} ${inference_args}) with ${asd_exp}/${inference_checkpoint}.pth into ${infer_dir}/<set>"
    # The weights used: the snapshot file(s) the checkpoint name points to.
    _weights=$(find -L "${asd_exp}" -maxdepth 2 -name "${inference_checkpoint}.pth" | LC_ALL=C sort \
        | xargs -r md5sum | md5sum | cut -c1-32)
    _conf="$(files_md5 "${inference_config}") ${inference_args} ${dataset}"
    # The training set first: its embeddings and thresholds serve the test sets.
    for dset in $(existing_sets); do
        _key="${_weights} ${_conf} $(files_md5 "dump/${dset}/feats.scp" "dump/${dset}/utt2machine" "dump/${dset}/utt2section")"
        if [ "${dset}" != "${train_set}" ]; then
            _key+=" $(files_md5 "${infer_dir}/${train_set}/utt2score" "${infer_dir}/${train_set}/embeddings.scp")"
        fi
        if done_key "${infer_dir}/${dset}" "${_key}"; then
            log "${infer_dir}/${dset} is complete; skipped"
            continue
        fi
        rm -f "${infer_dir}/${dset}/.done"
        # shellcheck disable=SC2086
        ${cuda_cmd} --gpu "$(( ngpu > 0 ? 1 : 0 ))" "${infer_dir}/${dset}/log/infer.log" \
            python -m asd_lib.bin.infer --config "${inference_config}" --exp_dir "${asd_exp}" \
                --checkpoint "${inference_checkpoint}" --data_dir "dump/${dset}" \
                --out_dir "${infer_dir}/${dset}" --train_dir "dump/${train_set}" \
                --train_out_dir "${infer_dir}/${train_set}" --dataset "${dataset}" \
                --ngpu "$(( ngpu > 0 ? 1 : 0 ))" ${inference_args}
        echo "${_key}" > "${infer_dir}/${dset}/.done"
    done
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    log "Stage 5: scoring ${infer_dir} with the official ${dataset} metrics"
    for dset in $(existing_sets); do
        [ "${dset}" = "${train_set}" ] && continue
        _key="$(files_md5 "${infer_dir}/${dset}"/anomaly_score_*.csv "${infer_dir}/${dset}"/decision_result_*.csv) $(files_md5 "dump/${dset}"/utt2*) plot=${plot}"
        if done_key "${infer_dir}/${dset}/scoring" "${_key}"; then
            log "${infer_dir}/${dset} is scored; skipped"
        else
            rm -f "${infer_dir}/${dset}/scoring/.done"
            ${decode_cmd} "${infer_dir}/${dset}/log/score.log" \
                python -m asd_lib.bin.score --dataset "${dataset}" --data_dir "dump/${dset}" \
                    --score_dir "${infer_dir}/${dset}"
            if [ "${plot}" = true ] && [ -f "dump/${dset}/utt2label" ]; then
                ${decode_cmd} "${infer_dir}/${dset}/log/plot.log" \
                    python -m asd_lib.bin.plot_results --exp_dir "${asd_exp}" \
                        --score_dir "${infer_dir}/${dset}" --data_dir "dump/${dset}" \
                        --dataset "${dataset}" --thresholds "${infer_dir}/${train_set}/thresholds.csv"
            fi
            mkdir -p "${infer_dir}/${dset}/scoring"
            echo "${_key}" > "${infer_dir}/${dset}/scoring/.done"
        fi
        if [ -f "${infer_dir}/${dset}/result.md" ]; then
            log "Results of ${infer_dir} on ${dset} (${infer_dir}/${dset}/result.md):"
            cat "${infer_dir}/${dset}/result.md"
        else
            log "${dset}: no ground truth (utt2label), scores written but not evaluated"
        fi
    done
    if [ "${plot}" = true ] && [ -f "${asd_exp}/report.md" ]; then
        log "Report with plots: ${asd_exp}/report.md"
    fi
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ] && [ -n "${ensemble_systems}" ]; then
    _ens_dir=exp/ensemble_${ensemble_tag:-${ensemble_level}_${ensemble_fusion}}/combined
    _opts=(--level "${ensemble_level}" --fusion "${ensemble_fusion}")
    if [ -n "${ensemble_weights}" ]; then _opts+=(--weights "${ensemble_weights}"); fi
    if [ -n "${ensemble_inference_config}" ]; then
        _opts+=(--inference_config "${ensemble_inference_config}")
    fi
    _inputs=$(for _sys in ${ensemble_systems}; do files_md5 "${_sys}"/*/utt2score "${_sys}"/*/embeddings.scp; done | md5sum | cut -c1-32)
    _key="${ensemble_systems} ${_opts[*]} $(files_md5 "${ensemble_inference_config}") ${test_sets} ${_inputs} $(files_md5 "dump/${train_set}"/utt2machine "dump/${train_set}"/utt2section)"
    if done_key "${_ens_dir}" "${_key}"; then
        log "Stage 6: ${_ens_dir} is complete; skipped"
    else
        log "Stage 6: ${ensemble_level}-level combination (${ensemble_fusion}) of ${ensemble_systems} into ${_ens_dir}"
        rm -f "${_ens_dir}/.done"
        # shellcheck disable=SC2086
        ${decode_cmd} "${_ens_dir}/log/ensemble.log" \
            python -m asd_lib.bin.ensemble --systems ${ensemble_systems} \
                --train_set "${train_set}" --sets "${test_sets}" --data_root dump \
                --dataset "${dataset}" --out_dir "${_ens_dir}" "${_opts[@]}"
        for dset in ${test_sets}; do
            [ -f "${_ens_dir}/${dset}/utt2score" ] || continue
            ${decode_cmd} "${_ens_dir}/${dset}/log/score.log" \
                python -m asd_lib.bin.score --dataset "${dataset}" --data_dir "dump/${dset}" \
                    --score_dir "${_ens_dir}/${dset}"
            if [ -f "${_ens_dir}/${dset}/result.md" ]; then
                log "Results of the combination on ${dset} (${_ens_dir}/${dset}/result.md):"
                cat "${_ens_dir}/${dset}/result.md"
            fi
        done
        echo "${_key}" > "${_ens_dir}/.done"
    fi
fi

log "Successfully finished. [elapsed=${SECONDS}s]"
