/*  zaio_peer_side.c: the peers programs' command line, offsets, clocks and
    result line; see zaio_peer_side.h.
*/

#include "zaio_peer_side.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
zaio_peer_options_parse (zaio_peer_options_t *options, const char *program, int argc, char *argv[])
{
    static const struct option long_options[] = {{"file", required_argument, NULL, 'f'},
                                                 {"path", required_argument, NULL, 'p'},
                                                 {"endpoint", required_argument, NULL, 'e'},
                                                 {"root", required_argument, NULL, 'r'},
                                                 {"volume", required_argument, NULL, 'V'},
                                                 {"seconds", required_argument, NULL, 's'},
                                                 {"inflight", required_argument, NULL, 'i'},
                                                 {"threads", required_argument, NULL, 't'},
                                                 {"size", required_argument, NULL, 'z'},
                                                 {"batch", no_argument, NULL, 'b'},
                                                 {"broker-pid", required_argument, NULL, 'B'},
                                                 {"worker-pid", required_argument, NULL, 'W'},
                                                 {NULL, 0, NULL, 0}};
    memset (options, 0, sizeof *options);
    options->program = program;
    options->seconds = ZAIO_PEER_SECONDS;
    options->inflight = ZAIO_PEER_INFLIGHT;
    options->threads = ZAIO_PEER_THREADS;
    options->size = ZAIO_PEER_SIZE;
    int option;
    bool bad = false;
    while ((option = getopt_long (argc, argv, "", long_options, NULL)) != -1) {
        switch (option) {
            case 'f':
                options->file = optarg;
                break;
            case 'p':
                options->path = optarg;
                break;
            case 'e':
                options->endpoint = optarg;
                break;
            case 'r':
                options->root = optarg;
                break;
            case 'V':
                options->volume = optarg;
                break;
            case 's':
                options->seconds = atof (optarg);
                break;
            case 'i':
                options->inflight = (uint32_t)atoi (optarg);
                break;
            case 't':
                options->threads = (uint32_t)atoi (optarg);
                break;
            case 'z':
                options->size = strtoull (optarg, NULL, 10);
                break;
            case 'b':
                options->batch = true;
                break;
            case 'B':
                options->broker_pid = atoi (optarg);
                break;
            case 'W':
                options->worker_pid = atoi (optarg);
                break;
            default:
                bad = true; //  said by getopt; the usage follows
        }
    }
    if (bad || optind < argc || options->seconds <= 0 || options->inflight < 1 ||
        options->threads < 1 || options->size < 1) {
        fprintf (stderr,
                 "usage: %s [--file FILE | --path PATH (--endpoint EP | --root DIR) "
                 "[--volume NAME] [--batch] [--broker-pid PID] [--worker-pid PID]] "
                 "[--seconds S] [--inflight N] [--threads N] [--size BYTES]\n",
                 program);
        return -1;
    }
    return 0;
}

int
zaio_peer_open (const zaio_peer_options_t *options, uint64_t *blocks)
{
    struct stat info;
    int fd = options->file ? open (options->file, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0 || fstat (fd, &info) || (uint64_t)info.st_size < options->size) {
        fprintf (stderr, "%s: cannot read a block of --file %s\n", options->program,
                 options->file ? options->file : "(none)");
        if (fd >= 0) close (fd);
        return -1;
    }
    *blocks = (uint64_t)info.st_size / options->size;
    return fd;
}

uint64_t
zaio_peer_offset (uint64_t *state, uint64_t blocks, uint64_t size)
{
    uint64_t x = *state;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    *state = x;
    return (x % blocks) * size;
}

double
zaio_peer_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

//  The CPU seconds (user and system) of process pid so far, from
//  /proc/PID/stat; 0 if pid is 0 or its stat cannot be read.
static double
s_proc_cpu (int pid)
{
    if (pid <= 0) return 0;
    char name[64], text[1024];
    snprintf (name, sizeof name, "/proc/%d/stat", pid);
    FILE *file = fopen (name, "r");
    if (!file) return 0;
    size_t size = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text[size] = 0;
    //  Fields 14 and 15 (utime, stime), counted after the ")" that ends
    //  the command name, which may hold spaces.
    const char *at = strrchr (text, ')');
    unsigned long long utime = 0, stime = 0;
    if (!at || sscanf (at + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                       &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf (_SC_CLK_TCK);
}

void
zaio_peer_clock_read (const zaio_peer_options_t *options, zaio_peer_clock_t *clock)
{
    struct timespec cpu;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &cpu);
    clock->cpu = (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9;
    clock->broker_cpu = s_proc_cpu (options->broker_pid);
    clock->worker_cpu = s_proc_cpu (options->worker_pid);
    clock->wall = zaio_peer_now ();
}

int
zaio_peer_print (const zaio_peer_options_t *options, const char *side,
                 const zaio_peer_clock_t *start, const zaio_peer_clock_t *end, uint64_t ops,
                 uint64_t errors)
{
    double seconds = end->wall - start->wall;
    double per_op = ops ? 1e6 / (double)ops : 0;
    printf ("{\"side\": \"%s\", \"ops_per_sec\": %.0f, \"ops\": %llu, \"seconds\": %.3f, "
            "\"inflight\": %u, \"threads\": %u, \"size\": %llu, \"errors\": %llu, "
            "\"cpu_us_per_op\": %.2f",
            side, seconds > 0 ? (double)ops / seconds : 0, (unsigned long long)ops, seconds,
            options->inflight, options->threads, (unsigned long long)options->size,
            (unsigned long long)errors, (end->cpu - start->cpu) * per_op);
    if (options->broker_pid)
        printf (", \"broker_cpu_us_per_op\": %.2f", (end->broker_cpu - start->broker_cpu) * per_op);
    if (options->worker_pid)
        printf (", \"worker_cpu_us_per_op\": %.2f", (end->worker_cpu - start->worker_cpu) * per_op);
    printf ("}\n");
    fflush (stdout);
    if (errors || ops == 0) {
        fprintf (stderr, "%s: %llu reads done, %llu failed\n", options->program,
                 (unsigned long long)ops, (unsigned long long)errors);
        return 1;
    }
    return 0;
}
