#ifndef PRESSROOM_CMALLOCSHIMS_H
#define PRESSROOM_CMALLOCSHIMS_H

/// Caps glibc's malloc arenas (mallopt(M_ARENA_MAX, n)); Swift's Glibc module
/// does not export <malloc.h>. Returns 1 on success, 0 where unsupported.
int pressroom_malloc_arena_max(int arenas);

#endif
