/* Helpers shared by the renderers (render.c, render-task.c); not for other
 * parts of the store. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rpc.h"

/* RFC 3339 UTC with nanoseconds, as containerd prints times, into buf
 * (size >= 40); "invalid" for a time gmtime_r() cannot take. */
void render_time(int64_t seconds, int32_t nanos, char *buf, size_t size);

/* For a call that said -ENOENT about container `id`'s task: -ESRCH if the
 * container exists (it has no task), else Containers.Get's -errno
 * (-ENOENT: no such container). */
int render_no_task_errno(rpc_client *c, const char *ns, const char *id);
