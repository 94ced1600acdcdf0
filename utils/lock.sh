# shellcheck shell=bash disable=SC2154  # lock_wait and run_args are set by asd.sh
# Locks of a recipe's shared directories, with flock(1). Sourced by asd.sh, which sets
# lock_wait (true: wait for the lock; false: fail at once) and run_args (this run's
# command) and defines log().
#
#   lock_dir DIR shared|exclusive   take DIR/.lock; readers share it, a writer holds it alone
#   unlock_dir DIR                  release it
#
# A run that finds the lock taken either waits (lock_wait=true) or stops with exit status 1,
# naming the PID and the command of every run holding it (their records in DIR/.lock.d/).
# The lock is released when the run ends, however it ends (the kernel closes the file);
# its records are removed on exit (a record of a dead PID is ignored anyway).

declare -A _lock_fds=()
declare -a _lock_records=()

_remove_lock_records() {
    local record
    for record in "${_lock_records[@]}"; do rm -f "${record}"; done
}
trap _remove_lock_records EXIT

# The runs holding DIR's lock, "PID 123 (./run.sh --stage 2 ...)", one per line.
lock_holders() {
    local record pid
    for record in "$1"/.lock.d/*; do
        [ -f "${record}" ] || continue
        pid=${record##*/}
        if kill -0 "${pid}" 2>/dev/null; then
            echo "PID ${pid} ($(cat "${record}"))"
        fi
    done
}

lock_dir() {
    local dir=$1 mode=$2 fd flag=-x
    [ "${mode}" = shared ] && flag=-s
    mkdir -p "${dir}/.lock.d"
    exec {fd}>>"${dir}/.lock"
    if ! flock -n "${flag}" "${fd}" && [ -z "$(lock_holders "${dir}")" ]; then
        # no live run holds it: the processes of a run that ended (killed) are exiting
        flock -w 30 "${flag}" "${fd}" || true
    fi
    if ! flock -n "${flag}" "${fd}"; then
        if [ "${lock_wait}" != true ]; then
            log "Error: ${dir}/ is in use by another run: $(lock_holders "${dir}" | paste -sd ';')." \
                "Wait for it to finish, or run with --lock_wait true to wait for it"
            exit 1
        fi
        log "${dir}/ is in use by $(lock_holders "${dir}" | paste -sd ';'); waiting for it"
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
