/* The texts of proc/: ps, ps.json and <pid>/status. */
#include "criu-proc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "memtext.h"

/* Depth of proc i below the first ancestor not in the dump; bounded by the
 * number of processes, so a cycle in a damaged pstree cannot loop. */
static size_t depth_of(const struct criu_procs *p, const struct criu_proc *c) {
        size_t d = 0;
        for (const struct criu_proc *q = c; d < p->n; d++) {
                if (q->ppid == q->pid || !(q = criu_procs_find(p, q->ppid)))
                        break;
        }
        return d;
}

int criu_procs_ps_text(const struct criu_procs *p, char **ret, size_t *ret_len) {
        struct memtext t;
        if (memtext_open(&t) < 0)
                return -ENOMEM;
        FILE *f = t.f;
        fprintf(f, "%7s %7s %7s %7s %-7s %7s %s\n", "PID", "PPID", "PGID", "SID", "STATE", "THREADS", "COMMAND");
        for (size_t i = 0; i < p->n; i++) {
                const struct criu_proc *c = &p->v[i];
                size_t d = depth_of(p, c);
                fprintf(f, "%7" PRIu32 " %7" PRIu32 " %7" PRIu32 " %7" PRIu32 " %-7s %7zu ", c->pid, c->ppid, c->pgid,
                        c->sid, criu_proc_state_name(c->state), c->n_tids);
                for (size_t k = 1; k < d; k++)
                        fputs("    ", f);
                fprintf(f, "%s%s\n", d ? " \\_ " : "", c->comm);
        }
        return memtext_finish(&t, ret, ret_len);
}

static json_t *proc_json(const struct criu_proc *c) {
        json_t *tids = json_array();
        for (size_t i = 0; tids && i < c->n_tids; i++)
                if (json_array_append_new(tids, json_integer(c->tids[i])) < 0) {
                        json_decref(tids);
                        return NULL;
                }
        json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:s, s:o?, s:s}", "pid", (json_int_t) c->pid, "ppid",
                              (json_int_t) c->ppid, "pgid", (json_int_t) c->pgid, "sid", (json_int_t) c->sid,
                              "state", criu_proc_state_name(c->state), "threads", tids, "comm", c->comm);
        /* The core holds the wait status (exit(7) is 0x700), as waitpid() gives it. */
        uint32_t sig = c->exit_code & 0x7f, status = (c->exit_code >> 8) & 0xff;
        if (o && c->state == CRIU_TASK_DEAD &&
            json_object_set_new(o, sig ? "exit_signal" : "exit_code", json_integer(sig ? sig : status)) < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int criu_procs_ps_json(const struct criu_procs *p, json_t **ret_json) {
        json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < p->n; i++)
                if (json_array_append_new(a, proc_json(&p->v[i])) < 0) {
                        json_decref(a);
                        return -ENOMEM;
                }
        *ret_json = a;
        return 0;
}

int criu_proc_status(const struct criu_proc *c, char **ret, size_t *ret_len) {
        struct memtext t;
        if (memtext_open(&t) < 0)
                return -ENOMEM;
        FILE *f = t.f;
        fprintf(f, "Name:\t%s\nState:\t%c (%s)\nTgid:\t%" PRIu32 "\nPid:\t%" PRIu32 "\nPPid:\t%" PRIu32 "\n", c->comm,
                criu_proc_state_char(c->state), criu_proc_state_name(c->state), c->pid, c->pid, c->ppid);
        if (c->has_creds)
                fprintf(f, "Uid:\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\nGid:\t%" PRIu32 "\t%" PRIu32
                           "\t%" PRIu32 "\t%" PRIu32 "\n",
                        c->uid[0], c->uid[1], c->uid[2], c->uid[3], c->gid[0], c->gid[1], c->gid[2], c->gid[3]);
        fprintf(f, "Threads:\t%zu\nSigBlk:\t%016" PRIx64 "\n", c->n_tids, c->sigblk);
        return memtext_finish(&t, ret, ret_len);
}
