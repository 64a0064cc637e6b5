/* Renders containerd records as the text of small files. Pure apart from
 * the rpc calls that fetch the records; 0 or -errno; on success *ret is
 * malloc'd, NUL-terminated, *ret_len bytes long. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rpc.h"
#include "containerd.h"

/* "state: none\n" without a task, else state, pid, exit status and time. */
int render_status(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len);
int render_container_json(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len);

/* Pure helpers, unit-tested. */
const char *render_task_state(int status);  /* Containerd__V1__Types__Status -> "running" */
/* RFC 3339 UTC with nanoseconds, as containerd prints times. buf >= 40. */
void render_time(int64_t seconds, int32_t nanos, char *buf, size_t size);
int render_status_text(const rpc_process *p, char **ret, size_t *ret_len);
int render_container_text(const rpc_container *ct, char **ret, size_t *ret_len);
