/*  zaio_sock.c: socket and loop helpers; see zaio_sock.h. */

#include "zaio_sock.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>

int
zaio_sock_recv_parts (void *handle, zmq_msg_t *parts, int max)
{
    int count = 0;
    bool more = true;
    while (more) {
        zmq_msg_t scratch; //  for the parts past max
        zmq_msg_t *msg = count < max ? &parts[count] : &scratch;
        zmq_msg_init (msg);
        if (zmq_msg_recv (msg, handle, ZMQ_DONTWAIT) == -1) {
            zmq_msg_close (msg);
            if (count == 0) return -1;
            break; //  the parts of a message arrive together: cannot happen
        }
        more = zmq_msg_more (msg);
        if (msg == &scratch) zmq_msg_close (msg);
        count++;
    }
    return count;
}

bool
zaio_sock_has_input (void *handle)
{
    int events = 0;
    size_t size = sizeof events;
    zmq_getsockopt (handle, ZMQ_EVENTS, &events, &size);
    return (events & ZMQ_POLLIN) != 0;
}

int
zaio_sock_wait (zsock_t **socks, int count, int timeout_ms, bool *readable)
{
    assert (count >= 1 && count <= ZAIO_SOCK_WAIT_MAX);
    struct pollfd fds[ZAIO_SOCK_WAIT_MAX];
    for (int i = 0; i < count; i++) {
        fds[i].fd = zsock_fd (socks[i]);
        fds[i].events = POLLIN;
        fds[i].revents = 0;
    }
    int rc = poll (fds, (nfds_t)count, timeout_ms);
    for (int i = 0; i < count; i++) readable[i] = rc > 0 && (fds[i].revents & POLLIN);
    return rc;
}

void
zaio_sock_inproc_name (char *name, size_t size, const char *prefix)
{
    static atomic_uint_fast64_t s_names;
    snprintf (name, size, "inproc://%s-%" PRIuFAST64, prefix, atomic_fetch_add (&s_names, 1));
}

int
zaio_sock_monitor_event (void *handle, uint16_t *event, uint32_t *value)
{
    zmq_msg_t part;
    if (zaio_sock_recv_parts (handle, &part, 1) < 0) return -1;
    *event = 0;
    *value = 0;
    if (zmq_msg_size (&part) >= sizeof *event + sizeof *value) {
        const uint8_t *data = (const uint8_t *)zmq_msg_data (&part);
        memcpy (event, data, sizeof *event);
        memcpy (value, data + sizeof *event, sizeof *value);
    }
    zmq_msg_close (&part);
    return 0;
}

bool
zaio_sock_is_loopback (const char *endpoint)
{
    assert (endpoint);
    if (strncmp (endpoint, "tcp://", 6)) return false;
    const char *address = endpoint + 6;
    const char *source_end = strchr (address, ';');
    if (source_end) address = source_end + 1;
    //  HOST:PORT or [HOST]:PORT; the port is whatever follows the last ':'.
    char host[INET6_ADDRSTRLEN + 2];
    const char *end = *address == '[' ? strchr (address, ']') : strrchr (address, ':');
    if (*address == '[') address++;
    size_t length = end ? (size_t)(end - address) : strlen (address);
    if (length == 0 || length >= sizeof host) return false;
    memcpy (host, address, length);
    host[length] = 0;
    struct in_addr ip4;
    struct in6_addr ip6;
    if (inet_pton (AF_INET, host, &ip4) == 1) return (ntohl (ip4.s_addr) >> 24) == 127;
    if (inet_pton (AF_INET6, host, &ip6) == 1)
        return IN6_IS_ADDR_LOOPBACK (&ip6) ||
               (IN6_IS_ADDR_V4MAPPED (&ip6) && ip6.s6_addr[12] == 127);
    return streq (host, "localhost") || streq (host, "lo");
}

zsock_t *
zaio_sock_monitor (void *handle, int events, const char *prefix)
{
    char name[96];
    zaio_sock_inproc_name (name, sizeof name, prefix);
    int rc = zmq_socket_monitor (handle, name, events);
    assert (rc == 0);
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    assert (monitor);
    zsock_set_rcvhwm (monitor, 0);
    rc = zsock_connect (monitor, "%s", name);
    assert (rc == 0);
    return monitor;
}
