# shellcheck shell=bash
# Corpus locations, one variable per corpus: the recipe's --dataset in upper case. Leave a
# path empty to use a synthetic corpus in the official layout (generated in stage 0), or run
# stage 0 with --download true to fetch the official archives. Set a path when the corpus
# is already on disk, keeping the ${VAR:-path} form so that the environment and
# run.sh --corpus_dir still win, e.g.
#   DCASE2020=${DCASE2020:-/data/dcase2020_task2}
# (a folder holding dev_data/<machine>/{train,test} and eval_data/<machine>/{train,test}).
DCASE2020=${DCASE2020:-}
DCASE2021=${DCASE2021:-}
DCASE2022=${DCASE2022:-}
DCASE2023=${DCASE2023:-}
DCASE2024=${DCASE2024:-}
DCASE2025=${DCASE2025:-}
export DCASE2020 DCASE2021 DCASE2022 DCASE2023 DCASE2024 DCASE2025
