#!/usr/bin/env bash
# The DCASE 2021 systems on the default synthetic 2021 corpus (2 s clips), CPU-sized
# (*.demo.yaml): the recipe default, then the official AE baseline, and one
# results table: the "ours" rows of RESULTS.md.
set -euo pipefail

nj=2                   # parallel data jobs

# shellcheck source=../path.sh
. ./path.sh
# shellcheck source=../../../../utils/parse_options.sh
. utils/parse_options.sh

common=(--nj "${nj}" --segment_sec 2 --plot false)
./run.sh --stage 0 --stop-stage 5 "${common[@]}" --train_config conf/train_stgram_mfn.demo.yaml
./run.sh --stage 3 --stop-stage 5 "${common[@]}" \
    --train_config conf/tuning/train_ae_baseline.demo.yaml --inference_config conf/decode/model_score.yaml
utils/show_results.sh exp
