/*  test_client_stats: libzaio's zaio_client_stats (zaio.h), against the
    embedded broker: the report decoded, `top` honoured and bounded, and a
    stats call never sent inside a wire batch or with the client's volume,
    either of which the broker refuses.
*/

#include "testutil.h"
#include "zaio.h"

#include <string.h>

static uint64_t
s_jobs (const zaio_stats_report_t *report, const char *op, const char *outcome, const char *volume)
{
    for (size_t i = 0; i < report->row_count; i++)
        if (streq (report->rows[i].op, op) && streq (report->rows[i].outcome, outcome) &&
            streq (report->rows[i].volume, volume))
            return report->rows[i].jobs;
    return 0;
}

//  A write, then stats: its row, the gauges, the workers; top 1 lists
//  one client; top over the maximum is EINVAL, unsent.
static void
s_test_report (void)
{
    zaio_test_broker_t rig;
    zaio_test_broker_start (&rig, NULL);
    zaio_client_t *client = zaio_client_new (rig.inproc);
    assert (zaio_client_writefile (client, "f.txt", "12345678", 8) == 0);
    zaio_stats_report_t *report = NULL;
    assert (zaio_client_stats (client, 0, &report) == 0 && report);
    assert (s_jobs (report, "writefile", "ok", "default") == 1);
    assert (streq (report->version, ZAIO_VERSION_STRING));
    assert (report->workers >= 1 && report->volume_count == 1);
    assert (report->client_count >= 1);
    zaio_stats_report_destroy (&report);
    assert (report == NULL);
    zaio_stats_report_destroy (&report); //  safe on NULL
    assert (zaio_client_stats (client, 1, &report) == 0);
    assert (report->client_count == 1);
    zaio_stats_report_destroy (&report);
    assert (zaio_client_stats (client, ZAIO_STATS_TOP_MAX + 1, &report) == EINVAL);
    assert (report == NULL);
    zaio_client_destroy (&client);
    zaio_test_broker_stop (&rig);
}

//  Calls started and not yet sent (coalescing, the default, sends them as
//  one wire batch) and a client volume: the stats call goes alone, with
//  no volume, and is answered; the other calls too.
static void
s_test_never_batched (void)
{
    zaio_test_broker_t rig;
    zaio_test_broker_start (&rig, NULL);
    zaio_client_t *client = zaio_client_new (rig.inproc);
    assert (zaio_client_set_volume (client, "default") == 0);
    assert (zaio_client_ping (client) == 0); //  connected, hello read: batches allowed
    zaio_call_t *calls[8];
    for (int i = 0; i < 8; i++) {
        zaio_request_t req;
        zaio_request_init (&req, i == 4 ? ZAIO_OP_STATS : ZAIO_OP_PING, 0);
        calls[i] = zaio_client_start (client, &req, NULL);
    }
    for (int i = 0; i < 8; i++) {
        assert (zaio_call_wait (calls[i], 5000) == 0);
        assert (zaio_call_error (calls[i]) == 0);
    }
    zaio_stats_report_t *report = NULL;
    assert (zaio_call_stats (calls[4], &report) == 0);
    assert (s_jobs (report, "ping", "ok", "default") >= 1); //  the ping before, at least
    zaio_stats_report_destroy (&report);
    assert (zaio_call_stats (calls[0], &report) == 0); //  a ping's reply holds no report,
    assert (report->row_count == 0);                   //  only unknown keys: all empty
    zaio_stats_report_destroy (&report);
    for (int i = 0; i < 8; i++) zaio_call_destroy (&calls[i]);
    zaio_client_destroy (&client);
    zaio_test_broker_stop (&rig);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_report),
        ZAIO_TEST_CASE (s_test_never_batched),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
