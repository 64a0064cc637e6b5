/* The kit of one restore (restore-run.h). A leaf of the workflow. */
#include "restore-run.h"
#include "cleanup.h"
#include "monotime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const restore_stage_names[RS_MAX] = {
        [RS_PREPARE] = "prepare", [RS_SNAPSHOT] = "snapshot", [RS_RW] = "rw",
        [RS_CONTAINER] = "container", [RS_TASK] = "task", [RS_START] = "start", [RS_CLEANUP] = "cleanup",
};

void rrun_enter(restore_run *t, enum rstage s) {
        if (t->stage_seen[t->stage])
                t->stage_ms[t->stage] += monotime_ms_since(&t->stage_from);
        t->stage = (int) s;
        t->stage_seen[s] = true;
        t->stage_from = monotime_now();
}

int rrun_fail(restore_run *t, int error, const char *fmt, ...) {
        if (t->failed_stage < 0) {
                t->failed_stage = t->stage;
                t->error = abs(error);
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
                va_end(ap);
                /* One line of the report: runc's messages span several. */
                size_t n = strlen(t->msg);
                for (size_t i = 0; i < n; i++)
                        if (t->msg[i] == '\n' || t->msg[i] == '\r' || t->msg[i] == '\t')
                                t->msg[i] = ' ';
                while (n > 0 && t->msg[n - 1] == ' ')
                        t->msg[--n] = '\0';
        }
        return -abs(error);
}

int rrun_errno(int r) {
        switch (r) {
        case -ENOMEM: case -ETIMEDOUT: case -ENOTCONN:
                return r;
        default:
                return -EIO;
        }
}

rpc_opts rrun_opts(const restore_run *t, int64_t timeout_ms) {
        rpc_opts o = t->o;
        o.timeout_ms = timeout_ms;
        return o;
}

typedef struct blob_buf {
        char *data;
        size_t len, cap;
} blob_buf;

static int collect(const uint8_t *data, size_t len, uint64_t offset, void *userdata) {
        blob_buf *b = userdata;
        if (b->len + len + 1 > b->cap)
                return -EFBIG;
        memcpy(b->data + b->len, data, len);
        b->len += len;
        return 0;
}

int rrun_read_blob(restore_run *t, const restore_desc *d, char **ret, size_t *ret_len, rpc_error *err) {
        if (d->size < 0 || d->size > R_BLOB_MAX)
                return rpc_error_set(err, EFBIG, "blob %s is too big (%lld bytes)", d->digest, (long long) d->size);
        blob_buf b = { .cap = (size_t) d->size + 1 };
        b.data = malloc(b.cap);
        if (!b.data)
                return rpc_error_set(err, ENOMEM, "out of memory");
        rpc_opts o = rrun_opts(t, R_SHORT);
        int64_t n = rpc_content_read(t->c, &o, d->digest, 0, 0, collect, &b, err);
        if (n >= 0 && b.len != (size_t) d->size)
                n = rpc_error_set(err, EBADMSG, "blob %s has %zu bytes, its descriptor says %lld", d->digest,
                                  b.len, (long long) d->size);
        if (n < 0) {
                free(b.data);
                return (int) n;
        }
        b.data[b.len] = '\0';
        *ret = b.data;
        *ret_len = b.len;
        return 0;
}

void rrun_clear(restore_run *t) {
        restore_index_clear(&t->ix);
        free(t->base_name);
        pb_msg_free(t->spec);
        pb_msg_free(t->runtime_options);
        pb_msg_free(t->mounts);
        t->base_name = NULL;
        t->spec = t->runtime_options = NULL;
        t->mounts = NULL;
}
