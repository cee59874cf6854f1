/*  test_broker_logs: what the broker logs about the requests it refuses.
    Without verbose, a flood of bad requests gives a bounded number of
    lines (one a second per error at most), and those lines count every
    refusal; each names the client that sent it. With verbose, every
    refusal has its line. (Line format and --log-format json:
    test_broker_service.sh.) */

#include "testutil.h"

#include <string.h>

#define S_BURST 200 //  bad requests sent before their replies are read

//  Sends count requests that cannot decode (a header that is not msgpack)
//  as client, then reads every reply: MALFORMED.
static void
s_send_bad (zsock_t *client, int count)
{
    for (int i = 0; i < count; i++) {
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, ZAIO_SIGNATURE);
        zmsg_addstr (msg, "not msgpack");
        assert (zmsg_send (&msg, client) == 0);
    }
    for (int i = 0; i < count; i++) {
        zaio_reply_t reply;
        zmsg_t *answer;
        zaio_test_recv (client, &reply, &answer, 10000);
        assert (!reply.ok && reply.error == ZAIO_ERR_MALFORMED);
        zmsg_destroy (&answer);
    }
}

//  The broker's log while bad requests come from a client whose routing id
//  is "alice", in bursts, for at least duration_ms (and at least one
//  burst), the broker stopped after them; *sent_p says how many came.
static char *
s_log_of_flood (bool verbose, int burst, int64_t duration_ms, int64_t *elapsed_ms, int *sent_p)
{
    FILE *log = zaio_test_log_catch ();
    zaio_broker_config_t config;
    zaio_broker_config_defaults (&config);
    config.verbose = verbose;
    zaio_test_broker_t broker;
    zaio_test_broker_start (&broker, &config);
    zsock_t *client = zsock_new (ZMQ_DEALER);
    zsock_set_identity (client, "alice");
    zsock_set_rcvhwm (client, 0);
    zsock_set_sndhwm (client, 0);
    assert (zsock_connect (client, "%s", broker.inproc) == 0);
    int64_t start = zclock_mono ();
    *sent_p = 0;
    do {
        s_send_bad (client, burst);
        *sent_p += burst;
    } while (zclock_mono () - start < duration_ms);
    *elapsed_ms = zclock_mono () - start;
    zsock_destroy (&client);
    zaio_test_broker_stop (&broker);
    return zaio_test_log_release (&log);
}

//  Without verbose: few lines, all at INFO, each naming alice (hex of her
//  routing id) but the count of the rest; their counts add up to the
//  flood, which lasts over two seconds, so that lines count the ones held
//  back before them.
static void
s_test_flood_sampled (void)
{
    int64_t elapsed_ms;
    int sent;
    char *text = s_log_of_flood (false, S_BURST, 2100, &elapsed_ms, &sent);
    uint64_t counted = 0;
    int lines = 0;
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n")) {
        if (!strstr (line, "refused MALFORMED")) continue;
        lines++;
        assert (strstr (line, " INFO zaio broker"));
        const char *more = strstr (line, "(+");
        if (strstr (line, "request ")) {
            //  "... broker [616C696365]: request 0 refused MALFORMED: ..."
            assert (strstr (line, "broker [616C696365]: request "));
            counted += 1;
            if (more) counted += strtoull (more + 2, NULL, 10);
        } else {
            //  "... broker: 2311 more requests refused MALFORMED, not shown"
            const char *said = strstr (line, "broker: ");
            assert (said && strstr (line, "more requests refused MALFORMED, not shown"));
            counted += strtoull (said + 8, NULL, 10);
        }
    }
    printf ("%d bad requests in %" PRId64 " ms: %d lines, counting %" PRIu64 "\n", sent, elapsed_ms,
            lines, counted);
    assert (counted == (uint64_t)sent);
    //  One a second, one for the count left at the end, one for a second
    //  begun.
    assert (lines >= 2 && lines <= 2 + (int)(elapsed_ms / 1000) + 1);
    free (text);
}

//  With verbose: a line per refusal, with its reason.
static void
s_test_verbose_every_one (void)
{
    int64_t elapsed_ms;
    int sent;
    char *text = s_log_of_flood (true, 50, 0, &elapsed_ms, &sent);
    int lines = 0;
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n"))
        if (strstr (line, " DEBUG zaio broker [616C696365]: request ") &&
            strstr (line, "refused MALFORMED: "))
            lines++;
    assert (lines == 50);
    free (text);
}

int
main (int argc, char *argv[])
{
    //  verbose is process-wide: its case comes last.
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_flood_sampled),
        ZAIO_TEST_CASE (s_test_verbose_every_one),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
