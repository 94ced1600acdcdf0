# shellcheck shell=bash
# Job launchers used by the recipe stages: ${train_cmd} (data steps), ${cuda_cmd} (training
# and inference; asd.sh asks for --gpu N with --ngpu N) and ${decode_cmd} (scoring).
# Usage: ${train_cmd} [--gpu N] [--mem X] [--time T] [--num-threads N] [--max-jobs-run N] \
#            JOB=1:N log/x.JOB.log command args...   (JOB is replaced by 1..N)
# This file is identical in every recipe (egs/TEMPLATE/asd1/cmd.sh is the master copy).
#
# The backend is ${ASD_CMD_BACKEND}, else local:
#   local   the jobs run on this machine, at most --max-jobs-run at once (default: nproc)
#   stdout  one job at a time on this machine, its log also printed (for debugging)
#   slurm   one sbatch array job per call; --gpu N -> --gres=gpu:N, partitions and other
#           options by the rules of conf/slurm.conf
#   sge     one qsub -t array job per call (Sun Grid Engine), rules in conf/queue.conf
# e.g. ASD_CMD_BACKEND=slurm ./run.sh --stage 2 --stop-stage 3 --ngpu 1
# The cluster backends need the recipe directory on a file system the nodes share.
cmd_backend=${ASD_CMD_BACKEND:-local}

case "${cmd_backend}" in
    local)
        export train_cmd="utils/run_local.sh"
        export cuda_cmd="utils/run_local.sh"
        export decode_cmd="utils/run_local.sh"
        ;;
    stdout)
        export train_cmd="utils/run_stdout.sh"
        export cuda_cmd="utils/run_stdout.sh"
        export decode_cmd="utils/run_stdout.sh"
        ;;
    slurm)
        export train_cmd="utils/run_slurm.sh --conf conf/slurm.conf"
        export cuda_cmd="utils/run_slurm.sh --conf conf/slurm.conf"
        export decode_cmd="utils/run_slurm.sh --conf conf/slurm.conf"
        ;;
    sge)
        export train_cmd="utils/run_sge.sh --conf conf/queue.conf"
        export cuda_cmd="utils/run_sge.sh --conf conf/queue.conf"
        export decode_cmd="utils/run_sge.sh --conf conf/queue.conf"
        ;;
    *)
        echo "cmd.sh: unknown backend '${cmd_backend}' (ASD_CMD_BACKEND);" \
            "use local, stdout, slurm or sge" >&2
        # shellcheck disable=SC2317
        return 1 2>/dev/null || exit 1
        ;;
esac
