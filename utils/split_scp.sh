#!/usr/bin/env bash
# Split a Kaldi list file into N contiguous parts of near-equal line counts
# (the role of Kaldi's utils/split_scp.pl, without its speaker-aware modes).
#
#   utils/split_scp.sh in.scp out.1.scp ... out.N.scp
#
# With L lines, every part gets floor(L/N) lines and the first L mod N parts one more, in
# input order, so concatenating the parts gives back the input. Each part is written under a
# temporary name and renamed only after all parts are complete.
set -euo pipefail

prog=split_scp.sh
if [ "$#" -lt 2 ]; then
  echo "Usage: $0 <in.scp> <out.1.scp> [<out.2.scp> ...]" >&2
  exit 2
fi
in=$1
shift
outputs=("$@")
num_parts=${#outputs[@]}

if [ ! -f "${in}" ]; then
  echo "${prog}: input ${in} does not exist (check the data dir or re-run data preparation)" >&2
  exit 1
fi
num_lines=$(awk 'END { print NR }' <"${in}")
if [ "${num_lines}" -eq 0 ]; then
  echo "${prog}: input ${in} is empty; nothing to split (check the data preparation stage)" >&2
  exit 1
fi
if [ "${num_parts}" -gt "${num_lines}" ]; then
  echo "${prog}: cannot split ${in} (${num_lines} lines) into ${num_parts} parts;" \
    "use at most ${num_lines} jobs" >&2
  exit 1
fi

tmp_files=()
cleanup() {
  if [ "${#tmp_files[@]}" -gt 0 ]; then rm -f "${tmp_files[@]}"; fi
}
trap cleanup EXIT
for out in "${outputs[@]}"; do
  mkdir -p "$(dirname "${out}")"
  tmp_files+=("$(mktemp "$(dirname "${out}")/.$(basename "${out}").XXXXXX")")
done

# Part k (1-based) gets lines (k-1)*base + min(k-1, extra) + 1 ... of the input.
awk -v num_lines="${num_lines}" -v num_parts="${num_parts}" '
  BEGIN {
    for (k = 1; k < ARGC; k++) { part[k] = ARGV[k]; delete ARGV[k] }
    base = int(num_lines / num_parts); extra = num_lines % num_parts
    k = 1; left = base + (k <= extra)
  }
  {
    while (left == 0) { close(part[k]); k++; left = base + (k <= extra) }
    print > part[k]
    left--
  }' "${tmp_files[@]}" <"${in}"

mode=$(printf '%o' "$((0666 & ~$(umask)))")  # mktemp creates files readable by the owner only
for k in "${!outputs[@]}"; do
  chmod "${mode}" "${tmp_files[k]}"
  mv -f "${tmp_files[k]}" "${outputs[k]}"
done
tmp_files=()
