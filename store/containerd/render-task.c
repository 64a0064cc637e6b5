/* The task's processes (`pids`) and cgroup statistics (`metrics.json`). */
#include "render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cgroups_stats_v1_metrics.pb-c.h"
#include "cgroups_v2_stats_metrics.pb-c.h"
#include "cleanup.h"
#include "json.h"
#include "memtext.h"
#include "pbjson.h"
#include "render-internal.h"

/* INFO of one process, as ctr prints it (Go's %+v of the decoded Any,
 * which for the gogo-generated ProcessDetails is its String() method). */
static void print_info(FILE *f, const Google__Protobuf__Any *info) {
        if (!info) {
                fputs("-", f);
                return;
        }
        _cleanup_pb_msg_ Containerd__Runc__V1__ProcessDetails *d = NULL;
        if (pb_any_is(info, &containerd__runc__v1__process_details__descriptor) &&
            pb_msg_unpack(&containerd__runc__v1__process_details__descriptor, info->value.data, info->value.len,
                          (ProtobufCMessage **) &d) >= 0) {
                fprintf(f, "&ProcessDetails{ExecID:%s,XXX_unrecognized:[],}", d->exec_id ? d->exec_id : "");
                return;
        }
        fputs(info->type_url && *info->type_url ? info->type_url : "-", f);
}

/* Go's tabwriter pads a column to its widest cell plus the padding (4). */
#define PIDS_PADDING 4

int render_pids_text(const rpc_task_pids *p, char **ret, size_t *ret_len) {
        int width = (int) strlen("PID");
        for (size_t i = 0; i < p->n_processes; i++) {
                int w = snprintf(NULL, 0, "%u", p->processes[i]->pid);
                if (w > width)
                        width = w;
        }
        width += PIDS_PADDING;
        struct memtext t;
        if (memtext_open(&t) < 0)
                return -ENOMEM;
        FILE *f = t.f;
        fprintf(f, "%-*s%s\n", width, "PID", "INFO");
        for (size_t i = 0; i < p->n_processes; i++) {
                fprintf(f, "%-*u", width, p->processes[i]->pid);
                print_info(f, p->processes[i]->info);
                fputc('\n', f);
        }
        return memtext_finish(&t, ret, ret_len);
}

int render_pids(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len) {
        _cleanup_pb_msg_ rpc_task_pids *p = NULL;
        int r = rpc_tasks_list_pids(c, &(rpc_opts) { .ns = ns }, id, &p, NULL);
        if (r == -ENOENT)
                return render_no_task_errno(c, ns, id);
        if (r < 0)
                return r;
        return render_pids_text(p, ret, ret_len);
}

static json_t *any_base64(const Google__Protobuf__Any *any) {
        return pbjson_base64(any->value.data, any->value.len, 0);
}

/* The decoded statistics (cgroup v1 or v2), or NULL for another type or
 * bytes that do not decode. */
static int metrics_message_json(const Google__Protobuf__Any *any, json_t **ret) {
        static const ProtobufCMessageDescriptor *const known[] = {
                &io__containerd__cgroups__v1__metrics__descriptor,
                &io__containerd__cgroups__v2__metrics__descriptor,
        };
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                if (!pb_any_is(any, known[i]))
                        continue;
                _cleanup_pb_msg_ ProtobufCMessage *m = NULL;
                if (pb_msg_unpack(known[i], any->value.data, any->value.len, &m) < 0)
                        break;
                /* A v2 memory limit of "max" is UINT64_MAX: a string, not -1. */
                return pbjson_message(m, PBJSON_U64_STRINGS, ret);
        }
        *ret = NULL;
        return 0;
}

int render_metrics_text(const rpc_metric *m, char **ret, size_t *ret_len) {
        char ts[48];
        if (m->timestamp)
                render_time(m->timestamp->seconds, m->timestamp->nanos, ts, sizeof(ts));
        json_t *metrics = NULL;
        int r = m->data ? metrics_message_json(m->data, &metrics) : 0;
        if (r < 0)
                return r;
        /* json_pack() takes `metrics` over, failing or not. */
        _cleanup_json_ json_t *root = json_pack("{s:s, s:s?, s:s?, s:o?}",
                                                "id", m->id ? m->id : "",
                                                "timestamp", m->timestamp ? ts : NULL,
                                                "type", m->data ? m->data->type_url : NULL,
                                                "metrics", metrics);
        if (!root)
                return -ENOMEM;
        if (!metrics && m->data && json_object_set_new(root, "data_base64", any_base64(m->data)) < 0)
                return -ENOMEM;
        return json_dump_text(root, JSON_INDENT(2), ret, ret_len);
}

int render_metrics_json(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len) {
        _cleanup_pb_msg_ rpc_task_metrics *t = NULL;
        int r = rpc_tasks_metrics(c, &(rpc_opts) { .ns = ns }, id, &t, NULL);
        if (r == -ENOENT || (r >= 0 && t->n_metrics == 0))
                return render_no_task_errno(c, ns, id);
        if (r < 0)
                return r;
        return render_metrics_text(t->metrics[0], ret, ret_len);
}
