/*  test_sock.c: zaio_sock_is_loopback (bindings/c/internal/zaio_sock.h),
    the one test zaio-worker and zaio-broker both use to decide whether a
    tcp endpoint may go without CURVE.

    Loopback: 127.0.0.0/8, [::1], an IPv4-mapped 127.x, localhost, the
    interface lo, and the address after a source address
    (SOURCE;HOST:PORT). Not loopback: other addresses, names and
    interfaces, "*", malformed tcp endpoints, and every other transport.
*/

#undef NDEBUG
#include "testutil.h"
#include "zaio_sock.h"

static void
s_test_loopback_endpoints (void)
{
    const char *yes[] = {"tcp://127.0.0.1:5670",          "tcp://127.0.0.1:*",
                         "tcp://127.1.2.3:5670",          "tcp://[::1]:5670",
                         "tcp://[::ffff:127.0.0.1]:5670", "tcp://localhost:5670",
                         "tcp://10.0.0.1;127.0.0.1:5670", "tcp://eth0;[::1]:5670"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (!zaio_sock_is_loopback (yes[i])) printf ("not loopback: %s\n", yes[i]);
        assert (zaio_sock_is_loopback (yes[i]));
    }
}

static void
s_test_other_endpoints (void)
{
    const char *no[] = {"tcp://*:5670",
                        "tcp://0.0.0.0:5670",
                        "tcp://10.0.0.1:5670",
                        "tcp://128.0.0.1:5670",
                        "tcp://[::]:5670",
                        "tcp://[2001:db8::1]:5670",
                        "tcp://[::ffff:10.0.0.1]:5670",
                        "tcp://eth0:5670",
                        "tcp://example.com:5670",
                        "tcp://localhost.example.com:5670",
                        "tcp://127.0.0.1;10.0.0.1:5670",
                        "tcp://:5670",
                        "tcp://",
                        "ipc:///tmp/zaio.ipc",
                        "inproc://zaio",
                        "udp://127.0.0.1:5670",
                        "ws://127.0.0.1:5670",
                        ""};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        if (zaio_sock_is_loopback (no[i])) printf ("loopback: %s\n", no[i]);
        assert (!zaio_sock_is_loopback (no[i]));
    }
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_loopback_endpoints),
        ZAIO_TEST_CASE (s_test_other_endpoints),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
