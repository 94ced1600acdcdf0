#!/usr/bin/env bash
# Debugging job launcher, used as ${cmd} in the recipes when cmd.sh selects stdout: the
# contract of utils/run_local.sh, but the jobs run one after another in the foreground and
# everything written to each log (the same header, output and footer) also goes to stdout.
# stdin is the caller's, so a debugger (e.g. Python's breakpoint()) can be used in a job.
#
#   utils/run_stdout.sh [options] JOB=1:N log/x.JOB.log command args...
#   utils/run_stdout.sh [options] log/x.log command args...
#
# Exit status 0 when every job succeeds; otherwise the first failing log is named, exit
# status 1. The scheduler options are accepted and ignored, as by utils/run_local.sh.

max_jobs_run=1  # jobs running at once (scheduler option; always one here)
num_threads=1   # threads per job (scheduler option; ignored here)
gpu=0           # GPUs per job (scheduler option; ignored here)
mem=            # memory per job (scheduler option; ignored here)
time=           # time limit per job (scheduler option; ignored here)
help_message="Usage: $0 [options] [JOB=1:N] <log-file> <command> [<arg> ...]
Runs <command> once per job index, one at a time, writing its output to <log-file> and to
stdout; the string JOB in <log-file> and in the arguments is replaced by the job index."

# shellcheck source-path=SCRIPTDIR source=parse_options.sh
. "$(dirname "$0")/parse_options.sh"
# shellcheck source-path=SCRIPTDIR source=job_args.sh
. "$(dirname "$0")/job_args.sh"
set -euo pipefail
# The scheduler options are accepted, and unused, so that cmd.sh can switch launchers freely.
: "${max_jobs_run}" "${num_threads}" "${gpu}" "${mem}" "${time}"

prog=run_stdout.sh
usage_error() {
  echo "${prog}: $*" >&2
  echo "${prog}: run '$0 --help' for usage" >&2
  exit 2
}

parse_job_args "$@"
shift "${num_parsed}"

num_failed=0
first_failed_log=
for ((index = first; index <= last; index++)); do
  substitute "${index}" "${log_template}"
  log=${subst}
  argv=()
  for arg in "$@"; do
    substitute "${index}" "${arg}"
    argv+=("${subst}")
  done
  mkdir -p "$(dirname "${log}")"
  start=$(date +%s)
  # The group runs in a subshell (the left side of the pipe) and exits with the job's code.
  if {
    printf '#'
    printf ' %q' "${argv[@]}"
    printf '\n# Started at %s\n#\n' "$(date)"
    code=0
    "${argv[@]}" 2>&1 || code=$?
    printf '# Accounting: time=%d threads=1\n# Ended (code %d) at %s\n' \
      "$(($(date +%s) - start))" "${code}" "$(date)"
    exit "${code}"
  } | tee "${log}"; then
    continue
  fi
  num_failed=$((num_failed + 1))
  if [ -z "${first_failed_log}" ]; then first_failed_log=${log}; fi
done
if [ "${num_failed}" -gt 0 ]; then
  echo "${prog}: ${num_failed} / $((last - first + 1)) failed, log is in ${first_failed_log}" >&2
  exit 1
fi
