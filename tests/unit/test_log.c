/*  test_log: zaio_log's two formats escape what a peer may have chosen
    (quotes, backslashes, control characters, bytes that are not UTF-8),
    cut a long message without breaking the line or a character, and the
    sample counts what it holds back; zaio_zpl names an unknown key and
    its line. */

#include "testutil.h"
#include "zaio_log.h"
#include "zaio_zpl.h"

#include <string.h>

//  The lines what logs, in format, as program "t".
static char *
s_lines (zaio_log_format_t format, void (*what) (void))
{
    zaio_log_set_program ("t");
    zaio_log_set_format (format);
    FILE *log = zaio_test_log_catch ();
    what ();
    char *text = zaio_test_log_release (&log);
    zaio_log_set_format (ZAIO_LOG_TEXT);
    return text;
}

static void
s_log_awkward (void)
{
    zaio_log (ZAIO_LOG_WARNING, "comp", "pe\"er",
              "a \"quote\" \\ back\nnew\x01 caf\xc3\xa9 \xff end");
}

//  Everything after the timestamp, which changes.
static const char *
s_after_stamp (const char *line, const char *marker)
{
    const char *at = strstr (line, marker);
    assert (at);
    return at;
}

static void
s_test_escapes (void)
{
    char *text = s_lines (ZAIO_LOG_TEXT, s_log_awkward);
    assert (
        streq (s_after_stamp (text, " WARN"),
               " WARN t comp [pe\"er]: a \"quote\" \\ back\\x0anew\\x01 caf\xc3\xa9 \xff end\n"));
    free (text);
    text = s_lines (ZAIO_LOG_JSON, s_log_awkward);
    assert (strncmp (text, "{\"ts\":\"", 7) == 0);
    assert (streq (s_after_stamp (text, "\",\"level"),
                   "\",\"level\":\"WARN\",\"program\":\"t\",\"component\":\"comp\","
                   "\"peer\":\"pe\\\"er\",\"msg\":\"a \\\"quote\\\" \\\\ back\\u000anew\\u0001 "
                   "caf\xc3\xa9 \\u00ff end\"}\n"));
    free (text);
}

static void
s_log_quotes (void)
{
    //  Quotes, each an escape of two bytes: the line fills inside them.
    char message[1501];
    memset (message, '"', 1500);
    message[1500] = 0;
    zaio_log (ZAIO_LOG_INFO, "comp", NULL, "%s", message);
}

static void
s_log_accents (void)
{
    //  Two-byte characters only.
    char message[4001];
    for (int i = 0; i < 4000; i += 2) message[i] = '\xc3', message[i + 1] = '\xa9';
    message[4000] = 0;
    zaio_log (ZAIO_LOG_INFO, "comp", NULL, "%s", message);
}

//  A long line is cut at a whole escape or character, and still closes.
static void
s_test_long_cut (void)
{
    char *text = s_lines (ZAIO_LOG_JSON, s_log_quotes);
    size_t length = strlen (text);
    assert (length <= 2048 && length > 2000);
    assert (streq (text + length - 5, "\\\"\"}\n"));
    assert (!strstr (text, "\"peer\""));
    free (text);
    text = s_lines (ZAIO_LOG_JSON, s_log_accents);
    length = strlen (text);
    assert (length <= 2048 && length > 2000);
    assert (streq (text + length - 5, "\xc3\xa9\"}\n"));
    free (text);
    text = s_lines (ZAIO_LOG_TEXT, s_log_accents);
    length = strlen (text);
    assert (length <= 2048 && length > 2000 && text[length - 1] == '\n');
    free (text);
}

//  One line a second, counting what it held back; a flush says the rest.
static void
s_test_sample (void)
{
    zaio_log_sample_t sample = {0, 0};
    uint64_t held = 99;
    assert (zaio_log_sample (&sample, 1000, 1000, &held) && held == 0);
    for (int i = 0; i < 5; i++) assert (!zaio_log_sample (&sample, 1500, 1000, &held));
    assert (!zaio_log_sample_flush (&sample, 1999, 1000, &held));
    assert (zaio_log_sample (&sample, 2000, 1000, &held) && held == 5);
    assert (!zaio_log_sample (&sample, 2100, 1000, &held));
    assert (zaio_log_sample_flush (&sample, 3000, 1000, &held) && held == 1);
    assert (!zaio_log_sample_flush (&sample, INT64_MAX, 1000, &held)); //  nothing held
    assert (!zaio_log_sample (&sample, 3500, 1000, &held));
    assert (zaio_log_sample_flush (&sample, INT64_MAX, 1000, &held) && held == 1);
    //  Kinds past the table's size share its last one.
    zaio_log_samples_t samples;
    memset (&samples, 0, sizeof samples);
    for (int key = 0; key < 100; key++) assert (zaio_log_samples_of (&samples, key));
    assert (samples.count == ZAIO_LOG_SAMPLE_KEYS);
    assert (zaio_log_samples_of (&samples, 3) == &samples.samples[3]);
    assert (zaio_log_samples_of (&samples, 99) == &samples.samples[ZAIO_LOG_SAMPLE_KEYS - 1]);
}

static void
s_test_zpl_check (void)
{
    char *dir = zaio_test_tempdir ("zpl");
    const char *known[] = {"a/b", "a/list/*", "free/**", NULL};
    const char *good = "# comment\na\n    b = 1   # trailing\n    list\n        x = 1\n"
                       "        y = 2\nfree\n    any\n        deep = 3\n";
    zaio_test_write_file (dir, "good.cfg", good, strlen (good));
    char *path = zsys_sprintf ("%s/good.cfg", dir);
    assert (zaio_zpl_check (path, known) == 0);
    zstr_free (&path);
    struct {
        const char *text, *said;
    } bad[] = {
        {"a\n    b = 1\n    c = 2\n", "bad.cfg:3: unknown key 'a/c'"},
        {"a\n    list\n        x = 1\n            y = 1\n", "bad.cfg:4: unknown key 'a/list/x/y'"},
        {"\n\nb\n", "bad.cfg:3: unknown key 'b'"},
    };
    path = zsys_sprintf ("%s/bad.cfg", dir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        zaio_test_write_file (dir, "bad.cfg", bad[i].text, strlen (bad[i].text));
        FILE *log = zaio_test_log_catch ();
        int rc = zaio_zpl_check (path, known);
        char *text = zaio_test_log_release (&log);
        assert (rc == -1 && strstr (text, bad[i].said));
        free (text);
    }
    zstr_free (&path);
    FILE *log = zaio_test_log_catch ();
    assert (zaio_zpl_check ("/nonexistent/x.cfg", known) == -1);
    char *text = zaio_test_log_release (&log);
    assert (strstr (text, "cannot read /nonexistent/x.cfg: No such file or directory"));
    free (text);
    zaio_test_rmtree (dir);
    zstr_free (&dir);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_escapes),
        ZAIO_TEST_CASE (s_test_long_cut),
        ZAIO_TEST_CASE (s_test_sample),
        ZAIO_TEST_CASE (s_test_zpl_check),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
