#!/usr/bin/env bash
# test_install_clone.sh SOURCE_DIR: the install as README.md gives it, from
# a fresh `git clone` of SOURCE_DIR's committed HEAD into a temporary
# directory, with HOME there too (the README installs into $HOME/.local).
# The README's blocks are the test's input, so they cannot rot:
#
#   1. "Using it": the sh block after the `install:` marker, run as written;
#   2. without LD_LIBRARY_PATH: bin/zaio --version, and the installed
#      binaries' RUNPATH;
#   3. bindings/c/README.md's ten-line program and its `cc ... && ./prog`
#      line, against the installed zaio-broker;
#   4. the embedded broker's program and its `cc ... && ./embed` line
#      (pkg-config zaio-broker zaio);
#   5. a CMake project with the README's find_package lines (zaio::zaio),
#      and zaio::broker, found through CMAKE_PREFIX_PATH;
#   6. the man pages zaio(1), zaio(3), zaio-broker(8), zaio-worker(8) render
#      with man -l, and the bash completion is installed and loads.
set -euo pipefail
SOURCE=$(cd "${1:?usage: test_install_clone.sh SOURCE_DIR}" && pwd)
WORK=$(mktemp -d /tmp/zaio-install-clone-XXXXXX)
BROKER_PID=
cleanup () {
    if [ -n "$BROKER_PID" ]; then kill -TERM "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
fails=0
fail () {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}
die () {
    echo "FAIL: $*" >&2
    for log in "$WORK"/*.err "$WORK"/*.log; do
        [ -s "$log" ] && { echo "--- $(basename "$log"):" >&2; tail -n 30 "$log" >&2; }
    done
    exit 1
}
# block FILE MARKER LANG: the first ```LANG block after the line matching MARKER.
block () {
    awk -v marker="$2" -v lang="$3" '
        index ($0, marker) { found = 1; next }
        found && !inside && $0 == "```" lang { inside = 1; next }
        inside && /^```$/ { exit }
        inside { print }' "$1"
}
# block_after FILE MARKER LANG: the first ```LANG block after the block that
# follows MARKER (the command line under a program).
block_after () {
    awk -v marker="$2" -v lang="$3" '
        index ($0, marker) { found = 1; next }
        found == 1 && /^```/ { inside = !inside; if (!inside) found = 2; next }
        found == 2 && $0 == "```" lang { take = 1; next }
        take && /^```$/ { exit }
        take { print }' "$1"
}

git clone -q "$SOURCE" "$WORK/zaio"
CLONE=$WORK/zaio
echo "cloned $(git -C "$CLONE" log --oneline -1 | cut -c1-72)"
[ -z "$(git -C "$SOURCE" status --porcelain --untracked-files=no 2>/dev/null)" ] ||
    echo "note: $SOURCE has uncommitted changes; this tests its HEAD"

# 1. The README's install block, as written, in the clone, HOME in $WORK.
export HOME=$WORK/home
mkdir -p "$HOME"
unset LD_LIBRARY_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH
block "$CLONE/README.md" "<!-- install:" sh > "$WORK/install.sh"
[ -s "$WORK/install.sh" ] || die "no install block in README.md"
echo "README install block:"; sed 's/^/    /' "$WORK/install.sh"
(cd "$CLONE" && nice bash -e "$WORK/install.sh") > "$WORK/build.log" 2>&1 || die "the README's install block failed"
PREFIX=$HOME/.local
[ -d "$PREFIX" ] || die "nothing installed in $PREFIX"
for file in bin/zaio bin/zaio-broker bin/zaio-worker include/zaio.h include/zaio_broker.h \
    lib/libzaio.so lib/libzaio.a lib/libzaio-broker.so lib/pkgconfig/zaio.pc lib/pkgconfig/zaio-broker.pc \
    lib/cmake/zaio/zaioConfig.cmake lib/cmake/zaio/zaioConfigVersion.cmake lib/cmake/zaio/zaioTargets.cmake; do
    [ -e "$PREFIX/$file" ] || fail "$file not installed"
done

# 2. The installed tool runs without LD_LIBRARY_PATH, by its RUNPATH.
version=$("$PREFIX/bin/zaio" --version 2> "$WORK/version.err") || fail "bin/zaio --version failed: $(cat "$WORK/version.err")"
[[ $version == "zaio "[0-9]* ]] || fail "bin/zaio --version printed '$version'"
readelf -d "$PREFIX/bin/zaio" | grep -q 'RUNPATH.*\[\$ORIGIN/\.\./lib\]' || fail "bin/zaio has no RUNPATH \$ORIGIN/../lib"

# A broker from the install, for the programs below.
mkdir "$WORK/root"
mkfifo "$WORK/broker.out"
"$PREFIX/bin/zaio-broker" --root "$WORK/root" --bind "ipc://$WORK/b.ipc" \
    --events "ipc://$WORK/e.ipc" --workers 1 > "$WORK/broker.out" 2> "$WORK/broker.err" &
BROKER_PID=$!
exec 7< "$WORK/broker.out"
ready=
while read -r -t 10 line <&7; do [ "$line" = ready ] && { ready=1; break; }; done
[ -n "$ready" ] || die "the installed zaio-broker did not start"
export ZAIO_ENDPOINT=ipc://$WORK/b.ipc
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig   # the README: a prefix that is not the system's

# 3. The C README's program and command line.
mkdir "$WORK/c"
block "$CLONE/bindings/c/README.md" "the ten-line program" c > "$WORK/c/prog.c"
block_after "$CLONE/bindings/c/README.md" "the ten-line program" sh > "$WORK/c/build.sh"
grep -q 'pkg-config' "$WORK/c/build.sh" || die "no build line after the C README's program"
out=$(cd "$WORK/c" && bash -e build.sh 2> "$WORK/c.err") || true
[ "$out" = "Hello, zaio!" ] || fail "the C README's program printed '$out': $(cat "$WORK/c.err")"

# 4. The embedded broker: its program and command line, in a directory of
#    its own (it serves ./zaio-root).
mkdir "$WORK/embed"
block "$CLONE/README.md" "<!-- the embedded broker:" c > "$WORK/embed/embed.c"
block_after "$CLONE/README.md" "<!-- the embedded broker:" sh > "$WORK/embed/build.sh"
grep -q 'zaio-broker' "$WORK/embed/build.sh" || die "no build line after the embedded broker's program"
out=$(cd "$WORK/embed" && bash -e build.sh 2> "$WORK/embed.err") || true
[ "$out" = "Hello from inside!" ] || fail "the embedded broker's program printed '$out': $(cat "$WORK/embed.err")"
[ -e "$WORK/embed/zaio-root/hello.txt" ] || fail "the embedded broker wrote no zaio-root/hello.txt"
libs=$(ldd "$WORK/embed/embed")
grep -q 'libzaio-broker\.so\.0 => .*/\.local/lib' <<< "$libs" || fail "embed does not use the installed libzaio-broker: $libs"

# 5. CMake: the README's lines in a project of two programs.
mkdir -p "$WORK/cmake"
cp "$WORK/c/prog.c" "$WORK/cmake/prog.c"
cp "$WORK/embed/embed.c" "$WORK/cmake/embed.c"
{
    echo "cmake_minimum_required (VERSION 3.16)"
    echo "project (user C)"
    echo "add_executable (prog prog.c)"
    block "$CLONE/README.md" "<!-- cmake:" cmake
    echo "add_executable (embed embed.c)"
    echo "target_link_libraries (embed PRIVATE zaio::zaio zaio::broker)"
} > "$WORK/cmake/CMakeLists.txt"
grep -q 'find_package (zaio CONFIG REQUIRED)' "$WORK/cmake/CMakeLists.txt" || die "no find_package line in README.md"
if (cd "$WORK/cmake" && cmake -S . -B build -DCMAKE_PREFIX_PATH="$PREFIX" && cmake --build build) \
    > "$WORK/cmake.log" 2>&1; then
    out=$("$WORK/cmake/build/prog" 2>&1) || true
    [ "$out" = "Hello, zaio!" ] || fail "the CMake-built program printed '$out'"
    out=$(cd "$WORK/cmake" && ./build/embed 2>&1) || true
    [ "$out" = "Hello from inside!" ] || fail "the CMake-built embed printed '$out'"
else
    tail -n 30 "$WORK/cmake.log" >&2
    fail "a CMake project with find_package (zaio CONFIG REQUIRED) did not build"
fi

# 6. Man pages and the completion.
for page in man1/zaio.1 man3/zaio.3 man8/zaio-broker.8 man8/zaio-worker.8; do
    file=$PREFIX/share/man/$page
    if [ ! -e "$file" ]; then
        fail "share/man/$page not installed"
        continue
    fi
    grep -q '^\.TH ' "$file" || fail "$page has no .TH line"
    if command -v man > /dev/null; then
        text=$(MANWIDTH=80 man -l "$file" 2> "$WORK/man.err") || fail "man -l $page failed"
    elif command -v groff > /dev/null; then
        text=$(groff -man -Tascii -P-cbou "$file" 2> "$WORK/man.err") || fail "groff $page failed"
    else
        echo "note: neither man nor groff here (scripts/deps installs man-db); $page checked as roff" >&2
        text=$(sed -n 's/^\.SH *"\{0,1\}\([A-Z]*\).*/\1/p' "$file")
    fi
    grep -q '^NAME' <<< "$text" || fail "$page renders without a NAME section: $(head -c 300 "$WORK/man.err")"
done
completion=$PREFIX/share/bash-completion/completions/zaio
if [ -e "$completion" ]; then
    bash -c "source '$completion' && complete -p zaio" > /dev/null 2>&1 ||
        fail "the bash completion does not load, or defines no completion for zaio"
else
    fail "share/bash-completion/completions/zaio not installed"
fi

[ "$fails" -eq 0 ] || exit 1
echo "test_install_clone.sh: OK"
