/* Renders containerd records as the text of small files. Pure apart from
 * the rpc calls that fetch the records; 0 or -errno; on success *ret is
 * malloc'd, NUL-terminated, *ret_len bytes long. */
#pragma once

#include <stddef.h>

#include "rpc.h"

/* "state: none\n" without a task, else state, pid, exit status and time. */
int render_status(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len);
/* The container record with its spec as JSON (container.json). */
int render_container_json(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len);
