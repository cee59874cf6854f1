/*  zaio_broker_config.h: what the broker actor does with the settings it
    is given (zaio_broker_config_t, in zaio_broker.h): a copy of its own
    for its whole life, with the defaults that depend on the machine
    resolved. Private to the broker.
*/
#ifndef ZAIO_BROKER_CONFIG_H_INCLUDED
#define ZAIO_BROKER_CONFIG_H_INCLUDED

#include "zaio_broker.h"

//  Copies config into copy, its strings into owned (an autofree list the
//  caller keeps as long as copy, and destroys), and resolves workers 0 to
//  one per CPU. Warns when inflight_max is more than a client alone can
//  have accepted under the fair share of queue_max.
void zaio_broker_config_copy (zaio_broker_config_t *copy, const zaio_broker_config_t *config,
                              zlist_t *owned);

//  Parses a file mode in octal ("0660") into mode. -1 if text is not one.
int zaio_broker_config_mode (const char *text, uint32_t *mode);

#endif
