/* JSON helpers over jansson shared by every library. Thread-safe. */
#pragma once

#include <jansson.h>
#include <stddef.h>


/* json_decrefp() comes with jansson. */
#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))

/* The text of `j` dumped with jansson `flags`, plus a trailing newline like
 * every text file ckptfs serves: malloc'd, NUL-terminated, *ret_len bytes
 * without the NUL. -ENOMEM on failure. */
int json_dump_text(const json_t *j, size_t flags, char **ret, size_t *ret_len);
