/*  test_worker_proto: the codec of ZAIOW/5's JOB and DONE (PROTOCOL.md
    section 9): entries written by zaio_batch_t read back by
    zaio_entries_t, the bytes pinned, and every malformed first part
    refused whole: a count of 0 or past ZAIO_CREDIT_MAX, a count that
    does not match the entries, truncated or oversized entries, bad flags,
    an outcome that does not decode, trailing bytes, and data frames that
    do not match the flags.
*/

#include "testutil.h"
#include "zaio_worker_proto.h"

#include <string.h>

//  A JOB of count jobs: job i+1 has header "hN" (N = i) and a data frame
//  when i is odd. Returns the first part; *data_frames its data count.
static zframe_t *
s_jobs (uint32_t count, uint64_t fence, size_t *data_frames)
{
    zaio_batch_t batch;
    zaio_batch_init (&batch);
    zaio_batch_start (&batch, ZAIO_WORKER_JOB, fence);
    *data_frames = 0;
    for (uint32_t i = 0; i < count; i++) {
        char header[16];
        snprintf (header, sizeof header, "h%u", i);
        zaio_batch_add_job (&batch, i + 1, header, strlen (header), i % 2, i % 2 ? 10 : 0);
        *data_frames += i % 2;
    }
    assert (batch.count == count && batch.data_count == *data_frames);
    zframe_t *frame = zaio_batch_frame (&batch);
    zaio_batch_release (&batch);
    return frame;
}

static void
s_test_round_trip (void)
{
    //  JOBs of 1, a few and the most jobs.
    const uint32_t counts[] = {1, 2, 7, ZAIO_CREDIT_MAX};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        size_t data_frames;
        zframe_t *frame = s_jobs (counts[c], 0x1112131415161718ULL, &data_frames);
        uint64_t number;
        assert (zaio_envelope_get (zframe_data (frame), zframe_size (frame), &number) ==
                    ZAIO_WORKER_JOB &&
                number == 0x1112131415161718ULL);
        zaio_entries_t entries;
        assert (zaio_entries_open (&entries, zframe_data (frame), zframe_size (frame),
                                   data_frames) == 0);
        assert (entries.command == ZAIO_WORKER_JOB && entries.count == counts[c] &&
                entries.data_count == data_frames && entries.number == 0x1112131415161718ULL);
        zaio_entry_t entry;
        uint32_t seen = 0;
        while (zaio_entries_next (&entries, &entry)) {
            char header[16];
            snprintf (header, sizeof header, "h%u", seen);
            assert (entry.job == seen + 1 && entry.has_data == (seen % 2 == 1));
            assert (entry.header_size == strlen (header) &&
                    memcmp (entry.header, header, entry.header_size) == 0);
            seen++;
        }
        assert (seen == counts[c] && !zaio_entries_next (&entries, &entry));
        zframe_destroy (&frame);
    }
    //  A DONE: outcomes and headers back as written.
    zaio_batch_t batch;
    zaio_batch_init (&batch);
    zaio_batch_start (&batch, ZAIO_WORKER_DONE, 0);
    const zaio_outcome_t outcomes[] = {
        {0, 4096, 30}, {ZAIO_ERR_UNKNOWN_OUTCOME, 0, 7}, {ENOENT, UINT64_MAX, UINT64_MAX}};
    for (uint32_t i = 0; i < 3; i++)
        zaio_batch_add_done (&batch, 100 + i, &outcomes[i], "reply", 5, i == 0, i == 0 ? 4096 : 0);
    assert (!zaio_batch_full (&batch));
    zframe_t *frame = zaio_batch_frame (&batch);
    zaio_entries_t entries;
    assert (zaio_entries_open (&entries, zframe_data (frame), zframe_size (frame), 1) == 0);
    assert (entries.command == ZAIO_WORKER_DONE && entries.count == 3);
    zaio_entry_t entry;
    for (uint32_t i = 0; i < 3; i++) {
        assert (zaio_entries_next (&entries, &entry));
        assert (entry.job == 100 + i && entry.has_data == (i == 0));
        assert (entry.outcome.error == outcomes[i].error &&
                entry.outcome.bytes == outcomes[i].bytes &&
                entry.outcome.service_us == outcomes[i].service_us);
        assert (entry.header_size == 5 && memcmp (entry.header, "reply", 5) == 0);
    }
    zframe_destroy (&frame);
    //  The batch is reusable after its frame is taken.
    zaio_batch_start (&batch, ZAIO_WORKER_DONE, 0);
    zaio_batch_add_done (&batch, 9, &outcomes[0], "r", 1, false, 0);
    frame = zaio_batch_frame (&batch);
    assert (zaio_entries_open (&entries, zframe_data (frame), zframe_size (frame), 0) == 0 &&
            entries.count == 1);
    zframe_destroy (&frame);
    zaio_batch_release (&batch);
}

//  The bytes, pinned, so a worker written from the spec alone agrees.
static void
s_test_bytes (void)
{
    zaio_batch_t batch;
    zaio_batch_init (&batch);
    zaio_batch_start (&batch, ZAIO_WORKER_JOB, 0x0102030405060708ULL);
    zaio_batch_add_job (&batch, 0x2122232425262728ULL, "\x81\xa2id\x01", 5, true, 3);
    zframe_t *frame = zaio_batch_frame (&batch);
    static const uint8_t job[] = "ZAIOW/5\x02"
                                 "\x01\x02\x03\x04\x05\x06\x07\x08" //  fence
                                 "\x00\x01"                         //  count
                                 "\x21\x22\x23\x24\x25\x26\x27\x28" //  job
                                 "\x01"                             //  flags: data
                                 "\x00\x00\x00\x05"                 //  header length
                                 "\x81\xa2id\x01";                  //  header
    assert (zframe_size (frame) == sizeof job - 1);
    assert (memcmp (zframe_data (frame), job, sizeof job - 1) == 0);
    zframe_destroy (&frame);

    zaio_batch_start (&batch, ZAIO_WORKER_DONE, 0);
    zaio_outcome_t outcome = {0, 3, 2};
    zaio_batch_add_done (&batch, 7, &outcome, "\x80", 1, false, 0);
    frame = zaio_batch_frame (&batch);
    static const uint8_t done[] = "ZAIOW/5\x03"
                                  "\x00\x00\x00\x00\x00\x00\x00\x00" //  0
                                  "\x00\x01"                         //  count
                                  "\x00\x00\x00\x00\x00\x00\x00\x07" //  job
                                  "\x00"                             //  flags: no data
                                  "\x05"                             //  outcome length
                                  "\x94\xc3\xc0\x03\x02"             //  [true, nil, 3, 2]
                                  "\x00\x00\x00\x01"                 //  header length
                                  "\x80";                            //  header: {}
    assert (zframe_size (frame) == sizeof done - 1);
    assert (memcmp (zframe_data (frame), done, sizeof done - 1) == 0);
    zframe_destroy (&frame);
    zaio_batch_release (&batch);
}

//  Opens a copy of size bytes of data with data_frames: the result.
static int
s_open (const uint8_t *data, size_t size, size_t data_frames)
{
    uint8_t *copy = (uint8_t *)malloc (size ? size : 1);
    memcpy (copy, data, size);
    zaio_entries_t entries;
    int rc = zaio_entries_open (&entries, copy, size, data_frames);
    if (rc) assert (entries.count == 0 && !zaio_entries_next (&entries, &(zaio_entry_t){0}));
    free (copy);
    return rc;
}

static void
s_test_malformed (void)
{
    size_t data_frames;
    zframe_t *frame = s_jobs (3, 5, &data_frames); //  jobs 1 and 3 plain, 2 with data
    const uint8_t *good = zframe_data (frame);
    size_t size = zframe_size (frame);
    assert (data_frames == 1 && s_open (good, size, 1) == 0);
    uint8_t bytes[256];
    assert (size <= sizeof bytes - 8);

    //  Frame count mismatch: the data frames must match the flags.
    assert (s_open (good, size, 0) == ZAIO_ERR_MALFORMED);
    assert (s_open (good, size, 2) == ZAIO_ERR_MALFORMED);
    //  Truncated anywhere: refused whole.
    for (size_t cut = 0; cut < size; cut++) assert (s_open (good, cut, 1) == ZAIO_ERR_MALFORMED);
    //  Trailing bytes after the last entry.
    memcpy (bytes, good, size);
    bytes[size] = 0;
    assert (s_open (bytes, size + 1, 1) == ZAIO_ERR_MALFORMED);
    //  Counts: 0, one more or one fewer than the entries, past the most.
    const uint16_t counts[] = {0, 2, 4, ZAIO_CREDIT_MAX + 1, 0xFFFF};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        memcpy (bytes, good, size);
        bytes[ZAIO_ENVELOPE_SIZE] = (uint8_t)(counts[i] >> 8);
        bytes[ZAIO_ENVELOPE_SIZE + 1] = (uint8_t)counts[i];
        assert (s_open (bytes, size, 1) == ZAIO_ERR_MALFORMED);
    }
    //  The first entry: flags other than the data bit; a header of 0
    //  bytes, or longer than the frame (oversized, up to 2^32-1).
    const size_t entry = ZAIO_ENTRIES_HEAD_SIZE;
    const uint8_t flags[] = {2, 0x80, 0xFF};
    for (size_t i = 0; i < sizeof flags; i++) {
        memcpy (bytes, good, size);
        bytes[entry + 8] = flags[i];
        assert (s_open (bytes, size, 1) == ZAIO_ERR_MALFORMED);
    }
    const uint32_t lengths[] = {0, 3, (uint32_t)size, UINT32_MAX};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        memcpy (bytes, good, size);
        bytes[entry + 9] = (uint8_t)(lengths[i] >> 24);
        bytes[entry + 10] = (uint8_t)(lengths[i] >> 16);
        bytes[entry + 11] = (uint8_t)(lengths[i] >> 8);
        bytes[entry + 12] = (uint8_t)lengths[i];
        assert (s_open (bytes, size, 1) == ZAIO_ERR_MALFORMED);
    }
    //  Not a JOB or DONE: the bare commands carry no entries.
    memcpy (bytes, good, size);
    bytes[7] = ZAIO_WORKER_HEARTBEAT;
    assert (s_open (bytes, size, 1) == ZAIO_ERR_MALFORMED);
    //  Another version's JOB.
    memcpy (bytes, good, size);
    bytes[6] = '4';
    assert (s_open (bytes, size, 1) == ZAIO_ERR_MALFORMED);
    zframe_destroy (&frame);

    //  A DONE: its number must be 0, its outcome decode exactly.
    zaio_batch_t batch;
    zaio_batch_init (&batch);
    zaio_batch_start (&batch, ZAIO_WORKER_DONE, 0);
    zaio_outcome_t outcome = {0, 3, 2};
    zaio_batch_add_done (&batch, 7, &outcome, "\x80", 1, false, 0);
    frame = zaio_batch_frame (&batch);
    good = zframe_data (frame);
    size = zframe_size (frame);
    assert (s_open (good, size, 0) == 0);
    memcpy (bytes, good, size);
    bytes[15] = 1; //  the number
    assert (s_open (bytes, size, 0) == ZAIO_ERR_MALFORMED);
    const size_t outcome_at = ZAIO_ENTRIES_HEAD_SIZE + 9;
    const uint8_t outcome_lengths[] = {0, 4, 6, 0xFF};
    for (size_t i = 0; i < sizeof outcome_lengths; i++) {
        memcpy (bytes, good, size);
        bytes[outcome_at] = outcome_lengths[i];
        assert (s_open (bytes, size, 0) == ZAIO_ERR_MALFORMED);
    }
    memcpy (bytes, good, size);
    bytes[outcome_at + 1] = 0x93; //  [true, nil, 3] and a stray 2
    assert (s_open (bytes, size, 0) == ZAIO_ERR_MALFORMED);
    memcpy (bytes, good, size);
    bytes[outcome_at + 2] = 0xc2; //  ok false with no error name
    assert (s_open (bytes, size, 0) == ZAIO_ERR_MALFORMED);
    zframe_destroy (&frame);
    zaio_batch_release (&batch);

    //  Random bytes behind a good head never open into a wrong reader.
    for (int round = 0; round < 2000; round++) {
        size_t length = ZAIO_ENTRIES_HEAD_SIZE + (size_t)(random () % 60);
        zaio_envelope_put (bytes, round % 2 ? ZAIO_WORKER_DONE : ZAIO_WORKER_JOB, 0);
        for (size_t i = ZAIO_ENVELOPE_SIZE; i < length; i++) bytes[i] = (uint8_t)random ();
        bytes[ZAIO_ENVELOPE_SIZE] = 0;
        zaio_entries_t entries;
        if (zaio_entries_open (&entries, bytes, length, (size_t)(random () % 3)) == 0) {
            zaio_entry_t any;
            uint32_t seen = 0;
            while (zaio_entries_next (&entries, &any)) {
                assert (any.header >= bytes && any.header + any.header_size <= bytes + length);
                seen++;
            }
            assert (seen == entries.count);
        }
    }
}

//  A batch is full at the most entries or past the byte bounds.
static void
s_test_full (void)
{
    zaio_batch_t batch;
    zaio_batch_init (&batch);
    zaio_batch_start (&batch, ZAIO_WORKER_JOB, 0);
    for (uint32_t i = 0; i < ZAIO_CREDIT_MAX; i++) {
        assert (!zaio_batch_full (&batch));
        zaio_batch_add_job (&batch, i, "h", 1, false, 0);
    }
    assert (zaio_batch_full (&batch));
    zaio_batch_start (&batch, ZAIO_WORKER_JOB, 0);
    zaio_batch_add_job (&batch, 1, "h", 1, true, ZAIO_WORKER_BATCH_DATA);
    assert (zaio_batch_full (&batch));
    zaio_batch_start (&batch, ZAIO_WORKER_JOB, 0);
    char *big = (char *)zmalloc (ZAIO_WORKER_BATCH_BYTES);
    memset (big, 'x', ZAIO_WORKER_BATCH_BYTES);
    zaio_batch_add_job (&batch, 1, big, ZAIO_WORKER_BATCH_BYTES, false, 0);
    assert (zaio_batch_full (&batch));
    zframe_t *frame = zaio_batch_frame (&batch);
    zaio_entries_t entries;
    assert (zaio_entries_open (&entries, zframe_data (frame), zframe_size (frame), 0) == 0);
    zaio_entry_t entry;
    assert (zaio_entries_next (&entries, &entry) && entry.header_size == ZAIO_WORKER_BATCH_BYTES);
    zframe_destroy (&frame);
    free (big);
    zaio_batch_release (&batch);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_round_trip),
        ZAIO_TEST_CASE (s_test_bytes),
        ZAIO_TEST_CASE (s_test_malformed),
        ZAIO_TEST_CASE (s_test_full),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
