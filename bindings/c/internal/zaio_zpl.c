/*  zaio_zpl.c: a config file's keys, checked; see zaio_zpl.h. */

#include "zaio_zpl.h"
#include "zaio_log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Deepest key path checked, in levels; deeper lines are zconfig's to judge
//  (it refuses nothing for depth, but no zaio key is this deep).
#define S_DEPTH_MAX 8
#define S_NAME_MAX  256

//  True if key (a full path, "broker/bind/tcp") is known to pattern.
static bool
s_matches (const char *key, const char *pattern)
{
    size_t key_len = strlen (key), pattern_len = strlen (pattern);
    if (strcmp (key, pattern) == 0) return true;
    //  A section on the way to a known key.
    if (pattern_len > key_len && strncmp (pattern, key, key_len) == 0 && pattern[key_len] == '/')
        return true;
    if (pattern_len >= 3 && strcmp (pattern + pattern_len - 3, "/**") == 0) {
        size_t base = pattern_len - 2; //  keeps the '/'
        return key_len > base && strncmp (key, pattern, base) == 0;
    }
    if (pattern_len >= 2 && strcmp (pattern + pattern_len - 2, "/*") == 0) {
        size_t base = pattern_len - 1;
        return key_len > base && strncmp (key, pattern, base) == 0 && !strchr (key + base, '/');
    }
    return false;
}

static bool
s_known (const char *key, const char *const *known)
{
    for (size_t i = 0; known[i]; i++)
        if (s_matches (key, known[i])) return true;
    return false;
}

int
zaio_zpl_check (const char *path, const char *const *known)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        zaio_log_error ("config", "cannot read %s: %s", path, strerror (errno));
        return -1;
    }
    char names[S_DEPTH_MAX][S_NAME_MAX];
    memset (names, 0, sizeof names);
    char line[4096];
    int rc = 0;
    for (unsigned number = 1; rc == 0 && fgets (line, sizeof line, file); number++) {
        size_t indent = strspn (line, " ");
        const char *name = line + indent;
        size_t length = strcspn (name, " \t=#\r\n");
        if (length == 0) continue; //  blank, a comment, or zconfig's to refuse
        if (indent % 4) {
            zaio_log_error ("config", "%s:%u: indented by %zu spaces: ZPL indents by 4", path,
                            number, indent);
            rc = -1;
            break;
        }
        size_t depth = indent / 4;
        if (depth >= S_DEPTH_MAX) continue;
        if (length >= S_NAME_MAX) length = S_NAME_MAX - 1;
        memcpy (names[depth], name, length);
        names[depth][length] = 0;
        char key[S_DEPTH_MAX * S_NAME_MAX];
        size_t used = 0;
        for (size_t level = 0; level <= depth; level++)
            used += (size_t)snprintf (key + used, sizeof key - used, "%s%s", level ? "/" : "",
                                      names[level]);
        if (!s_known (key, known)) {
            zaio_log_error ("config", "%s:%u: unknown key '%s'", path, number, key);
            rc = -1;
        }
        //  A line longer than the buffer: skip the rest of it.
        while (!strchr (line, '\n') && fgets (line, sizeof line, file)) {
        }
    }
    fclose (file);
    return rc;
}

zconfig_t *
zaio_zpl_load (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file) return NULL;
    char *text = (char *)malloc (ZAIO_ZPL_FILE_MAX + 1);
    size_t size = text ? fread (text, 1, ZAIO_ZPL_FILE_MAX + 1, file) : 0;
    bool whole = text && !ferror (file) && size <= ZAIO_ZPL_FILE_MAX;
    fclose (file);
    zconfig_t *root = NULL;
    if (whole) {
        text[size] = 0;
        root = zconfig_str_load (text);
    }
    free (text);
    return root;
}

int
zaio_zpl_uint (zconfig_t *root, const char *path, uint64_t min, uint64_t max, uint64_t *value)
{
    char *text = zconfig_get (root, path, NULL);
    if (!text) return 0;
    char *end;
    errno = 0;
    unsigned long long number = strtoull (text, &end, 10);
    if (errno || end == text || *end || *text == '-' || number < min || number > max) {
        zaio_log_error ("config", "%s = '%s' is not a number in %llu..%llu", path, text,
                        (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *value = number;
    return 0;
}
