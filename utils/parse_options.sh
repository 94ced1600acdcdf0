# shellcheck shell=bash
# Command-line options for recipe scripts, with the semantics of Kaldi's
# egs/wsj/s5/utils/parse_options.sh (this is an independent implementation).
#
# Source this file after the option defaults:
#
#   stage=0          # first stage to run
#   use_gpu=false    # train on the GPU
#   help_message="Usage: $0 [options] <data-dir>"
#   . utils/parse_options.sh
#
# Then
#   --foo-bar VALUE / --foo-bar=VALUE  set foo_bar, which must already be set (declared);
#                                      a variable whose value is true/false only takes true/false
#   --config FILE                      source FILE (shell assignments) before the other options,
#                                      so options given on the command line win
#   --help, -h                         print $help_message and every option declared in the
#                                      calling script above the line that sources this file
#   --                                 end of options
# Parsing stops at the first argument that is not an option; it and the rest stay in "$@".
# Misuse exits the calling script with status 2. Works under `set -euo pipefail`.
# Internal names start with _po_ and are removed again at the end.

_po_die() {
  echo "$0: $*" >&2
  echo "$0: run '$0 --help' for the list of options" >&2
  exit 2
}

# Print "name<TAB>description" for each top-level `name=value  # description` line of the
# script $1 above the line that sources parse_options.sh. A small lexer follows quotes
# across lines, so the contents of a multi-line help_message are not taken for options.
_po_declared_options() {
  awk -v q="'" '
    !indq && !insq && /^[[:space:]]*(\.|source)[[:space:]].*parse_options\.sh/ { exit }
    {
      name = ""
      if (!indq && !insq && match($0, /^[A-Za-z][A-Za-z0-9_]*=/)) name = substr($0, 1, RLENGTH - 1)
      desc = ""; prev = " "; n = length($0)
      for (i = 1; i <= n; i++) {
        c = substr($0, i, 1)
        if (indq) { if (c == "\\") i++; else if (c == "\"") indq = 0 }
        else if (insq) { if (c == q) insq = 0 }
        else if (c == "\\") i++
        else if (c == "\"") indq = 1
        else if (c == q) insq = 1
        else if (c == "#" && prev ~ /[[:space:]]/) { desc = substr($0, i + 1); break }
        prev = c
      }
      if (name != "") {
        gsub(/^[[:space:]]+|[[:space:]]+$/, "", desc)
        print name "\t" desc
      }
    }' "$1"
}

_po_print_help() {
  local name desc value arg i width=0
  local -a names=() descs=() args=()
  if [ -n "${help_message:-}" ]; then
    printf '%s\n\n' "${help_message}"
  fi
  if [ -f "$0" ]; then
    while IFS=$'\t' read -r name desc; do
      # Only variables that exist and are not the help text itself are options.
      if [ "${name}" = help_message ] || [ -z "${!name+x}" ]; then
        continue
      fi
      case "${!name}" in
        true | false) arg="--${name//_/-} true|false" ;;
        *) arg="--${name//_/-} VALUE" ;;
      esac
      names+=("${name}") descs+=("${desc}") args+=("${arg}")
      if [ "${#arg}" -gt "${width}" ]; then width=${#arg}; fi
    done < <(_po_declared_options "$0")
  fi
  echo "Options:"
  for i in "${!names[@]}"; do
    value=${!names[i]}
    printf '  %-*s   (default: %s)%s\n' "${width}" "${args[i]}" "${value:-\"\"}" \
      "${descs[i]:+  ${descs[i]}}"
  done
  printf '  %-*s   source FILE (name=value lines) before the other options\n' \
    "${width}" "--config FILE"
  printf '  %-*s   print this help and exit\n' "${width}" "--help"
}

# Pass 1: split "$@" into option assignments and config files, up to the first positional.
_po_names=()
_po_values=()
_po_configs=()
_po_help=false
while [ "$#" -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    -h | --help) _po_help=true; shift; continue ;;
    --*=*) _po_opt=${1%%=*}; _po_val=${1#*=}; shift ;;
    --*)
      if [ "$#" -lt 2 ]; then _po_die "option $1 needs a value"; fi
      _po_opt=$1; _po_val=$2; shift 2 ;;
    *) break ;;
  esac
  if [ "${_po_opt}" = --config ]; then
    _po_configs+=("${_po_val}")
  else
    _po_names+=("${_po_opt}")
    _po_values+=("${_po_val}")
  fi
done

# Pass 2: config files first, so the command line overrides them.
for _po_file in ${_po_configs[@]+"${_po_configs[@]}"}; do
  if [ ! -f "${_po_file}" ]; then _po_die "--config ${_po_file}: no such file"; fi
  # shellcheck disable=SC1090  # the config file is chosen at run time
  . "${_po_file}"
done

for _po_i in "${!_po_names[@]}"; do
  _po_opt=${_po_names[_po_i]}
  _po_val=${_po_values[_po_i]}
  _po_var=${_po_opt#--}
  _po_var=${_po_var//-/_}
  # A leading letter keeps options away from internal and special variables.
  if [[ ! "${_po_var}" =~ ^[A-Za-z][A-Za-z0-9_]*$ ]] || [ -z "${!_po_var+x}" ]; then
    _po_die "unknown option ${_po_opt}"
  fi
  case "${!_po_var}" in
    true | false)
      case "${_po_val}" in
        true | false) ;;
        *) _po_die "option ${_po_opt} takes true or false, not '${_po_val}'" ;;
      esac ;;
  esac
  printf -v "${_po_var}" '%s' "${_po_val}"
done

if [ "${_po_help}" = true ]; then
  _po_print_help
  exit 0
fi

unset _po_names _po_values _po_configs _po_help _po_opt _po_val _po_file _po_i _po_var
unset -f _po_die _po_declared_options _po_print_help
true
