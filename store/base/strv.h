/* NULL-terminated vectors of malloc'd strings. Pure, thread-safe. */
#pragma once

#include <stddef.h>

/* Frees the vector and its strings (NULL-safe); returns NULL. */
char **strv_free(char **v);
static inline void strv_freep(char ***v) { strv_free(*v); }
#define _cleanup_strv_free_ __attribute__((cleanup(strv_freep)))
size_t strv_length(char *const *v);
/* A deep copy; NULL on out-of-memory. */
char **strv_copy(char *const *v);
/* Appends a copy of s to the vector *v of *n strings (NULL-terminated
 * after each push; *v NULL is an empty one). -ENOMEM leaves *v valid. */
int strv_push(char ***v, size_t *n, const char *s);
