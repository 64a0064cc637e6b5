/* Building paths into fixed buffers without silent truncation. Pure,
 * thread-safe. */
#pragma once

#include <stddef.h>

/* Writes the components (NUL-terminated strings, the list ended by NULL)
 * joined by single '/' into buf (size bytes, NUL included); empty
 * components are skipped. Returns the length, or -ENAMETOOLONG when the
 * result does not fit (buf then holds an empty string). */
int path_join(char *buf, size_t size, ...) __attribute__((sentinel));
/* Appends "/" and comp[0..n) to the path of length *len in buf (the
 * leading "/" is left out when *len is 0). -ENAMETOOLONG when it does not
 * fit; buf and *len are then unchanged. */
int path_append(char *buf, size_t size, size_t *len, const char *comp, size_t n);
