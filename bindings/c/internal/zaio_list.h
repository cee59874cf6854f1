/*  zaio_list.h: the one intrusive doubly linked list every module uses.

    An object carries a zaio_link_t for each list it can be on, so putting
    it on a list or taking it off allocates nothing and costs O(1). The
    list counts its links. A link that is on no list has next == NULL
    (zeroed, or removed), so zaio_linked tells whether it is on one; which
    one is the holder's business.

        typedef struct { zaio_link_t queued; ... } job_t;
        zaio_list_add (&queue, &job->queued, false);          //  at the back
        zaio_link_t *link = zaio_list_pop (&queue);
        job_t *job = ZAIO_HOLDER (link, job_t, queued);

    Header only: every function is a few pointer moves, inlined on the hot
    paths of the broker and the client. Never installed, never exported.
*/
#ifndef ZAIO_LIST_H_INCLUDED
#define ZAIO_LIST_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _zaio_link_t {
    struct _zaio_link_t *prev;
    struct _zaio_link_t *next;
} zaio_link_t;

typedef struct {
    zaio_link_t head; //  the list is empty when head links to itself
    size_t size;
} zaio_list_t;

//  The object of type that holds link as its member.
#define ZAIO_HOLDER(link, type, member) ((type *)((char *)(link)-offsetof (type, member)))

static inline void
zaio_list_init (zaio_list_t *list)
{
    list->head.prev = list->head.next = &list->head;
    list->size = 0;
}

//  Puts link, which is on no list, at the front or the back of list.
static inline void
zaio_list_add (zaio_list_t *list, zaio_link_t *link, bool front)
{
    zaio_link_t *after = front ? &list->head : list->head.prev;
    link->prev = after;
    link->next = after->next;
    after->next->prev = link;
    after->next = link;
    list->size++;
}

//  Takes link, which must be on list, off it.
static inline void
zaio_list_remove (zaio_list_t *list, zaio_link_t *link)
{
    link->prev->next = link->next;
    link->next->prev = link->prev;
    link->prev = link->next = NULL;
    list->size--;
}

//  The first link, the last, and the one after link; NULL past either end.
static inline zaio_link_t *
zaio_list_first (const zaio_list_t *list)
{
    return list->size ? list->head.next : NULL;
}

static inline zaio_link_t *
zaio_list_last (const zaio_list_t *list)
{
    return list->size ? list->head.prev : NULL;
}

static inline zaio_link_t *
zaio_list_next (const zaio_list_t *list, const zaio_link_t *link)
{
    return link->next == &list->head ? NULL : link->next;
}

//  Takes the first link off list; NULL if it is empty.
static inline zaio_link_t *
zaio_list_pop (zaio_list_t *list)
{
    zaio_link_t *link = zaio_list_first (list);
    if (link) zaio_list_remove (list, link);
    return link;
}

//  True if link is on a list.
static inline bool
zaio_linked (const zaio_link_t *link)
{
    return link->next != NULL;
}

#endif
