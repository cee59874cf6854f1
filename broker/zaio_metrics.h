/*  zaio_metrics.h: the broker's /metrics endpoint, in the Prometheus text
    exposition format (version 0.0.4), over HTTP (libmicrohttpd).

    A scrape never touches the broker's thread directly: libmicrohttpd
    runs the HTTP server on a thread of its own, which, for each GET of
    /metrics, asks the broker for a `stats` report (PROTOCOL.md section
    5.3) through a DEALER of its own, connected to an inproc endpoint of
    the broker's client socket, and waits at most ZAIO_METRICS_TIMEOUT_MS
    for it (503 if it does not come). To the broker, a scrape is one more
    stats request, answered at once between jobs; nothing is computed
    while nobody scrapes. The report is rendered as metrics named
    zaio_* (README, "Metrics and stats", lists them).

    The server answers GET and HEAD of /metrics only: 404 for other
    paths, 405 for other methods. It serves at most
    ZAIO_METRICS_CONNECTIONS connections at once and drops those idle for
    ZAIO_METRICS_IDLE_S. Metrics name volumes and clients, so an address
    other than loopback is refused unless the broker runs insecure.
    Private to the broker.
*/
#ifndef ZAIO_METRICS_H_INCLUDED
#define ZAIO_METRICS_H_INCLUDED

#include "zaio_codec.h"

#include <czmq.h>
#include <stdbool.h>

#define ZAIO_METRICS_TIMEOUT_MS  2000 //  for the broker's stats reply
#define ZAIO_METRICS_CONNECTIONS 16   //  HTTP connections at once
#define ZAIO_METRICS_IDLE_S      10   //  an idle HTTP connection is closed after
#define ZAIO_METRICS_TOP         10   //  top clients exported

typedef struct _zaio_metrics_t zaio_metrics_t;

//  0 if bind ("ADDR:PORT": an IPv4 address, "[IPv6]" or "localhost", and
//  a port, 0 for any free one) is well formed and, unless insecure, a
//  loopback address; else -1 with the reason in why (why_size bytes).
int zaio_metrics_check (const char *bind, bool insecure, char *why, size_t why_size);

//  Serves /metrics on bind (checked as zaio_metrics_check does), asking
//  the broker's client endpoint (an inproc one; copied) for its reports.
//  Returns NULL (and logs why: a bad or refused address, a port in use)
//  if it cannot listen.
zaio_metrics_t *zaio_metrics_new (const char *bind, bool insecure, const char *endpoint);

//  Stops the server (its thread is joined) and frees it; nulls *self_p.
void zaio_metrics_destroy (zaio_metrics_t **self_p);

//  The exposition of report, as /metrics serves it: a new string the
//  caller frees, *size_p its length.
char *zaio_metrics_render (const zaio_stats_report_t *report, size_t *size_p);

//  The URL it serves, "http://127.0.0.1:9464/metrics" (the port resolved
//  if it was 0). Borrowed.
const char *zaio_metrics_url (zaio_metrics_t *self);

#endif
