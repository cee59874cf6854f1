#!/usr/bin/env bash
# test_client_install.sh BUILD_DIR SOURCE_DIR: install zaio into a temporary
# prefix, extract the ten-line program from bindings/c/README.md, build it
# with `cc prog.c $(pkg-config --cflags --libs zaio)` against the installed
# copy (and once against libzaio.a), and run it against the installed
# zaio-broker, all without LD_LIBRARY_PATH (the RUNPATH and zaio.pc's rpath
# find libzaio). The README's block is the test's input, so it cannot rot.
set -euo pipefail
BUILD=$1
SOURCE=$2
WORK=$(mktemp -d /tmp/zaio-install-test-XXXXXX)
BROKER_PID=
cleanup () {
    if [ -n "$BROKER_PID" ]; then kill -TERM "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
die () {
    echo "FAIL: $*" >&2
    for log in "$WORK"/broker.err "$WORK"/prog.err; do
        [ -s "$log" ] && { echo "--- $(basename "$log"):" >&2; cat "$log" >&2; }
    done
    exit 1
}

cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log"
pc=$(find "$WORK/prefix" -name zaio.pc)
[ -n "$pc" ] || { echo "FAIL: no zaio.pc installed" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(realpath "$(pkg-config --variable=libdir zaio)")
for file in include/zaio.h include/zaio_codec.h include/zaio_proto.h include/zaio_cursor.h bin/zaio bin/zaio-broker; do
    [ -e "$WORK/prefix/$file" ] || { echo "FAIL: $file not installed" >&2; exit 1; }
done
[ -e "$libdir/libzaio.so" ] && [ -e "$libdir/libzaio.a" ] || { echo "FAIL: libraries not in $libdir" >&2; exit 1; }

# A prefix outside the system's library directories gets an rpath in the
# .pc files; a staged install into /usr (DESTDIR, as a package builds) none.
grep -q '^Libs: .*-Wl,-rpath,${libdir} ' "$pc" || { echo "FAIL: no rpath in $pc" >&2; exit 1; }
DESTDIR="$WORK/stage" cmake --install "$BUILD" --prefix /usr > "$WORK/stage.log"
for staged in "$WORK"/stage/usr/lib/pkgconfig/zaio.pc "$WORK"/stage/usr/lib/pkgconfig/zaio-broker.pc; do
    [ -e "$staged" ] || { echo "FAIL: DESTDIR install made no ${staged#"$WORK"/stage}" >&2; exit 1; }
    if grep -q 'rpath' "$staged"; then echo "FAIL: ${staged#"$WORK"/stage} has an rpath into /usr" >&2; exit 1; fi
done

# The block after the marker line in the README, between ```c and ```.
awk '/the ten-line program/ { found = 1; next }
     found && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$SOURCE/bindings/c/README.md" > "$WORK/prog.c"
[ -s "$WORK/prog.c" ] || { echo "FAIL: no program found in the README" >&2; exit 1; }
body=$(sed -n '/^{$/,/^}$/p' "$WORK/prog.c" | sed '1d;$d' | wc -l)
echo "the README's program: $(wc -l < "$WORK/prog.c") lines, $body in main"

cd "$WORK"
cc ${CFLAGS:-} -Wall -Wextra -Werror prog.c $(pkg-config --cflags --libs zaio) -o prog
cc ${CFLAGS:-} -Wall -Wextra -Werror prog.c $(pkg-config --cflags zaio) "$libdir/libzaio.a" \
    $(pkg-config --libs libczmq libzmq) $(pkg-config --libs msgpack 2>/dev/null || pkg-config --libs msgpack-c) \
    -o prog-static

mkdir root
mkfifo broker.out
"$WORK/prefix/bin/zaio-broker" --root "$WORK/root" --bind "ipc://$WORK/b.ipc" \
    --events "ipc://$WORK/e.ipc" --workers 1 > broker.out 2> broker.err &
BROKER_PID=$!
exec 7< broker.out
ready=
while read -r -t 10 line <&7; do [ "$line" = ready ] && { ready=1; break; }; done
[ -n "$ready" ] || die "zaio-broker did not start"

# No LD_LIBRARY_PATH: zaio.pc gives the program an rpath to the prefix's
# libdir, and the installed zaio its RUNPATH $ORIGIN/../lib.
unset LD_LIBRARY_PATH
out=$(ZAIO_ENDPOINT="ipc://$WORK/b.ipc" ./prog 2> prog.err) || true
[ "$out" = "Hello, zaio!" ] || die "prog printed '$out'"
uses_installed () { # PROGRAM: its libzaio.so.0, as the loader finds it, is the prefix's
    local found
    found=$(ldd "$1" | awk '$1 == "libzaio.so.0" { print $3 }')
    [ -n "$found" ] && [ "$(realpath "$found")" = "$(realpath "$libdir/libzaio.so.0")" ]
}
uses_installed ./prog || die "prog did not use the installed libzaio.so: $(ldd ./prog | grep zaio)"
uses_installed "$WORK/prefix/bin/zaio" || die "bin/zaio did not use the installed libzaio.so"
out=$(ZAIO_ENDPOINT="ipc://$WORK/b.ipc" ./prog-static 2> prog.err) || true
[ "$out" = "Hello, zaio!" ] || die "prog-static printed '$out'"
[ "$(cat "$WORK/root/hello.txt")" = "Hello, zaio!" ] || die "file not written"
# the installed tool works too
ZAIO_ENDPOINT="ipc://$WORK/b.ipc" "$WORK/prefix/bin/zaio" stat hello.txt > /dev/null
echo "test_client_install.sh: OK"
