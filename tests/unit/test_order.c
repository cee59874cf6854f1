/*  test_order.c: a client's order among its jobs (broker/zaio_order.h),
    called directly.

    Jobs are admitted and finished by hand, and each step checks which jobs
    it released (by request id, in the order released) and which of them
    are cancelled: keys, barriers and links alone and together, a job that
    stays unfinished (as one answered early, on its deadline, does) holding
    those after it, and tens of thousands of barriers, keys and links in
    time and memory that grow linearly.
*/

#undef NDEBUG
#include "testutil.h"
#include "zaio_jobs.h"
#include "zaio_order.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#define S_MANY 50000 //  jobs of the scale cases

typedef struct {
    zaio_jobs_t *jobs;
    zaio_order_t order;
    zaio_list_t released;
    uint64_t next_id;
} s_client_t;

static void
s_client_init (s_client_t *self)
{
    self->jobs = zaio_jobs_new ();
    zaio_order_init (&self->order);
    zaio_list_init (&self->released);
    self->next_id = 1;
}

static void
s_client_clear (s_client_t *self)
{
    assert (self->released.size == 0);
    zaio_order_clear (&self->order);
    zaio_jobs_destroy (&self->jobs);
}

//  Admits the client's next job (ids 1, 2, 3...), with key (or NULL),
//  barrier and link; checks that it may run at once if and only if runs.
static zaio_job_t *
s_admit (s_client_t *self, const char *key, bool barrier, bool link, bool runs)
{
    zaio_job_t *job = zaio_jobs_add (self->jobs, "");
    job->id = self->next_id++;
    if (key) job->key = strdup (key);
    job->barrier = barrier;
    job->link = link;
    bool runnable = zaio_order_admit (&self->order, job);
    assert (runnable == runs);
    assert (runnable == (job->blockers == 0));
    return job;
}

static zaio_job_t *
s_job (s_client_t *self, bool runs)
{
    return s_admit (self, NULL, false, false, runs);
}

//  Finishes *job_p (failed or not) and checks that it released exactly
//  the jobs expected: ids separated by spaces, in order, a cancelled one
//  marked with a trailing "!" ("3 4!"); "" for none.
static void
s_finish (s_client_t *self, zaio_job_t **job_p, bool failed, const char *expected)
{
    zaio_order_finish (&self->order, *job_p, failed, &self->released);
    zaio_jobs_remove (self->jobs, job_p);
    char got[256] = "";
    zaio_link_t *link;
    while ((link = zaio_list_pop (&self->released))) {
        zaio_job_t *job = ZAIO_HOLDER (link, zaio_job_t, queued);
        assert (job->blockers == 0);
        size_t used = strlen (got);
        snprintf (got + used, sizeof got - used, "%s%" PRIu64 "%s", used ? " " : "", job->id,
                  job->cancel ? "!" : "");
    }
    if (strcmp (got, expected)) {
        fprintf (stderr, "released \"%s\", expected \"%s\"\n", got, expected);
        assert (false);
    }
}

static void
s_test_free_jobs_run_at_once (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *a = s_job (&c, true);
    zaio_job_t *b = s_admit (&c, "k", false, false, true);
    zaio_job_t *d = s_admit (&c, "other", false, false, true);
    assert (zaio_order_unfinished (&c.order) == 3);
    s_finish (&c, &b, false, "");
    s_finish (&c, &a, true, "");
    s_finish (&c, &d, false, "");
    assert (zaio_order_unfinished (&c.order) == 0);
    s_client_clear (&c);
}

static void
s_test_key_is_a_queue (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *a1 = s_admit (&c, "a", false, false, true);
    zaio_job_t *a2 = s_admit (&c, "a", false, false, false);
    zaio_job_t *b3 = s_admit (&c, "b", false, false, true);
    zaio_job_t *a4 = s_admit (&c, "a", false, false, false);
    s_finish (&c, &b3, false, "");
    zaio_job_t *b5 = s_admit (&c, "b", false, false, true);
    s_finish (&c, &a1, true, "2"); //  a failure does not cancel by key
    s_finish (&c, &a2, false, "4");
    s_finish (&c, &a4, false, "");
    zaio_job_t *a6 = s_admit (&c, "a", false, false, true);
    s_finish (&c, &a6, false, "");
    s_finish (&c, &b5, false, "");
    s_client_clear (&c);
}

static void
s_test_barrier_waits_for_all_before_and_holds_all_after (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *j1 = s_job (&c, true);
    zaio_job_t *j2 = s_job (&c, true);
    zaio_job_t *b3 = s_admit (&c, NULL, true, false, false);
    zaio_job_t *j4 = s_job (&c, false);
    zaio_job_t *j5 = s_admit (&c, "k", false, false, false);
    zaio_job_t *b6 = s_admit (&c, NULL, true, false, false);
    zaio_job_t *j7 = s_job (&c, false);
    s_finish (&c, &j2, false, "");
    s_finish (&c, &j1, true, "3");
    s_finish (&c, &b3, false, "4 5");
    s_finish (&c, &j5, false, "");
    s_finish (&c, &j4, false, "6");
    s_finish (&c, &b6, false, "7");
    zaio_job_t *j8 = s_job (&c, true); //  no barrier unfinished
    s_finish (&c, &j7, false, "");
    s_finish (&c, &j8, false, "");
    s_client_clear (&c);
}

static void
s_test_barrier_alone_runs_and_later_jobs_run_after_it (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *b1 = s_admit (&c, NULL, true, false, true);
    zaio_job_t *j2 = s_job (&c, false);
    s_finish (&c, &b1, false, "2");
    zaio_job_t *j3 = s_job (&c, true);
    zaio_job_t *b4 = s_admit (&c, NULL, true, false, false);
    s_finish (&c, &j3, false, "");
    s_finish (&c, &j2, false, "4");
    s_finish (&c, &b4, false, "");
    s_client_clear (&c);
}

static void
s_test_barriers_in_a_row_run_one_at_a_time (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *b1 = s_admit (&c, NULL, true, false, true);
    zaio_job_t *b2 = s_admit (&c, NULL, true, false, false);
    zaio_job_t *b3 = s_admit (&c, NULL, true, false, false);
    zaio_job_t *j4 = s_job (&c, false);
    s_finish (&c, &b1, false, "2");
    s_finish (&c, &b2, true, "3"); //  a failed barrier cancels nothing
    s_finish (&c, &b3, false, "4");
    s_finish (&c, &j4, false, "");
    s_client_clear (&c);
}

static void
s_test_link_holds_the_next_and_cancels_it_on_failure (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *l1 = s_admit (&c, NULL, false, true, true);
    zaio_job_t *l2 = s_admit (&c, NULL, false, true, false);
    zaio_job_t *j3 = s_job (&c, false);
    zaio_job_t *j4 = s_job (&c, true); //  after an unlinked job
    s_finish (&c, &j4, false, "");
    s_finish (&c, &l1, false, "2");
    s_finish (&c, &l2, true, "3!");
    s_finish (&c, &j3, true, "");
    //  A linked job that failed with nothing after it cancels the next
    //  request on arrival, and only that one.
    zaio_job_t *l5 = s_admit (&c, NULL, false, true, true);
    s_finish (&c, &l5, true, "");
    assert (c.order.link_broken);
    zaio_job_t *j6 = s_job (&c, true);
    assert (j6->cancel);
    zaio_job_t *j7 = s_job (&c, true);
    assert (!j7->cancel);
    s_finish (&c, &j6, true, "");
    s_finish (&c, &j7, false, "");
    //  One that succeeded cancels nothing.
    zaio_job_t *l8 = s_admit (&c, NULL, false, true, true);
    s_finish (&c, &l8, false, "");
    zaio_job_t *j9 = s_job (&c, true);
    assert (!j9->cancel);
    s_finish (&c, &j9, false, "");
    s_client_clear (&c);
}

static void
s_test_key_and_barrier_together (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *k1 = s_admit (&c, "a", false, false, true);
    zaio_job_t *b2 = s_admit (&c, "a", true, false, false); //  key and barrier
    zaio_job_t *k3 = s_admit (&c, "a", false, false, false);
    zaio_job_t *k4 = s_admit (&c, "b", false, false, false);
    s_finish (&c, &k1, false, "2");
    s_finish (&c, &b2, false, "3 4");
    s_finish (&c, &k4, false, "");
    s_finish (&c, &k3, false, "");
    s_client_clear (&c);
}

static void
s_test_key_released_by_barrier_last (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *b1 = s_admit (&c, NULL, true, false, true);
    zaio_job_t *k2 = s_admit (&c, "a", false, false, false);
    zaio_job_t *k3 = s_admit (&c, "a", false, false, false);
    s_finish (&c, &b1, false, "2"); //  3 still waits for 2 by its key
    s_finish (&c, &k2, false, "3");
    s_finish (&c, &k3, false, "");
    s_client_clear (&c);
}

static void
s_test_link_and_barrier_together (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *l1 = s_admit (&c, NULL, false, true, true);
    zaio_job_t *b2 = s_admit (&c, NULL, true, true, false); //  linked barrier
    zaio_job_t *j3 = s_job (&c, false);
    s_finish (&c, &l1, true, "2!");
    s_finish (&c, &b2, true, "3!");
    s_finish (&c, &j3, true, "");
    s_client_clear (&c);
}

static void
s_test_key_link_and_barrier_on_one_job (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *k1 = s_admit (&c, "a", false, false, true);
    zaio_job_t *l2 = s_admit (&c, NULL, false, true, true);
    zaio_job_t *all3 = s_admit (&c, "a", true, true, false); //  waits for 1 and 2 thrice over
    zaio_job_t *j4 = s_job (&c, false);
    s_finish (&c, &l2, false, "");
    s_finish (&c, &k1, false, "3");
    s_finish (&c, &all3, false, "4");
    s_finish (&c, &j4, false, "");
    s_client_clear (&c);
}

//  A job held behind another stays unfinished however it was answered
//  (the broker answers one whose deadline passed, and finishes it only
//  once what it waited for ends), and holds the jobs after it.
static void
s_test_held_job_holds_those_after_it_until_it_ends (void)
{
    s_client_t c;
    s_client_init (&c);
    zaio_job_t *k1 = s_admit (&c, "a", false, false, true);
    zaio_job_t *k2 = s_admit (&c, "a", false, false, false); //  expires while held
    zaio_job_t *b3 = s_admit (&c, NULL, true, false, false);
    zaio_job_t *k4 = s_admit (&c, "a", false, false, false);
    s_finish (&c, &k1, false, "2");
    s_finish (&c, &k2, true, "3");
    s_finish (&c, &b3, false, "4");
    s_finish (&c, &k4, false, "");
    s_client_clear (&c);
}

//  Peak resident size of this process, in KiB.
static long
s_peak_kib (void)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

//  Admits S_MANY barriers behind one running job, then finishes them:
//  each releases the next. Memory and time grow with the jobs, not their
//  square (which took gigabytes at this count).
static void
s_test_many_barriers_cost_linear_memory (void)
{
    s_client_t c;
    s_client_init (&c);
    long peak = s_peak_kib ();
    int64_t start = zclock_usecs ();
    zaio_job_t **jobs = (zaio_job_t **)calloc (S_MANY, sizeof *jobs);
    jobs[0] = s_job (&c, true);
    for (int i = 1; i < S_MANY; i++) jobs[i] = s_admit (&c, NULL, true, false, false);
    for (int i = 0; i < S_MANY; i++) {
        char next[32] = "";
        if (i + 1 < S_MANY) snprintf (next, sizeof next, "%d", i + 2);
        s_finish (&c, &jobs[i], false, next);
    }
    free (jobs);
    long grown_kib = s_peak_kib () - peak;
    int64_t took_us = zclock_usecs () - start;
    printf ("%d barriers: %ld KiB more peak memory, %" PRId64 " ms\n", S_MANY, grown_kib,
            took_us / 1000);
    assert (grown_kib < 64 * 1024);
    s_client_clear (&c);
}

//  Keys, links and barriers mixed, finished newest first where order
//  allows: still linear.
static void
s_test_many_mixed_jobs_cost_linear_memory (void)
{
    s_client_t c;
    s_client_init (&c);
    long peak = s_peak_kib ();
    zaio_job_t **jobs = (zaio_job_t **)calloc (S_MANY, sizeof *jobs);
    for (int i = 0; i < S_MANY; i++) {
        zaio_job_t *job = zaio_jobs_add (c.jobs, "");
        job->id = c.next_id++;
        if (i % 3 == 0) job->key = strdup (i % 2 ? "odd" : "even");
        job->barrier = i % 1000 == 999;
        job->link = i % 7 == 0;
        zaio_order_admit (&c.order, job);
        jobs[i] = job;
    }
    //  Run what may run, finishing the newest runnable first.
    zaio_list_t runnable;
    zaio_list_init (&runnable);
    for (int i = 0; i < S_MANY; i++)
        if (jobs[i]->blockers == 0) zaio_list_add (&runnable, &jobs[i]->queued, false);
    size_t finished = 0;
    zaio_link_t *link;
    while ((link = zaio_list_last (&runnable))) {
        zaio_list_remove (&runnable, link);
        zaio_job_t *job = ZAIO_HOLDER (link, zaio_job_t, queued);
        zaio_order_finish (&c.order, job, false, &c.released);
        zaio_jobs_remove (c.jobs, &job);
        finished++;
        while ((link = zaio_list_pop (&c.released))) zaio_list_add (&runnable, link, false);
    }
    free (jobs);
    assert (finished == S_MANY);
    assert (zaio_order_unfinished (&c.order) == 0);
    assert (s_peak_kib () - peak < 64 * 1024);
    s_client_clear (&c);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_free_jobs_run_at_once),
        ZAIO_TEST_CASE (s_test_key_is_a_queue),
        ZAIO_TEST_CASE (s_test_barrier_waits_for_all_before_and_holds_all_after),
        ZAIO_TEST_CASE (s_test_barrier_alone_runs_and_later_jobs_run_after_it),
        ZAIO_TEST_CASE (s_test_barriers_in_a_row_run_one_at_a_time),
        ZAIO_TEST_CASE (s_test_link_holds_the_next_and_cancels_it_on_failure),
        ZAIO_TEST_CASE (s_test_key_and_barrier_together),
        ZAIO_TEST_CASE (s_test_key_released_by_barrier_last),
        ZAIO_TEST_CASE (s_test_link_and_barrier_together),
        ZAIO_TEST_CASE (s_test_key_link_and_barrier_on_one_job),
        ZAIO_TEST_CASE (s_test_held_job_holds_those_after_it_until_it_ends),
        ZAIO_TEST_CASE (s_test_many_barriers_cost_linear_memory),
        ZAIO_TEST_CASE (s_test_many_mixed_jobs_cost_linear_memory),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
