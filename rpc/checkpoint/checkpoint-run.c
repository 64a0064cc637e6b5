/* The kit of one ckpt_take(): stage times, the first failure, errno
 * mapping, call options. A leaf: it calls no other file of the workflow. */
#include "checkpoint-run.h"
#include "monotime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void run_enter(ckpt_run *t, enum stage s) {
        if (t->stage_seen[t->stage])
                t->stage_ms[t->stage] += monotime_ms_since(&t->stage_from);
        t->stage = s;
        t->stage_seen[s] = true;
        t->stage_from = monotime_now();
}

int run_fail(ckpt_run *t, int error, const char *fmt, ...) {
        if (t->failed_stage < 0) {
                t->failed_stage = (int) t->stage;
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
                va_end(ap);
        }
        return -abs(error);
}

/* A vanished task is ESRCH, a daemon that is gone or too slow keeps its
 * errno, anything else containerd, runc or CRIU did not do is EIO. */
int run_errno(int r) {
        switch (r) {
        case -ENOMEM: case -ETIMEDOUT: case -ENOTCONN: case -ESRCH:
                return r;
        default:
                return -EIO;
        }
}

rpc_opts run_opts(const ckpt_run *t, int64_t timeout_ms) {
        rpc_opts o = t->o;
        o.timeout_ms = timeout_ms;
        return o;
}
