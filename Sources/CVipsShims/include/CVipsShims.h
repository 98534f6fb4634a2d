#ifndef PRESSROOM_CVIPSSHIMS_H
#define PRESSROOM_CVIPSSHIMS_H
/* Fixed-arity wrappers around libvips' variadic operations, which Swift cannot call. */
#include <vips/vips.h>

/** Initialises libvips once; returns 0 on success (wraps the VIPS_INIT macro). */
int pressroom_vips_init(const char *argv0);

#endif
