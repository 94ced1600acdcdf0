# shellcheck shell=bash
# Sourced first by asd.sh: runs the script again, with the same arguments, as a child in a
# process group of its own, and waits for it. A SIGTERM, SIGINT or SIGHUP to this process
# (run.sh execs asd.sh, so a signal to run.sh lands here; so does Ctrl-C) is passed to the
# whole group: the stage running, the launcher (utils/run_local.sh) and its jobs (a
# trainer) stop with the run instead of going on as orphans; then this process ends by the
# same signal, as a stopped command should. Otherwise the exit status is the child's.
# ASD_RUN_GROUP marks the child, and the runs started inside it, which run directly.
if [ -z "${ASD_RUN_GROUP:-}" ]; then
    export ASD_RUN_GROUP=$$
    set -m  # the child becomes the leader of a new process group
    "${BASH}" "$0" "$@" </dev/null &
    _pg_child=$!
    set +m
    # shellcheck disable=SC2317  # called by the traps below
    _pg_stop() {
        trap '' TERM INT HUP
        _pg_signal=$1
        echo "$(date '+%Y-%m-%dT%H:%M:%S') (process_group.sh) SIG$1 received: stopping the run" \
            "and every job it started (process group ${_pg_child})" >&2
        kill -s "$1" -- "-${_pg_child}" 2>/dev/null || true
    }
    trap '_pg_stop TERM' TERM
    trap '_pg_stop INT' INT
    trap '_pg_stop HUP' HUP
    # wait returns early when a signal arrives: wait again until the group's leader is gone
    while :; do
        _pg_status=0
        wait "${_pg_child}" || _pg_status=$?
        kill -0 "${_pg_child}" 2>/dev/null || break
    done
    if [ -n "${_pg_signal:-}" ]; then
        trap - "${_pg_signal}"
        kill -s "${_pg_signal}" $$
    fi
    exit "${_pg_status}"
fi
