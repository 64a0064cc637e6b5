/* Loading the processes of a CRIU dump: pstree.img, then each core. */
#include "criu-proc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "criu-image.h"
#include "criu_core.pb-c.h"
#include "criu_pstree.pb-c.h"

void criu_procs_clear(struct criu_procs *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->v[i].tids);
                free(p->v[i].comm);
        }
        free(p->v);
        p->v = NULL;
        p->n = 0;
}

const struct criu_proc *criu_procs_find(const struct criu_procs *p, uint32_t pid) {
        for (size_t i = 0; i < p->n; i++)
                if (p->v[i].pid == pid)
                        return &p->v[i];
        return NULL;
}

const char *criu_proc_state_name(uint32_t state) {
        switch (state) {
        case CRIU_TASK_ALIVE:
                return "running";
        case CRIU_TASK_DEAD:
                return "zombie";
        case CRIU_TASK_STOPPED:
                return "stopped";
        default:
                return "unknown";
        }
}

char criu_proc_state_char(uint32_t state) {
        switch (state) {
        case CRIU_TASK_ALIVE:
                return 'R';
        case CRIU_TASK_DEAD:
                return 'Z';
        case CRIU_TASK_STOPPED:
                return 'T';
        default:
                return '?';
        }
}

static int add_entry(struct criu_procs *p, const PstreeEntry *e) {
        struct criu_proc *v = realloc(p->v, (p->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        p->v = v;
        struct criu_proc *c = &v[p->n];
        *c = (struct criu_proc) { .pid = e->pid, .ppid = e->ppid, .pgid = e->pgid, .sid = e->sid };
        /* A zombie's entry lists no threads: its pid is its one thread. */
        size_t n = e->n_threads ? e->n_threads : 1;
        c->tids = calloc(n, sizeof(*c->tids));
        if (!c->tids)
                return -ENOMEM;
        for (size_t i = 0; i < e->n_threads; i++)
                c->tids[i] = e->threads[i];
        if (!e->n_threads)
                c->tids[0] = e->pid;
        c->n_tids = n;
        p->n++;
        return 0;
}

static int load_pstree(struct store_reader *r, struct criu_procs *p) {
        _cleanup_criu_image_ struct criu_image *img = NULL;
        int k = criu_image_open(r, &img);
        if (k < 0)
                return k;
        for (;;) {
                struct criu_record rec;
                k = criu_image_next(img, &rec);
                if (k <= 0)
                        return k;
                if (rec.msg->descriptor != &pstree_entry__descriptor)
                        k = -EBADMSG;
                else
                        k = add_entry(p, (const PstreeEntry *) rec.msg);
                criu_record_done(&rec);
                if (k < 0)
                        return k;
        }
}

static void take_core(struct criu_proc *c, const CoreEntry *e) {
        if (e->tc) {
                c->state = e->tc->task_state;
                c->exit_code = e->tc->exit_code;
                c->sigblk = e->tc->blk_sigset;
        }
        /* A zombie's pstree entry lists no real thread (0 in the test's
         * image, junk in CRIU 4.2.1's): its pid is its one thread. */
        if (c->state == CRIU_TASK_DEAD) {
                c->tids[0] = c->pid;
                c->n_tids = 1;
        }
        const CredsEntry *cr = e->thread_core ? e->thread_core->creds : NULL;
        if (cr) {
                c->has_creds = true;
                c->uid[0] = cr->uid, c->uid[1] = cr->euid, c->uid[2] = cr->suid, c->uid[3] = cr->fsuid;
                c->gid[0] = cr->gid, c->gid[1] = cr->egid, c->gid[2] = cr->sgid, c->gid[3] = cr->fsgid;
        }
}

static int load_core(struct criu_proc *c, criu_open_fn open, void *userdata) {
        struct criu_record rec;
        char name[32];
        snprintf(name, sizeof(name), "core-%u.img", c->pid);
        int k = criu_image_first_of(open, userdata, name, &core_entry__descriptor, &rec);
        if (k < 0)
                return k;
        take_core(c, (const CoreEntry *) rec.msg);
        const char *comm = k >= 0 && ((const CoreEntry *) rec.msg)->tc ? ((const CoreEntry *) rec.msg)->tc->comm : "";
        if (k >= 0 && !(c->comm = strdup(comm ? comm : "")))
                k = -ENOMEM;
        criu_record_done(&rec);
        return k;
}

int criu_procs_load(criu_open_fn open, void *userdata, struct criu_procs *ret_procs) {
        struct criu_procs p = { 0 };
        _cleanup_store_reader_ struct store_reader *pstree = NULL;
        int k = open(userdata, "pstree.img", &pstree);
        if (k == -ENOENT)
                k = -EBADMSG;
        if (k >= 0)
                k = load_pstree(pstree, &p);
        for (size_t i = 0; k >= 0 && i < p.n; i++)
                k = load_core(&p.v[i], open, userdata);
        if (k < 0) {
                criu_procs_clear(&p);
                return k;
        }
        *ret_procs = p;
        return 0;
}
