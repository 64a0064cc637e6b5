/* restore-image.h: the JSON a restore reads. Pure. */
#include "restore-image.h"
#include "json.h"
#include "strv.h"
#include "vocab.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *goarch(void) {
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__powerpc64__)
        return "ppc64le";
#else
        return "unknown";
#endif
}

/* A descriptor object -> d; -EBADMSG without a valid digest. */
static int take_desc(const json_t *o, restore_desc *d) {
        const char *mt = json_string_value(json_object_get(o, "mediaType"));
        const char *dg = json_string_value(json_object_get(o, "digest"));
        const json_t *sz = json_object_get(o, "size");
        if (!dg || !digest_valid(dg) || !json_is_integer(sz) || json_integer_value(sz) < 0)
                return -EBADMSG;
        snprintf(d->media_type, sizeof(d->media_type), "%s", mt ? mt : "");
        snprintf(d->digest, sizeof(d->digest), "%s", dg);
        d->size = json_integer_value(sz);
        d->found = true;
        return 0;
}

static int dup_annotation(const json_t *ann, const char *key, char **ret) {
        const char *v = json_string_value(json_object_get(ann, key));
        *ret = NULL;
        if (v && *v && !(*ret = strdup(v)))
                return -ENOMEM;
        return 0;
}

void restore_index_clear(restore_index *ix) {
        free(ix->image_name);
        free(ix->runtime);
        free(ix->snapshotter);
        *ix = (restore_index) { 0 };
}

int restore_index_parse(const char *text, size_t len, restore_index *ret) {
        _cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
        const json_t *ms = json_object_get(j, "manifests");
        if (!json_is_array(ms))
                return -EBADMSG;
        restore_index ix = { 0 };
        size_t i;
        const json_t *m;
        json_array_foreach(ms, i, m) {
                const char *mt = json_string_value(json_object_get(m, "mediaType"));
                restore_desc *d = !mt                               ? NULL
                                  : strcmp(mt, MT_CRIU) == 0            ? &ix.criu
                                  : strcmp(mt, MT_CKPT_CONFIG) == 0     ? &ix.config
                                  : strcmp(mt, MT_RUNTIME_OPTIONS) == 0 ? &ix.runtime_options
                                  : strcmp(mt, MT_LAYER_GZIP) == 0      ? &ix.rw
                                                                        : NULL;
                if (d && !d->found && take_desc(m, d) < 0)
                        return -EBADMSG;
        }
        const json_t *ann = json_object_get(j, "annotations");
        int r = dup_annotation(ann, ANN_IMAGE_NAME, &ix.image_name);
        if (r >= 0)
                r = dup_annotation(ann, ANN_RUNTIME, &ix.runtime);
        if (r >= 0)
                r = dup_annotation(ann, ANN_SNAPSHOTTER, &ix.snapshotter);
        if (r < 0) {
                restore_index_clear(&ix);
                return r;
        }
        *ret = ix;
        return 0;
}

/* The manifest of a list for linux/<arch>: exact match first, else the
 * first entry without a platform. */
static int pick_manifest(const json_t *ms, restore_desc *ret) {
        const json_t *fallback = NULL, *m;
        size_t i;
        json_array_foreach(ms, i, m) {
                const json_t *p = json_object_get(m, "platform");
                if (!p) {
                        if (!fallback)
                                fallback = m;
                        continue;
                }
                const char *os = json_string_value(json_object_get(p, "os"));
                const char *arch = json_string_value(json_object_get(p, "architecture"));
                if (os && arch && strcmp(os, "linux") == 0 && strcmp(arch, goarch()) == 0)
                        return take_desc(m, ret);
        }
        return fallback ? take_desc(fallback, ret) : -ENOENT;
}

int restore_image_step(const char *mt, const char *text, size_t len, restore_desc *ret_next) {
        bool list = strcmp(mt, MT_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
        bool manifest = strcmp(mt, MT_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0;
        if (!list && !manifest)
                return -EBADMSG;
        _cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
        if (!json_is_object(j))
                return -EBADMSG;
        restore_desc d = { 0 };
        int r;
        if (list) {
                const json_t *ms = json_object_get(j, "manifests");
                r = json_is_array(ms) ? pick_manifest(ms, &d) : -EBADMSG;
        } else
                r = take_desc(json_object_get(j, "config"), &d);
        if (r < 0)
                return r;
        *ret_next = d;
        return 0;
}

int restore_config_diff_ids(const char *text, size_t len, char ***ret_ids, size_t *ret_n) {
        _cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
        const json_t *ids = json_object_get(json_object_get(j, "rootfs"), "diff_ids");
        if (!json_is_array(ids) || json_array_size(ids) == 0)
                return -EBADMSG;
        char **v = NULL;
        size_t n = 0, i;
        const json_t *e;
        json_array_foreach(ids, i, e) {
                const char *s = json_string_value(e);
                int r = s && digest_valid(s) ? strv_push(&v, &n, s) : -EBADMSG;
                if (r < 0) {
                        strv_free(v);
                        return r;
                }
        }
        *ret_ids = v;
        *ret_n = n;
        return 0;
}
