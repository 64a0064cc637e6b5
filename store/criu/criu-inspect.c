/* inspect.json's CRIU parts (criu-inspect.h). */
#include "criu-inspect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"

const char *criu_inspect_task_state(uint32_t state) {
        switch (state) {
        case CRIU_TASK_ALIVE: return "Alive";
        case CRIU_TASK_DEAD: return "Dead";
        case CRIU_TASK_STOPPED: return "Stopped";
        case 6: return "Zombie";   /* CRIU's TASK_ZOMBIE, never written by a dump */
        default: return "Unknown";
        }
}

int criu_inspect_statistics(const struct criu_dump_stats *s, json_t **ret_json) {
        static const enum criu_stat fields[] = { CRIU_STAT_FREEZING_TIME, CRIU_STAT_FROZEN_TIME,
                                                 CRIU_STAT_MEMDUMP_TIME,  CRIU_STAT_MEMWRITE_TIME,
                                                 CRIU_STAT_PAGES_SCANNED, CRIU_STAT_PAGES_WRITTEN };
        json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                uint64_t v = s->v[fields[i]];
                if (v && json_object_set_new(o, criu_stat_name(fields[i]), json_integer((json_int_t) v)) < 0) {
                        json_decref(o);
                        return -ENOMEM;
                }
        }
        *ret_json = o;
        return 0;
}

/* NUL-separated strings joined by spaces (no trailing one). */
static json_t *args_json(const char *buf, size_t len) {
        while (len && !buf[len - 1])
                len--;
        char *s = malloc(len + 1);
        if (!s)
                return NULL;
        memcpy(s, buf, len);   /* not strndup: it stops at the first NUL */
        s[len] = 0;
        for (size_t i = 0; i < len; i++)
                if (!s[i])
                        s[i] = ' ';
        json_t *j = json_stringn(s, len);
        free(s);
        return j;
}

/* NAME=value strings as {NAME: value}; strings without a name are left out. */
static json_t *env_json(const char *buf, size_t len) {
        json_t *o = json_object();
        for (size_t at = 0; o && at < len;) {
                const char *s = buf + at, *nul = memchr(s, 0, len - at);
                size_t n = nul ? (size_t) (nul - s) : len - at;
                const char *eq = memchr(s, '=', n);
                at += n + 1;
                if (!eq || eq == s)
                        continue;
                _cleanup_free_ char *key = strndup(s, (size_t) (eq - s));
                if (!key || json_object_set_new(o, key, json_stringn(eq + 1, n - (size_t) (eq + 1 - s))) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}

/* cmdline and environment_variables of pid into node o. */
static int add_memory(json_t *o, uint32_t pid, criu_open_fn open, void *ctx) {
        _cleanup_criu_mem_ struct criu_mem *m = NULL;
        _cleanup_free_ char *args = NULL, *env = NULL;
        size_t args_len = 0, env_len = 0;
        int r = criu_mem_open(open, ctx, pid, &m);
        if (r >= 0)
                r = criu_mem_cmdline(m, &args, &args_len);
        if (r >= 0)
                r = criu_mem_environ(m, &env, &env_len);
        if (r < 0)
                return r;
        if (json_object_set_new(o, "cmdline", args_json(args, args_len)) < 0 ||
            json_object_set_new(o, "environment_variables", env_json(env, env_len)) < 0)
                return -ENOMEM;
        return 0;
}

typedef struct tree_builder {
        const struct criu_procs *p;
        criu_open_fn open;
        void *ctx;
} tree_builder;

/* The node of process c; depth bounds a cycle in a damaged pstree. */
static int node_json(const tree_builder *b, const struct criu_proc *c, size_t depth, json_t **ret) {
        _cleanup_json_ json_t *o = json_pack("{s:I, s:s, s:s}", "pid", (json_int_t) c->pid, "command", c->comm,
                                             "task_state", criu_inspect_task_state(c->state));
        if (!o)
                return -ENOMEM;
        if (c->state != CRIU_TASK_ALIVE && c->state != CRIU_TASK_STOPPED) {
                *ret = json_incref(o);
                return 0;
        }
        int r = add_memory(o, c->pid, b->open, b->ctx);
        _cleanup_json_ json_t *kids = json_array();
        if (!kids)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && depth < b->p->n && i < b->p->n; i++) {
                const struct criu_proc *k = &b->p->v[i];
                json_t *kj = NULL;
                if (k->ppid != c->pid || k == c)
                        continue;
                r = node_json(b, k, depth + 1, &kj);
                if (r >= 0 && json_array_append_new(kids, kj) < 0)
                        r = -ENOMEM;
        }
        if (r >= 0 && json_array_size(kids) && json_object_set(o, "children", kids) < 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = json_incref(o);
        return 0;
}

int criu_inspect_process_tree(const struct criu_procs *p, criu_open_fn open, void *ctx, json_t **ret_json) {
        if (!p->n)
                return -ENOENT;
        tree_builder b = { .p = p, .open = open, .ctx = ctx };
        return node_json(&b, &p->v[0], 0, ret_json);
}
