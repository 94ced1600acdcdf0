# shellcheck shell=bash
# Checks of asd.sh's numeric options, sourced by asd.sh right after utils/parse_options.sh
# and run (check_asd_options) before any option is used. Every value must be a plain number
# in its range; the first that is not stops the run with one line naming the option, its
# value and the range, exit status 2. Nothing here evaluates a value as bash arithmetic
# (`$(( nj ))` would run a command substitution hidden in `--nj 'a[$(cmd)]'`): values are
# matched against a pattern first and compared by awk.
#
#   need_integer NAME MIN MAX WHAT     NAME's value is an integer from MIN to MAX
#   need_decimal NAME MIN MAX WHAT     NAME's value is a decimal number from MIN to MAX
#   check_asd_options                  every numeric option of asd.sh (--num_trials and
#                                      --seeds only where the recipe has them and they are set)

# Stop with the error line: "--name value: must be WHAT".
_option_error() {
    echo "$(date '+%Y-%m-%dT%H:%M:%S') (check_options.sh) Error: --${1//_/-} '${2}': must be ${3}" >&2
    exit 2
}

# Whether $1 lies from $2 to $3 (numbers compared by awk, never by the shell).
_in_range() {
    awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x + 0 >= lo + 0 && x + 0 <= hi + 0) }'
}

need_integer() {
    local name=$1 min=$2 max=$3 what=$4 value=${!1}
    if ! [[ "${value}" =~ ^(0|[1-9][0-9]{0,8})$ ]] || ! _in_range "${value}" "${min}" "${max}"; then
        _option_error "${name}" "${value}" "${what}"
    fi
}

need_decimal() {
    local name=$1 min=$2 max=$3 what=$4 value=${!1}
    if ! [[ "${value}" =~ ^[0-9]{1,9}([.][0-9]{1,9})?$ ]] || ! _in_range "${value}" "${min}" "${max}"; then
        _option_error "${name}" "${value}" "${what}"
    fi
}

# Clip lengths (s) that stage 2 dumps, as asd_lib.data.audio.SEGMENT_SEC_RANGE has them.
SEGMENT_SEC_MIN=1
SEGMENT_SEC_MAX=60
# Dump sample rates (Hz), as asd_lib.data.audio.SAMPLE_RATE_RANGE has them.
SAMPLE_RATE_MIN=8000
SAMPLE_RATE_MAX=192000

# shellcheck disable=SC2154  # the options are asd.sh's
check_asd_options() {
    need_integer stage 0 6 "a stage from 0 to 6"
    need_integer stop_stage 0 6 "a stage from 0 to 6"
    if ! _in_range "${stage}" 0 "${stop_stage}"; then
        _option_error stage "${stage}" "at most --stop-stage ${stop_stage}, or nothing would run"
    fi
    need_integer nj 1 100000 "a whole number of parallel jobs, from 1 to 100000"
    need_integer ngpu 0 1024 "a whole number of GPUs, from 0 (CPU) to 1024"
    need_integer sample_rate "${SAMPLE_RATE_MIN}" "${SAMPLE_RATE_MAX}" \
        "a sample rate in Hz, a whole number from ${SAMPLE_RATE_MIN} to ${SAMPLE_RATE_MAX}"
    need_decimal segment_sec "${SEGMENT_SEC_MIN}" "${SEGMENT_SEC_MAX}" \
        "a clip length in seconds, a plain number from ${SEGMENT_SEC_MIN} to ${SEGMENT_SEC_MAX}"
    need_decimal max_clipped 0 1 "a share of samples, a plain number from 0 to 1"
    if [ -n "${num_trials:-}" ]; then
        need_integer num_trials 1 1000 "a whole number of trials, from 1 to 1000"
    fi
    local seed_list='^[[:space:]]*([0-9]{1,9}([[:space:]]+[0-9]{1,9})*)?[[:space:]]*$'
    if [ -n "${seeds:-}" ] && ! [[ "${seeds}" =~ ${seed_list} ]]; then
        _option_error seeds "${seeds}" "a space-separated list of whole numbers (seeds), e.g. '0 1 2'"
    fi
}
