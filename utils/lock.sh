# shellcheck shell=bash disable=SC2154  # lock_wait and run_args are set by asd.sh
# Locks of a recipe's shared directories, with flock(1). Sourced by asd.sh, which sets
# lock_wait (true: wait for the lock; false: fail at once) and run_args (this run's
# command) and defines log().
#
#   lock_dir DIR shared|exclusive   take DIR/.lock; readers share it, a writer holds it alone
#   unlock_dir DIR                  release it
#
# A run that finds the lock taken either waits (lock_wait=true) or stops with exit status 1,
# naming the PID and the command of every run holding it (their records in DIR/.lock.d/),
# or, when none of them lives, the processes that still hold the lock file open: the jobs
# of a run killed with SIGKILL, which inherited it. The lock is released when the last
# process of the run ends, however it ends (the kernel closes the file); its records are
# removed on exit (a record of a dead PID is ignored anyway).

declare -A _lock_fds=()
declare -a _lock_records=()

_remove_lock_records() {
    local record
    for record in "${_lock_records[@]}"; do rm -f "${record}"; done
}
trap _remove_lock_records EXIT

# The runs holding DIR's lock, "PID 123 (./run.sh --stage 2 ...)", one per line; when no
# recorded run is alive, the processes of other process groups that hold DIR/.lock open
# (read from /proc): the jobs of a run killed with SIGKILL, which keep its lock.
lock_holders() {
    local record pid found=false
    for record in "$1"/.lock.d/*; do
        [ -f "${record}" ] || continue
        pid=${record##*/}
        if kill -0 "${pid}" 2>/dev/null && [ "$(_proc_stat "${pid}" 1)" != Z ]; then
            echo "PID ${pid} ($(cat "${record}"))"
            found=true
        fi
    done
    if [ "${found}" = false ]; then _lock_orphans "$1"; fi
}

# Processes outside this run's process group that hold DIR/.lock open, one line per
# process group: "PID 123 (python -m ...), PID 124 (...), left running by a run that was
# killed; ... kill -- -GROUP".
_lock_orphans() {
    local lock own pid group command
    [ -d /proc/self/fd ] || return 0
    lock=$(readlink -f "$1/.lock")
    own=$(_proc_stat self 3)
    { find /proc/[0-9]*/fd -maxdepth 1 -type l -printf '%h\t%l\n' 2>/dev/null || true; } \
        | awk -F '\t' -v lock="${lock}" '$2 == lock { split($1, part, "/"); print part[3] }' \
        | sort -un | while read -r pid; do
            group=$(_proc_stat "${pid}" 3)
            if [ -z "${group}" ] || [ "${group}" = "${own}" ]; then continue; fi
            command=$(tr '\0' ' ' < "/proc/${pid}/cmdline" 2>/dev/null | cut -c1-80)
            printf '%s\t%s\t%s\n' "${group}" "${pid}" "${command% }"
        done \
        | awk -F '\t' '
            { held[$1] = held[$1] "PID " $2 " (" $3 "), " }
            END {
                for (group in held)
                    print held[group] "left running by a run that was killed; wait for them" \
                        " to end, or stop them: kill -- -" group
            }'
}

# Field N after "(name)" of /proc/PID/stat (PID or self): 1 the state (Z: a zombie, dead
# but not yet reaped), 3 the process group. Empty where there is no such process.
_proc_stat() {
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d ' ' -f "$2"
}

lock_dir() {
    local dir=$1 mode=$2 fd flag=-x holders
    [ "${mode}" = shared ] && flag=-s
    mkdir -p "${dir}/.lock.d"
    exec {fd}>>"${dir}/.lock"
    if ! flock -n "${flag}" "${fd}" && [ -z "$(lock_holders "${dir}")" ]; then
        # no live run holds it: the processes of a run that ended (killed) are exiting
        flock -w 30 "${flag}" "${fd}" || true
    fi
    if ! flock -n "${flag}" "${fd}"; then
        holders=$(lock_holders "${dir}" | paste -sd ';' || true)
        holders=${holders:-"no process that this user can see (another user's run, or one on another machine sharing the disk)"}
        if [ "${lock_wait}" != true ]; then
            log "Error: ${dir}/ is in use by another run: ${holders}." \
                "Wait for it to finish, or run with --lock_wait true to wait for it"
            exit 1
        fi
        log "${dir}/ is in use by ${holders}; waiting for it"
        flock "${flag}" "${fd}"
    fi
    echo "${run_args}" > "${dir}/.lock.d/$$"
    _lock_records+=("${dir}/.lock.d/$$")
    _lock_fds[${dir}]=${fd}
}

unlock_dir() {
    local dir=$1 fd=${_lock_fds[$1]:-}
    [ -n "${fd}" ] || return 0
    rm -f "${dir}/.lock.d/$$"
    exec {fd}>&-
    unset "_lock_fds[${dir}]"
}
