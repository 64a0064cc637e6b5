/* store_live: what containerd says now, kept for a short while.
 *
 * Lists (namespaces, containers) and the rendered text of small files
 * (`status`, `container.json`, `pids`, `metrics.json`) are fetched through rpc/ and cached for
 * STORE_LIVE_TTL_MS, so one `ls -l` or `stat`+`cat` costs one round trip,
 * and a change in containerd shows within that time plus the kernel's own
 * cache timeouts (the fs keeps those at 1 s: changes show within 2 s).
 *
 * Thread-safe (one internal mutex; rpc calls are made without holding it).
 * Errors are -errno from rpc/ (e.g. -ENOTCONN when containerd is away,
 * -ETIMEDOUT when it does not answer within the client's deadline). */
#pragma once

#include <stddef.h>

#include "strv.h"
#include "rpc.h"

#define STORE_LIVE_TTL_MS 700

typedef struct store_live store_live;

/* `c` is borrowed and must outlive the view. only_ns: show just this
 * namespace (NULL: all). */
int store_live_new(rpc_client *c, const char *only_ns, store_live **ret);
store_live *store_live_free(store_live *l);

/* A NULL-terminated, sorted string vector; free with strv_free(). */
int store_live_namespaces(store_live *l, char ***ret);
int store_live_containers(store_live *l, const char *ns, char ***ret);
/* 0 if the name is in the (cached) list, -ENOENT if not. */
int store_live_has_namespace(store_live *l, const char *ns);
int store_live_has_container(store_live *l, const char *ns, const char *id);

/* Rendered file contents (malloc'd, *ret_len bytes, NUL-terminated).
 * status: "state: running\npid: 123\n..." ("state: none" without a task).
 * container.json: the container record with its spec as JSON. */
int store_live_status(store_live *l, const char *ns, const char *id, char **ret, size_t *ret_len);
int store_live_container_json(store_live *l, const char *ns, const char *id, char **ret, size_t *ret_len);
/* pids: the table `ctr tasks ps` prints; metrics.json: the task's cgroup
 * statistics (render.h has both formats). -ESRCH when the container has
 * no task (ctr fails there too), -ENOENT when there is no container. */
int store_live_pids(store_live *l, const char *ns, const char *id, char **ret, size_t *ret_len);
int store_live_metrics_json(store_live *l, const char *ns, const char *id, char **ret, size_t *ret_len);

/* Forgets the container list of `ns` and the files of container `id`
 * (NULL: of every container of ns; ns NULL: everything), e.g. on a
 * container or task event, or after a checkpoint was taken or removed
 * through the mount. */
void store_live_invalidate_container(store_live *l, const char *ns, const char *id);

