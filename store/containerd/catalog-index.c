/* What index and manifest blobs name: their descriptors (read once, kept in
 * the database), every blob reachable from an index (kept in memory once
 * complete: immutable), and whether an index is a checkpoint (holds a CRIU
 * dump descriptor). */
#include "catalog-internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "containerd.h"
#include "db.h"
#include "digest.h"
#include "json.h"

static bool is_parent_type(const char *mt) {
        return mt && (strcmp(mt, MT_INDEX) == 0 || strcmp(mt, MT_MANIFEST) == 0 ||
                      strcmp(mt, MT_DOCKER_LIST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0);
}

static bool is_index_type(const char *mt) {
        return mt && (strcmp(mt, MT_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

/* ---- descriptors --------------------------------------------------------- */

static char *annotations_to_json(json_t *ann) {
        if (!json_is_object(ann) || json_object_size(ann) == 0)
                return NULL;
        return json_dumps(ann, JSON_COMPACT | JSON_SORT_KEYS);
}

static int parse_desc(json_t *j, store_descs *out) {
        const char *digest = json_string_value(json_object_get(j, "digest"));
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        json_t *size = json_object_get(j, "size");
        if (!digest_valid(digest) || !json_is_integer(size) || json_integer_value(size) < 0)
                return -EBADMSG;
        _cleanup_free_ char *ann = annotations_to_json(json_object_get(j, "annotations"));
        store_desc d = { .digest = (char *) digest, .mediatype = (char *) (mt ? mt : ""),
                         .size = (uint64_t) json_integer_value(size), .annotations_json = ann };
        return catalog_descs_push(out, &d);
}

/* Children named by an index ("manifests") or a manifest (config, layers). */
static int parse_children(const uint8_t *buf, size_t len, store_descs *ret) {
        _cleanup_json_ json_t *j = json_loadb((const char *) buf, len, 0, NULL);
        if (!json_is_object(j))
                return -EBADMSG;
        store_descs out = { 0 };
        int r = 0;
        json_t *m = json_object_get(j, "manifests"), *e;
        size_t i;
        if (json_is_array(m))
                json_array_foreach(m, i, e) if (r >= 0) r = parse_desc(e, &out);
        json_t *cfg = json_object_get(j, "config");
        if (r >= 0 && json_is_object(cfg))
                r = parse_desc(cfg, &out);
        json_t *layers = json_object_get(j, "layers");
        if (r >= 0 && json_is_array(layers))
                json_array_foreach(layers, i, e) if (r >= 0) r = parse_desc(e, &out);
        if (r < 0) {
                store_descs_clear(&out);
                return r;
        }
        *ret = out;
        return 0;
}

static int collect_desc_cb(const struct store_descriptor *d, void *userdata) {
        store_desc x = { .digest = (char *) d->digest, .mediatype = (char *) d->mediatype, .size = d->size,
                         .annotations_json = (char *) d->annotations_json };
        return catalog_descs_push(userdata, &x);
}

int catalog_children_db(store_catalog *c, const char *digest, store_descs *ret) {
        store_descs out = { 0 };
        int r = store_db_list_descriptors(c->db, digest, collect_desc_cb, &out);
        if (r < 0) {
                store_descs_clear(&out);
                return r;
        }
        *ret = out;
        return (int) out.n;
}

/* Records the children of parent; the cache is best effort: a failed write
 * costs a reread later. */
static int remember_children(store_catalog *c, const store_desc *parent, const store_descs *kids) {
        struct store_descriptor *rows = calloc(kids->n ? kids->n : 1, sizeof(*rows));
        if (!rows)
                return -ENOMEM;
        for (size_t i = 0; i < kids->n; i++)
                rows[i] = (struct store_descriptor) { .parent_digest = parent->digest, .idx = (uint32_t) i,
                                                      .digest = kids->v[i].digest,
                                                      .mediatype = kids->v[i].mediatype, .size = kids->v[i].size,
                                                      .annotations_json = kids->v[i].annotations_json };
        struct store_blob b = { .digest = parent->digest, .mediatype = parent->mediatype, .size = parent->size };
        (void) store_db_put_descriptors(c->db, parent->digest, rows, kids->n);
        (void) store_db_put_blob(c->db, &b);
        free(rows);
        return 0;
}

int store_catalog_children(store_catalog *c, const char *ns, const store_desc *parent, store_descs *ret) {
        *ret = (store_descs) { 0 };
        if (!is_parent_type(parent->mediatype))
                return 0;
        int r = catalog_children_db(c, parent->digest, ret);
        if (r != 0)
                return r < 0 ? r : 0;
        /* Unknown (or truly empty): read the blob once and remember. */
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        r = store_blob_read_all(c->blobs, ns, parent->digest, parent->size, MAX_INDEX_BLOB, &buf, &len);
        if (r < 0)
                return r;
        r = parse_children(buf, len, ret);
        if (r < 0)
                return r;
        r = remember_children(c, parent, ret);
        if (r < 0)
                store_descs_clear(ret);
        return r;
}

/* ---- reach --------------------------------------------------------------- */

/* 1 present, 0 absent, -errno unknown (daemon away and never seen). */
static int blob_present(store_catalog *c, const char *ns, const store_desc *d) {
        _cleanup_free_ struct store_blob *row = NULL;
        if (store_db_get_blob(c->db, d->digest, &row) == 0)
                return 1;
        _cleanup_pb_msg_ rpc_blob_info *info = NULL;
        int r = rpc_content_info(c->rpc, &(rpc_opts) { .ns = ns }, d->digest, &info, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        struct store_blob b = { .digest = d->digest, .mediatype = d->mediatype, .size = d->size };
        (void) store_db_put_blob(c->db, &b);
        return 1;
}

static bool descs_has(const store_descs *d, const char *digest) {
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->v[i].digest, digest) == 0)
                        return true;
        return false;
}

/* A copy of the reach set of root kept in memory; -ENOENT if none. */
static int reach_cached(store_catalog *c, const char *digest, store_descs *ret) {
        int r = -ENOENT;
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->n_reach && r == -ENOENT; i++)
                if (strcmp(c->reach[i].digest, digest) == 0)
                        r = catalog_descs_copy(ret, &c->reach[i].descs);
        pthread_mutex_unlock(&c->lock);
        return r;
}

static void reach_remember(store_catalog *c, const char *digest, const store_descs *all) {
        pthread_mutex_lock(&c->lock);
        reach_entry *nv = realloc(c->reach, (c->n_reach + 1) * sizeof(*nv));
        if (nv) {
                c->reach = nv;
                store_descs copy;
                char *dg = strdup(digest);
                if (dg && catalog_descs_copy(&copy, all) == 0)
                        c->reach[c->n_reach++] = (reach_entry) { .digest = dg, .descs = copy };
                else
                        free(dg);
        }
        pthread_mutex_unlock(&c->lock);
}

/* Appends the children of d present in the content store and not in out
 * yet; *complete goes false when some could not be told. */
static int reach_step(store_catalog *c, const char *ns, const store_desc *d, store_descs *out, bool *complete) {
        store_descs kids;
        if (store_catalog_children(c, ns, d, &kids) < 0) {
                *complete = false;
                return 0;
        }
        int r = 0;
        for (size_t j = 0; r >= 0 && j < kids.n; j++) {
                if (descs_has(out, kids.v[j].digest))
                        continue;
                int p = blob_present(c, ns, &kids.v[j]);
                if (p < 0)
                        *complete = false;
                if (p > 0)
                        r = catalog_descs_push(out, &kids.v[j]);
        }
        store_descs_clear(&kids);
        return r;
}

int store_catalog_reach(store_catalog *c, const char *ns, const store_desc *root, store_descs *ret) {
        int r = reach_cached(c, root->digest, ret);
        if (r != -ENOENT)
                return r;
        store_descs out = { 0 };
        bool complete = true;
        r = catalog_descs_push(&out, root);
        /* out grows as it is walked: breadth-first. */
        for (size_t i = 0; r >= 0 && i < out.n; i++)
                r = reach_step(c, ns, &out.v[i], &out, &complete);
        if (r < 0) {
                store_descs_clear(&out);
                return r;
        }
        /* Immutable once complete: keep it. */
        if (complete)
                reach_remember(c, root->digest, &out);
        *ret = out;
        return 0;
}

/* ---- classification ------------------------------------------------------ */

/* A descriptor only a checkpoint has: the CRIU dump, or (an rw-only `ctr
 * c checkpoint --rw` index: the runtime options and the rw layer) the
 * other checkpoint media types. */
static bool holds_checkpoint(const store_descs *d) {
        for (size_t i = 0; i < d->n; i++)
                if (strncmp(d->v[i].mediatype, MT_CKPT_PREFIX, strlen(MT_CKPT_PREFIX)) == 0)
                        return true;
        return false;
}

static int cmp_known(const void *a, const void *b) {
        return strcmp(((const criu_known *) a)->digest, ((const criu_known *) b)->digest);
}

/* With c->lock held. */
static criu_known *find_known(store_catalog *c, const char *digest) {
        criu_known key = { .digest = (char *) digest };
        return c->n_known ? bsearch(&key, c->known, c->n_known, sizeof(*c->known), cmp_known) : NULL;
}

static void remember_known(store_catalog *c, const char *digest, bool criu) {
        pthread_mutex_lock(&c->lock);
        if (!find_known(c, digest)) {
                criu_known *nv = realloc(c->known, (c->n_known + 1) * sizeof(*nv));
                char *d = strdup(digest);
                if (nv)
                        c->known = nv;
                if (nv && d) {
                        /* Sorted insert. */
                        size_t i = c->n_known;
                        while (i > 0 && strcmp(c->known[i - 1].digest, d) > 0) {
                                c->known[i] = c->known[i - 1];
                                i--;
                        }
                        c->known[i] = (criu_known) { .digest = d, .criu = criu };
                        c->n_known++;
                } else
                        free(d);
        }
        pthread_mutex_unlock(&c->lock);
}

int catalog_classify(store_catalog *c, const char *ns, const store_desc *target, bool labelled, bool db_only) {
        if (!is_index_type(target->mediatype))
                return 0;
        if (labelled)
                return 1;
        pthread_mutex_lock(&c->lock);
        criu_known *hit = find_known(c, target->digest);
        int r = hit ? hit->criu : -1;
        pthread_mutex_unlock(&c->lock);
        if (r >= 0)
                return r;
        store_descs kids = { 0 };
        r = db_only ? catalog_children_db(c, target->digest, &kids) : store_catalog_children(c, ns, target, &kids);
        if (r < 0)
                return r;
        /* catalog_children_db() says 0 for "never read": not a verdict to keep. */
        bool sure = !db_only || kids.n > 0;
        r = holds_checkpoint(&kids);
        store_descs_clear(&kids);
        if (sure)
                remember_known(c, target->digest, r);
        return r;
}
