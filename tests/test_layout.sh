#!/usr/bin/env bash
# test_layout: behaviour tests (tests/*.c, *.h and tests/netns) see zaio
# only as users and peers do: they include the public headers, the
# embeddable broker's, the worker protocol's codec (to play a worker over a
# socket) and the tests' own helpers, never a private header of a layer.
# Unit tests of internals live in tests/unit/.
#
#   test_layout.sh TESTS_DIR
set -euo pipefail
dir=${1:?usage: test_layout.sh TESTS_DIR}
allowed=(zaio.h zaio_proto.h zaio_codec.h zaio_cursor.h zaio_broker.h zaio_worker_proto.h
         testutil.h test_client_fake.h vectors_json.h codec_compare.h zaio_proc.h zaio_load.h)
bad=0
for file in "$dir"/*.c "$dir"/*.h "$dir"/netns/*.c "$dir"/netns/*.h; do
    [ -e "$file" ] || continue
    case $(basename "$file") in fuzz_request.c) continue ;; esac # the codec's fuzzer: a unit
    while read -r header; do
        case " ${allowed[*]} " in
            *" $header "*) ;;
            *) echo "test_layout: ${file#"$dir"/} includes \"$header\", not a public header" \
                    "(move it to tests/unit/ if it tests internals)" >&2
               bad=1 ;;
        esac
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
done
[ $bad -eq 0 ] && echo "test_layout: behaviour tests include public headers only"
exit $bad
