/*  zaio_jobs.c: the table of accepted jobs; see zaio_jobs.h. */

#include "zaio_jobs.h"

#include <string.h>

#define S_SPARE_JOBS 1024 //  finished jobs kept for reuse, at most
#define S_PATH_ROOM  64   //  least bytes a job's path buffer has

struct _zaio_jobs_t {
    zaio_job_t **slots; //  by slot; a job number names its slot
    uint32_t *generations;
    uint32_t *free_slots;
    uint32_t slot_count;
    uint32_t free_count;
    uint32_t count;     //  jobs in slots
    size_t data_bytes;  //  request data held by jobs, not yet taken
    zaio_list_t spares; //  of job->queued: finished jobs kept for reuse
};

zaio_jobs_t *
zaio_jobs_new (void)
{
    zaio_jobs_t *self = (zaio_jobs_t *)zmalloc (sizeof (zaio_jobs_t));
    zaio_list_init (&self->spares);
    return self;
}

void
zaio_jobs_destroy (zaio_jobs_t **self_p)
{
    zaio_jobs_t *self = *self_p;
    if (self) {
        assert (self->count == 0);
        zaio_link_t *link;
        while ((link = zaio_list_pop (&self->spares))) {
            zaio_job_t *spare = ZAIO_HOLDER (link, zaio_job_t, queued);
            free (spare->path);
            free (spare);
        }
        free (self->slots);
        free (self->generations);
        free (self->free_slots);
        free (self);
        *self_p = NULL;
    }
}

//  A free slot for job, the table doubling when none is left; returns the
//  job's number.
static uint64_t
s_slot_take (zaio_jobs_t *self, zaio_job_t *job)
{
    if (self->free_count == 0) {
        uint32_t grown = self->slot_count ? self->slot_count * 2 : 1024;
        self->slots = (zaio_job_t **)realloc (self->slots, grown * sizeof (zaio_job_t *));
        self->generations = (uint32_t *)realloc (self->generations, grown * sizeof (uint32_t));
        self->free_slots = (uint32_t *)realloc (self->free_slots, grown * sizeof (uint32_t));
        assert (self->slots && self->generations && self->free_slots);
        for (uint32_t slot = grown; slot > self->slot_count; slot--) {
            self->slots[slot - 1] = NULL;
            self->generations[slot - 1] = 0;
            self->free_slots[self->free_count++] = slot - 1;
        }
        self->slot_count = grown;
    }
    uint32_t slot = self->free_slots[--self->free_count];
    self->slots[slot] = job;
    return (uint64_t)++self->generations[slot] << 32 | slot;
}

zaio_job_t *
zaio_jobs_add (zaio_jobs_t *self, const char *path)
{
    zaio_link_t *link = zaio_list_pop (&self->spares);
    zaio_job_t *job = link ? ZAIO_HOLDER (link, zaio_job_t, queued) : NULL;
    char *buffer = NULL;
    size_t room = 0;
    if (job) {
        buffer = job->path;
        room = job->path_room;
        memset (job, 0, sizeof *job);
    } else
        job = (zaio_job_t *)zmalloc (sizeof (zaio_job_t));
    size_t size = strlen (path) + 1;
    if (size > room) {
        free (buffer);
        room = size < S_PATH_ROOM ? S_PATH_ROOM : size;
        buffer = (char *)malloc (room);
        assert (buffer);
    }
    memcpy (buffer, path, size);
    job->path = buffer;
    job->path_room = room;
    zmq_msg_init (&job->header);
    zmq_msg_init (&job->data);
    job->number = s_slot_take (self, job);
    self->count++;
    return job;
}

zaio_job_t *
zaio_jobs_find (zaio_jobs_t *self, uint64_t number)
{
    uint32_t slot = (uint32_t)number;
    if (slot >= self->slot_count) return NULL;
    zaio_job_t *job = self->slots[slot];
    return job && job->number == number ? job : NULL;
}

void
zaio_jobs_remove (zaio_jobs_t *self, zaio_job_t **job_p)
{
    zaio_job_t *job = *job_p;
    if (!job) return;
    uint32_t slot = (uint32_t)job->number;
    self->slots[slot] = NULL;
    self->free_slots[self->free_count++] = slot;
    self->count--;
    zstr_free (&job->key);
    if (job->has_header) zmq_msg_close (&job->header);
    zmq_msg_t *data = zaio_jobs_take_data (self, job);
    if (data) zmq_msg_close (data);
    if (self->spares.size < S_SPARE_JOBS)
        zaio_list_add (&self->spares, &job->queued, true);
    else {
        free (job->path);
        free (job);
    }
    *job_p = NULL;
}

void
zaio_jobs_put_data (zaio_jobs_t *self, zaio_job_t *job, zmq_msg_t *data)
{
    assert (!job->has_data);
    zmq_msg_move (&job->data, data);
    job->has_data = true;
    self->data_bytes += zmq_msg_size (&job->data);
}

zmq_msg_t *
zaio_jobs_take_data (zaio_jobs_t *self, zaio_job_t *job)
{
    if (!job->has_data) return NULL;
    job->has_data = false;
    self->data_bytes -= zmq_msg_size (&job->data);
    return &job->data;
}

uint32_t
zaio_jobs_count (zaio_jobs_t *self)
{
    return self->count;
}

size_t
zaio_jobs_data_bytes (zaio_jobs_t *self)
{
    return self->data_bytes;
}
