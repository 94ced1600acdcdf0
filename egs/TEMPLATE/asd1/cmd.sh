# shellcheck shell=bash
# Job launchers used by the recipe stages: ${train_cmd} (data steps), ${cuda_cmd}
# (training and inference, may ask for GPUs with --gpu N) and ${decode_cmd} (scoring).
# Usage: ${train_cmd} JOB=1:N log/x.JOB.log command args...   (JOB is replaced by 1..N)
# Select the backend here; this file is identical in every recipe.
cmd_backend=local

case "${cmd_backend}" in
    local)
        # Runs the jobs on this machine, at most --max-jobs-run at once (default: nproc).
        export train_cmd="utils/run_local.sh"
        export cuda_cmd="utils/run_local.sh"
        export decode_cmd="utils/run_local.sh"
        ;;
    *)
        echo "cmd.sh: unknown cmd_backend=${cmd_backend}; this version supports: local" >&2
        # shellcheck disable=SC2317
    return 1 2>/dev/null || exit 1
        ;;
esac
