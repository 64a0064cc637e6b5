#include "render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "containerd.h"
#include "json.h"
#include "memtext.h"
#include "render-internal.h"

/* Containerd__V1__Types__Status -> "running" */
static const char *render_task_state(int status) {
        switch (status) {
        case CONTAINERD__V1__TYPES__STATUS__CREATED:
                return "created";
        case CONTAINERD__V1__TYPES__STATUS__RUNNING:
                return "running";
        case CONTAINERD__V1__TYPES__STATUS__STOPPED:
                return "stopped";
        case CONTAINERD__V1__TYPES__STATUS__PAUSED:
                return "paused";
        case CONTAINERD__V1__TYPES__STATUS__PAUSING:
                return "pausing";
        default:
                return "unknown";
        }
}

void render_time(int64_t seconds, int32_t nanos, char *buf, size_t size) {
        struct tm tm;
        time_t t = (time_t) seconds;
        if (!gmtime_r(&t, &tm)) {
                snprintf(buf, size, "invalid");
                return;
        }
        char date[32];
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%09dZ", date, nanos >= 0 && nanos < 1000000000 ? nanos : 0);
}

int render_no_task_errno(rpc_client *c, const char *ns, const char *id) {
        _cleanup_pb_msg_ rpc_container_get *ct = NULL;
        int r = rpc_containers_get(c, &(rpc_opts) { .ns = ns }, id, &ct, NULL);
        return r < 0 ? r : -ESRCH;
}

static int render_status_text(const rpc_process *p, char **ret, size_t *ret_len) {
        struct memtext t;
        if (memtext_open(&t) < 0)
                return -ENOMEM;
        FILE *f = t.f;
        if (!p) {
                fputs("state: none\n", f);
        } else {
                fprintf(f, "state: %s\npid: %u\n", render_task_state(p->status), p->pid);
                if (p->status == CONTAINERD__V1__TYPES__STATUS__STOPPED) {
                        fprintf(f, "exit_status: %u\n", p->exit_status);
                        if (p->exited_at) {
                                char at[48];
                                render_time(p->exited_at->seconds, p->exited_at->nanos, at, sizeof(at));
                                fprintf(f, "exited_at: %s\n", at);
                        }
                }
        }
        return memtext_finish(&t, ret, ret_len);
}

int render_status(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len) {
        rpc_error err;
        _cleanup_pb_msg_ rpc_task_get *t = NULL;
        int r = rpc_tasks_get(c, &(rpc_opts) { .ns = ns }, id, &t, &err);
        if (r == -ENOENT) {
                /* No task, or no container: tell them apart. */
                r = render_no_task_errno(c, ns, id);
                return r == -ESRCH ? render_status_text(NULL, ret, ret_len) : r;
        }
        if (r < 0)
                return r;
        return render_status_text(t->process, ret, ret_len);
}

static json_t *time_json(const Google__Protobuf__Timestamp *ts) {
        if (!ts)
                return json_null();
        char t[48];
        render_time(ts->seconds, ts->nanos, t, sizeof(t));
        return json_string(t);
}

/* Spec travels as an Any whose value is the OCI spec in JSON; anything that
 * does not parse is shown as base64-free raw text rather than dropped. */
static json_t *spec_json(const Google__Protobuf__Any *any) {
        if (!any || !any->value.len)
                return json_null();
        json_t *j = json_loadb((const char *) any->value.data, any->value.len, 0, NULL);
        return j ? j : json_stringn((const char *) any->value.data, any->value.len);
}

static int render_container_text(const rpc_container *ct, char **ret, size_t *ret_len) {
        json_t *labels = json_object();
        for (size_t i = 0; i < ct->n_labels; i++)
                json_object_set_new(labels, ct->labels[i]->key, json_string(ct->labels[i]->value));
        json_t *root = json_pack("{s:s, s:s, s:{s:s}, s:s, s:s, s:o, s:o, s:o, s:o}",
                                 "id", ct->id ? ct->id : "",
                                 "image", ct->image ? ct->image : "",
                                 "runtime", "name", ct->runtime && ct->runtime->name ? ct->runtime->name : "",
                                 "snapshotter", ct->snapshotter ? ct->snapshotter : "",
                                 "snapshot_key", ct->snapshot_key ? ct->snapshot_key : "",
                                 "labels", labels,
                                 "created_at", time_json(ct->created_at),
                                 "updated_at", time_json(ct->updated_at),
                                 "spec", spec_json(ct->spec));
        if (!root)
                return -ENOMEM;
        int r = json_dump_text(root, JSON_INDENT(2) | JSON_SORT_KEYS, ret, ret_len);
        json_decref(root);
        return r;
}

int render_container_json(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len) {
        _cleanup_pb_msg_ rpc_container_get *g = NULL;
        int r = rpc_containers_get(c, &(rpc_opts) { .ns = ns }, id, &g, NULL);
        if (r < 0)
                return r;
        if (!g->container)
                return -EBADMSG;
        return render_container_text(g->container, ret, ret_len);
}
