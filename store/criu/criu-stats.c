/* stats-dump: CRIU's dump statistics (criu-stats.h). */
#include "criu-stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "criu-image.h"
#include "criu_stats.pb-c.h"
#include "memtext.h"

static const char *const names[CRIU_STAT_N] = {
        [CRIU_STAT_FREEZING_TIME] = "freezing_time",
        [CRIU_STAT_FROZEN_TIME] = "frozen_time",
        [CRIU_STAT_MEMDUMP_TIME] = "memdump_time",
        [CRIU_STAT_MEMWRITE_TIME] = "memwrite_time",
        [CRIU_STAT_PAGES_SCANNED] = "pages_scanned",
        [CRIU_STAT_PAGES_SKIPPED_PARENT] = "pages_skipped_parent",
        [CRIU_STAT_PAGES_WRITTEN] = "pages_written",
        [CRIU_STAT_IRMAP_RESOLVE] = "irmap_resolve",
        [CRIU_STAT_PAGES_LAZY] = "pages_lazy",
        [CRIU_STAT_PAGE_PIPES] = "page_pipes",
        [CRIU_STAT_PAGE_PIPE_BUFS] = "page_pipe_bufs",
        [CRIU_STAT_SHPAGES_SCANNED] = "shpages_scanned",
        [CRIU_STAT_SHPAGES_SKIPPED_PARENT] = "shpages_skipped_parent",
        [CRIU_STAT_SHPAGES_WRITTEN] = "shpages_written",
};

const char *criu_stat_name(enum criu_stat s) {
        return (unsigned) s < CRIU_STAT_N ? names[s] : NULL;
}

static bool is_time(enum criu_stat s) {
        return s <= CRIU_STAT_MEMWRITE_TIME;
}

static void set(struct criu_dump_stats *s, enum criu_stat i, bool has, uint64_t v) {
        if (has) {
                s->v[i] = v;
                s->present |= 1u << i;
        }
}

static void take(struct criu_dump_stats *s, const DumpStatsEntry *d) {
        *s = (struct criu_dump_stats) { 0 };
        set(s, CRIU_STAT_FREEZING_TIME, true, d->freezing_time);
        set(s, CRIU_STAT_FROZEN_TIME, true, d->frozen_time);
        set(s, CRIU_STAT_MEMDUMP_TIME, true, d->memdump_time);
        set(s, CRIU_STAT_MEMWRITE_TIME, true, d->memwrite_time);
        set(s, CRIU_STAT_PAGES_SCANNED, true, d->pages_scanned);
        set(s, CRIU_STAT_PAGES_SKIPPED_PARENT, true, d->pages_skipped_parent);
        set(s, CRIU_STAT_PAGES_WRITTEN, true, d->pages_written);
        set(s, CRIU_STAT_IRMAP_RESOLVE, d->has_irmap_resolve, d->irmap_resolve);
        set(s, CRIU_STAT_PAGES_LAZY, true, d->pages_lazy);
        set(s, CRIU_STAT_PAGE_PIPES, d->has_page_pipes, d->page_pipes);
        set(s, CRIU_STAT_PAGE_PIPE_BUFS, d->has_page_pipe_bufs, d->page_pipe_bufs);
        set(s, CRIU_STAT_SHPAGES_SCANNED, d->has_shpages_scanned, d->shpages_scanned);
        set(s, CRIU_STAT_SHPAGES_SKIPPED_PARENT, d->has_shpages_skipped_parent, d->shpages_skipped_parent);
        set(s, CRIU_STAT_SHPAGES_WRITTEN, d->has_shpages_written, d->shpages_written);
}

int criu_stats_load(struct store_reader *r, struct criu_dump_stats *ret_stats) {
        struct criu_record rec;
        int k = criu_image_first(r, &stats_entry__descriptor, &rec);
        if (k < 0)
                return k;
        if (!((const StatsEntry *) rec.msg)->dump)
                k = -ENODATA;
        else
                take(ret_stats, ((const StatsEntry *) rec.msg)->dump);
        criu_record_done(&rec);
        return k < 0 ? k : 0;
}

int criu_stats_text(const struct criu_dump_stats *s, char **ret, size_t *ret_len) {
        struct memtext t;
        if (memtext_open(&t) < 0)
                return -ENOMEM;
        for (int i = 0; i < CRIU_STAT_N; i++)
                if (s->present & (1u << i))
                        fprintf(t.f, "%s: %" PRIu64 "%s\n", names[i], s->v[i], is_time(i) ? " us" : "");
        return memtext_finish(&t, ret, ret_len);
}

int criu_stats_json(const struct criu_dump_stats *s, json_t **ret_json) {
        json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        for (int i = 0; i < CRIU_STAT_N; i++)
                if ((s->present & (1u << i)) && json_object_set_new(o, names[i], json_integer((json_int_t) s->v[i])) < 0) {
                        json_decref(o);
                        return -ENOMEM;
                }
        *ret_json = o;
        return 0;
}

int criu_stats_none_text(char **ret, size_t *ret_len) {
        static const char text[] = "no statistics: the dump has no stats-dump (CRIU writes it into its work "
                                   "directory; checkpoints taken by containerd itself leave it out)\n";
        char *s = strdup(text);
        if (!s)
                return -ENOMEM;
        *ret = s;
        *ret_len = sizeof(text) - 1;
        return 0;
}
