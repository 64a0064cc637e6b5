/* Renders containerd records as the text of small files. Pure apart from
 * the rpc calls that fetch the records; 0 or -errno; on success *ret is
 * malloc'd, NUL-terminated, *ret_len bytes long. */
#pragma once

#include <stddef.h>

#include "containerd.h"
#include "rpc.h"

/* "state: none\n" without a task, else state, pid, exit status and time. */
int render_status(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len);
/* The container record with its spec as JSON (container.json). */
int render_container_json(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len);

/* `pids`: what `ctr tasks ps ID` prints, byte for byte: Go's tabwriter
 * table (minwidth 1, tab width 8, padding 4, blanks) of "PID" and "INFO",
 * one line per process in containerd's order. INFO is "-" without process
 * info; runc's containerd.runc.v1.ProcessDetails (exec'd processes) is
 * printed as ctr prints it, "&ProcessDetails{ExecID:<id>,XXX_unrecognized:[],}";
 * an Any of another type shows its type URL (ctr fails on those).
 * A stopped task: the header only. No task: -ESRCH (ctr fails too);
 * no container: -ENOENT. */
int render_pids(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len);
int render_pids_text(const rpc_task_pids *p, char **ret, size_t *ret_len);

/* `metrics.json`: Tasks.Metrics of the task as
 *   {"id": ..., "timestamp": RFC 3339 or null, "type": the Any's type URL,
 *    "metrics": the cgroup v1 or v2 Metrics message as JSON (store/core/pbjson.h:
 *    .proto field names, uint64 above INT64_MAX as decimal strings)}
 * and a newline; a type it cannot decode: "metrics": null and
 * "data_base64": the Any's bytes. No task: -ESRCH; no container: -ENOENT. */
int render_metrics_json(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len);
int render_metrics_text(const rpc_metric *m, char **ret, size_t *ret_len);
