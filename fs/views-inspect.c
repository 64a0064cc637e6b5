/* inspect.json: one checkpoint in the shape `checkpointctl inspect --all
 * --format json` prints (a list of one object), so that tools written for
 * checkpointctl read ckptfs checkpoints without a tar. Each part comes
 * from its own builder: the container fields and checkpoint_size
 * (ckpt-summary.h, from the facts summary also shows), statistics and
 * process_tree, file_descriptors and sockets (criu-inspect.h); mounts are
 * the spec's, as checkpointctl's are (ckpt-summary.h). 0400: the
 * environment of the processes is in it. Damaged images: EIO. */
#include "ckpt-views.h"

#include <errno.h>

#include "catalog.h"
#include "ckpt-summary.h"
#include "cleanup.h"
#include "criu-inspect.h"
#include "json.h"
#include "views.h"

/* Sets o[key] to the part a builder made (a NULL part: left out). */
static int add_part(json_t *o, const char *key, int r, json_t *part) {
        if (r < 0 || !part)
                return r;
        return json_object_set_new(o, key, part) < 0 ? -ENOMEM : 0;
}

static int add_statistics(fs_ctx *ctx, const fs_node *n, json_t *o) {
        struct criu_dump_stats s;
        json_t *part = NULL;
        int r = views_proc_stats_of(ctx, n, &s);
        if (r == -ENOENT)   /* no stats-dump: checkpointctl leaves it out too */
                return 0;
        if (r >= 0)
                r = criu_inspect_statistics(&s, &part);
        return add_part(o, "statistics", r, part);
}

static int add_process_tree(fs_ctx *ctx, const fs_node *n, const struct criu_procs *p, json_t *o) {
        views_dump d;
        json_t *part = NULL;
        int r = views_dump_of(ctx, n, &d);
        if (r >= 0) {
                r = views_dump_errno(criu_inspect_process_tree(p, views_dump_open, &d, &part));
                views_dump_clear(&d);
        }
        return add_part(o, "process_tree", r, part);
}

static int add_open_files(fs_ctx *ctx, const fs_node *n, const struct criu_procs *p, json_t *o) {
        struct criu_files files;
        struct criu_task_fds *tasks;
        int r = views_proc_open_files(ctx, n, p, &files, &tasks);
        if (r < 0)
                return r;
        json_t *fds = NULL, *sockets = NULL;
        r = criu_inspect_file_descriptors(tasks, p->n, &files, &fds);
        r = add_part(o, "file_descriptors", r, fds);
        if (r >= 0)
                r = criu_inspect_sockets(tasks, p->n, &files, &sockets);
        r = add_part(o, "sockets", r, sockets);
        views_proc_open_files_clear(&files, tasks, p->n);
        return r;
}

int views_content_inspect(fs_ctx *ctx, const fs_node *n, char **ret, size_t *ret_len) {
        store_ckpt_facts f;
        int r = views_ckpt_facts(ctx, n, false, &f);   /* damage shows as EIO below */
        if (r < 0)
                return r;
        _cleanup_json_ json_t *list = json_array(), *o = json_object();
        if (!list || !o || json_array_append(list, o) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = store_ckpt_inspect_container(&f, o);
        store_ckpt_facts_clear(&f);
        if (r >= 0)
                r = add_statistics(ctx, n, o);
        struct criu_procs p = { 0 };
        if (r >= 0)
                r = views_proc_procs(ctx, n, &p);
        if (r >= 0)
                r = add_process_tree(ctx, n, &p, o);
        if (r >= 0)
                r = add_open_files(ctx, n, &p, o);
        criu_procs_clear(&p);
        return r < 0 ? r : json_dump_text(list, JSON_INDENT(2), ret, ret_len);
}
