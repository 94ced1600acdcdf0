#!/usr/bin/env bash
# Local job launcher, used as ${cmd} in the recipes (the role of Kaldi's utils/run.pl).
#
#   utils/run_local.sh [options] JOB=1:N log/x.JOB.log command args...
#   utils/run_local.sh [options] log/x.log command args...
#
# The literal JOB in the log path and in every argument becomes the job index. Jobs run in
# parallel, at most --max-jobs-run at once. Each argument reaches the command exactly as
# given (no shell re-parsing), so spaces and quotes survive; for a pipeline, run
# `bash -c "a | b"` as the command. Every log starts with the command line and the start
# time and ends with the elapsed seconds and the exit code. Exit status 0 when every job
# succeeds; otherwise the first failing log is named and its tail printed, exit status 1.

max_jobs_run=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)  # jobs running at once
num_threads=1  # threads per job (scheduler option; ignored here)
gpu=0          # GPUs per job (scheduler option; ignored here)
mem=           # memory per job (scheduler option; ignored here)
time=          # time limit per job (scheduler option; ignored here)
help_message="Usage: $0 [options] [JOB=1:N] <log-file> <command> [<arg> ...]
Runs <command> once per job index, writing its output to <log-file>; the string JOB in
<log-file> and in the arguments is replaced by the job index."

# shellcheck source-path=SCRIPTDIR source=parse_options.sh
. "$(dirname "$0")/parse_options.sh"
# shellcheck source-path=SCRIPTDIR source=job_args.sh
. "$(dirname "$0")/job_args.sh"
set -euo pipefail
# The scheduler options are accepted, and unused, so that cmd.sh can switch launchers freely.
: "${num_threads}" "${gpu}" "${mem}" "${time}"

prog=run_local.sh
usage_error() {
  echo "${prog}: $*" >&2
  echo "${prog}: run '$0 --help' for usage" >&2
  exit 2
}

if [[ ! "${max_jobs_run}" =~ ^[1-9][0-9]*$ ]]; then
  usage_error "--max-jobs-run must be a positive integer, not '${max_jobs_run}'"
fi

parse_job_args "$@"
shift "${num_parsed}"
command_template=("$@")

rc_dir=$(mktemp -d "${TMPDIR:-/tmp}/run_local.XXXXXX")
trap 'rm -rf "${rc_dir}"' EXIT
trap 'trap - INT TERM; kill $(jobs -p) 2>/dev/null; exit 130' INT TERM

# Run job $1 in the foreground: write its log and record its exit code in ${rc_dir}/$1.
run_job() {
  local index=$1 log arg start rc=0
  local -a argv=()
  substitute "${index}" "${log_template}"
  log=${subst}
  for arg in "${command_template[@]}"; do
    substitute "${index}" "${arg}"
    argv+=("${subst}")
  done
  mkdir -p "$(dirname "${log}")"
  start=$(date +%s)
  {
    printf '#'
    printf ' %q' "${argv[@]}"
    printf '\n# Started at %s\n#\n' "$(date)"
  } >"${log}"
  "${argv[@]}" >>"${log}" 2>&1 </dev/null || rc=$?
  printf '# Accounting: time=%d threads=1\n# Ended (code %d) at %s\n' \
    "$(($(date +%s) - start))" "${rc}" "$(date)" >>"${log}"
  echo "${rc}" >"${rc_dir}/${index}"
}

running=0
for ((index = first; index <= last; index++)); do
  if [ "${running}" -ge "${max_jobs_run}" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_job "${index}" &
  running=$((running + 1))
done
wait || true

num_failed=0
first_failed_log=
for ((index = first; index <= last; index++)); do
  rc=$(cat "${rc_dir}/${index}" 2>/dev/null || echo killed)
  if [ "${rc}" != 0 ]; then
    num_failed=$((num_failed + 1))
    if [ -z "${first_failed_log}" ]; then
      substitute "${index}" "${log_template}"
      first_failed_log=${subst}
    fi
  fi
done
if [ "${num_failed}" -gt 0 ]; then
  echo "${prog}: ${num_failed} / $((last - first + 1)) failed, log is in ${first_failed_log}" >&2
  tail -n 20 "${first_failed_log}" >&2 || true
  exit 1
fi
