/*  test_fence: a zaio-worker starts no non-idempotent job past its fence
    (zaio_fence.h, schemas/PROTOCOL.md section 9).

    1. verdicts: zaio_fence_check on its own: a job's own fence, the
       connection's newest one, a job of a connection replaced, and a
       thread of the broker's own (no shared fence).
*/

#include "testutil.h"
#include "zaio_fence.h"

#include <string.h>

//  ---------------------------------------------------------------------
//  1. verdicts

static void
s_test_verdicts (void)
{
    //  A thread of the broker's: only the job's own fence counts.
    assert (zaio_fence_check (NULL, 1, ZAIO_FENCE_NONE, UINT64_MAX - 1) == ZAIO_FENCE_OPEN);
    assert (zaio_fence_check (NULL, 1, 100, 99) == ZAIO_FENCE_OPEN);
    assert (zaio_fence_check (NULL, 1, 100, 100) == ZAIO_FENCE_PASSED);

    zaio_fence_t *fence = zaio_fence_new ();
    //  No connection yet: nothing shared has come.
    assert (zaio_fence_check (fence, 1, 0, 1) == ZAIO_FENCE_PASSED);
    zaio_fence_connection (fence, 1);
    assert (zaio_fence_check (fence, 1, 50, 60) == ZAIO_FENCE_PASSED);
    //  The connection's newest fence opens its jobs whose own has passed;
    //  an older one changes nothing.
    zaio_fence_extend (fence, 200);
    zaio_fence_extend (fence, 150);
    assert (zaio_fence_check (fence, 1, 50, 199) == ZAIO_FENCE_OPEN);
    assert (zaio_fence_check (fence, 1, 50, 200) == ZAIO_FENCE_PASSED);
    assert (zaio_fence_check (fence, 1, 300, 250) == ZAIO_FENCE_OPEN);
    //  A new connection from job 5 on: the jobs before are old, whatever
    //  their fences, and its own fence starts passed.
    zaio_fence_connection (fence, 5);
    assert (zaio_fence_check (fence, 4, ZAIO_FENCE_NONE, 10) == ZAIO_FENCE_OLD);
    assert (zaio_fence_check (fence, 5, 50, 100) == ZAIO_FENCE_PASSED);
    zaio_fence_extend (fence, 1000);
    assert (zaio_fence_check (fence, 5, 50, 100) == ZAIO_FENCE_OPEN);
    assert (zaio_fence_check (fence, 4, 50, 100) == ZAIO_FENCE_OLD);
    zaio_fence_destroy (&fence);
    zaio_fence_destroy (&fence);
    assert (!fence);
    //  The clock moves on.
    uint64_t before = zaio_fence_clock_us ();
    zclock_sleep (2);
    assert (zaio_fence_clock_us () > before);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_verdicts),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
