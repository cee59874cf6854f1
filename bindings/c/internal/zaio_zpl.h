/*  zaio_zpl.h: the keys a daemon's ZPL config file (czmq zconfig) may
    hold, checked line by line.

    zconfig reads a file into a tree and keeps no line numbers, and finds a
    key only when asked for it, so a misspelt key would be silently
    ignored. zaio_zpl_check reads the file itself first and refuses any
    key the daemon does not know, naming the key and its line.
*/
#ifndef ZAIO_ZPL_H_INCLUDED
#define ZAIO_ZPL_H_INCLUDED

#include <czmq.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Checks every key of the ZPL file at path against known, a
//  NULL-terminated list of paths such as "broker/root"; a path may end in
//  "/*" (any one key below it, e.g. "broker/bind/*", whose children are
//  unknown) or "/**" (anything below it, which someone else checks, e.g.
//  "grants/**"). A section is known when a known path lies beneath it.
//  Returns 0, or -1 after logging (component "config") "PATH:LINE:
//  unknown key 'a/b'", or that the file cannot be read.
int zaio_zpl_check (const char *path, const char *const *known);

//  The ZPL file at path as a zconfig tree (the caller destroys it), or
//  NULL if it cannot be read (bigger than ZAIO_ZPL_FILE_MAX too) or is
//  not ZPL. Unlike zconfig_load, which leaks the file when it cannot
//  parse it (czmq 4.2), it frees everything on failure.
#define ZAIO_ZPL_FILE_MAX (1024 * 1024)
zconfig_t *zaio_zpl_load (const char *path);

//  The number at path in root, if it is there, into *value (left as it is
//  if not): decimal digits only, in min..max. Returns 0, or -1 after
//  logging (component "config") what is wrong with it.
int zaio_zpl_uint (zconfig_t *root, const char *path, uint64_t min, uint64_t max, uint64_t *value);

#ifdef __cplusplus
}
#endif

#endif
