/*  test_heap.c: the intrusive timer heap (bindings/c/internal/zaio_heap.h).

    Seeded random sets, moves and removals on a few thousand nodes, with
    the heap checked against a plain scan after every step: the first node
    has the smallest key, every node's slot says where it is, every parent
    is no later than its children, and a node off the heap has slot 0.
*/

#undef NDEBUG
#include "testutil.h"
#include "zaio_heap.h"

#include <stdio.h>

#define NODES  2000
#define ROUNDS 200000

typedef struct {
    int tag;
    zaio_heap_node_t timer;
} s_item_t;

static uint64_t s_state = 0x2545F4914F6CDD1DULL;

static uint64_t
s_random (void)
{
    s_state ^= s_state >> 12;
    s_state ^= s_state << 25;
    s_state ^= s_state >> 27;
    return s_state * 2685821657736338717ULL;
}

//  The heap's shape and slots are right, and its first node has the
//  smallest key of those on it.
static void
s_check (const zaio_heap_t *heap, s_item_t *items)
{
    size_t on = 0;
    const zaio_heap_node_t *least = NULL;
    for (int i = 0; i < NODES; i++) {
        const zaio_heap_node_t *node = &items[i].timer;
        if (!node->slot) continue;
        on++;
        assert (node->slot <= heap->size && heap->nodes[node->slot - 1] == node);
        if (!least || node->key < least->key) least = node;
    }
    assert (on == heap->size);
    for (size_t index = 1; index < heap->size; index++)
        assert (heap->nodes[(index - 1) / 2]->key <= heap->nodes[index]->key);
    zaio_heap_node_t *first = zaio_heap_first (heap);
    assert (least ? first && first->key == least->key : first == NULL);
}

static void
s_test_random_sets_moves_and_removals (void)
{
    static s_item_t items[NODES]; //  zeroed: on no heap
    for (int i = 0; i < NODES; i++) items[i].tag = i;
    zaio_heap_t heap;
    zaio_heap_init (&heap);
    assert (zaio_heap_first (&heap) == NULL);
    zaio_heap_remove (&heap, &items[0].timer); //  on no heap: nothing happens
    s_check (&heap, items);

    for (int round = 0; round < ROUNDS; round++) {
        s_item_t *item = &items[s_random () % NODES];
        if (s_random () % 3 == 0)
            zaio_heap_remove (&heap, &item->timer);
        else //  few distinct keys, so ties are common
            zaio_heap_set (&heap, &item->timer, (int64_t)(s_random () % 500) - 250);
        if (round % 97 == 0) s_check (&heap, items);
    }
    s_check (&heap, items);

    //  Taking the first node each time yields the keys in order, and the
    //  holder is found from the node.
    int64_t last = INT64_MIN;
    zaio_heap_node_t *first;
    while ((first = zaio_heap_first (&heap))) {
        s_item_t *item = ZAIO_HOLDER (first, s_item_t, timer);
        assert (&items[item->tag] == item && first->key >= last);
        last = first->key;
        zaio_heap_remove (&heap, first);
        assert (first->slot == 0);
    }
    s_check (&heap, items);
    zaio_heap_release (&heap);
    assert (heap.nodes == NULL && heap.size == 0);
}

int
main (int argc, char *argv[])
{
    static const zaio_test_case_t cases[] = {
        ZAIO_TEST_CASE (s_test_random_sets_moves_and_removals),
    };
    return ZAIO_TEST_RUN (argc, argv, cases);
}
