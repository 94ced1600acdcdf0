#!/usr/bin/env bash
# Shared stage script of every asd_lib recipe (ESPnet egs2 pattern): run.sh calls it with
# the corpus-specific options. Stages:
#   0 corpus (download or synthesise)   1 data preparation      2 dump fixed-length waveforms
#   3 training                          4 inference             5 scoring
#   6 combination of several systems (needs --ensemble_systems)
# Repeated trials: --num_trials N (seeds 0..N-1) or --seeds "0 1 2" run stages 3-5 once per
# seed, each an experiment exp/<tag>_seed<k>/ sharing data/ and dump/ (the seed drives
# initialisation, sampling order and augmentation; the held-out split stays the same), and
# stage 5 ends with the table of every headline number's mean, std and range over the
# trials (exp/<tag>_trials/<inference_tag>/trials.{md,json}).
# Training configs hold training; inference configs (conf/decode/*.yaml) hold scoring:
# stage 4-5 of exp/<tag> with --inference_config conf/decode/X.yaml write
# exp/<tag>/<inference_tag>/<set>/ (inference_tag default: X_<checkpoint>) and, once,
# exp/<tag>/<inference_tag>/run.sh, the call that made that inference.
# Stages 1, 2, 4, 5 and 6 write a .done marker last, keyed on their inputs and options,
# and skip work whose marker matches; stage 0 marks a finished corpus (.complete); stage 3
# resumes from its checkpoint and does nothing when training is complete. Each stage locks
# what it writes (data/, dump/, the experiment) and shares what it reads: a second run in
# the same recipe dir waits or stops, naming the run it waits for (utils/lock.sh). A
# SIGTERM or SIGINT stops the whole run, the jobs it started included (utils/process_group.sh).
set -euo pipefail
# shellcheck source=../../../utils/process_group.sh
. utils/process_group.sh

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}
# The command kept in the run.sh of an experiment and of each inference: ./asd.sh when this
# script is in the current directory (run.sh's exec), however it was called.
_self=$0
if [ "$(cd "$(dirname "$0")" && pwd -P)" = "$(pwd -P)" ]; then _self=./$(basename "$0"); fi
printf -v run_args '%q ' "${_self}" "$@"
given_args=("$@")  # each trial re-runs this script with them (stages 3-5, its seed)

# General
stage=0                # first stage to run
stop_stage=5           # last stage to run
nj=4                   # parallel jobs for data steps (capped at the number of clips)
ngpu=0                 # 0: CPU; N >= 1: N GPUs (N > 1: DistributedDataParallel via torchrun)
# Corpus and data (stages 0-2)
dataset=dcase2020      # corpus (python -m asd_lib.bin.make_synthetic --help lists them):
                       # official names and metrics; db.sh's variable ${dataset^^} is its path
corpus_dir=""          # the corpus on disk (default: db.sh's variable; empty there: synthetic)
download=false         # true: fetch the official archives in stage 0
use_additional=true    # add the additional training set (the eval IDs' train clips)
local_data_opts=""     # more options for local/data.sh
train_set=train        # training data dir name under data/
test_sets="dev_test eval_test"  # test data dir names (missing ones are skipped)
sample_rate=16000      # dump sample rate; other rates are resampled
segment_sec=10         # dumped clip length in seconds (crop; tile or pad shorter clips)
short_clip=tile        # tile or pad clips shorter than segment_sec
dump_copy=auto         # auto: reference clips needing no conversion in place; always: copy all
allow_pipes=false      # true: run wav.scp entries that are commands ("cmd |"); false: refuse them
max_clipped=0.01       # largest share of a float wav's samples beyond full scale (1: any)
# Training (stage 3)
train_config=""        # training YAML (required for stages 3-5)
train_args=""          # extra options for asd_lib.bin.train, e.g. "--seed 1"
tag=""                 # suffix of the experiment dir name
asd_exp=""             # experiment dir (default: exp/<config name><tag>)
num_trials=""          # N: train and score N trials, seeds 0..N-1, in exp/<tag>_seed<k>/
seeds=""               # the trials' seeds instead, e.g. "0 1 2" (--num_trials or --seeds)
trial_jobs=""          # trials run at once (default: all with ASD_CMD_BACKEND slurm or sge,
                       # one after another on this machine)
# Inference and scoring (stages 4-5)
inference_config=""    # inference YAML: its scorer (score: or backend:), batch size (required for 4-5)
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
# Concurrent runs
lock_wait=false        # true: wait for a directory another run holds; false: stop at once

help_message="Usage: $0 [options]   e.g. $0 --stage 0 --stop-stage 5 --train_config conf/x.yaml"

# shellcheck source=path.sh
. ./path.sh
# shellcheck source=cmd.sh
. ./cmd.sh
# shellcheck source=../../../utils/parse_options.sh
. utils/parse_options.sh
# shellcheck source=../../../utils/check_options.sh
. utils/check_options.sh
check_asd_options
# shellcheck source=../../../utils/lock.sh
. utils/lock.sh
SECONDS=0

if [ $# -ne 0 ]; then
    log "${help_message}"
    log "Error: positional arguments are not supported: $*"
    exit 2
fi
# The corpus: --corpus_dir, else db.sh's ${dataset^^} (the environment wins there), else
# what local/data.sh makes of it (a finished download or the synthetic corpus).
# shellcheck source=db.sh
. ./db.sh
_corpus_var=${dataset^^}
if [ -n "${corpus_dir}" ]; then
    export "${_corpus_var}=${corpus_dir}"
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
# The trials' seeds (empty: one experiment, ${asd_exp} itself); check_asd_options has
# checked both options as whole numbers.
trial_seeds=""
if [ -n "${num_trials}" ] && [ -n "${seeds}" ]; then
    log "Error: give --num_trials or --seeds, not both"
    exit 2
elif [ -n "${num_trials}" ]; then
    trial_seeds=$(seq -s ' ' 0 "$(awk -v n="${num_trials}" 'BEGIN { print n - 1 }')")
elif [ -n "${seeds}" ]; then
    # the given seeds, each once, in their order
    # shellcheck disable=SC2086
    trial_seeds=$(printf '%s\n' ${seeds} | awk '!seen[$0]++' | paste -sd ' ')
fi
if [ -n "${trial_jobs}" ]; then
    need_integer trial_jobs 1 1000 "a whole number of trials run at once, from 1 to 1000"
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
if [ -z "${trial_seeds}" ] && [ "${stage}" -ge 4 ] && [ "${stage}" -le 5 ] \
        && [ -z "$(find -L "${asd_exp}" -maxdepth 3 -name "${inference_checkpoint}.pth" 2>/dev/null)" ]; then
    log "Error: ${asd_exp} has no checkpoint ${inference_checkpoint}.pth; train it first" \
        "(--stage 3), or give --inference_checkpoint best, latest or epochN of a finished run"
    exit 1
fi

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

# The corpus directory local/data.sh reads (resolved as it resolves it).
corpus_location() {
    # shellcheck disable=SC2086
    local/data.sh --dataset "${dataset}" --print-corpus true --download "${download}" \
        --use-additional "${use_additional}" ${local_data_opts}
}

if [ "${stage}" -le 0 ] && [ "${stop_stage}" -ge 0 ]; then
    log "Stage 0: corpus (download=${download})"
    # shellcheck disable=SC2086
    local/data.sh --dataset "${dataset}" --stage 0 --stop-stage 0 --download "${download}" \
        --use-additional "${use_additional}" ${local_data_opts}
fi

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    lock_dir data exclusive
    # keyed on the options and on the corpus itself: where it is and every file's name,
    # size and modification time (a type added, restored or re-extracted re-runs stage 1);
    # links in it are not walked into (utils/corpus_listing.sh)
    _corpus=$(corpus_location)
    _listing=$(utils/corpus_listing.sh "${_corpus}" | LC_ALL=C sort | md5sum | cut -c1-32)
    _key="${download} ${use_additional} ${local_data_opts} ${_corpus} ${_listing}"
    if done_key data "${_key}"; then
        log "Stage 1: data/ is complete for these options and the corpus ${_corpus}; skipped"
    else
        log "Stage 1: data preparation into data/ from ${_corpus}"
        rm -f data/.done
        # shellcheck disable=SC2086
        local/data.sh --dataset "${dataset}" --stage 1 --stop-stage 1 \
            --download "${download}" --use-additional "${use_additional}" ${local_data_opts}
        for dset in $(existing_sets); do
            if [ "${dset}" = "${train_set}" ]; then
                utils/validate_data_dir.sh --require utt2class "data/${dset}"
            else
                utils/validate_data_dir.sh "data/${dset}"
            fi
        done
        echo "${_key}" > data/.done
    fi
    echo "${_corpus}" > data/corpus  # what data/ was prepared from, for exp/<tag>/run.sh
    unlock_dir data
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    log "Stage 2: dump ${segment_sec} s waveforms to dump/<set>/feats.scp (clean clips in place)"
    lock_dir data shared
    lock_dir dump exclusive
    for dset in $(existing_sets); do
        _dir=dump/${dset}
        utils/validate_data_dir.sh "data/${dset}"  # the data/ files, before any job reads them
        _key="$(md5sum < "data/${dset}/wav.scp" | cut -c1-32) sr=${sample_rate} sec=${segment_sec} short=${short_clip} copy=${dump_copy} pipes=${allow_pipes} clipped=${max_clipped}"
        if done_key "${_dir}" "${_key}"; then
            # the waveforms are current; labels may have changed (another label scheme)
            for f in utt2class label_scheme utt2domain utt2attr utt2label; do
                if [ -f "data/${dset}/${f}" ]; then cp "data/${dset}/${f}" "${_dir}/${f}"; fi
            done
            log "dump/${dset} is complete; skipped (labels refreshed)"
            continue
        fi
        # Built beside the old dump and swapped in when complete: a failed or killed dump
        # leaves the previous one as it was.
        _new=dump/.${dset}.new
        rm -rf "${_new}" "dump/.${dset}.old"
        mkdir -p "${_new}/split" "${_new}/log"
        _nclips=$(wc -l < "data/${dset}/wav.scp")
        _nj=$(( nj < _nclips ? nj : _nclips ))
        _outs=""
        for n in $(seq "${_nj}"); do _outs+=" ${_new}/split/wav.${n}.scp"; done
        # shellcheck disable=SC2086
        utils/split_scp.sh "data/${dset}/wav.scp" ${_outs}
        ${train_cmd} JOB=1:"${_nj}" "${_new}/log/dump.JOB.log" \
            python -m asd_lib.bin.dump --wav_scp "${_new}/split/wav.JOB.scp" \
                --out_prefix "${_new}/split/feats.JOB" --sample_rate "${sample_rate}" \
                --segment_sec "${segment_sec}" --short_clip "${short_clip}" --copy "${dump_copy}" \
                --allow_pipes "${allow_pipes}" --max_clipped "${max_clipped}"
        # the archives' paths as they will be once the new dump is in place
        for n in $(seq "${_nj}"); do cat "${_new}/split/feats.${n}.scp"; done \
            | sed "s# ${_new}/split/# ${_dir}/split/#" | LC_ALL=C sort -k1,1 > "${_new}/feats.scp"
        for f in wav.scp utt2machine utt2section utt2domain utt2attr utt2label utt2class label_scheme; do
            if [ -f "data/${dset}/${f}" ]; then cp "data/${dset}/${f}" "${_new}/${f}"; fi
        done
        utils/validate_data_dir.sh "${_new}"
        echo "${sample_rate}" > "${_new}/sample_rate"  # checked by training and inference
        echo "${_key}" > "${_new}/.done"
        if [ -e "${_dir}" ]; then mv "${_dir}" "dump/.${dset}.old"; fi
        mv "${_new}" "${_dir}"
        rm -rf "dump/.${dset}.old"
        log "dumped ${_nclips} clips of ${dset} with ${_nj} jobs"
    done
    unlock_dir dump
    unlock_dir data
fi

# ${1}/run.sh, written once: the command of this call, with the corpus data/ was prepared
# from, run from this directory; $2 names what it re-runs (the experiment, an inference).
keep_run_sh() {
    [ -f "$1/run.sh" ] && return 0
    mkdir -p "$1"
    local corpus
    corpus=$(cat data/corpus 2>/dev/null || corpus_location)
    {
        echo "#!/usr/bin/env bash"
        echo "# Re-runs this $2 with the options and corpus it was made with; add e.g. --stage 4."
        printf 'cd %q && %s--corpus_dir %q "$@"\n' "$(pwd)" "${run_args}" "${corpus}"
    } > "$1/.run.sh.tmp"
    chmod +x "$1/.run.sh.tmp"
    mv "$1/.run.sh.tmp" "$1/run.sh"
}

# Stages 3-5 of every trial: this script again, for that seed's experiment.
if [ -n "${trial_seeds}" ] && [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 3 ]; then
    _first=$(( stage > 3 ? stage : 3 ))
    _last=$(( stop_stage < 5 ? stop_stage : 5 ))
    _jobs=${trial_jobs:-1}
    case "${ASD_CMD_BACKEND:-local}" in slurm|sge) _jobs=${trial_jobs:-999} ;; esac
    _trials_dir=${asd_exp}_trials
    mkdir -p "${_trials_dir}/log"
    # the trials' run.sh, and that of this inference over the trials (its row's command)
    _run_dirs=("${_trials_dir}")
    if [ "${_last}" -ge 4 ]; then _run_dirs+=("${_trials_dir}/${inference_tag}"); fi
    for _dir in "${_run_dirs[@]}"; do
        mkdir -p "${_dir}"
        {
            echo "#!/usr/bin/env bash"
            echo "# Re-runs every trial of this experiment; add e.g. --stage 4."
            printf 'cd %q && %s "$@"\n' "$(pwd)" "${run_args}"
        } > "${_dir}/.run.sh.tmp"
        chmod +x "${_dir}/.run.sh.tmp"
        mv "${_dir}/.run.sh.tmp" "${_dir}/run.sh"
    done
    log "Stages ${_first}-${_last} of $(wc -w <<< "${trial_seeds}") trials (seeds ${trial_seeds})," \
        "${_jobs} at a time: ${asd_exp}_seed<k>"
    # one trial: stages 3-5 of its own experiment, with its seed
    run_trial() {
        ./asd.sh "${given_args[@]}" --stage "${_first}" --stop-stage "${_last}" \
            --num_trials "" --seeds "" --asd_exp "${asd_exp}_seed$1" \
            --train_args "${train_args:+${train_args} }--seed $1"
    }
    trap 'trap - INT TERM; kill $(jobs -p) 2>/dev/null; exit 130' INT TERM
    _failed=""
    _pids=()
    _pid_seed=()
    for _seed in ${trial_seeds}; do
        if [ "${_jobs}" -eq 1 ]; then
            run_trial "${_seed}" || _failed+=" ${_seed}"
            continue
        fi
        while [ "$(jobs -rp | wc -l)" -ge "${_jobs}" ]; do wait -n || true; done
        run_trial "${_seed}" > "${_trials_dir}/log/trial_seed${_seed}.log" 2>&1 &
        _pids+=("$!")
        _pid_seed+=("${_seed}")
    done
    for _i in "${!_pids[@]}"; do
        wait "${_pids[${_i}]}" || _failed+=" ${_pid_seed[${_i}]}"
    done
    trap - INT TERM
    if [ -n "${_failed}" ]; then
        log "Error: the trials with seed(s)${_failed} failed (their logs: ${asd_exp}_seed<k>/log/," \
            "${_trials_dir}/log/); re-run the same command to resume them"
        exit 1
    fi
    if [ "${_last}" -ge 5 ]; then
        _summary=${_trials_dir}/${inference_tag}
        mkdir -p "${_summary}"
        ${decode_cmd} "${_summary}/log/show_results.log" \
            python -m asd_lib.bin.show_results "$(dirname "${asd_exp}")" \
                --experiments "$(basename "${asd_exp}")_seed*" \
                --inference "${inference_tag}" --out "${_summary}/trials.md" \
                --json "${_summary}/trials.json"
        log "Results over the trials (${_summary}/trials.md):"
        cat "${_summary}/trials.md"
    fi
fi

if [ -z "${trial_seeds}" ] && [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 3 ]; then
    mkdir -p "${asd_exp}/log"
    lock_dir dump shared
    lock_dir "${asd_exp}" exclusive
    # Re-running this experiment from a stage: ${asd_exp}/run.sh --stage N; every later call
    # is added to run.history.
    keep_run_sh "${asd_exp}" experiment
    echo "$(date '+%Y-%m-%dT%H:%M:%S') ${run_args}" >> "${asd_exp}/run.history"
fi

if [ -z "${trial_seeds}" ] && [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    log "Stage 3: training ${asd_exp} (progress: tail -f ${asd_exp}/log/train.log)"
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

if [ -z "${trial_seeds}" ] && [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    log "Stage 4: inference (${inference_config} ${inference_args}) with ${asd_exp}/${inference_checkpoint}.pth into ${infer_dir}/<set>"
    keep_run_sh "${infer_dir}" inference  # the command of this inference's rows in show_results
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

if [ -z "${trial_seeds}" ] && [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    log "Stage 5: scoring ${infer_dir} with the official ${dataset} metrics"
    keep_run_sh "${infer_dir}" inference
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
unlock_dir "${asd_exp}"
unlock_dir dump

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ] && [ -n "${ensemble_systems}" ]; then
    _ens_dir=exp/ensemble_${ensemble_tag:-${ensemble_level}_${ensemble_fusion}}/combined
    mkdir -p "${_ens_dir}"
    lock_dir dump shared
    for _sys in ${ensemble_systems}; do lock_dir "$(dirname "${_sys}")" shared; done
    lock_dir "${_ens_dir}" exclusive
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
    unlock_dir "${_ens_dir}"
    for _sys in ${ensemble_systems}; do unlock_dir "$(dirname "${_sys}")"; done
    unlock_dir dump
fi

log "Successfully finished. [elapsed=${SECONDS}s]"
