/* The checkpoint catalog: containerd's images -> sqlite -> memory. */
#include "catalog.h"
#include "hash.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "containerd.h"
#include "db.h"
#include "decode.h"

/* Index and manifest blobs are small; anything bigger is not one. */
#define MAX_INDEX_BLOB (4 * 1024 * 1024)


typedef struct ns_entry {
        char *ns;
        store_ckpt *v;   /* sorted by name */
        size_t n;
} ns_entry;

typedef struct reach_entry {
        char *digest;
        store_descs descs;
} reach_entry;

typedef struct owner_entry {
        char *digest;    /* index digest */
        char *container; /* NULL: the config names none */
} owner_entry;

struct store_catalog {
        rpc_client *rpc;
        struct store_db *db;
        store_blobs *blobs;
        char *only_ns;

        pthread_mutex_t lock;  /* guards everything below */
        ns_entry *ns;
        size_t n_ns;
        reach_entry *reach;
        size_t n_reach;
        owner_entry *owners;
        size_t n_owners;
        /* Whether an index digest holds a CRIU dump (immutable), sorted by
         * digest: a resync of 1,000 images costs no query for known ones. */
        struct criu_known { char *digest; bool criu; } *known;
        size_t n_known;
        /* Per namespace, a hash of the last image list written to the
         * database: an unchanged list is not written again. */
        struct ns_hash { char *ns; uint64_t h; } *hashes;
        size_t n_hashes;

        /* events thread */
        pthread_t thread;
        bool started, stop;
        bool first_sync_done;    /* the first resync was tried (either way) */
        pthread_cond_t wake, first_sync;
        rpc_call *call;
        store_catalog_cb cb;
        void *userdata;
};

/* ---- small helpers ------------------------------------------------------- */


static int strv_push(char ***v, size_t *n, const char *s) {
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        if (!(nv[*n] = strdup(s)))
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

void store_desc_clear(store_desc *d) {
        free(d->digest);
        free(d->mediatype);
        free(d->annotations_json);
        *d = (store_desc) { 0 };
}

void store_descs_clear(store_descs *d) {
        for (size_t i = 0; i < d->n; i++)
                store_desc_clear(&d->v[i]);
        free(d->v);
        *d = (store_descs) { 0 };
}

void store_ckpt_clear(store_ckpt *c) {
        free(c->ns);
        free(c->name);
        store_desc_clear(&c->target);
        *c = (store_ckpt) { 0 };
}

static int desc_copy(store_desc *dst, const store_desc *src) {
        *dst = (store_desc) { .size = src->size };
        dst->digest = strdup(src->digest);
        dst->mediatype = strdup(src->mediatype ? src->mediatype : "");
        if (src->annotations_json)
                dst->annotations_json = strdup(src->annotations_json);
        if (!dst->digest || !dst->mediatype || (src->annotations_json && !dst->annotations_json)) {
                store_desc_clear(dst);
                return -ENOMEM;
        }
        return 0;
}

static int descs_push(store_descs *d, const store_desc *x) {
        store_desc *nv = realloc(d->v, (d->n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        d->v = nv;
        int r = desc_copy(&d->v[d->n], x);
        if (r < 0)
                return r;
        d->n++;
        return 0;
}

static int descs_copy(store_descs *dst, const store_descs *src) {
        *dst = (store_descs) { 0 };
        for (size_t i = 0; i < src->n; i++) {
                int r = descs_push(dst, &src->v[i]);
                if (r < 0) {
                        store_descs_clear(dst);
                        return r;
                }
        }
        return 0;
}

static int ckpt_copy(store_ckpt *dst, const store_ckpt *src) {
        *dst = (store_ckpt) { .created_ns = src->created_ns };
        dst->ns = strdup(src->ns);
        dst->name = strdup(src->name);
        if (!dst->ns || !dst->name || desc_copy(&dst->target, &src->target) < 0) {
                store_ckpt_clear(dst);
                return -ENOMEM;
        }
        return 0;
}

static bool is_parent_type(const char *mt) {
        return mt && (strcmp(mt, MT_INDEX) == 0 || strcmp(mt, MT_MANIFEST) == 0 ||
                      strcmp(mt, MT_DOCKER_LIST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0);
}

static bool is_index_type(const char *mt) {
        return mt && (strcmp(mt, MT_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

static ns_entry *find_ns(store_catalog *c, const char *ns) {
        for (size_t i = 0; i < c->n_ns; i++)
                if (strcmp(c->ns[i].ns, ns) == 0)
                        return &c->ns[i];
        return NULL;
}

static void ns_entry_clear(ns_entry *e) {
        for (size_t i = 0; i < e->n; i++)
                store_ckpt_clear(&e->v[i]);
        free(e->v);
        e->v = NULL;
        e->n = 0;
}

static int cmp_ckpt(const void *a, const void *b) {
        return strcmp(((const store_ckpt *) a)->name, ((const store_ckpt *) b)->name);
}

static const store_ckpt *find_ckpt(const ns_entry *e, const char *name) {
        store_ckpt key = { .name = (char *) name };
        return e && e->n ? bsearch(&key, e->v, e->n, sizeof(*e->v), cmp_ckpt) : NULL;
}

/* Replaces the checkpoints of `ns` with v[0..n) (taken over). */
static int set_ns(store_catalog *c, const char *ns, store_ckpt *v, size_t n) {
        if (n)
                qsort(v, n, sizeof(*v), cmp_ckpt);
        ns_entry *e = find_ns(c, ns);
        if (!e) {
                ns_entry *nv = realloc(c->ns, (c->n_ns + 1) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                c->ns = nv;
                e = &c->ns[c->n_ns];
                *e = (ns_entry) { .ns = strdup(ns) };
                if (!e->ns)
                        return -ENOMEM;
                c->n_ns++;
        }
        ns_entry_clear(e);
        e->v = v;
        e->n = n;
        return 0;
}

/* ---- descriptors of index and manifest blobs ----------------------------- */

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
        return descs_push(out, &d);
}

/* Children named by an index ("manifests") or a manifest (config, layers). */
static int parse_children(const uint8_t *buf, size_t len, store_descs *ret) {
        _cleanup_(json_decrefp) json_t *j = json_loadb((const char *) buf, len, 0, NULL);
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

typedef struct collect_descs {
        store_descs *out;
        int r;
} collect_descs;

static int collect_desc_cb(const struct store_descriptor *d, void *userdata) {
        collect_descs *s = userdata;
        store_desc x = { .digest = (char *) d->digest, .mediatype = (char *) d->mediatype, .size = d->size,
                         .annotations_json = (char *) d->annotations_json };
        return descs_push(s->out, &x);
}

static int children_db(store_catalog *c, const char *digest, store_descs *ret) {
        store_descs out = { 0 };
        collect_descs s = { .out = &out };
        int r = store_db_list_descriptors(c->db, digest, collect_desc_cb, &s);
        if (r < 0) {
                store_descs_clear(&out);
                return r;
        }
        *ret = out;
        return (int) out.n;
}

int store_catalog_children(store_catalog *c, const char *ns, const store_desc *parent, store_descs *ret) {
        *ret = (store_descs) { 0 };
        if (!is_parent_type(parent->mediatype))
                return 0;
        int r = children_db(c, parent->digest, ret);
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
        struct store_descriptor *rows = calloc(ret->n ? ret->n : 1, sizeof(*rows));
        if (!rows) {
                store_descs_clear(ret);
                return -ENOMEM;
        }
        for (size_t i = 0; i < ret->n; i++)
                rows[i] = (struct store_descriptor) { .parent_digest = parent->digest, .idx = (uint32_t) i,
                                                      .digest = ret->v[i].digest,
                                                      .mediatype = ret->v[i].mediatype, .size = ret->v[i].size,
                                                      .annotations_json = ret->v[i].annotations_json };
        struct store_blob b = { .digest = parent->digest, .mediatype = parent->mediatype, .size = parent->size };
        /* The cache is best effort: a failed write costs a reread later. */
        (void) store_db_put_descriptors(c->db, parent->digest, rows, ret->n);
        (void) store_db_put_blob(c->db, &b);
        free(rows);
        return 0;
}

/* 1 present, 0 absent, -errno unknown (daemon away and never seen). */
static int blob_present(store_catalog *c, const char *ns, const store_desc *d) {
        _cleanup_free_ struct store_blob *row = NULL;
        if (store_db_get_blob(c->db, d->digest, &row) == 0)
                return 1;
        rpc_opts o = { .ns = ns };
        _cleanup_pb_msg_ rpc_blob_info *info = NULL;
        int r = rpc_content_info(c->rpc, &o, d->digest, &info, NULL);
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

int store_catalog_reach(store_catalog *c, const char *ns, const store_desc *root, store_descs *ret) {
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->n_reach; i++)
                if (strcmp(c->reach[i].digest, root->digest) == 0) {
                        int r = descs_copy(ret, &c->reach[i].descs);
                        pthread_mutex_unlock(&c->lock);
                        return r;
                }
        pthread_mutex_unlock(&c->lock);

        store_descs out = { 0 };
        bool complete = true;
        int r = descs_push(&out, root);
        for (size_t i = 0; r >= 0 && i < out.n; i++) {
                store_descs kids;
                int k = store_catalog_children(c, ns, &out.v[i], &kids);
                if (k < 0) {
                        complete = false;
                        continue;
                }
                for (size_t j = 0; r >= 0 && j < kids.n; j++) {
                        if (descs_has(&out, kids.v[j].digest))
                                continue;
                        int p = blob_present(c, ns, &kids.v[j]);
                        if (p < 0)
                                complete = false;
                        if (p > 0)
                                r = descs_push(&out, &kids.v[j]);
                }
                store_descs_clear(&kids);
        }
        if (r < 0) {
                store_descs_clear(&out);
                return r;
        }
        /* Immutable once complete: keep it. */
        if (complete) {
                pthread_mutex_lock(&c->lock);
                reach_entry *nv = realloc(c->reach, (c->n_reach + 1) * sizeof(*nv));
                if (nv) {
                        c->reach = nv;
                        store_descs copy;
                        char *dg = strdup(root->digest);
                        if (dg && descs_copy(&copy, &out) == 0)
                                c->reach[c->n_reach++] = (reach_entry) { .digest = dg, .descs = copy };
                        else
                                free(dg);
                }
                pthread_mutex_unlock(&c->lock);
        }
        *ret = out;
        return 0;
}

/* ---- classification ------------------------------------------------------ */

static bool has_criu(const store_descs *d) {
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->v[i].mediatype, MT_CRIU) == 0)
                        return true;
        return false;
}

static int cmp_known(const void *a, const void *b) {
        return strcmp(((const struct criu_known *) a)->digest, ((const struct criu_known *) b)->digest);
}

static void remember_known(store_catalog *c, const char *digest, bool criu) {
        pthread_mutex_lock(&c->lock);
        struct criu_known key = { .digest = (char *) digest };
        if (!c->n_known || !bsearch(&key, c->known, c->n_known, sizeof(*c->known), cmp_known)) {
                struct criu_known *nv = realloc(c->known, (c->n_known + 1) * sizeof(*nv));
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
                        c->known[i] = (struct criu_known) { .digest = d, .criu = criu };
                        c->n_known++;
                } else
                        free(d);
        }
        pthread_mutex_unlock(&c->lock);
}

/* 1 if a checkpoint, 0 if not; db_only: do not read blobs (at load). */
static int classify(store_catalog *c, const char *ns, const store_desc *target, bool labelled, bool db_only) {
        if (!is_index_type(target->mediatype))
                return 0;
        if (labelled)
                return 1;
        struct criu_known key = { .digest = target->digest }, *hit;
        pthread_mutex_lock(&c->lock);
        /* bsearch() on a NULL array is undefined even with no elements. */
        hit = c->n_known ? bsearch(&key, c->known, c->n_known, sizeof(*c->known), cmp_known) : NULL;
        int r = hit ? hit->criu : -1;
        pthread_mutex_unlock(&c->lock);
        if (r >= 0)
                return r;
        store_descs kids = { 0 };
        r = db_only ? children_db(c, target->digest, &kids) : store_catalog_children(c, ns, target, &kids);
        if (r < 0)
                return r;
        /* children_db() says 0 for "never read": not a verdict to keep. */
        bool sure = !db_only || kids.n > 0;
        r = has_criu(&kids);
        store_descs_clear(&kids);
        if (sure)
                remember_known(c, target->digest, r);
        return r;
}

/* ---- loading from the database ------------------------------------------- */

typedef struct loaded {
        store_ckpt *v;
        bool *labelled;
        size_t n;
} loaded;

static bool labels_say_checkpoint(const char *labels_json) {
        if (!labels_json)
                return false;
        _cleanup_(json_decrefp) json_t *j = json_loads(labels_json, 0, NULL);
        const char *v = json_string_value(json_object_get(j, "containerd.io/checkpoint"));
        return v && strcmp(v, "true") == 0;
}

static int load_cb(const struct store_image *img, void *userdata) {
        loaded *l = userdata;
        store_ckpt *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        l->v = nv;
        bool *nl = realloc(l->labelled, (l->n + 1) * sizeof(*nl));
        if (!nl)
                return -ENOMEM;
        l->labelled = nl;
        store_ckpt src = { .ns = (char *) img->ns, .name = (char *) img->name, .created_ns = img->created,
                           .target = { .digest = (char *) img->target_digest,
                                       .mediatype = (char *) img->target_mediatype, .size = img->target_size } };
        int r = ckpt_copy(&l->v[l->n], &src);
        if (r < 0)
                return r;
        l->labelled[l->n++] = labels_say_checkpoint(img->labels_json);
        return 0;
}

static int load(store_catalog *c) {
        loaded l = { 0 };
        int r = store_db_list_images(c->db, c->only_ns, load_cb, &l);
        size_t start = 0;
        for (size_t i = 0; r >= 0 && i <= l.n; i++) {
                if (i < l.n && strcmp(l.v[i].ns, l.v[start].ns) == 0)
                        continue;
                if (i == start)
                        continue;
                /* [start, i) is one namespace: keep its checkpoints. */
                store_ckpt *keep = calloc(i - start, sizeof(*keep));
                size_t n = 0;
                if (!keep) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t j = start; j < i; j++)
                        if (classify(c, l.v[j].ns, &l.v[j].target, l.labelled[j], true) > 0) {
                                keep[n++] = l.v[j];
                                l.v[j] = (store_ckpt) { 0 };
                        }
                pthread_mutex_lock(&c->lock);
                r = set_ns(c, l.v[start].ns ? l.v[start].ns : keep[0].ns, keep, n);
                pthread_mutex_unlock(&c->lock);
                start = i;
        }
        for (size_t i = 0; i < l.n; i++)
                store_ckpt_clear(&l.v[i]);
        free(l.v);
        free(l.labelled);
        return r < 0 ? r : 0;
}

int store_catalog_new(rpc_client *rpc, struct store_db *db, store_blobs *blobs, const char *only_ns,
                      store_catalog **ret) {
        store_catalog *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->rpc = rpc;
        c->db = db;
        c->blobs = blobs;
        pthread_mutex_init(&c->lock, NULL);
        pthread_cond_init(&c->wake, NULL);
        pthread_cond_init(&c->first_sync, NULL);
        if (only_ns && !(c->only_ns = strdup(only_ns))) {
                store_catalog_free(c);
                return -ENOMEM;
        }
        /* A cache that does not load is rebuilt by the first sync. */
        (void) load(c);
        *ret = c;
        return 0;
}

/* ---- sync from containerd ------------------------------------------------ */

static char *labels_json(Containerd__Services__Images__V1__Image *img) {
        if (img->n_labels == 0)
                return NULL;
        _cleanup_(json_decrefp) json_t *o = json_object();
        for (size_t i = 0; o && i < img->n_labels; i++)
                json_object_set_new(o, img->labels[i]->key, json_string(img->labels[i]->value));
        return o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

static int64_t ts_ns(const Google__Protobuf__Timestamp *t) {
        return t ? t->seconds * 1000000000LL + t->nanos : 0;
}

/* Calls the callback for names that differ between old and new. */
static void diff_and_notify(store_catalog *c, const char *ns, const store_ckpt *old, size_t n_old,
                            const store_ckpt *new, size_t n_new) {
        if (!c->cb)
                return;
        size_t i = 0, j = 0;
        while (i < n_old || j < n_new) {
                int k = i == n_old ? 1 : j == n_new ? -1 : strcmp(old[i].name, new[j].name);
                if (k < 0)
                        c->cb(c->userdata, ns, old[i++].name, false);
                else if (k > 0)
                        c->cb(c->userdata, ns, new[j++].name, false);
                else {
                        if (strcmp(old[i].target.digest, new[j].target.digest) != 0)
                                c->cb(c->userdata, ns, new[j].name, false);
                        i++, j++;
                }
        }
}

/* One field into the hash, ended by a byte no string holds. */
static uint64_t fnv(uint64_t h, const char *s) {
        return (fnv1a_str(h, s) ^ 0xff) * FNV1A_PRIME;
}

/* True (and remembered) when the image list of ns differs from the one
 * last written. */
static bool list_changed(store_catalog *c, const char *ns, const struct store_image *rows, size_t n) {
        uint64_t h = FNV1A_INIT;
        char num[64];
        for (size_t i = 0; i < n; i++) {
                snprintf(num, sizeof(num), "%llu %lld %lld", (unsigned long long) rows[i].target_size,
                         (long long) rows[i].created, (long long) rows[i].updated);
                h = fnv(fnv(fnv(fnv(fnv(h, rows[i].name), rows[i].target_digest), rows[i].target_mediatype), num),
                        rows[i].labels_json);
        }
        bool changed = true;
        pthread_mutex_lock(&c->lock);
        struct ns_hash *e = NULL;
        for (size_t i = 0; i < c->n_hashes && !e; i++)
                if (strcmp(c->hashes[i].ns, ns) == 0)
                        e = &c->hashes[i];
        if (e) {
                changed = e->h != h;
                e->h = h;
        } else {
                struct ns_hash *nv = realloc(c->hashes, (c->n_hashes + 1) * sizeof(*nv));
                char *d = strdup(ns);
                if (nv)
                        c->hashes = nv;
                if (nv && d)
                        c->hashes[c->n_hashes++] = (struct ns_hash) { .ns = d, .h = h };
                else
                        free(d);
        }
        pthread_mutex_unlock(&c->lock);
        return changed;
}

typedef struct strv_acc {
        char **v;
        size_t n;
} strv_acc;

static int collect_digest(const char *digest, void *userdata) {
        strv_acc *a = userdata;
        return strv_push(&a->v, &a->n, digest);
}

/* Drops what the cache computed from blobs (tar members, gzip indexes,
 * descriptors) that no image reaches any more: after image lists changed. */
static void gc_cache(store_catalog *c) {
        strv_acc gone = { 0 };
        /* The cache is best effort: what is not collected now is next time. */
        if (store_db_list_unreached_blobs(c->db, collect_digest, &gone) >= 0)
                for (size_t i = 0; i < gone.n; i++)
                        (void) store_db_delete_blob(c->db, gone.v[i]);
        strv_free(gone.v);
}

static int sync_ns(store_catalog *c, const char *ns) {
        _cleanup_pb_msg_ rpc_image_list *resp = NULL;
        rpc_opts o = { .ns = ns };
        int r = rpc_images_list(c->rpc, &o, NULL, 0, &resp, NULL);
        if (r < 0)
                return r;
        size_t n = resp->n_images;
        struct store_image *rows = calloc(n ? n : 1, sizeof(*rows));
        char **labels = calloc(n ? n : 1, sizeof(char *));
        store_ckpt *keep = calloc(n ? n : 1, sizeof(*keep));
        size_t n_keep = 0, n_rows = 0;
        if (!rows || !labels || !keep)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                Containerd__Services__Images__V1__Image *img = resp->images[i];
                if (!img->target || !digest_valid(img->target->digest))
                        continue;
                labels[i] = labels_json(img);
                rows[n_rows++] = (struct store_image) {
                        .ns = ns, .name = img->name, .target_digest = img->target->digest,
                        .target_mediatype = img->target->media_type, .target_size = (uint64_t) img->target->size,
                        .created = ts_ns(img->created_at), .updated = ts_ns(img->updated_at),
                        .labels_json = labels[i],
                };
                store_ckpt x = { .ns = (char *) ns, .name = img->name, .created_ns = ts_ns(img->created_at),
                                 .target = { .digest = img->target->digest, .mediatype = img->target->media_type,
                                             .size = (uint64_t) img->target->size } };
                if (classify(c, ns, &x.target, labels_say_checkpoint(labels[i]), false) > 0) {
                        r = ckpt_copy(&keep[n_keep], &x);
                        if (r >= 0)
                                n_keep++;
                }
        }
        bool replaced = r >= 0 && list_changed(c, ns, rows, n_rows) &&
                        store_db_replace_images(c->db, ns, rows, n_rows) >= 0;
        for (size_t i = 0; labels && i < n; i++)
                free(labels[i]);
        free(labels);
        free(rows);
        if (r < 0) {
                for (size_t i = 0; i < n_keep; i++)
                        store_ckpt_clear(&keep[i]);
                free(keep);
                return r;
        }
        /* Swap in; notify outside the lock. */
        pthread_mutex_lock(&c->lock);
        ns_entry *e = find_ns(c, ns);
        store_ckpt *old = NULL;
        size_t n_old = 0;
        if (e) {
                old = e->v;
                n_old = e->n;
                e->v = NULL;
                e->n = 0;
        }
        r = set_ns(c, ns, keep, n_keep);
        pthread_mutex_unlock(&c->lock);
        if (r < 0) {
                for (size_t i = 0; i < n_keep; i++)
                        store_ckpt_clear(&keep[i]);
                free(keep);
        } else
                diff_and_notify(c, ns, old, n_old, keep, n_keep);
        for (size_t i = 0; i < n_old; i++)
                store_ckpt_clear(&old[i]);
        free(old);
        if (replaced)
                gc_cache(c);
        return r;
}

void store_catalog_request_sync(store_catalog *c, const char *ns) {
        /* Interim: synchronous. */
        (void) store_catalog_sync(c, ns);
}

int store_catalog_sync_image(store_catalog *c, const char *ns, const char *name) {
        /* Interim: the whole namespace. */
        return sync_ns(c, ns);
}

int store_catalog_sync(store_catalog *c, const char *ns) {
        if (ns)
                return sync_ns(c, ns);
        if (c->only_ns)
                return sync_ns(c, c->only_ns);
        _cleanup_pb_msg_ rpc_namespace_list *list = NULL;
        int r = rpc_namespaces_list(c->rpc, NULL, &list, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < list->n_namespaces; i++) {
                int k = sync_ns(c, list->namespaces[i]->name);
                if (k < 0 && r >= 0)
                        r = k;
        }
        /* Namespaces that are gone lose their checkpoints. */
        pthread_mutex_lock(&c->lock);
        char **gone = NULL;
        size_t n_gone = 0;
        for (size_t i = 0; i < c->n_ns; i++) {
                bool seen = false;
                for (size_t j = 0; j < list->n_namespaces && !seen; j++)
                        seen = strcmp(list->namespaces[j]->name, c->ns[i].ns) == 0;
                if (!seen && c->ns[i].n > 0)
                        (void) strv_push(&gone, &n_gone, c->ns[i].ns);
        }
        pthread_mutex_unlock(&c->lock);
        for (size_t i = 0; i < n_gone; i++) {
                pthread_mutex_lock(&c->lock);
                (void) set_ns(c, gone[i], NULL, 0);
                pthread_mutex_unlock(&c->lock);
                (void) store_db_replace_images(c->db, gone[i], NULL, 0);
                if (c->cb)
                        c->cb(c->userdata, gone[i], NULL, false);
        }
        if (n_gone)
                gc_cache(c);
        strv_free(gone);
        return r;
}

/* ---- queries ------------------------------------------------------------- */

/* Right after the start, the lists may not hold what containerd has yet
 * (an empty or old cache): callers wait for the first resync, which
 * reports either way, up to FIRST_SYNC_WAIT_MS. Called with c->lock held. */
#define FIRST_SYNC_WAIT_MS 5000
static void wait_first_sync(store_catalog *c) {
        if (!c->started || c->first_sync_done)
                return;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += FIRST_SYNC_WAIT_MS / 1000;
        while (!c->first_sync_done && !c->stop && pthread_cond_timedwait(&c->first_sync, &c->lock, &until) == 0)
                ;
}

static void first_sync_tried(store_catalog *c) {
        pthread_mutex_lock(&c->lock);
        c->first_sync_done = true;
        pthread_cond_broadcast(&c->first_sync);
        pthread_mutex_unlock(&c->lock);
}

int store_catalog_namespaces(store_catalog *c, char ***ret) {
        char **v = calloc(1, sizeof(char *));
        size_t n = 0;
        int r = v ? 0 : -ENOMEM;
        pthread_mutex_lock(&c->lock);
        wait_first_sync(c);
        for (size_t i = 0; r >= 0 && i < c->n_ns; i++)
                r = strv_push(&v, &n, c->ns[i].ns);
        pthread_mutex_unlock(&c->lock);
        if (r < 0) {
                strv_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

int store_catalog_names(store_catalog *c, const char *ns, char ***ret) {
        char **v = calloc(1, sizeof(char *));
        size_t n = 0;
        int r = v ? 0 : -ENOMEM;
        pthread_mutex_lock(&c->lock);
        wait_first_sync(c);
        ns_entry *e = find_ns(c, ns);
        for (size_t i = 0; r >= 0 && e && i < e->n; i++)
                r = strv_push(&v, &n, e->v[i].name);
        pthread_mutex_unlock(&c->lock);
        if (r < 0) {
                strv_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

int store_catalog_get(store_catalog *c, const char *ns, const char *name, store_ckpt *ret) {
        pthread_mutex_lock(&c->lock);
        wait_first_sync(c);
        const store_ckpt *k = find_ckpt(find_ns(c, ns), name);
        int r = k ? ckpt_copy(ret, k) : -ENOENT;
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* The container a checkpoint index belongs to, by its config blob; cached
 * by digest (immutable). *ret NULL when the config names none. */
static int owner_of(store_catalog *c, const char *ns, const store_desc *target, char **ret) {
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->n_owners; i++)
                if (strcmp(c->owners[i].digest, target->digest) == 0) {
                        char *s = c->owners[i].container ? strdup(c->owners[i].container) : NULL;
                        pthread_mutex_unlock(&c->lock);
                        *ret = s;
                        return 0;
                }
        pthread_mutex_unlock(&c->lock);

        store_descs kids;
        int r = store_catalog_children(c, ns, target, &kids);
        if (r < 0)
                return r;
        char *id = NULL;
        for (size_t i = 0; r >= 0 && i < kids.n; i++) {
                if (strcmp(kids.v[i].mediatype, MT_CKPT_CONFIG) != 0)
                        continue;
                _cleanup_free_ uint8_t *buf = NULL;
                size_t len;
                r = store_blob_read_all(c->blobs, ns, kids.v[i].digest, kids.v[i].size, MAX_INDEX_BLOB, &buf, &len);
                if (r >= 0 && store_decode_config_container(buf, len, &id) < 0)
                        id = NULL;
                break;
        }
        store_descs_clear(&kids);
        if (r < 0)
                return r;
        pthread_mutex_lock(&c->lock);
        owner_entry *nv = realloc(c->owners, (c->n_owners + 1) * sizeof(*nv));
        char *dg = strdup(target->digest), *idc = id ? strdup(id) : NULL;
        if (nv && dg && (!id || idc)) {
                c->owners = nv;
                c->owners[c->n_owners++] = (owner_entry) { .digest = dg, .container = idc };
        } else {
                if (nv)
                        c->owners = nv;
                free(dg);
                free(idc);
        }
        pthread_mutex_unlock(&c->lock);
        *ret = id;
        return 0;
}

int store_catalog_ckpt_container(store_catalog *c, const store_ckpt *ck, char **ret_id) {
        const char *tag;
        size_t idlen = ckpt_name_container(ck->name, &tag);
        char *id = NULL;
        if (idlen)
                id = strndup(ck->name + strlen(CKPT_NAME_PREFIX), idlen);
        else {
                int r = owner_of(c, ck->ns, &ck->target, &id);
                if (r < 0)
                        return r;
                if (!id)
                        return -ENOENT;
        }
        if (!id)
                return -ENOMEM;
        *ret_id = id;
        return 0;
}

int store_catalog_container_ckpts(store_catalog *c, const char *ns, const char *id, char ***ret_names,
                                  char ***ret_tags) {
        /* Snapshot the list, then look at configs without the lock. */
        store_ckpt *snap = NULL;
        size_t n = 0;
        int r = 0;
        pthread_mutex_lock(&c->lock);
        wait_first_sync(c);
        ns_entry *e = find_ns(c, ns);
        if (e && e->n) {
                snap = calloc(e->n, sizeof(*snap));
                if (!snap)
                        r = -ENOMEM;
                for (size_t i = 0; r >= 0 && i < e->n; i++)
                        if ((r = ckpt_copy(&snap[i], &e->v[i])) >= 0)
                                n++;
        }
        pthread_mutex_unlock(&c->lock);

        char **names = calloc(1, sizeof(char *)), **tags = calloc(1, sizeof(char *));
        size_t nn = 0, nt = 0;
        if (!names || !tags)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *name = snap[i].name;
                _cleanup_free_ char *tag = NULL;
                const char *tag_at = NULL;
                size_t idlen = ckpt_name_container(name, &tag_at);
                if (idlen && idlen == strlen(id) && strncmp(name + strlen(CKPT_NAME_PREFIX), id, idlen) == 0) {
                        tag = strdup(tag_at);
                } else if (strncmp(name, CKPT_NAME_PREFIX, strlen(CKPT_NAME_PREFIX)) != 0) {
                        _cleanup_free_ char *owner = NULL;
                        if (owner_of(c, ns, &snap[i].target, &owner) < 0 || !owner || strcmp(owner, id) != 0)
                                continue;
                        /* Other names: the last path component keeps them apart. */
                        const char *slash = strrchr(name, '/');
                        tag = strdup(slash ? slash + 1 : name);
                } else
                        continue;
                if (!tag) {
                        r = -ENOMEM;
                        break;
                }
                bool dup = false;
                for (size_t j = 0; j < nt && !dup; j++)
                        dup = strcmp(tags[j], tag) == 0;
                if (dup || !*tag)
                        continue;
                if ((r = strv_push(&names, &nn, name)) >= 0)
                        r = strv_push(&tags, &nt, tag);
        }
        for (size_t i = 0; i < n; i++)
                store_ckpt_clear(&snap[i]);
        free(snap);
        if (r < 0) {
                strv_free(names);
                strv_free(tags);
                return r;
        }
        *ret_names = names;
        *ret_tags = tags;
        return 0;
}

/* ---- events -------------------------------------------------------------- */

static bool sleep_or_stop(store_catalog *c, long ms) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&c->lock);
        while (!c->stop && pthread_cond_timedwait(&c->wake, &c->lock, &until) == 0)
                ;
        bool stop = c->stop;
        pthread_mutex_unlock(&c->lock);
        return stop;
}

static void *events_main(void *userdata) {
        store_catalog *c = userdata;
        static const char *const filters[] = { "topic~=\"^/images/\"", "topic~=\"^/containers/\"",
                                               "topic~=\"^/tasks/\"" };
        for (;;) {
                rpc_call *call = NULL;
                rpc_opts o = { .ns = NULL };
                int r = rpc_events_open(c->rpc, &o, filters, ELEMENTSOF(filters), &call, NULL);
                pthread_mutex_lock(&c->lock);
                bool stop = c->stop;
                if (r >= 0 && !stop)
                        c->call = call;
                pthread_mutex_unlock(&c->lock);
                if (stop) {
                        rpc_call_free(call);
                        break;
                }
                if (r >= 0) {
                        /* Subscribed first, then resync: nothing falls in between. */
                        (void) store_catalog_sync(c, NULL);
                        first_sync_tried(c);
                        /* Containers and tasks changed unseen while we were away. */
                        if (c->cb)
                                c->cb(c->userdata, NULL, NULL, true);
                        for (;;) {
                                _cleanup_pb_msg_ rpc_envelope *env = NULL;
                                r = rpc_events_next(call, &env, NULL);
                                if (r <= 0)
                                        break;
                                if (c->only_ns && strcmp(env->namespace_, c->only_ns) != 0)
                                        continue;
                                if (strncmp(env->topic, "/images/", 8) == 0)
                                        (void) sync_ns(c, env->namespace_);
                                else if (c->cb) {
                                        /* A container or task event: about one container. */
                                        _cleanup_free_ char *id = NULL;
                                        if (rpc_event_container_id(env, &id) < 0)
                                                id = NULL;
                                        c->cb(c->userdata, env->namespace_, id, true);
                                }
                        }
                        pthread_mutex_lock(&c->lock);
                        c->call = NULL;
                        pthread_mutex_unlock(&c->lock);
                        rpc_call_free(call);
                }
                first_sync_tried(c);   /* or not reachable: the cache is what there is */
                /* Daemon away or stream broken: retry soon. */
                if (sleep_or_stop(c, 300))
                        break;
        }
        return NULL;
}

int store_catalog_start(store_catalog *c, store_catalog_cb cb, void *userdata) {
        c->cb = cb;
        c->userdata = userdata;
        int r = pthread_create(&c->thread, NULL, events_main, c);
        if (r != 0)
                return -r;
        c->started = true;
        return 0;
}

store_catalog *store_catalog_free(store_catalog *c) {
        if (!c)
                return NULL;
        if (c->started) {
                pthread_mutex_lock(&c->lock);
                c->stop = true;
                if (c->call)
                        rpc_call_cancel(c->call);
                pthread_cond_broadcast(&c->wake);
                pthread_mutex_unlock(&c->lock);
                pthread_join(c->thread, NULL);
        }
        for (size_t i = 0; i < c->n_ns; i++) {
                ns_entry_clear(&c->ns[i]);
                free(c->ns[i].ns);
        }
        free(c->ns);
        for (size_t i = 0; i < c->n_reach; i++) {
                free(c->reach[i].digest);
                store_descs_clear(&c->reach[i].descs);
        }
        free(c->reach);
        for (size_t i = 0; i < c->n_owners; i++) {
                free(c->owners[i].digest);
                free(c->owners[i].container);
        }
        free(c->owners);
        for (size_t i = 0; i < c->n_known; i++)
                free(c->known[i].digest);
        free(c->known);
        for (size_t i = 0; i < c->n_hashes; i++)
                free(c->hashes[i].ns);
        free(c->hashes);
        free(c->only_ns);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->wake);
        pthread_cond_destroy(&c->first_sync);
        free(c);
        return NULL;
}
