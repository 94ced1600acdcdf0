#!/usr/bin/env bash
# DCASE 2025 Task 2 (first-shot unsupervised ASD; ToyADMOS2 + MIMII DG).
#   ./run.sh --stage 0 --stop-stage 5                # synthetic corpus unless db.sh sets DCASE2025
#   ./run.sh --download true                         # the official archives and eval list
#   ./run.sh --local_data_opts "--label_scheme cluster --num_clusters 8"  # other training classes
#   ./run.sh --train_config conf/tuning/<name>.yaml --inference_config conf/decode/<x>.yaml
#                                                    # another method (its header names <x>)
#   ./run.sh --stage 4 --inference_config conf/decode/knn.yaml   # score with another back-end
#   ./run.sh --help                                  # every option with its default
set -euo pipefail
if [ ! -x ./asd.sh ]; then
    echo "$0: run it from its recipe directory: cd $(dirname "$0") && ./run.sh ..." >&2
    exit 2
fi

exec ./asd.sh \
    --dataset dcase2025 \
    --train_set train \
    --test_sets "dev_test eval_test" \
    --segment_sec 12 \
    --train_config conf/train_stgram_mfn.yaml \
    --inference_config conf/decode/kmeans_membank.yaml \
    "$@"
