#include "ckpt-files.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "decode.h"
#include "json.h"
#include "vocab.h"

static const store_desc *find_type(const store_descs *d, const char *mt) {
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->v[i].mediatype, mt) == 0)
                        return &d->v[i];
        return NULL;
}

static bool is_layer(const char *mt) {
        return strncmp(mt, "application/vnd.oci.image.layer.", 32) == 0 || strcmp(mt, MT_DOCKER_LAYER) == 0;
}

store_ckpt_parts store_ckpt_parts_of(const store_descs *children) {
        store_ckpt_parts p = {
                .config = find_type(children, MT_CKPT_CONFIG),
                .options = find_type(children, MT_CKPT_OPTIONS),
                .runtime_options = find_type(children, MT_RUNTIME_OPTIONS),
                .criu = find_type(children, MT_CRIU),
        };
        for (size_t i = 0; i < children->n && !p.layer; i++)
                if (is_layer(children->v[i].mediatype))
                        p.layer = &children->v[i];
        return p;
}

bool store_ckpt_has_config_json(const store_ckpt_parts *p) {
        return p->config != NULL;
}

bool store_ckpt_has_options_json(const store_ckpt_parts *p) {
        return p->options || p->runtime_options;
}

/* The whole blob `d` (NULL: absent, *ret NULL and 0 bytes). */
static int read_part(store_blobs *blobs, const char *ns, const store_desc *d, uint8_t **ret, size_t *ret_len) {
        if (!d) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        return store_blob_read_all(blobs, ns, d->digest, d->size, STORE_CKPT_SMALL_BLOB_MAX, ret, ret_len);
}

static int render_config(store_catalog *cat, store_blobs *blobs, const store_ckpt *ck, const store_ckpt_parts *parts,
                         char **ret, size_t *ret_len) {
        _cleanup_free_ uint8_t *config = NULL, *rt = NULL, *index = NULL;
        _cleanup_free_ char *id = NULL;
        store_config_parts p = { 0 };
        int r = read_part(blobs, ck->ns, parts->config, &config, &p.config_len);
        if (r >= 0)
                r = read_part(blobs, ck->ns, parts->runtime_options, &rt, &p.runtime_options_len);
        if (r >= 0)
                r = read_part(blobs, ck->ns, &ck->target, &index, &p.index_len);
        if (r < 0)
                return r;
        if (!config)
                return -ENOENT;
        /* Without an id the record says null: not a reason to fail. */
        if (store_catalog_ckpt_container(cat, ck, &id) < 0)
                id = NULL;
        p.id = id;
        p.config = config;
        p.index = index;
        p.runtime_options = rt;
        return store_decode_config(&p, ret, ret_len);
}

static int render_options(store_catalog *cat, store_blobs *blobs, const store_ckpt *ck, const store_ckpt_parts *parts,
                          char **ret, size_t *ret_len) {
        _cleanup_free_ uint8_t *o = NULL, *rt = NULL;
        size_t olen = 0, rtlen = 0;
        int r = read_part(blobs, ck->ns, parts->options, &o, &olen);
        if (r >= 0)
                r = read_part(blobs, ck->ns, parts->runtime_options, &rt, &rtlen);
        if (r >= 0)
                r = store_decode_options(o, olen, rt, rtlen, ret, ret_len);
        return r;
}

typedef int (*render_fn)(store_catalog *cat, store_blobs *blobs, const store_ckpt *ck, const store_ckpt_parts *parts,
                         char **ret, size_t *ret_len);

/* Renders a file from the parts of ck's index. */
static int render(store_catalog *cat, store_blobs *blobs, const store_ckpt *ck, render_fn fn, char **ret,
                  size_t *ret_len) {
        store_descs kids = { 0 };
        int r = store_catalog_children(cat, ck->ns, &ck->target, &kids);
        if (r >= 0) {
                store_ckpt_parts parts = store_ckpt_parts_of(&kids);
                r = fn(cat, blobs, ck, &parts, ret, ret_len);
        }
        store_descs_clear(&kids);
        return r;
}

int store_ckpt_config_json(store_catalog *cat, store_blobs *blobs, const store_ckpt *ck, char **ret,
                           size_t *ret_len) {
        return render(cat, blobs, ck, render_config, ret, ret_len);
}

int store_ckpt_options_json(store_catalog *cat, store_blobs *blobs, const store_ckpt *ck, char **ret,
                            size_t *ret_len) {
        return render(cat, blobs, ck, render_options, ret, ret_len);
}

const char *store_ckpt_ref_name(const char *name) {
        const char *slash = strrchr(name, '/');
        const char *colon = strchr(slash ? slash : name, ':');
        return colon ? colon + 1 : name;
}

int store_ckpt_layout_index(const store_ckpt *ck, char **ret, size_t *ret_len) {
        _cleanup_json_ json_t *j = json_pack("{s:i,s:s,s:[{s:s,s:s,s:I,s:{s:s,s:s}}]}", "schemaVersion", 2,
                                             "mediaType", MT_INDEX, "manifests", "mediaType", ck->target.mediatype,
                                             "digest", ck->target.digest, "size", (json_int_t) ck->target.size,
                                             "annotations", ANN_CONTAINERD_IMAGE_NAME, ck->name, ANN_IMAGE_NAME,
                                             store_ckpt_ref_name(ck->name));
        if (!j)
                return -ENOMEM;
        char *s = json_dumps(j, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        *ret = s;
        *ret_len = strlen(s);
        return 0;
}

const char *store_ckpt_manifest_name(const char *mt) {
        static const struct {
                const char *mt, *name;
        } names[] = {
                { MT_CRIU, "criu.tar" },
                { MT_LAYER_GZIP, "rw.tar.gz" },
                { MT_DOCKER_LAYER, "rw.tar.gz" },
                { MT_LAYER_TAR, "rw.tar" },
                { MT_CKPT_CONFIG, "config.pb" },
                { MT_CKPT_OPTIONS, "options.pb" },
                { MT_RUNTIME_OPTIONS, "runtime-options.pb" },
                { MT_MANIFEST, "image-manifest.json" },
                { MT_DOCKER_MANIFEST, "image-manifest.json" },
                { MT_INDEX, "image-index.json" },
                { MT_DOCKER_LIST, "image-index.json" },
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(mt, names[i].mt) == 0)
                        return names[i].name;
        return NULL;
}

int store_desc_foreach_annotation(const store_desc *d, int (*cb)(const char *key, const char *value, void *userdata),
                                  void *userdata) {
        _cleanup_json_ json_t *ann = d->annotations_json ? json_loads(d->annotations_json, 0, NULL) : NULL;
        const char *key;
        json_t *v;
        json_object_foreach(ann, key, v) {
                const char *s = json_string_value(v);
                int r = s ? cb(key, s, userdata) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}
