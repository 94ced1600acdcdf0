# shellcheck shell=bash disable=SC2034  # the variables set here are read by the launcher
# Sourced by the job launchers (run_local.sh, run_stdout.sh, run_slurm.sh): their common
# arguments "[JOB=a:b] <log-file> <command> [<arg> ...]" and the JOB substitution.
# The launcher defines usage_error before calling parse_job_args.

# Parse the launcher's arguments "$@": sets jobvar (empty without a range), first, last,
# log_template, and num_parsed (the leading arguments to shift; the command follows).
parse_job_args() {
  jobvar=
  first=1
  last=1
  num_parsed=1
  if [[ "${1:-}" =~ ^([A-Za-z_][A-Za-z0-9_]*)=([0-9]+):([0-9]+)$ ]]; then
    jobvar=${BASH_REMATCH[1]}
    first=$((10#${BASH_REMATCH[2]}))
    last=$((10#${BASH_REMATCH[3]}))
    num_parsed=2
    shift
    if [ "${first}" -gt "${last}" ]; then
      usage_error "empty job range ${jobvar}=${first}:${last}"
    fi
  elif [[ "${1:-}" =~ ^[A-Za-z_][A-Za-z0-9_]*=.*:.*$ ]]; then
    usage_error "bad job range '$1' (expected e.g. JOB=1:4)"
  fi
  if [ "$#" -lt 2 ]; then
    usage_error "expected a log file and a command"
  fi
  log_template=$1
  if [ -z "${jobvar}" ] && [[ "${log_template}" == *JOB* ]]; then
    usage_error "log file ${log_template} contains JOB but no range JOB=a:b was given"
  fi
}

# Set ${subst} to $2 with the job variable replaced by the job index $1.
substitute() {
  if [ -n "${jobvar}" ]; then
    subst=${2//"${jobvar}"/"$1"}
  else
    subst=$2
  fi
}
