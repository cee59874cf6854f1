/*  zaio_heap.h: an intrusive binary min-heap, for timers.

    An object carries a zaio_heap_node_t for each heap it can be on, and
    the heap orders nodes by their key (a time, say), smallest first.
    zaio_heap_set puts a node on the heap or moves it to its new key, and
    zaio_heap_remove takes it off; both cost O(log n). A node that is on no
    heap has slot == 0 (zeroed, or removed), so a zero-allocated object is
    ready as it is. Nodes with equal keys come out in no particular order.

        typedef struct { zaio_heap_node_t timer; ... } call_t;
        zaio_heap_set (&timers, &call->timer, deadline);
        zaio_heap_node_t *first = zaio_heap_first (&timers);
        call_t *call = ZAIO_HOLDER (first, call_t, timer);    //  zaio_list.h

    The heap owns only its array of node pointers, which grows by doubling
    (running out of memory aborts, as czmq's allocations do); the nodes
    are their holders'. Header only, never installed, never exported.
*/
#ifndef ZAIO_HEAP_H_INCLUDED
#define ZAIO_HEAP_H_INCLUDED

#include "zaio_list.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t key;
    size_t slot; //  1 + the node's index in its heap; 0 when on none
} zaio_heap_node_t;

typedef struct {
    zaio_heap_node_t **nodes; //  nodes[0] has the smallest key
    size_t size;
    size_t alloc;
} zaio_heap_t;

//  The array's first size when the first node comes.
#define ZAIO_HEAP_INITIAL 256

static inline void
zaio_heap_init (zaio_heap_t *heap)
{
    memset (heap, 0, sizeof (*heap));
}

//  Frees the heap's array; the nodes still on it are left as they are.
static inline void
zaio_heap_release (zaio_heap_t *heap)
{
    free (heap->nodes);
    zaio_heap_init (heap);
}

//  The node with the smallest key; NULL if the heap is empty.
static inline zaio_heap_node_t *
zaio_heap_first (const zaio_heap_t *heap)
{
    return heap->size ? heap->nodes[0] : NULL;
}

//  The rest is the heap's own: swapping two nodes and sifting one to its
//  place, by index.
static inline void
zaio_heap_swap (zaio_heap_t *heap, size_t a, size_t b)
{
    zaio_heap_node_t *node = heap->nodes[a];
    heap->nodes[a] = heap->nodes[b];
    heap->nodes[b] = node;
    heap->nodes[a]->slot = a + 1;
    heap->nodes[b]->slot = b + 1;
}

static inline void
zaio_heap_sift_up (zaio_heap_t *heap, size_t index)
{
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (heap->nodes[parent]->key <= heap->nodes[index]->key) break;
        zaio_heap_swap (heap, parent, index);
        index = parent;
    }
}

static inline void
zaio_heap_sift_down (zaio_heap_t *heap, size_t index)
{
    for (;;) {
        size_t least = index, left = 2 * index + 1, right = left + 1;
        if (left < heap->size && heap->nodes[left]->key < heap->nodes[least]->key) least = left;
        if (right < heap->size && heap->nodes[right]->key < heap->nodes[least]->key) least = right;
        if (least == index) break;
        zaio_heap_swap (heap, least, index);
        index = least;
    }
}

//  Puts node on heap with key, or moves it there if it is on heap already.
static inline void
zaio_heap_set (zaio_heap_t *heap, zaio_heap_node_t *node, int64_t key)
{
    node->key = key;
    if (!node->slot) {
        if (heap->size == heap->alloc) {
            heap->alloc = heap->alloc ? heap->alloc * 2 : ZAIO_HEAP_INITIAL;
            heap->nodes = (zaio_heap_node_t **)realloc (heap->nodes,
                                                        heap->alloc * sizeof (zaio_heap_node_t *));
            assert (heap->nodes);
        }
        heap->nodes[heap->size++] = node;
        node->slot = heap->size;
    }
    zaio_heap_sift_up (heap, node->slot - 1);
    zaio_heap_sift_down (heap, node->slot - 1);
}

//  Takes node off heap, if it is on it.
static inline void
zaio_heap_remove (zaio_heap_t *heap, zaio_heap_node_t *node)
{
    if (!node->slot) return;
    size_t index = node->slot - 1;
    size_t last = --heap->size;
    if (index != last) {
        zaio_heap_swap (heap, index, last);
        zaio_heap_sift_down (heap, index);
        zaio_heap_sift_up (heap, index);
    }
    node->slot = 0;
}

#endif
