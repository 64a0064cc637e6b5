/* The catalog's in-memory model: checkpoints per namespace, sorted by
 * name, and the copies of descriptors and checkpoints it hands out. Calls
 * nothing else of the catalog. */
#include "catalog-internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "db.h"
#include "json.h"
#include "vocab.h"

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

/* ---- labels ------------------------------------------------------------- */

bool catalog_labels_say_checkpoint(const char *labels_json) {
        if (!labels_json)
                return false;
        _cleanup_json_ json_t *j = json_loads(labels_json, 0, NULL);
        const char *v = json_string_value(json_object_get(j, LABEL_CHECKPOINT));
        return v && strcmp(v, "true") == 0;
}
