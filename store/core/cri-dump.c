#include "cri-dump.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "json.h"

#define CRI_NAME_ANNOTATION "io.kubernetes.cri.container-name"
#define CRI_CONTAINER_RUNNING 1

void store_cri_time(int64_t ns, char *buf, size_t size) {
        if (ns <= 0) {
                snprintf(buf, size, "0001-01-01T00:00:00Z");
                return;
        }
        time_t sec = (time_t) (ns / 1000000000);
        long frac = (long) (ns % 1000000000);
        struct tm tm;
        gmtime_r(&sec, &tm);
        size_t k = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
        if (frac) {
                char f[16];
                snprintf(f, sizeof(f), ".%09ld", frac);
                for (size_t e = strlen(f); f[e - 1] == '0'; e--)
                        f[e - 1] = '\0';
                k += (size_t) snprintf(buf + k, size - k, "%s", f);
        }
        snprintf(buf + k, size - k, "Z");
}

static const char *str_or(json_t *j, const char *dflt) {
        const char *s = json_string_value(j);
        return s ? s : dflt;
}

/* Adds key = s unless s is empty (Go's omitempty). */
static int set_nonempty(json_t *o, const char *key, const char *s) {
        if (!s || !*s)
                return 0;
        return json_object_set_new(o, key, json_string(s));
}

static int dump_compact(json_t *o, char **ret, size_t *ret_len) {
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!s)
                return -ENOMEM;
        *ret = s;
        *ret_len = strlen(s);
        return 0;
}

static int render_config(const char *id, const char *name, const char *image, const char *runtime, int64_t created_ns,
                         char **ret, size_t *ret_len) {
        char now[48], zero[48];
        store_cri_time(created_ns, now, sizeof(now));
        store_cri_time(0, zero, sizeof(zero));
        _cleanup_json_ json_t *o = json_pack("{s:s, s:s}", "id", id, "name", name);
        if (!o || set_nonempty(o, "rootfsImage", image) < 0 || set_nonempty(o, "rootfsImageName", image) < 0 ||
            set_nonempty(o, "runtime", runtime) < 0 || json_object_set_new(o, "createdTime", json_string(zero)) < 0 ||
            json_object_set_new(o, "checkpointedTime", json_string(now)) < 0 ||
            json_object_set_new(o, "restoredTime", json_string(zero)) < 0 ||
            json_object_set_new(o, "restored", json_false()) < 0)
                return -ENOMEM;
        return dump_compact(o, ret, ret_len);
}

static int render_status(const char *id, const char *name, const char *image, json_t *annotations, char **ret,
                         size_t *ret_len) {
        _cleanup_json_ json_t *o = json_object();
        if (!o || set_nonempty(o, "id", id) < 0)
                return -ENOMEM;
        json_t *meta = json_object();
        if (!meta || json_object_set_new(o, "metadata", meta) < 0 || set_nonempty(meta, "name", name) < 0 ||
            json_object_set_new(o, "state", json_integer(CRI_CONTAINER_RUNNING)) < 0)
                return -ENOMEM;
        if (image && *image) {
                json_t *img = json_pack("{s:s}", "image", image);
                if (!img || json_object_set_new(o, "image", img) < 0)
                        return -ENOMEM;
        }
        if (json_is_object(annotations) && json_object_size(annotations) &&
            json_object_set(o, "annotations", annotations) < 0)
                return -ENOMEM;
        return dump_compact(o, ret, ret_len);
}

int store_cri_dumps_render(const char *config_json, size_t len, int64_t created_ns, store_cri_dumps *ret) {
        _cleanup_json_ json_t *c = json_loadb(config_json, len, 0, NULL);
        if (!json_is_object(c))
                return -EBADMSG;
        json_t *annotations = json_object_get(json_object_get(c, "spec"), "annotations");
        const char *id = str_or(json_object_get(c, "id"), "");
        const char *name = str_or(json_object_get(annotations, CRI_NAME_ANNOTATION), id);
        const char *image = json_string_value(json_object_get(c, "image"));
        const char *runtime = json_string_value(json_object_get(json_object_get(c, "runtime"), "name"));
        store_cri_dumps d = { 0 };
        int r = render_config(id, name, image, runtime, created_ns, &d.config_dump, &d.config_len);
        if (r >= 0)
                r = render_status(id, name, image, annotations, &d.status_dump, &d.status_len);
        if (r < 0) {
                store_cri_dumps_clear(&d);
                return r;
        }
        *ret = d;
        return 0;
}

void store_cri_dumps_clear(store_cri_dumps *d) {
        free(d->config_dump);
        free(d->status_dump);
        *d = (store_cri_dumps) { 0 };
}
