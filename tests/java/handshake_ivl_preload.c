/*  handshake_ivl_preload.c: sets ZMQ_HANDSHAKE_IVL on every socket a
    process binds, for an experiment on a zaio-broker built before its
    --handshake-ms option:

        cc -shared -fPIC -o handshake_ivl_preload.so handshake_ivl_preload.c -ldl
        ZAIO_HANDSHAKE_MS=5000 LD_PRELOAD=./handshake_ivl_preload.so zaio-broker ...

    Not part of the build; see README.md beside it.
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <zmq.h>

int
zmq_bind (void *socket, const char *endpoint)
{
    static int (*real_bind) (void *, const char *);
    if (!real_bind) real_bind = (int (*) (void *, const char *))dlsym (RTLD_NEXT, "zmq_bind");
    const char *value = getenv ("ZAIO_HANDSHAKE_MS");
    if (value) {
        int ms = atoi (value);
        zmq_setsockopt (socket, ZMQ_HANDSHAKE_IVL, &ms, sizeof ms);
    }
    return real_bind (socket, endpoint);
}
