/*  zaio_broker_config.c: the broker's settings: defaults, and a ZPL file
    (czmq zconfig) laid over them; see zaio_broker.h. */

#include "zaio_broker_config.h"
#include "zaio_log.h"
#include "zaio_proto.h"
#include "zaio_volume.h"
#include "zaio_worker_proto.h"
#include "zaio_zpl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
zaio_broker_config_defaults (zaio_broker_config_t *config)
{
    memset (config, 0, sizeof (*config));
    config->root = "./zaio-root";
    config->bind[0] = "ipc:///tmp/zaio.ipc";
    config->bind[1] = "tcp://127.0.0.1:5670";
    config->events[0] = "ipc:///tmp/zaio-events.ipc";
    config->events[1] = "tcp://127.0.0.1:5671";
    config->workers = 0;
    //  Deep enough that a worker always has its next job at hand: with one
    //  or two, every job costs a wake-up on each side.
    config->worker_credit = 64;
    config->queue_max = 65536;
    config->queue_bytes_max = 1024u * 1024 * 1024;
    config->inflight_max = 16384;
    config->payload_max = ZAIO_PAYLOAD_MAX;
    config->events_hwm = 10000;
    //  A monitor needs a few prefixes (an outcome, an op, a volume); these
    //  leave room for several per volume on a broker of hundreds, and keep
    //  the broker's table of them within a few MiB (zaio_events.h).
    config->subscriptions_max = 4096;
    config->identity_subscriptions_max = 1024;
    //  What libzmq queues for a client is counted in replies: reply_hwm
    //  times the largest (PROTOCOL.md section 7). 128 keeps that to some
    //  40 KiB of small replies, and still lets a client keep 64 requests
    //  in flight (half of it) without meeting the mark while it reads.
    config->reply_hwm = 128;
    //  Replies held past it, in bytes: a held reply of a small op costs
    //  about 200 bytes, so a client that reads nothing is refused after
    //  some 20,000 of them, and all such clients together cost at most
    //  64 MiB before each is refused (a small machine's share).
    config->held_bytes_max = 4u * 1024 * 1024;
    config->held_bytes_total = 64u * 1024 * 1024;
    //  Long enough that a worker restarting, or a network healing, finds
    //  its volumes known; short enough that volumes announced once cannot
    //  keep the table of 256 full for long.
    config->volume_forget_ms = 300000;
    config->heartbeat_ms = 1000;
    config->heartbeat_misses = 3;
    config->retries_max = 3;
    config->drain_ms = 10000;
    config->ipc_mode = 0660;
    config->handshake_ms = 5000;
    config->tmp_max_age_s = ZAIO_VOLUME_TEMP_MAX_AGE_S;
    config->batch_max = ZAIO_BATCH_MAX;
    config->batch_bytes_max = ZAIO_BATCH_BYTES_MAX;
}

//  Reads a file mode setting, in octal.
static int
s_config_mode (zconfig_t *root, const char *path, uint32_t *mode)
{
    char *text = zconfig_get (root, path, NULL);
    if (!text) return 0;
    if (zaio_broker_config_mode (text, mode) == 0) return 0;
    zaio_log_error ("config", "%s = '%s' is not a file mode (octal, e.g. 0660)", path, text);
    return -1;
}

int
zaio_broker_config_mode (const char *text, uint32_t *mode)
{
    char *end;
    errno = 0;
    unsigned long value = strtoul (text, &end, 8);
    if (errno || end == text || *end || value > 0777) return -1;
    *mode = (uint32_t)value;
    return 0;
}

//  Appends the values of path's children to a NULL-terminated list.
static int
s_config_list (zconfig_t *root, const char *path, const char **list)
{
    zconfig_t *section = zconfig_locate (root, path);
    if (!section) return 0;
    size_t count = 0;
    for (zconfig_t *item = zconfig_child (section); item; item = zconfig_next (item)) {
        if (count == ZAIO_BROKER_ENDPOINTS_MAX) {
            zaio_log_error ("config", "more than %d entries in %s", ZAIO_BROKER_ENDPOINTS_MAX,
                            path);
            return -1;
        }
        list[count++] = zconfig_value (item);
    }
    list[count] = NULL;
    return 0;
}

//  Every key a broker's config file may hold (zaio_zpl.h); the example
//  dist/config/zaio-broker.cfg shows each with its default. grants are
//  checked by zaio_grants.
static const char *const s_known_keys[] = {"broker/root",
                                           "broker/bind/*",
                                           "broker/events/*",
                                           "broker/worker_bind/*",
                                           "broker/workers",
                                           "broker/worker_credit",
                                           "broker/queue_max",
                                           "broker/queue_bytes_max",
                                           "broker/inflight_max",
                                           "broker/payload_max",
                                           "broker/events_hwm",
                                           "broker/reply_hwm",
                                           "broker/heartbeat_ms",
                                           "broker/heartbeat_misses",
                                           "broker/retries_max",
                                           "broker/drain_ms",
                                           "broker/insecure",
                                           "broker/nolinks",
                                           "broker/handshake_ms",
                                           "broker/subscriptions_max",
                                           "broker/identity_subscriptions_max",
                                           "broker/tmp_max_age",
                                           "broker/held_bytes_max",
                                           "broker/held_bytes_total",
                                           "broker/volume_forget_ms",
                                           "broker/batch_max",
                                           "broker/batch_bytes_max",
                                           "broker/curve_cert",
                                           "broker/client_certs",
                                           "broker/worker_certs",
                                           "broker/metrics_bind",
                                           "broker/ipc_mode",
                                           "broker/log_format",
                                           "broker/verbose",
                                           "grants/**",
                                           NULL};

int
zaio_broker_config_load (zaio_broker_config_t *config, const char *path, zconfig_t **zconfig_p)
{
    if (zaio_zpl_check (path, s_known_keys)) return -1;
    zconfig_t *root = zaio_zpl_load (path);
    if (!root) {
        zaio_log_error ("config", "cannot load %s: not a ZPL file (czmq zconfig)", path);
        return -1;
    }
    config->root = zconfig_get (root, "broker/root", config->root);
    config->curve_cert = zconfig_get (root, "broker/curve_cert", config->curve_cert);
    config->client_certs = zconfig_get (root, "broker/client_certs", config->client_certs);
    config->worker_certs = zconfig_get (root, "broker/worker_certs", config->worker_certs);
    config->metrics_bind = zconfig_get (root, "broker/metrics_bind", config->metrics_bind);
    config->grants = zconfig_locate (root, "grants");
    config->log_format = zconfig_get (root, "broker/log_format", config->log_format);
    uint32_t insecure = config->insecure, nolinks = config->nolinks, verbose = config->verbose;
    struct {
        const char *path;
        uint64_t min, max;
        void *member;
        bool wide;
    } numbers[] = {
        {"broker/workers", 0, 1024, &config->workers, false},
        {"broker/worker_credit", 1, ZAIO_CREDIT_MAX, &config->worker_credit, false},
        {"broker/queue_max", 1, 1u << 30, &config->queue_max, false},
        {"broker/queue_bytes_max", 1, 1ull << 40, &config->queue_bytes_max, true},
        {"broker/inflight_max", 1, 1u << 30, &config->inflight_max, false},
        {"broker/payload_max", 1, ZAIO_PAYLOAD_CEILING, &config->payload_max, true},
        {"broker/events_hwm", 0, 1u << 30, &config->events_hwm, false},
        {"broker/reply_hwm", 1, 1u << 30, &config->reply_hwm, false},
        {"broker/heartbeat_ms", 10, 3600000, &config->heartbeat_ms, false},
        {"broker/heartbeat_misses", 1, 1000, &config->heartbeat_misses, false},
        {"broker/retries_max", 1, 100, &config->retries_max, false},
        {"broker/drain_ms", 0, 3600000, &config->drain_ms, false},
        {"broker/insecure", 0, 1, &insecure, false},
        {"broker/nolinks", 0, 1, &nolinks, false},
        {"broker/verbose", 0, 1, &verbose, false},
        {"broker/handshake_ms", 100, 3600000, &config->handshake_ms, false},
        {"broker/subscriptions_max", 1, 1u << 24, &config->subscriptions_max, false},
        {"broker/identity_subscriptions_max", 1, 1u << 24, &config->identity_subscriptions_max,
         false},
        {"broker/tmp_max_age", 0, UINT32_MAX, &config->tmp_max_age_s, false},
        {"broker/held_bytes_max", 1, 1ull << 40, &config->held_bytes_max, true},
        {"broker/held_bytes_total", 1, 1ull << 40, &config->held_bytes_total, true},
        {"broker/volume_forget_ms", 100, 86400000, &config->volume_forget_ms, false},
        {"broker/batch_max", 1, ZAIO_BROKER_BATCH_CEILING, &config->batch_max, false},
        {"broker/batch_bytes_max", 64, ZAIO_BROKER_BATCH_BYTES_CEILING, &config->batch_bytes_max,
         false},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0] && rc == 0; i++) {
        uint64_t value =
            numbers[i].wide ? *(size_t *)numbers[i].member : *(uint32_t *)numbers[i].member;
        rc = zaio_zpl_uint (root, numbers[i].path, numbers[i].min, numbers[i].max, &value);
        if (numbers[i].wide)
            *(size_t *)numbers[i].member = (size_t)value;
        else
            *(uint32_t *)numbers[i].member = (uint32_t)value;
    }
    config->insecure = insecure;
    config->nolinks = nolinks;
    config->verbose = verbose;
    zaio_log_format_t format;
    if (rc == 0 && config->log_format && zaio_log_format_parse (config->log_format, &format)) {
        zaio_log_error ("config", "broker/log_format = '%s' is not text or json",
                        config->log_format);
        rc = -1;
    }
    if (rc == 0) rc = s_config_mode (root, "broker/ipc_mode", &config->ipc_mode);
    if (rc == 0) rc = s_config_list (root, "broker/bind", config->bind);
    if (rc == 0) rc = s_config_list (root, "broker/events", config->events);
    if (rc == 0) rc = s_config_list (root, "broker/worker_bind", config->worker_bind);
    if (rc) {
        zconfig_destroy (&root);
        return -1;
    }
    *zconfig_p = root;
    return 0;
}

//  A copy of text in owned, which lives as long as the list (the autofree
//  list duplicates what it is given).
static const char *
s_own (zlist_t *owned, const char *text)
{
    zlist_append (owned, (void *)text);
    return (const char *)zlist_last (owned);
}

static void
s_copy_list (zlist_t *owned, const char **dest, const char *const *src)
{
    size_t i = 0;
    for (; src[i] && i < ZAIO_BROKER_ENDPOINTS_MAX; i++) dest[i] = s_own (owned, src[i]);
    dest[i] = NULL;
}

void
zaio_broker_config_copy (zaio_broker_config_t *copy, const zaio_broker_config_t *config,
                         zlist_t *owned)
{
    *copy = *config;
    copy->root = s_own (owned, config->root);
    copy->curve_cert = config->curve_cert ? s_own (owned, config->curve_cert) : NULL;
    copy->client_certs = config->client_certs ? s_own (owned, config->client_certs) : NULL;
    copy->worker_certs = config->worker_certs ? s_own (owned, config->worker_certs) : NULL;
    copy->metrics_bind = config->metrics_bind ? s_own (owned, config->metrics_bind) : NULL;
    copy->grants = NULL;     //  read once, by the broker, from the original
    copy->log_format = NULL; //  applied once, by the broker, from the original
    s_copy_list (owned, copy->bind, config->bind);
    s_copy_list (owned, copy->events, config->events);
    s_copy_list (owned, copy->worker_bind, config->worker_bind);
    if (copy->workers == 0) copy->workers = (uint32_t)sysconf (_SC_NPROCESSORS_ONLN);
    if (copy->workers == 0) copy->workers = 1;
    //  The fair share (zaio_admission) caps a lone client below
    //  inflight_max if that is above two thirds of queue_max: say so once.
    uint64_t lone_max = (2 * (uint64_t)copy->queue_max + 2) / 3;
    if (copy->inflight_max > lone_max)
        zaio_log_warning ("config",
                          "inflight_max %u is more than a client alone can have accepted, "
                          "%" PRIu64 " (its fair share of queue_max %u)",
                          copy->inflight_max, lone_max, copy->queue_max);
}
