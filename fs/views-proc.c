/* proc/: the processes of the CRIU dump at the top of task/ (store/criu's
 * criu-proc.h), rendered on each read from pstree.img and core-<pid>.img.
 * Immutable like the rest of the checkpoint; nothing secret (0444).
 * Node keys in ckpt-views.h. */
#include "ckpt-views.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "criu-proc.h"
#include "json.h"
#include "views.h"

/* The processes of n's dump and the rest of n's key. */
static int procs_of(fs_ctx *ctx, const fs_node *n, struct criu_procs *ret, const char **ret_rest) {
        views_dump d;
        int r = views_dump_of(ctx, n, &d);
        if (r < 0)
                return r;
        r = views_dump_errno(criu_procs_load(views_dump_open, &d, ret));
        views_dump_clear(&d);
        if (r >= 0)
                *ret_rest = d.rest;   /* in n's key, not in d */
        return r;
}

int views_proc_procs(fs_ctx *ctx, const fs_node *n, struct criu_procs *ret) {
        const char *rest;
        return procs_of(ctx, n, ret, &rest);
}

static int add_file(fs_dirents *out, const fs_node *dir, const char *base, const char *name) {
        _cleanup_free_ char *key = NULL;
        if (asprintf(&key, "%s/%s", base, name) < 0)
                return -ENOMEM;
        return fs_dirents_add(out, FS_CK_PROC_FILE, name, NODE_NS(dir), NODE_ID(dir), key);
}

int views_list_proc(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        struct criu_procs p = { 0 };
        const char *rest;
        int r = procs_of(ctx, dir, &p, &rest);
        /* Damaged process images: ps says EIO, the other files still read. */
        if (r < 0 && r != -EIO)
                return r;
        const char *digest = NODE_KEY3(dir);
        r = 0;
        static const char *const files[] = { "ps", "ps.json", "stats", "stats.json", "sockets", "sockets.json",
                                             "mounts", "mounts.json" };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(files); i++)
                r = add_file(out, dir, digest, files[i]);
        for (size_t i = 0; r >= 0 && i < p.n; i++) {
                char pid[16];
                _cleanup_free_ char *key = NULL;
                snprintf(pid, sizeof(pid), "%u", p.v[i].pid);
                if (asprintf(&key, "%s/%s", digest, pid) < 0)
                        r = -ENOMEM;
                else
                        r = fs_dirents_add(out, FS_CK_PROC_PID, pid, NODE_NS(dir), NODE_ID(dir), key);
        }
        criu_procs_clear(&p);
        return r;
}

/* The process named by "<pid>[/<file>]"; NULL when none. */
static const struct criu_proc *proc_named(const struct criu_procs *p, const char *rest, const char **ret_file) {
        char *end;
        if (!rest || *rest < '0' || *rest > '9')
                return NULL;
        unsigned long pid = strtoul(rest, &end, 10);
        if (pid > UINT32_MAX || (*end && *end != '/'))
                return NULL;
        *ret_file = *end ? end + 1 : NULL;
        return criu_procs_find(p, (uint32_t) pid);
}

int views_list_proc_pid(fs_ctx *ctx, const fs_node *dir, fs_dirents *out) {
        struct criu_procs p;
        const char *rest, *file;
        int r = procs_of(ctx, dir, &p, &rest);
        if (r < 0)
                return r;
        const struct criu_proc *c = proc_named(&p, rest, &file);
        if (!c || file)
                r = -ENOENT;
        if (r >= 0)
                r = add_file(out, dir, NODE_KEY3(dir), "comm");
        if (r >= 0)
                r = add_file(out, dir, NODE_KEY3(dir), "status");
        /* a zombie has no memory to make a core of */
        if (r >= 0 && c->state != CRIU_TASK_DEAD)
                r = views_add_proc_core(out, dir);
        if (r >= 0)
                r = add_file(out, dir, NODE_KEY3(dir), "fds");
        if (r >= 0)
                r = add_file(out, dir, NODE_KEY3(dir), "fds.json");
        criu_procs_clear(&p);
        if (r >= 0)
                r = views_list_proc_mem(ctx, dir, out);
        return r;
}

static int render(const struct criu_procs *p, const char *rest, char **ret, size_t *ret_len) {
        if (!rest)
                return -ENOENT;
        if (!strcmp(rest, "ps"))
                return criu_procs_ps_text(p, ret, ret_len);
        if (!strcmp(rest, "ps.json")) {
                _cleanup_json_ json_t *j = NULL;
                int r = criu_procs_ps_json(p, &j);
                return r < 0 ? r : json_dump_text(j, JSON_INDENT(4), ret, ret_len);
        }
        const char *file = NULL;
        const struct criu_proc *c = proc_named(p, rest, &file);
        if (!c || !file)
                return -ENOENT;
        if (!strcmp(file, "status"))
                return criu_proc_status(c, ret, ret_len);
        if (strcmp(file, "comm"))
                return -ENOENT;
        char *s = NULL;
        int n = asprintf(&s, "%s\n", c->comm);
        if (n < 0)
                return -ENOMEM;
        *ret = s;
        *ret_len = (size_t) n;
        return 0;
}

int views_content_proc(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        const char *key = NODE_KEY3(n), *slash = key ? strchr(key, '/') : NULL;
        if (slash && views_proc_stats_file(slash + 1))
                return views_proc_stats(ctx, n, slash + 1, ret, ret_len);
        if (slash && views_proc_fds_handles(slash + 1))
                return views_content_proc_fds(ctx, n, ret, ret_len);
        struct criu_procs p;
        const char *rest;
        int r = procs_of(ctx, n, &p, &rest);
        if (r < 0)
                return r;
        r = render(&p, rest, ret, ret_len);
        criu_procs_clear(&p);
        return r;
}
