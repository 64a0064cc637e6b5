/* inspect.json: one checkpoint in the shape `checkpointctl inspect --all
 * --format json` prints (a list of one object), so that tools written for
 * checkpointctl read ckptfs checkpoints without a tar. Each part comes
 * from its own builder: the container fields and checkpoint_size
 * (ckpt-summary.h, from the facts summary also shows), statistics and
 * process_tree (criu-inspect.h). file_descriptors, sockets and mounts are
 * not there yet: they join here as parts from criu-fds.h. 0400: the
 * environment of the processes is in it. Damaged images: EIO. */
#include "ckpt-views.h"

#include <errno.h>

#include "catalog.h"
#include "ckpt-summary.h"
#include "cleanup.h"
#include "criu-inspect.h"
#include "json.h"
#include "views.h"

typedef struct member_opener {
        fs_ctx *ctx;
        const char *ns;
        store_desc desc;
        const struct tar_index *tar;
} member_opener;

static int open_member(void *userdata, const char *name, struct store_reader **ret) {
        const member_opener *o = userdata;
        return views_criu_member(o->ctx, o->ns, &o->desc, o->tar, name, ret);
}

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

static int add_process_tree(fs_ctx *ctx, const fs_node *n, json_t *o) {
        member_opener m = { .ctx = ctx, .ns = NODE_NS(n) };
        const char *rest;
        struct criu_procs p;
        json_t *part = NULL;
        int r = views_proc_procs(ctx, n, &p);
        if (r < 0)
                return r;
        r = views_criu_tar_of(ctx, n, &m.desc, &m.tar, &rest, NULL);
        if (r >= 0) {
                r = criu_inspect_process_tree(&p, open_member, &m, &part);
                store_desc_clear(&m.desc);
        }
        criu_procs_clear(&p);
        if (r == -EBADMSG || r == -EOPNOTSUPP)
                r = -EIO;
        return add_part(o, "process_tree", r, part);
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
        if (r >= 0)
                r = add_process_tree(ctx, n, o);
        /* file_descriptors, sockets, mounts: parts to come (criu-fds.h). */
        return r < 0 ? r : json_dump_text(list, JSON_INDENT(2), ret, ret_len);
}
