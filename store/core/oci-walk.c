/* The blobs an OCI layout's index.json reaches: index and manifest blobs
 * are read (checked against their digests first) for their children;
 * every other blob is only named. */
#include "oci-import.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"
#include "strv.h"
#include "vocab.h"

/* The whole of a small file of the layout. */
static int read_small(oci_src *s, const char *rel, char **ret, size_t *ret_len) {
        _cleanup_store_reader_ struct store_reader *rd = NULL;
        int r = oci_src_open_file(s, rel, &rd);
        if (r < 0)
                return r;
        if (rd->size > OCI_IMPORT_MAX_JSON)
                return -EFBIG;
        _cleanup_free_ char *buf = malloc(rd->size + 1);
        if (!buf)
                return -ENOMEM;
        r = store_reader_read_exact(rd, buf, rd->size, 0);
        if (r < 0)
                return r == -ENODATA ? -EIO : r;
        buf[rd->size] = '\0';
        *ret_len = rd->size;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* Fills b from one descriptor object; -EBADMSG when it is not one. */
static int parse_desc(const json_t *d, oci_blob *b) {
        const char *digest = json_string_value(json_object_get(d, "digest"));
        const char *mt = json_string_value(json_object_get(d, "mediaType"));
        const json_t *size = json_object_get(d, "size");
        if (!digest || !digest_valid(digest) || !mt || !json_is_integer(size) || json_integer_value(size) < 0)
                return -EBADMSG;
        *b = (oci_blob) { .size = (uint64_t) json_integer_value(size) };
        snprintf(b->digest, sizeof(b->digest), "%s", digest);
        b->media_type = strdup(mt);
        return b->media_type ? 0 : -ENOMEM;
}

/* Adds a blob unless its digest is there; *ret_i: its slot. Takes b's strings. */
static int plan_add(oci_plan *p, oci_blob *b, size_t *ret_i) {
        for (size_t i = 0; i < p->n; i++)
                if (strcmp(p->blobs[i].digest, b->digest) == 0) {
                        free(b->media_type);
                        *ret_i = i;
                        return 0;
                }
        if (p->n >= OCI_IMPORT_MAX_BLOBS) {
                free(b->media_type);
                return -E2BIG;
        }
        oci_blob *v = realloc(p->blobs, (p->n + 1) * sizeof(*v));
        if (!v) {
                free(b->media_type);
                return -ENOMEM;
        }
        p->blobs = v;
        p->blobs[p->n] = *b;
        *ret_i = p->n++;
        return 0;
}

static bool is_index(const char *mt) {
        return strcmp(mt, MT_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
}

static bool is_manifest(const char *mt) {
        return strcmp(mt, MT_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0;
}

/* One child descriptor of blob `parent`, with the gc label that keeps it. */
static int add_child(oci_plan *p, size_t parent, const json_t *d, const char *key, char **ret_msg) {
        oci_blob b;
        int r = parse_desc(d, &b);
        if (r == -EBADMSG)
                return oci_fail(ret_msg, EIO, "blob %s is damaged: a bad descriptor", p->blobs[parent].digest);
        size_t i;
        if (r >= 0)
                r = plan_add(p, &b, &i);
        if (r == -E2BIG)
                return oci_fail(ret_msg, EIO, "the layout reaches more than %d blobs", OCI_IMPORT_MAX_BLOBS);
        oci_blob *pb = &p->blobs[parent];
        size_t n = 2 * pb->n_labels;
        if (r >= 0)
                r = strv_push(&pb->labels, &n, key);
        if (r >= 0)
                r = strv_push(&pb->labels, &n, p->blobs[i].digest);
        if (r >= 0)
                pb->n_labels++;
        return r;
}

/* The children of an index or manifest blob already checked by its caller. */
static int add_children(oci_plan *p, size_t i, const json_t *j, char **ret_msg) {
        char key[64];
        int r = 0;
        if (is_index(p->blobs[i].media_type)) {
                const json_t *m = json_object_get(j, "manifests");
                size_t k;
                const json_t *d;
                json_array_foreach(m, k, d) {
                        snprintf(key, sizeof(key), "containerd.io/gc.ref.content.m.%zu", k);
                        if ((r = add_child(p, i, d, key, ret_msg)) < 0)
                                return r;
                }
                return 0;
        }
        const json_t *config = json_object_get(j, "config");
        if (config && (r = add_child(p, i, config, "containerd.io/gc.ref.content.config", ret_msg)) < 0)
                return r;
        size_t k;
        const json_t *d;
        json_array_foreach(json_object_get(j, "layers"), k, d) {
                snprintf(key, sizeof(key), "containerd.io/gc.ref.content.l.%zu", k);
                if ((r = add_child(p, i, d, key, ret_msg)) < 0)
                        return r;
        }
        return 0;
}

/* Whether blob i is in the layout; for an index or manifest, its children. */
static int visit(oci_src *s, oci_plan *p, size_t i, char **ret_msg) {
        char rel[DIGEST_MAX + 16];
        const char *digest = p->blobs[i].digest;
        int r = oci_blob_relpath(digest, rel);
        if (r < 0)
                return oci_fail(ret_msg, EIO, "blob %s: not a sha256 digest", digest);
        bool walk = is_index(p->blobs[i].media_type) || is_manifest(p->blobs[i].media_type);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        _cleanup_store_reader_ struct store_reader *rd = NULL;
        r = walk ? read_small(s, rel, &text, &len) : oci_src_open_file(s, rel, &rd);
        if (r == -ENOENT && i > 0)
                return 0; /* not in the layout: perhaps in the content store */
        if (r == -ENOENT)
                return oci_fail(ret_msg, EIO, "blob %s (the image's index) is missing from the layout", digest);
        if (r < 0)
                return oci_fail(ret_msg, EIO, "blob %s cannot be read: %s", digest, strerror(-r));
        p->blobs[i].present = true;
        p->n_present++;
        p->bytes += p->blobs[i].size;
        if (!walk)
                return 0;
        char got[DIGEST_MAX];
        if ((r = digest_of(text, len, got)) < 0)
                return r;
        if (len != p->blobs[i].size || strcmp(got, digest) != 0)
                return oci_fail(ret_msg, EIO, "blob %s is damaged: %zu bytes hashing to %s", digest, len, got);
        _cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
        if (!json_is_object(j))
                return oci_fail(ret_msg, EIO, "blob %s is no JSON object", digest);
        return add_children(p, i, j, ret_msg);
}

/* index.json: the one image it lists, and its name. */
static int read_root(oci_src *s, oci_plan *p, char **ret_msg) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_small(s, "index.json", &text, &len);
        if (r == -ENOENT)
                return oci_fail(ret_msg, EIO, "index.json is missing: not an OCI layout");
        if (r < 0)
                return oci_fail(ret_msg, EIO, "index.json cannot be read: %s", strerror(-r));
        _cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
        const json_t *m = json_object_get(j, "manifests");
        if (!json_is_array(m))
                return oci_fail(ret_msg, EIO, "index.json is damaged: no manifests array");
        if (json_array_size(m) != 1)
                return oci_fail(ret_msg, EINVAL, "index.json lists %zu images; import takes exactly one",
                                json_array_size(m));
        const json_t *d = json_array_get(m, 0);
        oci_blob b;
        r = parse_desc(d, &b);
        if (r == -EBADMSG)
                return oci_fail(ret_msg, EIO, "index.json is damaged: a bad descriptor");
        size_t i;
        if (r >= 0)
                r = plan_add(p, &b, &i);
        if (r < 0)
                return r;
        const json_t *ann = json_object_get(d, "annotations");
        const char *name = json_string_value(json_object_get(ann, ANN_CONTAINERD_IMAGE_NAME));
        if (!name || !*name)
                name = json_string_value(json_object_get(ann, ANN_IMAGE_NAME));
        if (name && *name && !(p->name = strdup(name)))
                return -ENOMEM;
        return 0;
}

int oci_plan_build(oci_src *s, oci_plan **ret, char **ret_msg) {
        _cleanup_oci_plan_ oci_plan *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        int r = read_root(s, p, ret_msg);
        /* p->n grows as it is walked: breadth-first. */
        for (size_t i = 0; r >= 0 && i < p->n; i++)
                r = visit(s, p, i, ret_msg);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}
