#!/usr/bin/env bash
# Cluster job launcher, used as ${cmd} in the recipes when cmd.sh selects slurm (the role of
# Kaldi's utils/slurm.pl); utils/run_sge.sh runs it for Sun Grid Engine (--scheduler sge).
#
#   utils/run_slurm.sh [options] JOB=1:N log/x.JOB.log command args...
#   utils/run_slurm.sh [options] log/x.log command args...
#
# The contract of utils/run_local.sh, on a cluster: the job indices are the tasks of ONE
# array job (sbatch --array=1-N, or qsub -t 1-N -sync y), and every task runs
# utils/run_local.sh for its index, so the per-task logs (JOB replaced by the index), the
# argument handling and the log format are those of a local run. The directory of the logs
# must be visible from the compute nodes (a shared file system, as for Kaldi's slurm.pl).
# The command returns when every task has ended: exit status 0 when all succeeded, else the
# number failed and the first failing log (or, for a task the scheduler killed, its
# scheduler output) are printed, exit status 1. An interrupt cancels the array job.
#
# Next to the logs, <log dir>/q/ keeps, for a log file <name>.log, the job script <name>.sh,
# the submit command's messages <name>.submit.log, and for each task its scheduler output
# <name>.<index>.out and its exit status <name>.<index>.rc.
#
# Scheduler options: --gpu, --mem, --time and --num-threads become submit options through
# the rules of a config file in the format of Kaldi's slurm.pl / queue.pl configs:
#   command sbatch --export=ALL          the submit command and its fixed options
#   option gpu=0 -p cpu                  the options for exactly this value
#   option gpu=* -p gpu --gres=gpu:$0    the options for any other value ($0: the value)
#   default mem=4G                       the value when the command line gives none
# Names: gpu, mem, time, num_threads. gpu 0 and num_threads 1 ask for nothing unless a rule
# is given for exactly that value; any other value with no rule is an error. Without a
# config file the built-in rules below apply (those of egs/TEMPLATE/asd1/conf/slurm.conf
# and queue.conf: --gpu N -> --gres=gpu:N for Slurm, -l gpu=N for SGE). --max-jobs-run
# throttles the array (Slurm: --array=1-N%M; SGE: -tc M).

scheduler=slurm    # slurm or sge (utils/run_sge.sh sets it)
conf=              # rules file (empty: conf/slurm.conf, for sge conf/queue.conf, if present; else built-in)
max_jobs_run=      # tasks of the array running at once (empty: as many as the scheduler allows)
gpu=               # GPUs per job (empty: the config's default, else 0)
mem=               # memory per job, e.g. 4G (empty: the config's default, else no request)
time=              # time limit per job, e.g. 4:00:00 (empty: the config's default, else none)
num_threads=       # CPU threads per job (empty: the config's default, else 1)
status_wait=30     # seconds to wait for the status file of a task that has left the queue (NFS shows files late)
help_message="Usage: $0 [options] [JOB=1:N] <log-file> <command> [<arg> ...]
Runs <command> once per job index as one array job on a Slurm (or SGE) cluster, writing
its output to <log-file>; the string JOB in <log-file> and in the arguments is replaced by
the job index."

# shellcheck source-path=SCRIPTDIR source=parse_options.sh
. "$(dirname "$0")/parse_options.sh"
# shellcheck source-path=SCRIPTDIR source=job_args.sh
. "$(dirname "$0")/job_args.sh"
set -euo pipefail

prog=run_slurm.sh
usage_error() {
  echo "${prog}: $*" >&2
  echo "${prog}: run '$0 --help' for usage" >&2
  exit 2
}

case "${scheduler}" in
  slurm)
    builtin_conf="command sbatch --export=ALL
option gpu=0
option gpu=* --gres=gpu:\$0
option mem=* --mem=\$0
option time=* --time=\$0
option num_threads=1
option num_threads=* --cpus-per-task=\$0"
    default_conf=conf/slurm.conf
    ;;
  sge)
    builtin_conf="command qsub -V -S /bin/bash -j y
option gpu=0
option gpu=* -l gpu=\$0
option mem=* -l mem_free=\$0,ram_free=\$0
option time=* -l h_rt=\$0
option num_threads=1
option num_threads=* -pe smp \$0"
    default_conf=conf/queue.conf
    prog=run_sge.sh
    ;;
  *) usage_error "--scheduler must be slurm or sge, not '${scheduler}'" ;;
esac
if [ -n "${max_jobs_run}" ] && [[ ! "${max_jobs_run}" =~ ^[1-9][0-9]*$ ]]; then
  usage_error "--max-jobs-run must be a positive integer, not '${max_jobs_run}'"
fi
if [[ ! "${status_wait}" =~ ^[0-9]+$ ]]; then
  usage_error "--status-wait must be a number of seconds, not '${status_wait}'"
fi

# ------------------------------------------------------------------ the job range and command
parse_job_args "$@"
shift "${num_parsed}"
if [ "${first}" -lt 1 ]; then
  usage_error "bad job range ${jobvar}=${first}:${last} (need 1 <= first <= last)"
fi

# ------------------------------------------------------------------ the config file
declare -A rules=()     # "name=value" or "name=*" -> submit options ($0 not yet replaced)
declare -A defaults=()  # name -> value
submit_cmd=()

# Parse config text $2 (read from file $1, named in the error messages).
read_conf() {
  local file=$1 text=$2 line lineno=0 key
  local -a words
  while IFS= read -r line; do
    lineno=$((lineno + 1))
    read -r -a words <<<"${line%%#*}"
    [ "${#words[@]}" -eq 0 ] && continue
    key=${words[1]:-}
    case "${words[0]}" in
      command)
        [ "${#words[@]}" -ge 2 ] \
          || conf_error "${file}" "${lineno}" "'command' needs the submit command"
        submit_cmd=("${words[@]:1}")
        continue
        ;;
      option) ;;
      default)
        if [ "${#words[@]}" -ne 2 ] || [[ "${key}" != *=?* ]] || [[ "${key}" == *=\* ]]; then
          conf_error "${file}" "${lineno}" "expected 'default NAME=VALUE'"
        fi
        ;;
      *)
        conf_error "${file}" "${lineno}" \
          "expected 'command ...', 'option NAME=VALUE ...' or 'default NAME=VALUE'"
        ;;
    esac
    if [[ ! "${key}" =~ ^(gpu|mem|time|num_threads)=.+$ ]]; then
      conf_error "${file}" "${lineno}" \
        "'${key}': the names are gpu, mem, time and num_threads (NAME=VALUE or NAME=*)"
    fi
    if [ "${words[0]}" = default ]; then
      defaults[${key%%=*}]=${key#*=}
    else
      rules[${key}]="${words[*]:2}"
    fi
  done <<<"${text}"
}

conf_error() {
  echo "${prog}: $1 line $2: $3" >&2
  exit 2
}

if [ -n "${conf}" ]; then
  [ -f "${conf}" ] || usage_error "--conf ${conf}: no such file"
  read_conf "${conf}" "$(cat "${conf}")"
elif [ -f "${default_conf}" ]; then
  conf=${default_conf}
  read_conf "${conf}" "$(cat "${conf}")"
else
  conf="the built-in rules"
  read_conf "${conf}" "${builtin_conf}"
fi
if [ "${#submit_cmd[@]}" -eq 0 ]; then
  echo "${prog}: ${conf} has no 'command' line (e.g. '${builtin_conf%%$'\n'*}')" >&2
  exit 2
fi

# The submit options that the job options ask for, by the config's rules.
submit_opts=()
declare -A requested=([gpu]="${gpu}" [mem]="${mem}" [time]="${time}" [num_threads]="${num_threads}")
declare -A neutral=([gpu]=0 [num_threads]=1)
for name in gpu mem time num_threads; do
  value=${requested[${name}]:-${defaults[${name}]:-${neutral[${name}]:-}}}
  [ -n "${value}" ] || continue
  if [ -n "${rules[${name}=${value}]+x}" ]; then
    rule=${rules[${name}=${value}]}
  elif [ "${value}" = "${neutral[${name}]:-}" ]; then
    continue
  elif [ -n "${rules[${name}=*]+x}" ]; then
    rule=${rules[${name}=*]}
  else
    usage_error "--${name//_/-} ${value}: ${conf} has no rule for it (add 'option ${name}=* ...')"
  fi
  read -r -a words <<<"${rule}"
  for word in ${words[@]+"${words[@]}"}; do
    submit_opts+=("${word//\$0/${value}}")
  done
done

# ------------------------------------------------------------------ the job script
# The queue dir: next to the logs, above any directory named with the job index.
log_dir=$(dirname "${log_template}")
while [ -n "${jobvar}" ] && [[ "${log_dir}" == *"${jobvar}"* ]]; do
  log_dir=$(dirname "${log_dir}")
done
mkdir -p "${log_dir}/q"
qdir=$(cd "${log_dir}/q" && pwd)
stem=$(basename "${log_template}" .log)
name=${stem//[^A-Za-z0-9_.-]/_}
if [[ ! "${name}" =~ ^[A-Za-z] ]]; then name=j${name}; fi
script=${qdir}/${stem}.sh
for ((index = first; index <= last; index++)); do
  rm -f "${qdir}/${stem}.${index}.rc"
done

case "${scheduler}" in
  slurm) task_var=SLURM_ARRAY_TASK_ID job_var=SLURM_ARRAY_JOB_ID ;;
  sge) task_var=SGE_TASK_ID job_var=JOB_ID ;;
esac
# shellcheck disable=SC2016  # ${task} and ${rc} belong to the job script
{
  echo "#!/usr/bin/env bash"
  echo "# Written by ${prog} at $(date): one task of the array job for"
  printf '#'
  printf ' %q' "${log_template}" "$@"
  printf '\ncd %q || exit 1\n' "$(pwd)"
  echo "task=\${${task_var}}"
  echo "echo \"# ${scheduler} job \${${job_var}} task \${task} on \$(hostname) at \$(date)\""
  echo "rc=0"
  printf '%q' "$(cd "$(dirname "$0")" && pwd)/run_local.sh"
  if [ -n "${jobvar}" ]; then printf ' "%s=${task}:${task}"' "${jobvar}"; fi
  printf ' %q' "${log_template}" "$@"
  printf ' || rc=$?\n'
  printf 'echo "${rc}" >%q.${task}.rc.tmp && mv %q.${task}.rc.tmp %q.${task}.rc\n' \
    "${qdir}/${stem}" "${qdir}/${stem}" "${qdir}/${stem}"
  echo 'exit "${rc}"'
} >"${script}.tmp"
chmod +x "${script}.tmp"
mv "${script}.tmp" "${script}"

# ------------------------------------------------------------------ submit and wait
submit_log=${qdir}/${stem}.submit.log
job_id=
submitter=

# Cancel the array job (on an interrupt).
# shellcheck disable=SC2317  # run by the trap
cancel() {
  trap - INT TERM
  if [ -n "${submitter}" ]; then kill "${submitter}" 2>/dev/null || true; fi
  if [ -z "${job_id}" ] && [ "${scheduler}" = sge ]; then sge_job_id; fi
  if [ -n "${job_id}" ]; then
    echo "${prog}: interrupted; cancelling job ${job_id}" >&2
    case "${scheduler}" in
      slurm) scancel "${job_id}" || true ;;
      sge) qdel "${job_id}" || true ;;
    esac
  fi
  exit 130
}
trap cancel INT TERM

# Set ${job_id} from qsub's "Your job-array 123.1-4:1 ("name") has been submitted".
sge_job_id() {
  job_id=$(sed -n 's/^Your job\(-array\)\{0,1\} \([0-9][0-9]*\).*/\2/p' "${submit_log}" | head -n 1)
}

# The number of tasks without an exit status file.
count_missing() {
  local index missing=0
  for ((index = first; index <= last; index++)); do
    [ -f "${qdir}/${stem}.${index}.rc" ] || missing=$((missing + 1))
  done
  echo "${missing}"
}

# Succeeds while the Slurm job ${job_id} is pending or running (or squeue cannot tell).
slurm_job_active() {
  local out
  if out=$(squeue -h -j "${job_id}" -o %T 2>&1); then
    [ -n "${out}" ]
  else
    [[ "${out}" != *"Invalid job id"* ]]
  fi
}

# Wait up to --status-wait seconds for the status files of tasks that have ended.
wait_for_status_files() {
  local waited=0
  while [ "$(count_missing)" -gt 0 ] && [ "${waited}" -lt "${status_wait}" ]; do
    sleep 1
    waited=$((waited + 1))
  done
}

array=${first}-${last}
case "${scheduler}" in
  slurm)
    out=${qdir}/${stem//%/%%}.%a.out
    job_id=$("${submit_cmd[@]}" ${submit_opts[@]+"${submit_opts[@]}"} --parsable \
      --job-name="${name}" --array="${array}${max_jobs_run:+%${max_jobs_run}}" \
      --output="${out}" "${script}" 2>"${submit_log}") || true
    job_id=${job_id%%;*}
    if [[ ! "${job_id}" =~ ^[0-9]+$ ]]; then
      echo "${prog}: submission failed: ${submit_cmd[*]} ... ${script}" >&2
      cat "${submit_log}" >&2
      exit 1
    fi
    # Status files are checked every half second; the queue after 0, 0.5, 1.5, 3.5, 7.5 s,
    # then every 10 s.
    polls=0
    next_check=0
    while [ "$(count_missing)" -gt 0 ]; do
      if [ "${polls}" -ge "${next_check}" ]; then
        if ! slurm_job_active; then
          wait_for_status_files
          break
        fi
        next_check=$((polls + (polls < 10 ? polls + 1 : 20)))
      fi
      sleep 0.5
      polls=$((polls + 1))
    done
    ;;
  sge)
    # shellcheck disable=SC2016  # qsub itself replaces $TASK_ID in the output path
    "${submit_cmd[@]}" ${submit_opts[@]+"${submit_opts[@]}"} -N "${name}" -t "${array}" \
      ${max_jobs_run:+-tc "${max_jobs_run}"} -o "${qdir}/${stem}."'$TASK_ID'".out" \
      -sync y "${script}" >"${submit_log}" 2>&1 &
    submitter=$!
    wait "${submitter}" || true
    submitter=
    sge_job_id
    if [ -z "${job_id}" ]; then
      echo "${prog}: submission failed: ${submit_cmd[*]} ... ${script}" >&2
      cat "${submit_log}" >&2
      exit 1
    fi
    wait_for_status_files
    ;;
esac
trap - INT TERM

# ------------------------------------------------------------------ collect the exit statuses
num_failed=0
first_failed=
for ((index = first; index <= last; index++)); do
  rc=$(cat "${qdir}/${stem}.${index}.rc" 2>/dev/null || echo none)
  if [ "${rc}" != 0 ]; then
    num_failed=$((num_failed + 1))
    if [ -z "${first_failed}" ]; then first_failed=${index}; fi
  fi
done
if [ "${num_failed}" -eq 0 ]; then
  exit 0
fi
if [ -n "${jobvar}" ]; then
  failed_log=${log_template//"${jobvar}"/"${first_failed}"}
else
  failed_log=${log_template}
fi
echo "${prog}: ${num_failed} / $((last - first + 1)) failed (job ${job_id})," \
  "log is in ${failed_log}" >&2
if [ -f "${qdir}/${stem}.${first_failed}.rc" ]; then
  tail -n 20 "${failed_log}" >&2 || true
else
  echo "${prog}: task ${first_failed} ended without an exit status (killed by the scheduler?);" \
    "its scheduler output, ${qdir}/${stem}.${first_failed}.out:" >&2
  tail -n 20 "${qdir}/${stem}.${first_failed}.out" >&2 || true
fi
exit 1
