#!/usr/bin/env bash
# Creates a new recipe directory. It copies the files a recipe edits (cmd.sh from this
# template; run.sh, conf/ and local/ from an existing recipe, by default the DCASE 2020 one,
# which works for any corpus in the DCASE 2020 layout) and symlinks the shared ones
# (asd.sh, path.sh, db.sh, utils/). local/data.sh stays what it is in every recipe, a link
# to the shared utils/data.sh, which serves any corpus of asd_lib's registry (run.sh's
# --dataset names it).
#   egs/TEMPLATE/asd1/setup.sh [--from egs/dcase24/asd1] egs/mycorpus/asd1
set -euo pipefail

template=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
source_recipe=${template}/../../dcase20/asd1
if [ $# -eq 3 ] && [ "$1" = "--from" ]; then
    source_recipe=$2
    shift 2
fi
if [ $# -ne 1 ]; then
    echo "Usage: $0 [--from <existing-recipe-dir>] <new-recipe-dir>    e.g. $0 egs/mycorpus/asd1" >&2
    exit 2
fi
target=$1
if [ -e "${target}" ]; then
    echo "$0: ${target} already exists; choose a new directory" >&2
    exit 1
fi
for f in run.sh conf local; do
    if [ ! -e "${source_recipe}/${f}" ]; then
        echo "$0: ${source_recipe}/${f} is missing; --from must name a recipe dir" >&2
        exit 1
    fi
done
mkdir -p "${target}"
target=$(cd "${target}" && pwd)

cp "${template}/cmd.sh" "${target}/cmd.sh"
for f in run.sh conf local; do
    cp -r "${source_recipe}/${f}" "${target}/${f}"
done
# scheduler options are shared by every recipe, like cmd.sh
cp "${template}/conf/slurm.conf" "${template}/conf/queue.conf" "${target}/conf/"
for f in asd.sh path.sh db.sh; do
    ln -s "$(realpath --relative-to="${target}" "${template}/${f}")" "${target}/${f}"
done
ln -s "$(realpath --relative-to="${target}" "${template}/../../../utils")" "${target}/utils"
echo "Created ${target}: set --dataset in run.sh and edit conf/ for your models."
