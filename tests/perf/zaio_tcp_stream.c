/*  zaio_tcp_stream: how fast one loopback TCP connection moves a file with
    no protocol at all, the ceiling that `zaio get` over tcp is set beside
    (bindings/c/bench_get.sh).

    zaio_tcp_stream FILE [--memory]

    A child process reads FILE in 4 MiB chunks (pread, as a zaio worker
    does) and writes each to a TCP socket on 127.0.0.1; this process reads
    them into one buffer and throws them away, as `zaio get FILE /dev/null`
    does. With --memory the child sends the same number of bytes from a
    buffer without reading the file: TCP alone. Prints the wall time in
    seconds, from connect to the last byte received.
*/

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_CHUNK (4 * 1024 * 1024) //  the chunk `zaio get` asks for

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
s_fail (const char *what)
{
    fprintf (stderr, "zaio_tcp_stream: %s: %s\n", what, strerror (errno));
    return 1;
}

static int
s_send_all (int sock, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t sent = send (sock, data, size, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent <= 0) return -1;
        data += sent;
        size -= (size_t)sent;
    }
    return 0;
}

//  The child: connect, then send the file's bytes (or as many from memory).
static int
s_sender (const struct sockaddr_in *address, int file, off_t size, bool memory)
{
    int sock = socket (AF_INET, SOCK_STREAM, 0);
    if (sock < 0 || connect (sock, (const struct sockaddr *)address, sizeof *address))
        return s_fail ("connect");
    char *buffer = (char *)malloc (S_CHUNK);
    if (!buffer) return s_fail ("malloc");
    memset (buffer, 0x5a, S_CHUNK);
    for (off_t offset = 0; offset < size;) {
        size_t want = size - offset < S_CHUNK ? (size_t)(size - offset) : S_CHUNK;
        ssize_t got = memory ? (ssize_t)want : pread (file, buffer, want, offset);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return s_fail ("pread");
        if (s_send_all (sock, buffer, (size_t)got)) return s_fail ("send");
        offset += got;
    }
    free (buffer);
    close (sock);
    return 0;
}

int
main (int argc, char *argv[])
{
    bool memory = argc == 3 && strcmp (argv[2], "--memory") == 0;
    if (argc < 2 || argc > 3 || (argc == 3 && !memory)) {
        fprintf (stderr, "usage: zaio_tcp_stream FILE [--memory]\n");
        return 2;
    }
    int file = open (argv[1], O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (file < 0 || fstat (file, &st)) return s_fail (argv[1]);

    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 || bind (listener, (struct sockaddr *)&address, sizeof address) ||
        listen (listener, 1) || getsockname (listener, (struct sockaddr *)&address, &length))
        return s_fail ("listen");

    double start = s_now ();
    pid_t child = fork ();
    if (child < 0) return s_fail ("fork");
    if (child == 0) _exit (s_sender (&address, file, st.st_size, memory));
    int sock = accept (listener, NULL, NULL);
    if (sock < 0) return s_fail ("accept");
    char *buffer = (char *)malloc (S_CHUNK);
    if (!buffer) return s_fail ("malloc");
    off_t received = 0;
    while (true) {
        ssize_t got = recv (sock, buffer, S_CHUNK, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return s_fail ("recv");
        if (got == 0) break;
        received += got;
    }
    double seconds = s_now () - start;
    int status = 0;
    waitpid (child, &status, 0);
    free (buffer);
    if (received != st.st_size || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        fprintf (stderr, "zaio_tcp_stream: received %lld of %lld bytes\n", (long long)received,
                 (long long)st.st_size);
        return 1;
    }
    printf ("%.4f\n", seconds);
    return 0;
}
