/*  test_credit.c: the credit pool (zaio_credit.h), called directly.

    The pick rule the broker and the relay share: the taker with the most
    credit gets the job, ties go to the one that waited longest, and an
    urgent job goes only to a taker that holds nothing. Then seating and
    unseating, a taker in two pools (a broker worker serving two volumes),
    and the credit counts at their edges, including the misuses the pool
    refuses with an assert (run in a child that must abort).
*/

#include "testutil.h"
#include "zaio_credit.h"

#include <assert.h>
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

//  A taker holding (capacity - credit) jobs.
static zaio_taker_t
s_taker (uint32_t credit, uint32_t capacity)
{
    return (zaio_taker_t){.credit = credit, .capacity = capacity};
}

//  The taker pool picks, checking that the seat it names is the taker's.
static zaio_taker_t *
s_pick (zaio_credit_t *pool, bool idle_only)
{
    void *seat = (void *)1;
    zaio_taker_t *taker = zaio_credit_pick (pool, idle_only, &seat);
    assert (taker ? seat != NULL : seat == NULL);
    return taker;
}

static void
s_test_empty_pool (void)
{
    zaio_credit_t *pool = zaio_credit_new ();
    assert (pool);
    assert (zaio_credit_size (pool) == 0);
    assert (s_pick (pool, false) == NULL);
    assert (s_pick (pool, true) == NULL);
    assert (zaio_credit_pick (pool, false, NULL) == NULL);
    zaio_credit_destroy (&pool);
    assert (pool == NULL);
    zaio_credit_destroy (&pool); //  idempotent
}

static void
s_test_most_credit_wins (void)
{
    zaio_credit_t *pool = zaio_credit_new ();
    zaio_taker_t a = s_taker (1, 4), b = s_taker (3, 4), c = s_taker (2, 4);
    zaio_credit_seat (pool, &a);
    zaio_credit_seat (pool, &b);
    zaio_credit_seat (pool, &c);
    assert (s_pick (pool, false) == &b);
    //  Credit left counts, not capacity: d holds more jobs than b and
    //  still has the most room.
    zaio_taker_t d = s_taker (5, 8);
    zaio_credit_seat (pool, &d);
    assert (s_pick (pool, false) == &d);
    //  The pool reads credit as the owner keeps it.
    d.credit = 2;
    assert (s_pick (pool, false) == &b);
    assert (zaio_credit_size (pool) == 4);
    zaio_credit_destroy (&pool);
}

static void
s_test_ties_go_to_least_recently_used (void)
{
    zaio_credit_t *pool = zaio_credit_new ();
    zaio_taker_t a = s_taker (2, 2), b = s_taker (2, 2), c = s_taker (2, 2);
    //  Seated in order: the one seated first waited longest.
    void *seat_a = zaio_credit_seat (pool, &a);
    void *seat_b = zaio_credit_seat (pool, &b);
    void *seat_c = zaio_credit_seat (pool, &c);
    void *seat;
    assert (zaio_credit_pick (pool, false, &seat) == &a && seat == seat_a);
    zaio_credit_used (pool, seat_a);
    assert (zaio_credit_pick (pool, false, &seat) == &b && seat == seat_b);
    zaio_credit_used (pool, seat_b);
    assert (zaio_credit_pick (pool, false, &seat) == &c && seat == seat_c);
    zaio_credit_used (pool, seat_c);
    assert (s_pick (pool, false) == &a);
    //  Among the ones with the most, not among all: b, now the only one
    //  with 2, wins though a waited longer.
    a.credit = c.credit = 1;
    assert (s_pick (pool, false) == &b);
    zaio_credit_destroy (&pool);
}

static void
s_test_idle_only_picks_takers_holding_nothing (void)
{
    zaio_credit_t *pool = zaio_credit_new ();
    zaio_taker_t a = s_taker (1, 2), b = s_taker (2, 2), c = s_taker (3, 3);
    zaio_credit_seat (pool, &a);
    void *seat_b = zaio_credit_seat (pool, &b);
    zaio_credit_seat (pool, &c);
    //  The idle one that waited longest, though c has more credit; a has
    //  credit but holds a job.
    assert (s_pick (pool, true) == &b);
    assert (s_pick (pool, false) == &c);
    zaio_credit_used (pool, seat_b);
    assert (s_pick (pool, true) == &c);
    //  Nobody idle: no taker at all, though all have credit.
    b.credit = 1;
    c.credit = 2;
    assert (s_pick (pool, true) == NULL);
    assert (s_pick (pool, false) == &c);
    //  A job back makes a idle again.
    a.credit = 2;
    assert (s_pick (pool, true) == &a);
    zaio_credit_destroy (&pool);
}

static void
s_test_unseat_and_seat_again (void)
{
    zaio_credit_t *pool = zaio_credit_new ();
    zaio_taker_t a = s_taker (2, 2), b = s_taker (2, 2);
    void *seat_a = zaio_credit_seat (pool, &a);
    void *seat_b = zaio_credit_seat (pool, &b);
    zaio_credit_unseat (pool, seat_a);
    assert (zaio_credit_size (pool) == 1);
    assert (s_pick (pool, false) == &b);
    assert (s_pick (pool, true) == &b);
    //  Seated again, a comes last: b waited longer.
    seat_a = zaio_credit_seat (pool, &a);
    assert (zaio_credit_size (pool) == 2);
    assert (s_pick (pool, false) == &b);
    zaio_credit_unseat (pool, seat_b);
    zaio_credit_unseat (pool, seat_a);
    assert (zaio_credit_size (pool) == 0);
    assert (s_pick (pool, false) == NULL);
    //  Destroying a pool leaves its takers alone: the owner keeps them.
    zaio_credit_seat (pool, &a);
    zaio_credit_destroy (&pool);
    assert (a.credit == 2 && a.capacity == 2);
}

//  A taker w in pools p and q, as a broker worker serving two volumes, with
//  its owner's bookkeeping: after each job it goes last in both, or out of
//  both with its last credit; with a credit back it returns to both.
static void
s_test_taker_in_two_pools (void)
{
    zaio_credit_t *p = zaio_credit_new ();
    zaio_credit_t *q = zaio_credit_new ();
    zaio_taker_t w = s_taker (2, 2), x = s_taker (2, 2), y = s_taker (2, 2);
    void *w_in_p = zaio_credit_seat (p, &w);
    zaio_credit_seat (p, &x);
    void *w_in_q = zaio_credit_seat (q, &w);
    zaio_credit_seat (q, &y);
    //  p's job goes to w, which waited longest there (and in q).
    assert (s_pick (p, false) == &w);
    assert (s_pick (q, false) == &w);
    assert (!zaio_taker_took (&w));
    zaio_credit_used (p, w_in_p);
    zaio_credit_used (q, w_in_q);
    //  Now w holds a job in both: x and y have more credit, and w is no
    //  longer idle in q either.
    assert (s_pick (p, false) == &x);
    assert (s_pick (q, false) == &y);
    assert (s_pick (q, true) == &y);
    //  A tie with y: y has waited longer in q since w took p's job.
    y.credit = 1;
    assert (s_pick (q, false) == &y);
    assert (s_pick (q, true) == NULL);
    //  w's last credit, taken through q: out of both pools.
    assert (zaio_taker_took (&w));
    zaio_credit_unseat (p, w_in_p);
    zaio_credit_unseat (q, w_in_q);
    assert (zaio_credit_size (p) == 1 && zaio_credit_size (q) == 1);
    assert (s_pick (p, false) == &x);
    assert (s_pick (q, false) == &y);
    //  One credit back: into both again, last.
    assert (zaio_taker_returned (&w));
    w_in_p = zaio_credit_seat (p, &w);
    w_in_q = zaio_credit_seat (q, &w);
    assert (s_pick (p, false) == &x);
    assert (s_pick (q, false) == &y);
    //  The other back: w idle, with the most credit in q.
    assert (!zaio_taker_returned (&w));
    assert (s_pick (q, false) == &w);
    assert (s_pick (q, true) == &w);
    assert (s_pick (p, true) == &x);
    zaio_credit_destroy (&p);
    zaio_credit_destroy (&q);
}

static void
s_test_took_and_returned_at_the_edges (void)
{
    //  Capacity 1: every job is the last credit, every DONE the first.
    zaio_taker_t one = s_taker (1, 1);
    assert (zaio_taker_took (&one) && one.credit == 0);
    assert (zaio_taker_returned (&one) && one.credit == 1);
    assert (zaio_taker_took (&one));
    assert (zaio_taker_returned (&one));
    //  Capacity 3: only the third job empties it, only the first credit
    //  back refills it from nothing.
    zaio_taker_t three = s_taker (3, 3);
    assert (!zaio_taker_took (&three));
    assert (!zaio_taker_took (&three));
    assert (zaio_taker_took (&three) && three.credit == 0);
    assert (zaio_taker_returned (&three));
    assert (!zaio_taker_returned (&three));
    assert (!zaio_taker_returned (&three) && three.credit == 3);
    //  The top of the range a READY may offer.
    zaio_taker_t most = s_taker (1024, 1024);
    assert (!zaio_taker_took (&most) && most.credit == 1023);
    assert (!zaio_taker_returned (&most) && most.credit == 1024);
}

//  Runs misuse in a child, which must die of its assert.
static void
s_aborts (void (*misuse) (void))
{
    fflush (stdout);
    pid_t pid = fork ();
    assert (pid >= 0);
    if (pid == 0) {
        struct rlimit none = {0, 0};
        setrlimit (RLIMIT_CORE, &none);
        freopen ("/dev/null", "w", stderr); //  the assert's message is expected
        misuse ();
        _exit (0);
    }
    int status;
    assert (waitpid (pid, &status, 0) == pid);
    assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGABRT);
}

static void
s_take_from_none (void)
{
    zaio_taker_t taker = s_taker (0, 2);
    zaio_taker_took (&taker);
}

static void
s_return_past_capacity (void)
{
    zaio_taker_t taker = s_taker (2, 2);
    zaio_taker_returned (&taker);
}

//  zlistx reads a NULL handle as "the first": another taker would go.
static void
s_unseat_nothing (void)
{
    zaio_credit_t *pool = zaio_credit_new ();
    zaio_taker_t taker = s_taker (1, 1);
    zaio_credit_seat (pool, &taker);
    zaio_credit_unseat (pool, NULL);
}

static void
s_use_nothing (void)
{
    zaio_credit_t *pool = zaio_credit_new ();
    zaio_taker_t a = s_taker (1, 1), b = s_taker (1, 1);
    zaio_credit_seat (pool, &a);
    zaio_credit_seat (pool, &b);
    zaio_credit_used (pool, NULL);
}

static void
s_test_misuse_is_refused (void)
{
    s_aborts (s_take_from_none);
    s_aborts (s_return_past_capacity);
    s_aborts (s_unseat_nothing);
    s_aborts (s_use_nothing);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_empty_pool),
        ZAIO_TEST_CASE (s_test_most_credit_wins),
        ZAIO_TEST_CASE (s_test_ties_go_to_least_recently_used),
        ZAIO_TEST_CASE (s_test_idle_only_picks_takers_holding_nothing),
        ZAIO_TEST_CASE (s_test_unseat_and_seat_again),
        ZAIO_TEST_CASE (s_test_taker_in_two_pools),
        ZAIO_TEST_CASE (s_test_took_and_returned_at_the_edges),
        ZAIO_TEST_CASE (s_test_misuse_is_refused),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
