/* proc/stats and proc/stats.json: CRIU's dump statistics from the
 * stats-dump at the top of the CRIU tar (store/criu's criu-stats.h). A
 * dump without one (containerd's own checkpoints) has both files all the
 * same: stats says there are none, stats.json is {}. A stats-dump that
 * does not decode is EIO on both. Node keys as the rest of proc/. */
#include "ckpt-views.h"

#include <errno.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "criu-stats.h"
#include "json.h"
#include "views.h"

bool views_proc_stats_file(const char *file) {
        return file && (!strcmp(file, "stats") || !strcmp(file, "stats.json"));
}

int views_proc_stats_of(fs_ctx *ctx, const fs_node *n, struct criu_dump_stats *ret) {
        store_desc d;
        const struct tar_index *tar;
        const char *rest;
        int r = views_criu_tar_of(ctx, n, &d, &tar, &rest, NULL);
        if (r < 0)
                return r;
        _cleanup_store_reader_ struct store_reader *reader = NULL;
        r = views_criu_member(ctx, NODE_NS(n), &d, tar, "stats-dump", &reader);
        store_desc_clear(&d);
        if (r >= 0)
                r = criu_stats_load(reader, ret);
        /* Damaged, or a restore's: not the dump's statistics. */
        if (r == -EBADMSG || r == -EOPNOTSUPP || r == -ENODATA)
                return -EIO;
        return r;
}

int views_proc_stats(fs_ctx *ctx, const fs_node *n, const char *file, char **ret, size_t *ret_len) {
        struct criu_dump_stats s;
        bool json = !strcmp(file, "stats.json");
        int r = views_proc_stats_of(ctx, n, &s);
        if (r == -ENOENT && !json)
                return criu_stats_none_text(ret, ret_len);
        if (r == -ENOENT)
                s = (struct criu_dump_stats) { 0 };   /* {} */
        else if (r < 0)
                return r;
        if (!json)
                return criu_stats_text(&s, ret, ret_len);
        _cleanup_json_ json_t *j = NULL;
        r = criu_stats_json(&s, &j);
        return r < 0 ? r : json_dump_text(j, JSON_INDENT(4), ret, ret_len);
}
