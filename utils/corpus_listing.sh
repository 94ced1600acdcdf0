#!/usr/bin/env bash
# The listing that stage 1 of asd.sh keys on: one line per file of a corpus directory,
# "<path in it> <size> <modification time>", hidden files left out, unsorted.
#
#   utils/corpus_listing.sh <corpus-dir>
#
# The directory itself may be a link; links inside it are not walked into, so a link to /
# or to a parent cannot make the listing walk the file system or loop:
#   - a link to a file is listed with its target's size and time (it reads as the file);
#   - a link to a directory is listed as "<path> -> <target>" and not followed (the files
#     behind it are not in the listing), and said so on stderr;
#   - a dangling or looping link is listed as "<path> -> <target> (dangling|looping)", so
#     that it changes the key, and said so on stderr.
# Without directory links, dangling or looping ones, the listing is the one `find -L` gives
# (the key that stage 1 wrote before links were handled stays valid).
# A missing corpus directory gives an empty listing (data preparation then names it).
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "Usage: $0 <corpus-dir>" >&2
    exit 2
fi
corpus=$1
[ "${corpus}" = / ] || corpus=${corpus%/}

note() {
    echo "$(date '+%Y-%m-%dT%H:%M:%S') (corpus_listing.sh) $*" >&2
}

find -H "${corpus}" -type f ! -name '.*' -printf '%P %s %T@\n' 2>/dev/null || true

file_links=()
while IFS= read -r -d '' entry; do
    kind=${entry%% *}
    name=${entry#* }
    target=$(readlink "${corpus}/${name}")
    case "${kind}" in
        f) file_links+=("./${name}") ;;
        d)
            echo "${name} -> ${target}"
            note "${corpus}/${name} -> ${target}: a link to a directory, not followed; its files" \
                "are not in stage 1's key (replace the link by the directory to have them checked)"
            ;;
        N | L)
            [ "${kind}" = N ] && state=dangling || state=looping
            echo "${name} -> ${target} (${state})"
            note "${corpus}/${name} -> ${target}: a ${state} link, listed by name only; remove it" \
                "or point it at the file"
            ;;
        *) echo "${name} -> ${target}" ;;
    esac
done < <(find -H "${corpus}" -mindepth 1 -type l ! -name '.*' -printf '%Y %P\0' 2>/dev/null || true)

# the linked files as a listing that follows links would list them ("./" keeps names that
# start with "-" from reading as options, and is taken off again)
if [ "${#file_links[@]}" -gt 0 ]; then
    cd "${corpus}"
    printf '%s\0' "${file_links[@]}" \
        | xargs -0 sh -c 'exec find -L "$@" -maxdepth 0 -printf "%p %s %T@\n"' corpus_listing.sh \
        | sed 's#^\./##'
fi
