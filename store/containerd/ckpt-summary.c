/* summary and inspect.json's container fields (ckpt-summary.h). */
#include "ckpt-summary.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "json.h"
#include "memtext.h"
#include "strv.h"

void store_ckpt_facts_clear(store_ckpt_facts *f) {
        free(f->name);
        free(f->container);
        free(f->image);
        free(f->runtime);
        strv_free(f->damaged);
        json_decref(f->mounts);
        *f = (store_ckpt_facts) { 0 };
}

/* Replaces *dst by a copy of j's string, if it is one. */
static int take_string(char **dst, const json_t *j) {
        if (!json_is_string(j))
                return 0;
        char *s = strdup(json_string_value(j));
        if (!s)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

/* The spec's mounts, each as {destination, type, source}. */
static int take_mounts(store_ckpt_facts *f, const json_t *mounts) {
        if (!json_is_array(mounts) || !json_array_size(mounts))
                return 0;
        _cleanup_json_ json_t *list = json_array();
        size_t i;
        const json_t *m;
        json_array_foreach(mounts, i, m) {
                json_t *o = json_object();
                if (!o || json_array_append_new(list, o) < 0)
                        return -ENOMEM;
                static const char *const keys[] = { "destination", "type", "source" };
                for (size_t k = 0; k < 3; k++) {
                        const json_t *v = json_object_get(m, keys[k]);
                        if (json_object_set_new(o, keys[k], json_string(json_is_string(v) ? json_string_value(v) : "")) < 0)
                                return -ENOMEM;
                }
        }
        json_decref(f->mounts);
        f->mounts = json_incref(list);
        return 0;
}

int store_ckpt_facts_from_config(store_ckpt_facts *f, const char *config_json) {
        _cleanup_json_ json_t *j = json_loads(config_json, 0, NULL);
        if (!json_is_object(j))
                return -EBADMSG;
        int r = take_string(&f->container, json_object_get(j, "id"));
        if (r >= 0)
                r = take_string(&f->image, json_object_get(j, "image"));
        if (r >= 0)
                r = take_string(&f->runtime, json_object_get(json_object_get(j, "runtime"), "name"));
        if (r >= 0)
                r = take_mounts(f, json_object_get(json_object_get(j, "spec"), "mounts"));
        return r;
}

void store_ckpt_time_text(int64_t ns, char *buf, size_t size) {
        struct tm tm;
        time_t t = (time_t) (ns / 1000000000LL);
        if (ns <= 0 || !gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(buf, size, "%s", "");
}

/* "186847 bytes (182.5 KiB)" */
static void size_line(FILE *f, const char *key, uint64_t n) {
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
        fprintf(f, "%s: %" PRIu64 " bytes", key, n);
        double v = (double) n;
        int u = -1;
        while (v >= 1024 && u < 3) {
                v /= 1024;
                u++;
        }
        if (u >= 0)
                fprintf(f, " (%.1f %s)", v, units[u]);
        fputc('\n', f);
}

static const char *or_unknown(const char *s) {
        return s && *s ? s : "(unknown)";
}

int store_ckpt_summary_text(const store_ckpt_facts *f, char **ret, size_t *ret_len) {
        struct memtext t;
        if (memtext_open(&t) < 0)
                return -ENOMEM;
        char when[32];
        store_ckpt_time_text(f->created_ns, when, sizeof(when));
        fprintf(t.f, "checkpoint: %s\ncontainer: %s\nimage: %s\nruntime: %s\nengine: containerd\ncheckpointed: %s\n",
                or_unknown(f->name), or_unknown(f->container), or_unknown(f->image), or_unknown(f->runtime),
                or_unknown(when));
        size_line(t.f, "size", f->total_size);
        if (f->has_criu) {
                fprintf(t.f, "criu dump: yes, %zu files (task/, proc/)\n", f->n_images);
                size_line(t.f, "criu dump size", f->criu_size);
                size_line(t.f, "memory pages", f->pages_size);
                fprintf(t.f, "statistics: %s\n", f->has_stats ? "yes (proc/stats)" : "none (no stats-dump)");
        } else
                fputs("criu dump: none (no process state: no task/ or proc/; restore needs the rw diff and "
                      "a new task)\n", t.f);
        if (f->has_rw)
                size_line(t.f, "rw diff", f->rw_size);
        else
                fputs("rw diff: none\n", t.f);
        for (size_t i = 0; f->damaged && f->damaged[i]; i++)
                fprintf(t.f, "damaged: %s\n", f->damaged[i]);
        return memtext_finish(&t, ret, ret_len);
}

static int set_string(json_t *o, const char *key, const char *v) {
        return json_object_set_new(o, key, json_string(v ? v : "")) < 0 ? -ENOMEM : 0;
}

static int set_size(json_t *o, const char *key, uint64_t v) {
        if (!v)
                return 0;
        return json_object_set_new(o, key, json_integer((json_int_t) v)) < 0 ? -ENOMEM : 0;
}

int store_ckpt_inspect_container(const store_ckpt_facts *f, json_t *o) {
        char when[32];
        store_ckpt_time_text(f->created_ns, when, sizeof(when));
        json_t *size = json_object();
        if (!size || json_object_set_new(o, "checkpoint_size", size) < 0)
                return -ENOMEM;
        int r = set_string(o, "container_name", f->container);
        if (r >= 0)
                r = set_string(o, "image", f->image);
        if (r >= 0)
                r = set_string(o, "id", f->container);
        if (r >= 0)
                r = set_string(o, "runtime", f->runtime);
        if (r >= 0)
                r = set_string(o, "created", when);
        if (r >= 0 && *when)
                r = set_string(o, "checkpointed", when);
        if (r >= 0)
                r = set_string(o, "engine", "containerd");
        if (r >= 0)
                r = set_size(size, "total_size", f->total_size);
        if (r >= 0)
                r = set_size(size, "memory_pages_size", f->pages_size);
        if (r >= 0)
                r = set_size(size, "root_fs_diff_size", f->rw_size);
        if (r >= 0 && f->mounts && json_object_set(o, "mounts", f->mounts) < 0)
                r = -ENOMEM;
        return r;
}
