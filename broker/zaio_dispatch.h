/*  zaio_dispatch.h: the volumes' queues, and which worker gets each job.

    A service (as in Majordomo) is one volume: its queue of jobs, and the
    worker connections that serve it, seated in a credit pool while they
    have credit (workers/zaio_credit.h). Dispatch hands queued jobs to
    workers while both last, and waits for the end of the loop's pass to
    do it: a worker then gets the jobs freed by a batch of completions in
    one burst, one wake-up instead of one per job.

    A job with a deadline (PROTOCOL.md: the time a job may take to start)
    waits in its service's urgent queue and goes only to a worker holding
    nothing, so it never waits unseen behind others in a worker's queue;
    jobs without one wait behind it, so that some worker soon holds
    nothing. Dispatch knows no sockets: it hands a job over, and ends one
    that cannot run, through the hooks the broker gives it.

    A volume that no worker has served, and no accepted job has named, for
    forget_ms is forgotten (zaio_dispatch_forget), so volumes announced
    once cannot fill the table for good. A job that names it keeps it
    known until the job ends, and is answered NOVOLUME if it would start
    with no worker (PROTOCOL.md section 10). Private to the broker.
*/
#ifndef ZAIO_DISPATCH_H_INCLUDED
#define ZAIO_DISPATCH_H_INCLUDED

#include "zaio_credit.h"
#include "zaio_jobs.h"

struct _zaio_service_t {
    char name[ZAIO_VOLUME_MAX + 1];
    bool readonly;
    zaio_list_t queue;     //  of job->queued, FIFO
    zaio_list_t urgent;    //  likewise, the jobs with a deadline: for idle workers only
    zaio_credit_t *pool;   //  its worker connections that have credit
    uint32_t worker_count; //  its worker connections
    uint32_t jobs;         //  accepted jobs naming it, unfinished (the broker counts them)
    int64_t idle_ms;       //  since when it has had neither, 0 if it has either
    zaio_link_t due;       //  in the dispatch's due list, when linked
};

typedef struct {
    //  Hands job to the worker connection whose taker this is (it has
    //  credit), at now_us.
    void (*hand_over) (void *arg, zaio_taker_t *taker, zaio_job_t *job, int64_t now_us);
    //  The round's jobs have all been handed over: send them (one message
    //  per worker connection, the jobs handed to it since the last flush).
    void (*flush) (void *arg);
    //  Ends job, which no worker ran, with an error reply.
    void (*fail) (void *arg, zaio_job_t **job_p, int code, const char *why);
    void *arg;
} zaio_dispatch_hooks_t;

typedef struct _zaio_dispatch_t zaio_dispatch_t;

//  hooks is copied; volumes idle for forget_ms are forgotten.
zaio_dispatch_t *zaio_dispatch_new (const zaio_dispatch_hooks_t *hooks, uint32_t forget_ms);
//  Every queue must be empty.
void zaio_dispatch_destroy (zaio_dispatch_t **self_p);

//  The service of volume name, or NULL if none was announced (or it was
//  forgotten since).
zaio_service_t *zaio_dispatch_lookup (zaio_dispatch_t *self, const char *name);

//  The same for a request: the volume it names, or the default one.
zaio_service_t *zaio_dispatch_lookup_request (zaio_dispatch_t *self, const zaio_request_t *req);

//  The service of volume name, made if new.
zaio_service_t *zaio_dispatch_require (zaio_dispatch_t *self, const char *name, bool readonly);

//  Services known.
size_t zaio_dispatch_size (zaio_dispatch_t *self);

//  Forgets the services that have had no worker and no job for forget_ms
//  by now_ms (the clock of zclock_mono); called on the broker's tick, so
//  a service goes within a tick of its time.
void zaio_dispatch_forget (zaio_dispatch_t *self, int64_t now_ms);

//  Fills hello's volumes with every service: name, read-only, workers.
void zaio_dispatch_describe (zaio_dispatch_t *self, zaio_hello_t *hello);

//  Queues job in its service (job->service): at the back, or (a retry, or
//  a job parked while its client read nothing) the front. It is
//  dispatched at the end of the pass.
void zaio_dispatch_enqueue (zaio_dispatch_t *self, zaio_job_t *job, bool front);

//  Looks at service at the end of the pass: it may have jobs and a worker
//  with credit now.
void zaio_dispatch_later (zaio_dispatch_t *self, zaio_service_t *service);

//  The end of the pass: hands jobs to workers in every service due.
//  pass_us is the clock at the start of the pass (deadlines count on it).
//  Returns true if it handed over any job.
bool zaio_dispatch_run (zaio_dispatch_t *self, int64_t pass_us);

//  Ends the jobs with a deadline that have passed by pass_us, in every
//  urgent queue and in list (of job->queued: jobs parked elsewhere), with
//  ETIMEDOUT and why. The second returns true if any had.
void zaio_dispatch_expire (zaio_dispatch_t *self, int64_t pass_us);
bool zaio_dispatch_expire_list (zaio_dispatch_t *self, zaio_list_t *list, int64_t pass_us,
                                const char *why);

//  Ends every job of list (of job->queued), or every queued job of every
//  service, with code and why.
void zaio_dispatch_fail_list (zaio_dispatch_t *self, zaio_list_t *list, int code, const char *why);
void zaio_dispatch_fail_all (zaio_dispatch_t *self, int code, const char *why);

//  Every service, in no order (NULL after the last), for the stats op;
//  the table must not change while it is walked.
zaio_service_t *zaio_dispatch_first (zaio_dispatch_t *self);
zaio_service_t *zaio_dispatch_next (zaio_dispatch_t *self);

#endif
