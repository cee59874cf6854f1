#!/usr/bin/env bash
# test_cli_docs.sh ZAIO SOURCE_DIR: zaio(1) (docs/man/zaio.1) renders
# without a groff warning and names every command and option `zaio --help`
# and `zaio COMMAND --help` give; the bash completion
# (dist/bash-completion/zaio) offers them, skips global options' values,
# and completes local files where a command takes one.
set -eu  # no pipefail: grep -q may close a pipe early
ZAIO=$1
SRC=$2
MAN=$SRC/docs/man/zaio.1
WORK=$(mktemp -d /tmp/zaio-docs-test-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
fail () {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# The commands `zaio --help` lists, and the options of the tool and of each.
commands=$("$ZAIO" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && $1 != "Commands:" {print $1}')
[ "$(echo "$commands" | wc -w)" -ge 18 ] || fail "zaio --help lists only: $commands"
options_of () { # the -x and --long-option words of a help text on stdin
    grep -oE '(^|[][ ,|])--?[a-zA-Z][a-z-]*' | sed -E 's/^[][ ,|]//' | sort -u
}
global=$("$ZAIO" --help | sed -n '/^Options:/,/^$/p' | options_of)
[ "$(echo "$global" | wc -w)" -ge 15 ] || fail "zaio --help has only options: $global"

# The man page: renders cleanly, names each command and option
warnings=$(groff -man -ww -z "$MAN" 2>&1) || fail "groff failed on $MAN"
[ -z "$warnings" ] || fail "groff warns on $MAN: $warnings"
text=$(groff -man -Tutf8 -P -cbou "$MAN" 2> /dev/null | sed 's/‐/-/g')
section () { # the text of the man page's section $1
    echo "$text" | sed -n "/^$1\$/,/^[A-Z][A-Z ]*\$/p"
}
for command in $commands; do
    section COMMANDS | grep -Eq "^       $command( |$)" || fail "zaio.1 COMMANDS lacks $command"
    for option in $("$ZAIO" "$command" --help | options_of); do
        [ "$option" = --help ] || [ "$option" = -h ] && continue
        section COMMANDS | grep -q -- "$option" || fail "zaio.1 lacks $command's option $option"
    done
done
for option in $global; do
    section OPTIONS | grep -Eq -- "(^|[ ,])$option( |,|$)" || fail "zaio.1 OPTIONS lacks $option"
done
for status in 0 1 2 3 4 130; do
    section "EXIT STATUS" | grep -Eq "^       $status( |\$)" || fail "zaio.1 EXIT STATUS lacks $status"
done

# The completion
. "$SRC/dist/bash-completion/zaio"
complete -p zaio | grep -q -- "-F _zaio" || fail "the completion is not registered for zaio"
# complete WORDS...: COMPREPLY for the command line WORDS, the last one
# being completed, one per line, sorted.
complete_words () {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    _zaio
    printf '%s\n' "${COMPREPLY[@]}" | sort
}
got=$(complete_words zaio "")
for command in $commands; do
    echo "$got" | grep -qx "$command" || fail "zaio <Tab> lacks $command: $got"
done
[ "$(complete_words zaio st)" = "$(printf 'stat\nstats')" ] || fail "zaio st<Tab>: $(complete_words zaio st)"
got=$(complete_words zaio -)
for option in $global; do
    echo "$got" | grep -qx -- "$option" || fail "zaio -<Tab> lacks $option"
done
for command in $commands; do
    got=$(complete_words zaio "$command" -)
    for option in $("$ZAIO" "$command" --help | options_of); do
        echo "$got" | grep -qx -- "$option" || fail "zaio $command -<Tab> lacks $option: $got"
    done
done
# A global option's value is not the command; a command's options follow it
[ "$(complete_words zaio -c ipc:///x --volume ls ls -)" = "$(printf -- '--help\n-l')" ] ||
    fail "zaio -c X --volume ls ls -<Tab>: $(complete_words zaio -c ipc:///x --volume ls ls -)"
[ "$(complete_words zaio --timeout 5 r)" = "$(printf 'rm\nrmdir')" ] ||
    fail "zaio --timeout 5 r<Tab>: $(complete_words zaio --timeout 5 r)"
[ -z "$(complete_words zaio --timeout "")" ] || fail "zaio --timeout <Tab> offers something"
[ "$(complete_words zaio help wa)" = watch ] || fail "zaio help wa<Tab>"
# Local files: put's LOCAL, get's LOCAL, keygen's PATH, certificates
touch "$WORK/local-file" "$WORK/cert_secret"
[ "$(complete_words zaio put "$WORK/loc")" = "$WORK/local-file" ] || fail "zaio put LOCAL<Tab>"
[ "$(complete_words zaio get remote "$WORK/loc")" = "$WORK/local-file" ] || fail "zaio get R LOCAL<Tab>"
[ -z "$(complete_words zaio get "$WORK/loc")" ] || fail "zaio get REMOTE<Tab> offered local files"
[ "$(complete_words zaio --curve-cert "$WORK/ce")" = "$WORK/cert_secret" ] || fail "--curve-cert <Tab>"
[ "$(complete_words zaio rm -r "$WORK/loc")" = "" ] || fail "zaio rm PATH<Tab> offered local files"

if [ "$FAILS" -ne 0 ]; then
    echo "test_cli_docs.sh: $FAILS failures" >&2
    exit 1
fi
echo "test_cli_docs.sh: OK"
