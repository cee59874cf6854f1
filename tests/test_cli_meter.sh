#!/usr/bin/env bash
# test_cli_meter.sh ZAIO BROKER: the progress meter of the zaio tool on a
# terminal (script(1) gives the tool a pty for stdout and stderr): shown by
# get and put, never over what goes to standard output (cat, get to -),
# and an error after it starts on a fresh line.
ZAIO=$1
BROKER=$2
. "$(dirname "$0")/test_cli_lib.sh"
start_broker
R=$WORK/root
head -c 3000000 /dev/urandom > "$R/big"
printf 'hi\n' > "$R/small"

# on_tty COMMAND: run COMMAND (a shell line) with a terminal for stdout
# and stderr; what the terminal showed goes to $WORK/tty, carriage
# returns as newlines (the pty writes \n as \r\n).
on_tty () {
    script -qec "$1" /dev/null < /dev/null | tr '\r' '\n' > "$WORK/tty" || true
}

# cat: the content and nothing else
on_tty "'$ZAIO' cat small"
[ "$(grep -v '^$' "$WORK/tty")" = hi ] || fail "cat on a terminal showed: $(od -c "$WORK/tty" | head -5)"

# get to standard output: no meter, though stderr is a terminal
on_tty "'$ZAIO' get big - > '$WORK/big.out'"
[ ! -s "$WORK/tty" ] || fail "get - showed: $(od -c "$WORK/tty" | head -5)"
cmp -s "$R/big" "$WORK/big.out" || fail "get - content"

# get to a file: the meter, ended by a newline
on_tty "'$ZAIO' get big '$WORK/big.file'"
grep -Eq '^big +2\.9 MiB / 2\.9 MiB +100% ' "$WORK/tty" || fail "get showed no meter: $(cat "$WORK/tty")"
cmp -s "$R/big" "$WORK/big.file" || fail "get content"

# An error after the meter is shown starts on a line of its own
on_tty "'$ZAIO' get big /dev/full"
grep -q '^big ' "$WORK/tty" || fail "get into /dev/full showed no meter: $(cat "$WORK/tty")"
grep -q '^zaio: get /dev/full: ENOSPC (No space left on device)$' "$WORK/tty" ||
    fail "the error shares the meter's line: $(od -c "$WORK/tty" | tail -6)"

finish
