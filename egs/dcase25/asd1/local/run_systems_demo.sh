#!/usr/bin/env bash
# The DCASE 2024 systems on the default synthetic 2024 corpus (2 s clips), CPU-sized
# (*.demo.yaml), in the order conf/tuning/README.md gives (each sample rate re-dumps the
# sets; each experiment keeps the labels it trained with), then System-4 (stage 6 over Systems 1-3) and one results
# table: the "ours" rows of RESULTS.md.
set -euo pipefail

nj=2                   # parallel data jobs

# shellcheck source=../path.sh
. ./path.sh
# shellcheck source=../../../../utils/parse_options.sh
. utils/parse_options.sh

common=(--nj "${nj}" --segment_sec 2 --plot false)
attr=(--local_data_opts "--label_scheme machine_section_attr")
./run.sh --stage 0 --stop-stage 5 "${common[@]}" "${attr[@]}" --train_config conf/train_stgram_mfn.demo.yaml
./run.sh --stage 3 --stop-stage 5 "${common[@]}" "${attr[@]}" \
    --train_config conf/tuning/train_ae_mse.demo.yaml --inference_config conf/decode/model_score.yaml
./run.sh --stage 3 --stop-stage 5 "${common[@]}" "${attr[@]}" \
    --train_config conf/tuning/train_ae_mahalanobis.demo.yaml --inference_config conf/decode/mahalanobis.yaml
./run.sh --stage 1 --stop-stage 5 "${common[@]}" --local_data_opts "--label_scheme cluster" \
    --train_config conf/tuning/train_system1_cluster_supcon.demo.yaml
./run.sh --stage 1 --stop-stage 5 "${common[@]}" --local_data_opts "--label_scheme domain" \
    --train_config conf/tuning/train_system2_attr_supcon.demo.yaml
./run.sh --stage 1 --stop-stage 5 "${common[@]}" --local_data_opts "--label_scheme cluster" \
    --sample_rate 19200 --train_config conf/tuning/train_system3_ssl_freqatt.demo.yaml
./run.sh --stage 6 --stop-stage 6 "${common[@]}" --ensemble_tag system4 \
    --ensemble_systems "exp/train_system1_cluster_supcon.demo/kmeans_membank_best exp/train_system2_attr_supcon.demo/kmeans_membank_best exp/train_system3_ssl_freqatt.demo/kmeans_membank_best"
utils/show_results.sh exp
