#!/usr/bin/env bash
# test_cli_commands.sh ZAIO BROKER: every command of the zaio tool against
# a real zaio-broker daemon: output, error messages and exit codes.
ZAIO=$1
BROKER=$2
. "$(dirname "$0")/test_cli_lib.sh"
start_broker
R=$WORK/root

# Help and usage errors (exit 2)
expect 0 "" -- "$ZAIO" --help
out_has "Exit status"
out_has "3    broker unreachable"
for command in ping hello stat ls cat get put cp mv rm mkdir rmdir truncate sync keygen watch; do
    expect 0 "" -- "$ZAIO" "$command" --help
    out_has "^usage: zaio \[OPTIONS\] $command"
    expect 0 "" -- "$ZAIO" help "$command"
    out_has "^usage: zaio \[OPTIONS\] $command"
done
expect 0 "" -- "$ZAIO" --version
out_has "^zaio [0-9]+\.[0-9]+\.[0-9]+"
# The short options (one meaning across zaio, zaio-broker, zaio-worker):
# -V version, -c connect, -t timeout, -r retries, -v volume (below), -e
# events (test_cli_watch_broker)
expect 0 "" -- "$ZAIO" -V
out_has "^zaio [0-9]+\.[0-9]+\.[0-9]+$"
expect 0 "" -- env -u ZAIO_ENDPOINT "$ZAIO" -c "$ZAIO_ENDPOINT" -t 5000 -r 1 ping
expect 2 "bad --retries" -- "$ZAIO" -r many ping
expect 2 "which command" -- "$ZAIO"
expect 2 "unknown command 'frobnicate'" -- "$ZAIO" frobnicate
expect 2 "unknown option '--bogus'" -- "$ZAIO" --bogus ping
expect 2 "bad --timeout" -- "$ZAIO" --timeout soon ping
expect 2 "option needs a value" -- "$ZAIO" --connect
expect 2 "stat: which PATH" -- "$ZAIO" stat
expect 2 "unknown option '-z'" -- "$ZAIO" ls -z
expect 2 "get: needs REMOTE and LOCAL" -- "$ZAIO" get onlyone
expect 2 "needs SOURCE and DEST" -- "$ZAIO" cp a
expect 2 "truncate: bad SIZE" -- "$ZAIO" truncate -s 12Q x
expect 2 "bad endpoint" -- "$ZAIO" --connect nonsense://x ping

# ping, hello; the endpoint from $ZAIO_ENDPOINT and from --connect
expect 0 "" -- "$ZAIO" ping
out_has "^pong from ipc://.*broker.ipc: [0-9.]+ ms$"
expect 0 "" -- "$ZAIO" ping 3
[ "$(wc -l < "$WORK/out")" -eq 3 ] || fail "ping 3 printed $(wc -l < "$WORK/out") lines"
expect 0 "" -- env -u ZAIO_ENDPOINT "$ZAIO" --connect "$ZAIO_ENDPOINT" ping
expect 0 "" -- env -u ZAIO_ENDPOINT "$ZAIO" --connect="$ZAIO_ENDPOINT" ping
expect 0 "" -- "$ZAIO" hello
out_has "^broker [0-9.]+ at ipc://.*, protocol 1$"
out_has "payload_max 67108864"
out_has "queue_max 65536, queue_bytes_max 1073741824, reply_hwm 128$"
out_has "^ops: ping hello stat read write append readfile writefile truncate fsync unlink rename mkdir rmdir listdir copy batch stats$"
out_has "^volumes: default \(read-write, 2 workers\)$"

# Unreachable (exit 3): fast with --retry-ms 0; by default after 5 s of
# reconnecting, in case the broker is restarting
start=$(date +%s)
expect 3 "^zaio: ping: UNREACHABLE \(no broker at ipc://$WORK/nobody.ipc after [0-9]+ attempts" -- \
    "$ZAIO" --retry-ms 0 --connect "ipc://$WORK/nobody.ipc" ping
expect 3 "^zaio: stat x: UNREACHABLE \(no broker at ipc://$WORK/nobody.ipc" -- env ZAIO_ENDPOINT="ipc://$WORK/nobody.ipc" "$ZAIO" --retry-ms=0 stat x
expect 3 "UNREACHABLE" -- "$ZAIO" --retry-ms 0 --connect "ipc://$WORK/nobody.ipc" put /etc/hostname h
[ $(($(date +%s) - start)) -lt 10 ] || fail "unreachable took too long"
start=$(date +%s)
expect 3 "^zaio: ping: UNREACHABLE" -- "$ZAIO" --connect "ipc://$WORK/nobody.ipc" ping
[ $(($(date +%s) - start)) -ge 4 ] || fail "unreachable gave up before --retry-ms (5 s)"

# put / get / cat round trips; put is atomic and leaves no temporary file
printf 'hello, zaio\n' > "$WORK/hello.txt"
expect 0 "" -- "$ZAIO" mkdir -p docs/deep/er
expect 0 "" -- "$ZAIO" put "$WORK/hello.txt" docs/hello.txt
cmp -s "$WORK/hello.txt" "$R/docs/hello.txt" || fail "put content differs"
expect 0 "" -- "$ZAIO" get docs/hello.txt "$WORK/back.txt"
cmp -s "$WORK/hello.txt" "$WORK/back.txt" || fail "get content differs"
mkdir "$WORK/into"
expect 0 "" -- "$ZAIO" get docs/hello.txt "$WORK/into"
cmp -s "$WORK/hello.txt" "$WORK/into/hello.txt" || fail "get into a directory"
expect 0 "" -- "$ZAIO" cat docs/hello.txt docs/hello.txt
[ "$(cat "$WORK/out")" = "$(printf 'hello, zaio\nhello, zaio')" ] || fail "cat output"
printf 'from stdin' | "$ZAIO" put - docs/stdin.txt || fail "put from stdin"
[ "$(cat "$R/docs/stdin.txt")" = "from stdin" ] || fail "put - content"
[ "$("$ZAIO" get docs/stdin.txt -)" = "from stdin" ] || fail "get to stdout"
: > "$WORK/empty"
expect 0 "" -- "$ZAIO" put "$WORK/empty" docs/empty
[ -f "$R/docs/empty" ] && [ ! -s "$R/docs/empty" ] || fail "put of an empty file"
chmod 0600 "$WORK/hello.txt"
expect 0 "" -- "$ZAIO" put "$WORK/hello.txt" docs/hello.txt
[ "$(stat -c %a "$R/docs/hello.txt")" = 600 ] || fail "put keeps the mode"
ls -a "$R/docs" | grep zaio-put > /dev/null && fail "put left a temporary file"
expect 1 "^zaio: put nodir/x.txt: ENOENT \(No such file or directory\)$" -- \
    "$ZAIO" put "$WORK/hello.txt" nodir/x.txt
expect 1 "^zaio: put $WORK/missing: ENOENT \(No such file or directory\)$" -- \
    "$ZAIO" put "$WORK/missing" docs/x

# get replaces LOCAL only with a whole file: a failed get leaves it as it
# was and no temporary file beside it; a replaced file keeps its mode; a
# symlink stays one; a fifo is written, not replaced.
mkdir "$WORK/keep"
echo precious > "$WORK/keep/kept.txt"
expect 1 "^zaio: get missing.txt: ENOENT \(No such file or directory\)$" -- \
    "$ZAIO" get missing.txt "$WORK/keep/kept.txt"
expect 1 "^zaio: get docs: EISDIR" -- "$ZAIO" get docs "$WORK/keep/kept.txt"
[ "$(cat "$WORK/keep/kept.txt")" = precious ] || fail "failed get changed the local file"
[ "$(ls -A "$WORK/keep")" = kept.txt ] || fail "failed get left: $(ls -A "$WORK/keep")"
chmod 0640 "$WORK/keep/kept.txt"
ln -s kept.txt "$WORK/keep/link"
expect 0 "" -- "$ZAIO" get docs/hello.txt "$WORK/keep/link"
[ -L "$WORK/keep/link" ] || fail "get replaced the symlink"
cmp -s "$WORK/hello.txt" "$WORK/keep/kept.txt" || fail "get through a symlink"
[ "$(stat -c %a "$WORK/keep/kept.txt")" = 640 ] || fail "get changed the mode of LOCAL"
[ "$(ls -A "$WORK/keep" | tr '\n' ' ')" = "kept.txt link " ] || fail "get left: $(ls -A "$WORK/keep")"
mkfifo "$WORK/fifo"
timeout 20 cat "$WORK/fifo" > "$WORK/from-fifo" &
expect 0 "" -- "$ZAIO" get docs/hello.txt "$WORK/fifo"
wait $!
[ -p "$WORK/fifo" ] || fail "get replaced a fifo"
cmp -s "$WORK/hello.txt" "$WORK/from-fifo" || fail "get into a fifo"
expect 1 "^zaio: cat missing.txt: ENOENT \(No such file or directory\)$" -- "$ZAIO" cat missing.txt

# stat, ls
expect 0 "" -- "$ZAIO" stat docs/hello.txt docs
out_has "^docs/hello.txt: file, 12 bytes, mode 0600, modified 20[0-9-]+T[0-9:.]+Z$"
out_has "^docs: dir, "
expect 1 "^zaio: stat nope: ENOENT \(No such file or directory\)$" -- "$ZAIO" stat docs/hello.txt nope
out_has "^docs/hello.txt: file"
expect 1 "^zaio: stat ../escape: EXDEV \(path escapes the volume root\)$" -- "$ZAIO" stat ../escape
expect 1 "^zaio: cat ../escape: EXDEV \(path escapes the volume root\)$" -- "$ZAIO" cat ../escape
expect 0 "" -- "$ZAIO" ls docs
[ "$(cat "$WORK/out")" = "$(printf 'deep\nempty\nhello.txt\nstdin.txt')" ] || fail "ls: $(cat "$WORK/out")"
expect 0 "" -- "$ZAIO" ls -l docs
out_has "^drwx[-rwxs]{6} +[0-9]+ 20[0-9-]+T[0-9:]+ deep$"
out_has "^-rw------- +12 20[0-9-]+T[0-9:]+ hello.txt$"
chmod 4751 "$R/docs/empty"
chmod 1777 "$R/docs/deep"
ln -s hello.txt "$R/docs/link"
expect 0 "" -- "$ZAIO" ls -l docs docs/hello.txt
out_has "^-rwsr-x--x +0 20[0-9-]+T[0-9:]+ empty$"
out_has "^drwxrwxrwt +[0-9]+ 20[0-9-]+T[0-9:]+ deep$"
out_has "^lrwxrwxrwx +9 20[0-9-]+T[0-9:]+ link$"
out_has "^-rw------- +12 20[0-9-]+T[0-9:]+ docs/hello.txt$"
chmod 0755 "$R/docs/deep"
rm "$R/docs/link"
expect 0 "" -- "$ZAIO" ls
out_has "^docs$"
expect 0 "" -- "$ZAIO" ls docs/hello.txt
out_has "^docs/hello.txt$"
expect 1 "^zaio: ls nope: ENOENT" -- "$ZAIO" ls nope
for i in $(seq 1 1205); do : > "$R/docs/deep/f$i"; done   # more than one listdir page
[ "$("$ZAIO" ls docs/deep | wc -l)" -eq 1206 ] || fail "ls across pages"
# Names that are not UTF-8 are listed escaped, and page on: a page of
# 1000 ends on one of them.
mkdir "$R/docs/raw"
for i in $(seq 1 999); do : > "$R/docs/raw/a$i"; done
: > "$R/docs/raw/$(printf 'caf\351\\')"
: > "$R/docs/raw/$(printf 'd\303\251j\303\240')"
: > "$R/docs/raw/$(printf 'x\377')"
expect 0 "" -- "$ZAIO" ls docs/raw
[ "$(tail -3 "$WORK/out")" = "$(printf 'caf\\xe9\\\\\nd\303\251j\303\240\nx\\xff')" ] ||
    fail "ls of names not UTF-8: $(tail -3 "$WORK/out")"
[ "$(wc -l < "$WORK/out")" -eq 1002 ] || fail "ls of names not UTF-8 across pages"
expect 0 "" -- "$ZAIO" ls -l docs/raw
out_has '^-\?{9} +0 20[0-9-]+T[0-9:]+ caf\\xe9\\\\$'
out_has '^-rw-r--r-- +0 20[0-9-]+T[0-9:]+ a999$'

# cp, mv, rm, mkdir, rmdir, truncate, sync
expect 0 "" -- "$ZAIO" cp docs/hello.txt docs/copy.txt
cmp -s "$R/docs/hello.txt" "$R/docs/copy.txt" || fail "cp"
expect 0 "" -- "$ZAIO" mv docs/copy.txt docs/moved.txt
[ -f "$R/docs/moved.txt" ] && [ ! -e "$R/docs/copy.txt" ] || fail "mv"
expect 1 "^zaio: mv docs/copy.txt: ENOENT" -- "$ZAIO" mv docs/copy.txt docs/x
expect 1 "^zaio: cp docs/none: ENOENT" -- "$ZAIO" cp docs/none docs/x
expect 0 "" -- "$ZAIO" truncate -s 1K docs/moved.txt
[ "$(stat -c %s "$R/docs/moved.txt")" = 1024 ] || fail "truncate -s 1K"
expect 0 "" -- "$ZAIO" truncate docs/moved.txt 5
[ "$(cat "$R/docs/moved.txt")" = hello ] || fail "truncate PATH SIZE"
expect 1 "^zaio: truncate none: ENOENT" -- "$ZAIO" truncate none 5
expect 0 "" -- "$ZAIO" sync docs/moved.txt
expect 0 "" -- "$ZAIO" sync -d docs/moved.txt docs
expect 1 "^zaio: sync none: ENOENT" -- "$ZAIO" sync none
expect 0 "" -- "$ZAIO" rm docs/moved.txt
[ ! -e "$R/docs/moved.txt" ] || fail "rm"
expect 1 "^zaio: rm docs/moved.txt: ENOENT \(No such file or directory\)$" -- "$ZAIO" rm docs/moved.txt
expect 0 "" -- "$ZAIO" rm -f docs/moved.txt
# rm -r: a tree, its files a listdir page at a time in batches; a
# symlink is removed, never followed; the volume's root is refused
mkdir -p "$R/tree/a/b" "$R/outside"
for i in $(seq 1 1203); do : > "$R/tree/a/f$i"; done
echo keep > "$R/outside/keep"
ln -s ../../../outside "$R/tree/a/b/link"
: > "$R/tree/top.txt"
expect 1 "^zaio: rm tree: EISDIR" -- "$ZAIO" rm tree
expect 0 "" -- "$ZAIO" rm -r tree
[ ! -e "$R/tree" ] || fail "rm -r left $(find "$R/tree" | head -3)"
[ -f "$R/outside/keep" ] || fail "rm -r followed a symlink"
expect 1 "^zaio: rm tree: ENOENT" -- "$ZAIO" rm -r tree
expect 0 "" -- "$ZAIO" rm -rf tree
expect 0 "" -- "$ZAIO" rm -R outside/keep
[ ! -e "$R/outside/keep" ] || fail "rm -R of a file"
expect 1 '^zaio: rm -r "": refusing to remove the volume.s root$' -- "$ZAIO" rm -r ""
expect 1 "^zaio: rm -r docs/..: refusing" -- "$ZAIO" rm -r docs/..
expect 1 "^zaio: rm -r ./: refusing" -- "$ZAIO" rm -rf ./
[ -d "$R/docs" ] || fail "rm -r of the root removed docs"
mkdir -p "$R/odd/sub"
: > "$R/odd/sub/$(printf 'x\377')"
expect 1 '^zaio: rm odd/sub: holds a name no request can give \(not UTF-8\): x\\xff$' -- "$ZAIO" rm -r odd
[ -d "$R/odd/sub" ] || fail "rm -r removed a directory it could not empty"
rm -rf "$R/odd"
expect 1 "^zaio: mkdir a/b: ENOENT" -- "$ZAIO" mkdir a/b
expect 0 "" -- "$ZAIO" mkdir -p a/b a/c
expect 0 "" -- "$ZAIO" mkdir -p a/b
expect 1 "^zaio: mkdir a: EEXIST \(File exists\)$" -- "$ZAIO" mkdir a
expect 1 "^zaio: rmdir a: ENOTEMPTY \(Directory not empty\)$" -- "$ZAIO" rmdir a
expect 0 "" -- "$ZAIO" rmdir a/b a/c a
[ ! -e "$R/a" ] || fail "rmdir"

# Volumes: --volume and $ZAIO_VOLUME reach the broker; bad names are usage errors
expect 2 "bad volume name 'a.b'" -- "$ZAIO" --volume a.b stat docs
expect 1 "^zaio: stat docs: NOVOLUME \(no live worker serves volume 'nowhere'\)$" -- \
    "$ZAIO" --volume nowhere stat docs
expect 1 "^zaio: stat docs: NOVOLUME \(no live worker serves volume 'nowhere'\)$" -- \
    env ZAIO_VOLUME=nowhere "$ZAIO" stat docs
expect 1 "^zaio: ls docs: NOVOLUME \(no live worker serves volume 'nowhere'\)$" -- \
    "$ZAIO" --volume nowhere ls -l docs
expect 0 "" -- "$ZAIO" -v default stat docs

# keygen: a czmq certificate pair, the secret one private, never replaced;
# it needs no broker. pyzmq (as the Python binding's users have it) reads it.
K=$WORK/keys
mkdir -p "$K"
expect 0 "" -- env -u ZAIO_ENDPOINT "$ZAIO" --connect tcp://127.0.0.1:1 keygen "$K/alice" alice
out_has '^.{40}$'
public=$(cat "$WORK/out")
[ "$(stat -c %a "$K/alice_secret")" = 600 ] || fail "keygen: secret file mode $(stat -c %a "$K/alice_secret")"
grep -Fq "public-key = \"$public\"" "$K/alice" || fail "keygen: $K/alice lacks the public key"
grep -q 'name = "alice"' "$K/alice" || fail "keygen: $K/alice lacks the name"
grep -q "secret-key" "$K/alice" && fail "keygen: the public file holds the secret key"
grep -q "secret-key" "$K/alice_secret" || fail "keygen: the secret file lacks the secret key"
expect 1 "keygen .*alice: a certificate is there already; not replaced" -- "$ZAIO" keygen "$K/alice"
expect 2 "keygen: PATH \[NAME\]" -- "$ZAIO" keygen
expect 0 "" -- "$ZAIO" keygen "$K/new/dir/bob" bob
[ "$(stat -c %a "$K/new/dir")" = 700 ] || fail "keygen: made $K/new/dir mode $(stat -c %a "$K/new/dir")"
[ -e "$K/new/dir/bob_secret" ] || fail "keygen: no $K/new/dir/bob_secret"
if /usr/bin/python3 -c 'import zmq.auth' 2> /dev/null; then
    /usr/bin/python3 - "$K/alice" "$public" << 'PY' || fail "keygen: pyzmq cannot read the pair"
import sys, zmq.auth
public, secret = zmq.auth.load_certificate(sys.argv[1] + "_secret")
assert public.decode() == sys.argv[2] and len(secret) == 40
assert zmq.auth.load_certificate(sys.argv[1])[0] == public
PY
else
    echo "test_cli_commands: no pyzmq for /usr/bin/python3; keygen's pair not read back by it"
fi

# Timeout: a broker that cannot answer in time (stopped) is exit 3
kill -STOP "$BROKER_PID"
expect 3 "^zaio: stat docs: (TIMEOUT \(no reply from the broker at $ZAIO_ENDPOINT in time\)|UNREACHABLE \(no broker at $ZAIO_ENDPOINT )" -- \
    "$ZAIO" --timeout 300 stat docs
kill -CONT "$BROKER_PID"
expect 0 "" -- "$ZAIO" stat docs

finish
