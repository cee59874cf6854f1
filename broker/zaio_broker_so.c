/*  zaio_broker_so.c: libzaio-broker, the embeddable broker as a shared
    library. Its code is the broker's static libraries, linked whole (see
    broker/CMakeLists.txt); libzaio-broker.map says what it exports: the
    functions of zaio_broker.h and nothing else. This file gives the target
    a source of its own.
*/
#include "zaio_broker.h"

typedef zaio_broker_config_t zaio_broker_so_config_t;
