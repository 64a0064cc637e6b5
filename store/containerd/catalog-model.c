/* The checkpoint catalog object: its in-memory model (checkpoints per
 * namespace, sorted by name), loading what the database holds, freeing. */
#include "catalog-internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "db.h"
#include "json.h"

/* ---- descriptors and checkpoints ----------------------------------------- */

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

void catalog_ckpts_free(store_ckpt *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                store_ckpt_clear(&v[i]);
        free(v);
}

int catalog_desc_copy(store_desc *dst, const store_desc *src) {
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

int catalog_descs_push(store_descs *d, const store_desc *x) {
        store_desc *nv = realloc(d->v, (d->n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        d->v = nv;
        int r = catalog_desc_copy(&d->v[d->n], x);
        if (r < 0)
                return r;
        d->n++;
        return 0;
}

int catalog_descs_copy(store_descs *dst, const store_descs *src) {
        *dst = (store_descs) { 0 };
        for (size_t i = 0; i < src->n; i++) {
                int r = catalog_descs_push(dst, &src->v[i]);
                if (r < 0) {
                        store_descs_clear(dst);
                        return r;
                }
        }
        return 0;
}

int catalog_ckpt_copy(store_ckpt *dst, const store_ckpt *src) {
        *dst = (store_ckpt) { .created_ns = src->created_ns };
        dst->ns = strdup(src->ns);
        dst->name = strdup(src->name);
        if (!dst->ns || !dst->name || catalog_desc_copy(&dst->target, &src->target) < 0) {
                store_ckpt_clear(dst);
                return -ENOMEM;
        }
        return 0;
}

/* ---- checkpoints per namespace ------------------------------------------- */

ns_entry *catalog_find_ns(store_catalog *c, const char *ns) {
        for (size_t i = 0; i < c->n_ns; i++)
                if (strcmp(c->ns[i].ns, ns) == 0)
                        return &c->ns[i];
        return NULL;
}

static int cmp_ckpt(const void *a, const void *b) {
        return strcmp(((const store_ckpt *) a)->name, ((const store_ckpt *) b)->name);
}

const store_ckpt *catalog_find_ckpt(const ns_entry *e, const char *name) {
        store_ckpt key = { .name = (char *) name };
        /* bsearch() on a NULL array is undefined even with no elements. */
        return e && e->n ? bsearch(&key, e->v, e->n, sizeof(*e->v), cmp_ckpt) : NULL;
}

int catalog_set_ns(store_catalog *c, const char *ns, store_ckpt *v, size_t n, store_ckpt **ret_old,
                   size_t *ret_n_old) {
        if (n)
                qsort(v, n, sizeof(*v), cmp_ckpt);
        ns_entry *e = catalog_find_ns(c, ns);
        if (!e) {
                ns_entry *nv = realloc(c->ns, (c->n_ns + 1) * sizeof(*nv));
                char *name = strdup(ns);
                if (nv)
                        c->ns = nv;
                if (!nv || !name) {
                        free(name);
                        catalog_ckpts_free(v, n);
                        return -ENOMEM;
                }
                e = &c->ns[c->n_ns++];
                *e = (ns_entry) { .ns = name };
        }
        if (ret_old) {
                *ret_old = e->v;
                *ret_n_old = e->n;
        } else
                catalog_ckpts_free(e->v, e->n);
        e->v = v;
        e->n = n;
        return 0;
}

static int insert_ckpt(ns_entry *e, store_ckpt *ck) {
        store_ckpt *nv = realloc(e->v, (e->n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        e->v = nv;
        size_t i = e->n;
        while (i > 0 && strcmp(e->v[i - 1].name, ck->name) > 0)
                i--;
        memmove(&e->v[i + 1], &e->v[i], (e->n - i) * sizeof(*e->v));
        e->v[i] = *ck;
        e->n++;
        *ck = (store_ckpt) { 0 };
        return 0;
}

int catalog_put_ckpt(store_catalog *c, const char *ns, const char *name, store_ckpt *ck, bool *ret_changed) {
        ns_entry *e = catalog_find_ns(c, ns);
        store_ckpt *hit = (store_ckpt *) catalog_find_ckpt(e, name);
        bool changed = ck ? !hit || strcmp(hit->target.digest, ck->target.digest) != 0 : hit != NULL;
        int r = 0;
        if (ck && !e) {
                store_ckpt *one = malloc(sizeof(*one));
                if (!one)
                        return -ENOMEM;
                *one = *ck;
                *ck = (store_ckpt) { 0 };
                r = catalog_set_ns(c, ns, one, 1, NULL, NULL);
        } else if (ck && hit) {
                store_ckpt_clear(hit);
                *hit = *ck;
                *ck = (store_ckpt) { 0 };
        } else if (ck)
                r = insert_ckpt(e, ck);
        else if (hit) {
                store_ckpt_clear(hit);
                size_t i = (size_t) (hit - e->v);
                memmove(&e->v[i], &e->v[i + 1], (e->n - i - 1) * sizeof(*e->v));
                e->n--;
        }
        if (r < 0)
                return r;
        *ret_changed = changed;
        return 0;
}

/* ---- loading from the database ------------------------------------------- */

bool catalog_labels_say_checkpoint(const char *labels_json) {
        if (!labels_json)
                return false;
        _cleanup_json_ json_t *j = json_loads(labels_json, 0, NULL);
        const char *v = json_string_value(json_object_get(j, "containerd.io/checkpoint"));
        return v && strcmp(v, "true") == 0;
}

typedef struct loaded {
        store_ckpt *v;
        bool *labelled;
        size_t n;
} loaded;

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
        int r = catalog_ckpt_copy(&l->v[l->n], &src);
        if (r < 0)
                return r;
        l->labelled[l->n++] = catalog_labels_say_checkpoint(img->labels_json);
        return 0;
}

/* Keeps the checkpoints among l->v[start..end), one namespace's images. */
static int load_ns(store_catalog *c, loaded *l, size_t start, size_t end) {
        _cleanup_free_ char *ns = strdup(l->v[start].ns);
        store_ckpt *keep = calloc(end - start, sizeof(*keep));
        size_t n = 0;
        if (!ns || !keep) {
                free(keep);
                return -ENOMEM;
        }
        for (size_t j = start; j < end; j++)
                if (catalog_classify(c, ns, &l->v[j].target, l->labelled[j], true) > 0) {
                        keep[n++] = l->v[j];
                        l->v[j] = (store_ckpt) { 0 };   /* moved */
                }
        pthread_mutex_lock(&c->lock);
        int r = catalog_set_ns(c, ns, keep, n, NULL, NULL);
        pthread_mutex_unlock(&c->lock);
        return r;
}

static int load(store_catalog *c) {
        loaded l = { 0 };
        int r = store_db_list_images(c->db, c->only_ns, load_cb, &l);
        size_t start = 0;
        for (size_t i = 1; r >= 0 && i <= l.n; i++)
                if (i == l.n || strcmp(l.v[i].ns, l.v[start].ns) != 0) {
                        r = load_ns(c, &l, start, i);
                        start = i;
                }
        catalog_ckpts_free(l.v, l.n);
        free(l.labelled);
        return r < 0 ? r : 0;
}

/* ---- the object ---------------------------------------------------------- */

int store_catalog_new(rpc_client *rpc, struct store_db *db, store_blobs *blobs, const char *only_ns,
                      store_catalog **ret) {
        store_catalog *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->rpc = rpc;
        c->db = db;
        c->blobs = blobs;
        pthread_mutex_init(&c->sync_lock, NULL);
        pthread_mutex_init(&c->lock, NULL);
        pthread_cond_init(&c->wake, NULL);
        pthread_cond_init(&c->first_sync, NULL);
        pthread_cond_init(&c->refresh_wake, NULL);
        if (only_ns && !(c->only_ns = strdup(only_ns))) {
                store_catalog_free(c);
                return -ENOMEM;
        }
        /* A cache that does not load is rebuilt by the first sync. */
        (void) load(c);
        *ret = c;
        return 0;
}

static void free_tables(store_catalog *c) {
        for (size_t i = 0; i < c->n_ns; i++) {
                catalog_ckpts_free(c->ns[i].v, c->ns[i].n);
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
        strv_free(c->refresh_ns);
}

store_catalog *store_catalog_free(store_catalog *c) {
        if (!c)
                return NULL;
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_mutex_unlock(&c->lock);
        catalog_events_join(c);
        catalog_refresh_join(c);
        free_tables(c);
        free(c->only_ns);
        pthread_mutex_destroy(&c->lock);
        pthread_mutex_destroy(&c->sync_lock);
        pthread_cond_destroy(&c->wake);
        pthread_cond_destroy(&c->first_sync);
        pthread_cond_destroy(&c->refresh_wake);
        free(c);
        return NULL;
}
