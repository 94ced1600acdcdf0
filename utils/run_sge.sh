#!/usr/bin/env bash
# Sun Grid Engine job launcher, used as ${cmd} in the recipes when cmd.sh selects sge (the
# role of Kaldi's utils/queue.pl). It is utils/run_slurm.sh with --scheduler sge: the job
# indices are the tasks of one `qsub -t 1-N -sync y` array job (-tc M for --max-jobs-run),
# with the options of conf/queue.conf (Kaldi queue.pl format; built-in rules without it:
# --gpu N -> -l gpu=N, --mem X -> -l mem_free=X,ram_free=X, --time T -> -l h_rt=T,
# --num-threads N -> -pe smp N). Same usage, logs and exit status as utils/run_local.sh.
#
#   utils/run_sge.sh [options] JOB=1:N log/x.JOB.log command args...
#   utils/run_sge.sh --help
exec "$(dirname "$0")/run_slurm.sh" --scheduler sge "$@"
