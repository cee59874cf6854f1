/*  zaio_broker.h: the zaio broker, an embeddable czmq actor.

    The broker binds a ROUTER for clients (any number of inproc, ipc and tcp
    endpoints), a ROUTER for workers, and a PUB for completion events. It
    owns its sockets on its own thread; applications talk to it only over
    those sockets and over the actor pipe.

        zaio_broker_config_t config;
        zaio_broker_config_defaults (&config);
        config.root = "/srv/data";
        config.bind [0] = "inproc://zaio";
        zactor_t *broker = zaio_broker_new (&config);
        ...                                   // clients connect DEALERs
        zaio_broker_destroy (&broker);        // graceful: see below

    Destroying the broker (or SIGINT/SIGTERM in zaio-broker) stops accepting
    work: new requests and queued jobs are answered SHUTDOWN, running jobs
    finish and are answered, then the threads stop.
*/
#ifndef ZAIO_BROKER_H_INCLUDED
#define ZAIO_BROKER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZAIO_BROKER_ENDPOINTS_MAX 16
//  Volumes the broker knows at most: a READY that would pass this is
//  ignored. A volume stays known until no worker has served it, and no
//  job named it, for volume_forget_ms.
#define ZAIO_BROKER_VOLUMES_MAX 256
//  Highest configurable batch_max and batch_bytes_max: a batch's parts are
//  received at once, and its entries frame is one ZeroMQ frame.
#define ZAIO_BROKER_BATCH_CEILING       65536
#define ZAIO_BROKER_BATCH_BYTES_CEILING (64u * 1024 * 1024)
//  Clients the broker remembers only because their last linked job failed
//  (so their next request is cancelled), at most; past it the one kept
//  longest is forgotten (PROTOCOL.md section 7).
#define ZAIO_BROKER_BROKEN_LINKS_MAX 4096

typedef struct {
    const char *root; //  directory served as volume "default"; created if missing
    //  NULL-terminated endpoint lists. Strings are borrowed only during
    //  zaio_broker_new. A tcp port of * picks a free port.
    const char *bind[ZAIO_BROKER_ENDPOINTS_MAX + 1];        //  client ROUTER
    const char *events[ZAIO_BROKER_ENDPOINTS_MAX + 1];      //  event PUB
    const char *worker_bind[ZAIO_BROKER_ENDPOINTS_MAX + 1]; //  remote worker ROUTER
    uint32_t workers;          //  local worker threads; 0 = one per CPU
    uint32_t worker_credit;    //  jobs each local worker holds at once
    uint32_t queue_max;        //  jobs accepted (queued + running) in all
    size_t queue_bytes_max;    //  request data held for jobs not yet sent to a worker
    uint32_t inflight_max;     //  jobs accepted per client
    size_t payload_max;        //  largest data frame, and largest read
    uint32_t events_hwm;       //  events queued per slow subscriber before drops
    uint32_t reply_hwm;        //  replies queued per client before the rest are held
    size_t held_bytes_max;     //  bytes of replies held per client past which it is refused
    size_t held_bytes_total;   //  the same for all clients together
    uint32_t volume_forget_ms; //  a volume no worker serves, no job names, is forgotten after
    uint32_t heartbeat_ms;     //  worker heartbeat interval
    uint32_t heartbeat_misses; //  intervals of silence before a worker is dead
    uint32_t retries_max;      //  attempts per idempotent job across worker deaths
    uint32_t drain_ms;         //  longest wait for running jobs at shutdown
    //  Event subscriptions (PROTOCOL.md section 8): distinct prefixes in
    //  all, and of them those one CURVE identity brought in.
    uint32_t subscriptions_max;
    uint32_t identity_subscriptions_max;
    //  Trust (PROTOCOL.md section 11). Strings and grants are borrowed only
    //  during zaio_broker_new.
    const char *curve_cert;   //  the broker's secret certificate: every tcp endpoint
                              //  requires CURVE; NULL: none does
    const char *client_certs; //  directory of the certificates of clients (and event
                              //  subscribers) admitted over CURVE; NULL: none
    const char *worker_certs; //  directory of the certificates of workers admitted; NULL: none
    zconfig_t *grants;        //  the config file's grants section (zaio_grants.h); NULL: none
    bool insecure;            //  allow plain tcp on addresses other than loopback
    bool nolinks;             //  root: refuse regular files with more than one link
    uint32_t tmp_max_age_s;   //  root: writefile temporary files older than this are
                              //  removed at start (0: none by age; zaio_volume.h)
    uint32_t ipc_mode;        //  file mode of ipc socket files
    uint32_t handshake_ms;    //  longest ZMTP handshake of a new connection
    //  Batches (PROTOCOL.md section 5.2): entries in one, and bytes of a
    //  request batch's entries frame; the same bound the reply batches.
    uint32_t batch_max;
    uint32_t batch_bytes_max;
    //  Serve /metrics (Prometheus) on this ADDR:PORT, loopback unless
    //  insecure; NULL: none. Borrowed only during zaio_broker_new.
    const char *metrics_bind;
    //  Logs: the broker's lines go to the process's stderr, one per event
    //  (ISO-8601 UTC time, level, program, component, the client or worker
    //  concerned, message; README "Logs"). log_format "text" or "json"
    //  (one object per line) sets the format for the whole process, as
    //  zaio-broker's --log-format does; NULL (the default) leaves it as it
    //  is (text, unless an earlier broker set it); czmq's own lines, if
    //  the host lets czmq log (zsys_set_logstream), keep czmq's format,
    //  where zaio-broker turns them off in json. verbose logs every
    //  rejected request and worker change (process-wide too); without it,
    //  rejected requests are logged as a sample, at most one line a second
    //  per error, counting the others.
    const char *log_format;
    bool verbose;
} zaio_broker_config_t;

//  Fill config with the defaults: root ./zaio-root, clients on
//  ipc:///tmp/zaio.ipc and tcp://127.0.0.1:5670, events on
//  ipc:///tmp/zaio-events.ipc and tcp://127.0.0.1:5671, no remote worker
//  endpoint, one worker per CPU, the limits of schemas/PROTOCOL.md, no
//  CURVE, ipc socket files of mode 0660 and handshakes of at most 5 s.
void zaio_broker_config_defaults (zaio_broker_config_t *config);

//  Load settings from a ZPL file (czmq zconfig) over config. Strings point
//  into zconfig_p, which the caller destroys after zaio_broker_new. Returns
//  -1 (and logs why) on a missing file or bad value.
int zaio_broker_config_load (zaio_broker_config_t *config, const char *path, zconfig_t **zconfig_p);

//  Start a broker. Returns NULL (and logs why) if the root cannot be
//  opened, an endpoint cannot be bound, a tcp endpoint on an address
//  other than loopback would have no CURVE (unless insecure), or the
//  certificates or grants are not valid.
zactor_t *zaio_broker_new (const zaio_broker_config_t *config);

//  Graceful stop; nulls *self_p. Safe on NULL.
void zaio_broker_destroy (zactor_t **self_p);

//  Endpoints actually bound, ephemeral ports resolved: one string per
//  endpoint, "client tcp://127.0.0.1:41234", "events ...", "workers ...".
//  Caller destroys the list.
zlist_t *zaio_broker_endpoints (zactor_t *self);

//  First bound endpoint of kind ("client", "events", "workers") whose
//  transport is transport ("tcp", "ipc", "inproc"); NULL if none. Caller
//  frees.
char *zaio_broker_endpoint (zactor_t *self, const char *kind, const char *transport);

#ifdef __cplusplus
}
#endif

#endif
