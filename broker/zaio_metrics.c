/*  zaio_metrics.c: /metrics over HTTP; see zaio_metrics.h.

    libmicrohttpd runs one thread of its own (MHD_USE_INTERNAL_POLLING_THREAD
    with epoll, so a broker with more than FD_SETSIZE descriptors still
    serves): every request is answered on it, one at a time, so the DEALER
    that asks the broker is used by that thread alone. It is made on the
    first scrape, there, and closed after the thread has been joined.
    The listening socket is ours (bound before the server starts), so that
    a port in use is reported with its errno, and port 0 resolved.
*/

#include "zaio_metrics.h"
#include "zaio_codec.h"
#include "zaio_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct _zaio_metrics_t {
    struct MHD_Daemon *daemon;
    char endpoint[256]; //  the broker's inproc client endpoint
    char url[128];
    zsock_t *dealer; //  made and used on the server's thread only
    uint64_t next_id;
};

//  ---------------------------------------------------------------------
//  Addresses

//  A bind parsed: its address and port.
typedef struct {
    struct sockaddr_storage address;
    socklen_t size;
    bool ipv6;
    bool loopback;
} s_address_t;

//  Parses "ADDR:PORT" into address. Returns 0, or -1 with why.
static int
s_parse (const char *text, s_address_t *address, char *why, size_t why_size)
{
    memset (address, 0, sizeof *address);
    const char *colon = strrchr (text, ':');
    char host[64];
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof host) {
        snprintf (why, why_size, "'%s' is not ADDR:PORT", text);
        return -1;
    }
    memcpy (host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    char *end;
    errno = 0;
    unsigned long port = strtoul (colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port > 65535 || colon[1] == '-' || colon[1] == '+') {
        snprintf (why, why_size, "'%s': the port is not a number in 0..65535", text);
        return -1;
    }
    if (host[0] == '[') {
        size_t length = strlen (host);
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address->address;
        if (length < 3 || host[length - 1] != ']') {
            snprintf (why, why_size, "'%s' is not [IPv6]:PORT", text);
            return -1;
        }
        host[length - 1] = 0;
        if (inet_pton (AF_INET6, host + 1, &in6->sin6_addr) != 1) {
            snprintf (why, why_size, "'%s' is not an IPv6 address", host + 1);
            return -1;
        }
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons ((uint16_t)port);
        address->size = sizeof *in6;
        address->ipv6 = true;
        address->loopback =
            IN6_IS_ADDR_LOOPBACK (&in6->sin6_addr) ||
            (IN6_IS_ADDR_V4MAPPED (&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
        return 0;
    }
    struct sockaddr_in *in4 = (struct sockaddr_in *)&address->address;
    if (streq (host, "localhost")) snprintf (host, sizeof host, "127.0.0.1");
    if (inet_pton (AF_INET, host, &in4->sin_addr) != 1) {
        snprintf (why, why_size, "'%s' is not an IPv4 address, [IPv6] or localhost", host);
        return -1;
    }
    in4->sin_family = AF_INET;
    in4->sin_port = htons ((uint16_t)port);
    address->size = sizeof *in4;
    address->loopback = (ntohl (in4->sin_addr.s_addr) >> 24) == 127;
    return 0;
}

int
zaio_metrics_check (const char *text, bool insecure, char *why, size_t why_size)
{
    s_address_t address;
    if (s_parse (text, &address, why, why_size)) return -1;
    if (!address.loopback && !insecure) {
        snprintf (why, why_size,
                  "--metrics-bind %s is not a loopback address: metrics name volumes and "
                  "clients, and /metrics has no authentication (use --insecure to serve "
                  "it anyway, behind a firewall or a proxy that authenticates)",
                  text);
        return -1;
    }
    return 0;
}

//  A listening socket on address, its port resolved into address.
//  Returns the descriptor, or -1 with why (errno's text: a port in use
//  is EADDRINUSE).
static int
s_listen (s_address_t *address, const char *text, char *why, size_t why_size)
{
    int fd = socket (address->ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd >= 0) {
        setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on); //  past TIME_WAIT only
        if (address->ipv6) setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
    if (fd < 0 || bind (fd, (struct sockaddr *)&address->address, address->size) ||
        listen (fd, 64) || getsockname (fd, (struct sockaddr *)&address->address, &address->size)) {
        snprintf (why, why_size, "cannot listen on %s: %s", text, strerror (errno));
        if (fd >= 0) close (fd);
        return -1;
    }
    return fd;
}

//  ---------------------------------------------------------------------
//  Text

//  A growing text buffer; out of memory aborts, as czmq's allocations do.
typedef struct {
    char *data;
    size_t size;
    size_t capacity;
} s_text_t;

static void s_add (s_text_t *text, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_add (s_text_t *text, const char *format, ...)
{
    va_list args;
    for (;;) {
        size_t room = text->capacity - text->size;
        va_start (args, format);
        int length = vsnprintf (text->data ? text->data + text->size : NULL, room, format, args);
        va_end (args);
        assert (length >= 0);
        if ((size_t)length < room) {
            text->size += (size_t)length;
            return;
        }
        text->capacity = text->capacity * 2 + (size_t)length + 4096;
        text->data = (char *)realloc (text->data, text->capacity);
        assert (text->data);
    }
}

//  A label value, escaped as the exposition format says: \\, \" and \n.
static void
s_add_label (s_text_t *text, const char *name, const char *value, bool first)
{
    s_add (text, "%s%s=\"", first ? "" : ",", name);
    for (const char *c = value; *c; c++) {
        if (*c == '\\' || *c == '"')
            s_add (text, "\\%c", *c);
        else if (*c == '\n')
            s_add (text, "\\n");
        else
            s_add (text, "%c", *c);
    }
    s_add (text, "\"");
}

static void
s_family (s_text_t *text, const char *name, const char *type, const char *help)
{
    s_add (text, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

//  A gauge without labels.
static void
s_gauge (s_text_t *text, const char *name, const char *help, uint64_t value)
{
    s_family (text, name, "gauge", help);
    s_add (text, "%s %" PRIu64 "\n", name, value);
}

//  One sample per volume of a per-volume gauge: which member of the
//  report's volume it shows is at offset.
static void
s_volume_gauge (s_text_t *text, const zaio_stats_report_t *report, const char *name,
                const char *help, size_t offset)
{
    if (!report->volume_count) return;
    s_family (text, name, "gauge", help);
    for (size_t i = 0; i < report->volume_count; i++) {
        s_add (text, "%s{", name);
        s_add_label (text, "volume", report->volumes[i].name, true);
        s_add (text, "} %" PRIu64 "\n",
               *(const uint64_t *)((const char *)&report->volumes[i] + offset));
    }
}

//  The rows as one counter family: jobs or bytes.
static void
s_rows (s_text_t *text, const zaio_stats_report_t *report, const char *name, const char *help,
        bool bytes)
{
    if (!report->row_count) return;
    s_family (text, name, "counter", help);
    for (size_t i = 0; i < report->row_count; i++) {
        const zaio_stats_report_row_t *row = &report->rows[i];
        s_add (text, "%s{", name);
        s_add_label (text, "op", row->op, true);
        s_add_label (text, "outcome", row->outcome, false);
        s_add_label (text, "volume", row->volume, false);
        s_add (text, "} %" PRIu64 "\n", bytes ? row->bytes : row->jobs);
    }
}

//  One histogram family from the latencies: queue or service times, in
//  seconds (the report's bounds are microseconds).
static void
s_histogram (s_text_t *text, const zaio_stats_report_t *report, const char *name, const char *help,
             bool service)
{
    if (!report->latency_count) return;
    s_family (text, name, "histogram", help);
    for (size_t i = 0; i < report->latency_count; i++) {
        const zaio_stats_report_latency_t *latency = &report->latency[i];
        const uint64_t *counts = service ? latency->service : latency->queue;
        uint64_t cumulative = 0;
        for (size_t b = 0; b < report->bound_count; b++) {
            cumulative += counts[b];
            s_add (text, "%s_bucket{", name);
            s_add_label (text, "op", latency->op, true);
            s_add (text, ",le=\"%" PRIu64 ".%06" PRIu64 "\"} %" PRIu64 "\n",
                   report->bounds_us[b] / 1000000, report->bounds_us[b] % 1000000, cumulative);
        }
        s_add (text, "%s_bucket{", name);
        s_add_label (text, "op", latency->op, true);
        s_add (text, ",le=\"+Inf\"} %" PRIu64 "\n", latency->count);
        uint64_t sum = service ? latency->service_sum_us : latency->queue_sum_us;
        s_add (text, "%s_sum{", name);
        s_add_label (text, "op", latency->op, true);
        s_add (text, "} %" PRIu64 ".%06" PRIu64 "\n", sum / 1000000, sum % 1000000);
        s_add (text, "%s_count{", name);
        s_add_label (text, "op", latency->op, true);
        s_add (text, "} %" PRIu64 "\n", latency->count);
    }
}

//  The top clients as one gauge family (their counts are estimates, and
//  a client may leave the list: not a counter).
static void
s_clients (s_text_t *text, const zaio_stats_report_t *report, const char *name, const char *help,
           size_t offset)
{
    if (!report->client_count) return;
    s_family (text, name, "gauge", help);
    for (size_t i = 0; i < report->client_count; i++) {
        s_add (text, "%s{", name);
        s_add_label (text, "client", report->clients_top[i].client, true);
        s_add (text, "} %" PRIu64 "\n",
               *(const uint64_t *)((const char *)&report->clients_top[i] + offset));
    }
}

//  The whole exposition of report.
static void
s_render (s_text_t *text, const zaio_stats_report_t *report)
{
    s_family (text, "zaio_build_info", "gauge", "The broker's version, as a label; always 1.");
    s_add (text, "zaio_build_info{");
    s_add_label (text, "version", report->version, true);
    s_add (text, "} 1\n");
    s_family (text, "zaio_uptime_seconds", "gauge", "Seconds since the broker started.");
    s_add (text, "zaio_uptime_seconds %" PRIu64 ".%03" PRIu64 "\n", report->uptime_ms / 1000,
           report->uptime_ms % 1000);
    s_rows (text, report, "zaio_jobs_total",
            "Requests answered since start, by op, outcome and volume.", false);
    s_rows (text, report, "zaio_job_bytes_total",
            "Bytes moved by jobs since start (read, written, copied), by op, outcome and volume.",
            true);
    s_histogram (text, report, "zaio_job_queue_seconds",
                 "Time from a job's acceptance to a worker, of the jobs a worker ran.", false);
    s_histogram (text, report, "zaio_job_service_seconds",
                 "The worker's own time on a job, of the jobs a worker ran.", true);
    s_gauge (text, "zaio_queue_depth", "Jobs waiting for a worker in the volumes' queues.",
             report->queued);
    s_gauge (text, "zaio_queue_bytes", "Request data of jobs no worker has taken, in bytes.",
             report->queued_bytes);
    s_gauge (text, "zaio_running", "Jobs workers hold.", report->running);
    s_gauge (text, "zaio_inflight", "Jobs accepted and not yet answered.", report->inflight);
    s_gauge (text, "zaio_held_replies", "Replies held for clients that do not read.",
             report->held_replies);
    s_gauge (text, "zaio_held_bytes", "Bytes of replies held for clients that do not read.",
             report->held_bytes);
    s_gauge (text, "zaio_clients", "Client connections with something in the broker.",
             report->clients);
    s_gauge (text, "zaio_worker_connections", "Worker connections, all volumes.", report->workers);
    s_gauge (text, "zaio_subscriptions", "Event prefixes subscribed to.", report->subscriptions);
    s_volume_gauge (text, report, "zaio_workers", "Worker connections serving the volume.",
                    offsetof (zaio_stats_report_volume_t, workers));
    s_volume_gauge (text, report, "zaio_volume_credit", "Jobs the volume's workers can take now.",
                    offsetof (zaio_stats_report_volume_t, credit));
    s_volume_gauge (text, report, "zaio_volume_capacity", "Jobs the volume's workers take at once.",
                    offsetof (zaio_stats_report_volume_t, capacity));
    s_volume_gauge (text, report, "zaio_volume_running", "The volume's jobs workers hold.",
                    offsetof (zaio_stats_report_volume_t, running));
    s_volume_gauge (text, report, "zaio_volume_queued", "The volume's jobs waiting for a worker.",
                    offsetof (zaio_stats_report_volume_t, queued));
    s_clients (text, report, "zaio_top_client_jobs",
               "Requests of the busiest clients since start (an estimate, never too low).",
               offsetof (zaio_stats_report_client_t, jobs));
    s_clients (text, report, "zaio_top_client_bytes", "Bytes moved by the busiest clients' jobs.",
               offsetof (zaio_stats_report_client_t, bytes));
    s_clients (text, report, "zaio_top_client_errors",
               "Requests of the busiest clients answered with an error.",
               offsetof (zaio_stats_report_client_t, errors));
}

char *
zaio_metrics_render (const zaio_stats_report_t *report, size_t *size_p)
{
    s_text_t text = {NULL, 0, 0};
    s_render (&text, report);
    *size_p = text.size;
    return text.data;
}

//  ---------------------------------------------------------------------
//  Asking the broker

//  A stats report from the broker, within ZAIO_METRICS_TIMEOUT_MS; NULL
//  (logged) if none came or it did not decode. Runs on the server's thread.
static zaio_stats_report_t *
s_ask (zaio_metrics_t *self)
{
    if (!self->dealer) {
        self->dealer = zsock_new (ZMQ_DEALER);
        assert (self->dealer);
        zsock_set_linger (self->dealer, 0);
        if (zsock_connect (self->dealer, "%s", self->endpoint)) {
            zaio_log_error ("metrics", "cannot connect to %s", self->endpoint);
            zsock_destroy (&self->dealer);
            return NULL;
        }
    }
    uint64_t id = ++self->next_id;
    zaio_request_t req;
    zaio_request_init (&req, ZAIO_OP_STATS, id);
    zaio_request_set_uint (&req, ZAIO_FIELD_TOP, ZAIO_METRICS_TOP);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, ZAIO_SIGNATURE);
    zframe_t *header = zaio_request_encode (&req);
    zmsg_append (msg, &header);
    if (zmsg_send (&msg, self->dealer)) {
        zmsg_destroy (&msg);
        return NULL;
    }
    int64_t deadline = zclock_mono () + ZAIO_METRICS_TIMEOUT_MS;
    zpoller_t *poller = zpoller_new (self->dealer, NULL);
    zaio_stats_report_t *report = NULL;
    int64_t left;
    while (!report && (left = deadline - zclock_mono ()) > 0 && zpoller_wait (poller, (int)left)) {
        zmsg_t *answer = zmsg_recv (self->dealer);
        zframe_t *frame = answer && zmsg_size (answer) == 2 ? zmsg_last (answer) : NULL;
        zaio_reply_t reply;
        char why[128];
        //  A late answer to a scrape that timed out is dropped.
        if (frame &&
            zaio_reply_decode (&reply, zframe_data (frame), zframe_size (frame), why, sizeof why) ==
                0 &&
            reply.id == id) {
            int code = reply.ok ? zaio_stats_report_decode (&report, zframe_data (frame),
                                                            zframe_size (frame))
                                : reply.error;
            if (code)
                zaio_log_warning ("metrics", "stats from the broker: %s", zaio_error_name (code));
            zmsg_destroy (&answer);
            break;
        }
        zmsg_destroy (&answer);
    }
    zpoller_destroy (&poller);
    if (!report && zclock_mono () >= deadline)
        zaio_log_warning ("metrics", "the broker did not answer stats within %d ms",
                          ZAIO_METRICS_TIMEOUT_MS);
    return report;
}

//  ---------------------------------------------------------------------
//  HTTP

static enum MHD_Result
s_respond (struct MHD_Connection *connection, unsigned int status, const char *type, char *body,
           size_t size, bool allow)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (size, body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (allow) MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result result = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return result;
}

//  A short plain-text answer.
static enum MHD_Result
s_respond_text (struct MHD_Connection *connection, unsigned int status, const char *message,
                bool allow)
{
    char *body = strdup (message);
    assert (body);
    return s_respond (connection, status, "text/plain; charset=utf-8", body, strlen (body), allow);
}

//  Every request: GET or HEAD of /metrics is answered from a fresh report.
static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)state;
    zaio_metrics_t *self = (zaio_metrics_t *)cls;
    if (!streq (method, MHD_HTTP_METHOD_GET) && !streq (method, MHD_HTTP_METHOD_HEAD))
        return s_respond_text (connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n",
                               true);
    if (!streq (url, "/metrics"))
        return s_respond_text (connection, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n", false);
    zaio_stats_report_t *report = s_ask (self);
    if (!report)
        return s_respond_text (connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                               "the broker did not answer\n", false);
    size_t size;
    char *text = zaio_metrics_render (report, &size);
    zaio_stats_report_destroy (&report);
    return s_respond (connection, MHD_HTTP_OK, S_CONTENT_TYPE, text, size, false);
}

//  libmicrohttpd's own complaints, into the broker's log.
static void
s_mhd_log (void *cls, const char *format, va_list args)
{
    (void)cls;
    char line[256];
    vsnprintf (line, sizeof line, format, args);
    line[strcspn (line, "\n")] = 0;
    zaio_log_warning ("metrics", "%s", line);
}

zaio_metrics_t *
zaio_metrics_new (const char *text, bool insecure, const char *endpoint)
{
    assert (text && endpoint);
    char why[512];
    s_address_t address;
    if (zaio_metrics_check (text, insecure, why, sizeof why) ||
        s_parse (text, &address, why, sizeof why)) {
        zaio_log_error ("metrics", "%s", why);
        return NULL;
    }
    int fd = s_listen (&address, text, why, sizeof why);
    if (fd < 0) {
        zaio_log_error ("metrics", "%s", why);
        return NULL;
    }
    zaio_metrics_t *self = (zaio_metrics_t *)zmalloc (sizeof (zaio_metrics_t));
    snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
    char host[INET6_ADDRSTRLEN];
    uint16_t port;
    if (address.ipv6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&address.address;
        inet_ntop (AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs (in6->sin6_port);
        snprintf (self->url, sizeof self->url, "http://[%s]:%u/metrics", host, port);
    } else {
        struct sockaddr_in *in4 = (struct sockaddr_in *)&address.address;
        inet_ntop (AF_INET, &in4->sin_addr, host, sizeof host);
        port = ntohs (in4->sin_port);
        snprintf (self->url, sizeof self->url, "http://%s:%u/metrics", host, port);
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (address.ipv6) flags |= MHD_USE_IPv6;
    //  The logger first, so that libmicrohttpd prints nothing of its own.
    self->daemon = MHD_start_daemon (
        flags, port, NULL, NULL, s_handle, self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)ZAIO_METRICS_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)ZAIO_METRICS_IDLE_S, MHD_OPTION_END);
    if (!self->daemon) {
        zaio_log_error ("metrics", "cannot start the HTTP server on %s", text);
        close (fd);
        free (self);
        return NULL;
    }
    return self;
}

void
zaio_metrics_destroy (zaio_metrics_t **self_p)
{
    zaio_metrics_t *self = *self_p;
    if (self) {
        //  Joins the server's thread and closes the listening socket.
        MHD_stop_daemon (self->daemon);
        zsock_destroy (&self->dealer);
        free (self);
        *self_p = NULL;
    }
}

const char *
zaio_metrics_url (zaio_metrics_t *self)
{
    return self->url;
}
