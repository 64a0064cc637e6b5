/* The checkpoint's OCI image index, in the shape containerd's client writes
 * (encoding/json of ocispec.Index): fixed field order, sorted annotation
 * keys, a trailing newline. */
#include "checkpoint-index.h"
#include "json.h"
#include "vocab.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ckpt_goarch(void) {
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__i386__)
        return "386";
#elif defined(__arm__)
        return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return "ppc64le";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
        return "riscv64";
#else
        return "unknown";
#endif
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* An object of key/value pairs with keys in sorted order (as Go maps
 * encode). Duplicate keys: the last one wins, like a Go map. */
static json_t *sorted_object(const char *const *kv, size_t n) {
        const char *keys[n ? n : 1];
        for (size_t i = 0; i < n; i++)
                keys[i] = kv[2 * i];
        qsort(keys, n, sizeof(*keys), cmp_str);
        json_t *o = json_object();
        if (!o)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                const char *value = NULL;
                for (size_t j = 0; j < n; j++)
                        if (strcmp(kv[2 * j], keys[i]) == 0)
                                value = kv[2 * j + 1];
                if (json_object_set_new(o, keys[i], json_string(value)) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}

static json_t *descriptor(const ckpt_desc *d) {
        json_t *o = json_object();
        if (!o)
                return NULL;
        bool ok = json_object_set_new(o, "mediaType", json_string(d->media_type)) == 0 &&
                  json_object_set_new(o, "digest", json_string(d->digest)) == 0 &&
                  json_object_set_new(o, "size", json_integer(d->size)) == 0;
        if (ok && d->n_annotations) {
                json_t *a = sorted_object(d->annotations, d->n_annotations);
                ok = a && json_object_set_new(o, "annotations", a) == 0;
        }
        if (ok && d->platform) {
                json_t *p = json_pack("{s:s, s:s}", "architecture", ckpt_goarch(), "os", "linux");
                ok = p && json_object_set_new(o, "platform", p) == 0;
        }
        if (!ok) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int ckpt_index_build(const ckpt_desc *descs, size_t n, const char *runtime, const char *snapshotter,
                     const char *image_name, char **ret_json, size_t *ret_len) {
        for (size_t i = 0; i < n; i++)
                if (!descs[i].media_type || !descs[i].digest || descs[i].size < 0)
                        return -EINVAL;
        json_t *index = json_object();
        json_t *manifests = json_array();
        bool ok = index && manifests && json_object_set_new(index, "schemaVersion", json_integer(2)) == 0;
        for (size_t i = 0; ok && i < n; i++) {
                json_t *d = descriptor(&descs[i]);
                ok = d && json_array_append_new(manifests, d) == 0;
        }
        if (ok) {
                ok = json_object_set_new(index, "manifests", manifests) == 0;
                manifests = NULL;
        }
        if (ok) {
                const char *kv[6];
                size_t k = 0;
                kv[k++] = ANN_RUNTIME;
                kv[k++] = runtime ? runtime : "";
                kv[k++] = ANN_SNAPSHOTTER;
                kv[k++] = snapshotter ? snapshotter : "";
                if (image_name && *image_name) {
                        kv[k++] = ANN_IMAGE_NAME;
                        kv[k++] = image_name;
                }
                json_t *a = sorted_object(kv, k / 2);
                ok = a && json_object_set_new(index, "annotations", a) == 0;
        }
        int r = ok ? json_dump_text(index, JSON_PRESERVE_ORDER | JSON_COMPACT, ret_json, ret_len) : -ENOMEM;
        json_decref(manifests);
        json_decref(index);
        return r;
}
