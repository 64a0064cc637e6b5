/* Resyncs from containerd: a namespace's image list (Images.List) ->
 * classification -> the database (only when the list changed) -> memory,
 * then the change callback for the names that changed. */
#include "catalog-internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "containerd.h"
#include "db.h"
#include "digest.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "monotime.h"

/* ---- images as rows ------------------------------------------------------ */

static char *labels_json(const rpc_image *img) {
        if (img->n_labels == 0)
                return NULL;
        _cleanup_json_ json_t *o = json_object();
        for (size_t i = 0; o && i < img->n_labels; i++)
                json_object_set_new(o, img->labels[i]->key, json_string(img->labels[i]->value));
        return o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

static int64_t ts_ns(const Google__Protobuf__Timestamp *t) {
        return t ? t->seconds * 1000000000LL + t->nanos : 0;
}

int catalog_image_row(const char *ns, const rpc_image *img, struct store_image *ret_row, char **ret_labels) {
        if (!img->target || !digest_valid(img->target->digest))
                return -EINVAL;
        *ret_labels = labels_json(img);
        *ret_row = (struct store_image) {
                .ns = ns, .name = img->name, .target_digest = img->target->digest,
                .target_mediatype = img->target->media_type, .target_size = (uint64_t) img->target->size,
                .created = ts_ns(img->created_at), .updated = ts_ns(img->updated_at), .labels_json = *ret_labels,
        };
        return 0;
}

int catalog_row_classify(store_catalog *c, const struct store_image *row, store_ckpt *ret) {
        store_ckpt view = { .ns = (char *) row->ns, .name = (char *) row->name, .created_ns = row->created,
                            .target = { .digest = (char *) row->target_digest,
                                        .mediatype = (char *) row->target_mediatype, .size = row->target_size } };
        int r = catalog_classify(c, row->ns, &view.target, catalog_labels_say_checkpoint(row->labels_json), false);
        if (r <= 0)
                return r;
        r = catalog_ckpt_copy(ret, &view);
        return r < 0 ? r : 1;
}

/* ---- changes ------------------------------------------------------------- */

int catalog_changed_names(const store_ckpt *old, size_t n_old, const store_ckpt *new, size_t n_new, char ***ret) {
        _cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
        size_t i = 0, j = 0, n = 0;
        int r = v ? 0 : -ENOMEM;
        while (r >= 0 && (i < n_old || j < n_new)) {
                int k = i == n_old ? 1 : j == n_new ? -1 : strcmp(old[i].name, new[j].name);
                if (k < 0)
                        r = strv_push(&v, &n, old[i++].name);
                else if (k > 0)
                        r = strv_push(&v, &n, new[j++].name);
                else {
                        if (strcmp(old[i].target.digest, new[j].target.digest) != 0)
                                r = strv_push(&v, &n, new[j].name);
                        i++, j++;
                }
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

void catalog_notify(store_catalog *c, const char *ns, char *const *names) {
        pthread_mutex_lock(&c->lock);
        store_catalog_cb cb = c->cb;
        void *userdata = c->userdata;
        pthread_mutex_unlock(&c->lock);
        if (!cb)
                return;
        if (!names)
                cb(userdata, ns, NULL, false);
        for (size_t i = 0; names && names[i]; i++)
                cb(userdata, ns, names[i], false);
}

/* ---- the hash of the list last written ----------------------------------- */

/* One field into the hash, ended by a byte no string holds. */
static uint64_t hash_field(uint64_t h, const char *s) {
        return (fnv1a_str(h, s) ^ 0xff) * FNV1A_PRIME;
}

static uint64_t hash_rows(const struct store_image *rows, size_t n) {
        uint64_t h = FNV1A_INIT;
        for (size_t i = 0; i < n; i++) {
                h = hash_field(h, rows[i].name);
                h = hash_field(h, rows[i].target_digest);
                h = hash_field(h, rows[i].target_mediatype);
                h = hash_field(h, rows[i].labels_json);
                h = fnv1a(h, &rows[i].target_size, sizeof(rows[i].target_size));
                h = fnv1a(h, &rows[i].created, sizeof(rows[i].created));
                h = fnv1a(h, &rows[i].updated, sizeof(rows[i].updated));
        }
        return h;
}

static ns_hash *find_hash(store_catalog *c, const char *ns) {
        for (size_t i = 0; i < c->n_hashes; i++)
                if (strcmp(c->hashes[i].ns, ns) == 0)
                        return &c->hashes[i];
        return NULL;
}

void catalog_forget_hash(store_catalog *c, const char *ns) {
        ns_hash *e = find_hash(c, ns);
        if (!e)
                return;
        free(e->ns);
        *e = c->hashes[--c->n_hashes];
}

/* True (and remembered) when the image list of ns differs from the one
 * last written. */
static bool list_changed(store_catalog *c, const char *ns, const struct store_image *rows, size_t n) {
        uint64_t h = hash_rows(rows, n);
        bool changed = true;
        pthread_mutex_lock(&c->lock);
        ns_hash *e = find_hash(c, ns);
        if (e) {
                changed = e->h != h;
                e->h = h;
        } else {
                ns_hash *nv = realloc(c->hashes, (c->n_hashes + 1) * sizeof(*nv));
                char *d = strdup(ns);
                if (nv)
                        c->hashes = nv;
                if (nv && d)
                        c->hashes[c->n_hashes++] = (ns_hash) { .ns = TAKE_PTR(d), .h = h };
                free(d);
        }
        pthread_mutex_unlock(&c->lock);
        return changed;
}

/* ---- one namespace ------------------------------------------------------- */

/* One namespace's images as containerd listed them: rows for the database
 * (pointing into the response), and the checkpoints among them. */
typedef struct listing {
        struct store_image *rows;
        char **labels;
        size_t n_rows;
        store_ckpt *keep;
        size_t n_keep;
} listing;

static void listing_clear(listing *l) {
        for (size_t i = 0; l->labels && i < l->n_rows; i++)
                free(l->labels[i]);
        free(l->labels);
        free(l->rows);
        catalog_ckpts_free(l->keep, l->n_keep);
        *l = (listing) { 0 };
}

static int classify_list(store_catalog *c, const char *ns, const rpc_image_list *resp, listing *l) {
        size_t n = resp->n_images ? resp->n_images : 1;
        l->rows = calloc(n, sizeof(*l->rows));
        l->labels = calloc(n, sizeof(char *));
        l->keep = calloc(n, sizeof(*l->keep));
        if (!l->rows || !l->labels || !l->keep)
                return -ENOMEM;
        for (size_t i = 0; i < resp->n_images; i++) {
                struct store_image *row = &l->rows[l->n_rows];
                if (catalog_image_row(ns, resp->images[i], row, &l->labels[l->n_rows]) < 0)
                        continue;   /* not an image we can show */
                l->n_rows++;
                int r = catalog_row_classify(c, row, &l->keep[l->n_keep]);
                if (r == -ENOMEM)
                        return r;
                if (r > 0)
                        l->n_keep++;
        }
        return 0;
}

/* With c->sync_lock held. *ret_changed: the names that changed. */
static int sync_ns_locked(store_catalog *c, const char *ns, char ***ret_changed, bool *ret_replaced,
                          rpc_error *err) {
        _cleanup_pb_msg_ rpc_image_list *resp = NULL;
        int r = rpc_images_list(c->rpc, &(rpc_opts) { .ns = ns }, NULL, 0, &resp, err);
        if (r < 0)
                return r;
        listing l = { 0 };
        r = classify_list(c, ns, resp, &l);
        bool replaced = false;
        if (r >= 0 && list_changed(c, ns, l.rows, l.n_rows)) {
                replaced = store_db_replace_images(c->db, ns, l.rows, l.n_rows) >= 0;
                /* Not written: the next resync must try again. */
                if (!replaced) {
                        pthread_mutex_lock(&c->lock);
                        catalog_forget_hash(c, ns);
                        pthread_mutex_unlock(&c->lock);
                }
        }
        store_ckpt *old = NULL;
        size_t n_old = 0;
        if (r >= 0) {
                pthread_mutex_lock(&c->lock);
                r = catalog_set_ns(c, ns, TAKE_PTR(l.keep), l.n_keep, &old, &n_old);
                /* The new list is the catalog's now: compare under the lock. */
                const ns_entry *e = catalog_find_ns(c, ns);
                if (r >= 0)
                        r = catalog_changed_names(old, n_old, e->v, e->n, ret_changed);
                pthread_mutex_unlock(&c->lock);
                l.n_keep = 0;
        }
        catalog_ckpts_free(old, n_old);
        size_t n_images = l.n_rows;
        listing_clear(&l);
        *ret_replaced = replaced;
        return r < 0 ? r : (int) n_images;
}

int catalog_sync_ns(store_catalog *c, const char *ns, rpc_error *err) {
        _cleanup_strv_free_ char **changed = NULL;
        bool replaced = false;
        pthread_mutex_lock(&c->sync_lock);
        int r = sync_ns_locked(c, ns, &changed, &replaced, err);
        pthread_mutex_unlock(&c->sync_lock);
        if (changed && changed[0])
                catalog_notify(c, ns, changed);
        if (replaced)
                catalog_gc_cache(c);
        return r;
}

/* ---- every namespace ----------------------------------------------------- */

static bool listed(const rpc_namespace_list *list, const char *ns) {
        for (size_t j = 0; j < list->n_namespaces; j++)
                if (strcmp(list->namespaces[j]->name, ns) == 0)
                        return true;
        return false;
}

/* Namespaces that are gone lose their checkpoints. */
static void drop_gone(store_catalog *c, const rpc_namespace_list *list) {
        _cleanup_strv_free_ char **gone = NULL;
        size_t n_gone = 0;
        pthread_mutex_lock(&c->sync_lock);
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->n_ns; i++)
                if (c->ns[i].n > 0 && !listed(list, c->ns[i].ns))
                        (void) strv_push(&gone, &n_gone, c->ns[i].ns);
        for (size_t i = 0; i < n_gone; i++) {
                (void) catalog_set_ns(c, gone[i], NULL, 0, NULL, NULL);
                catalog_forget_hash(c, gone[i]);
        }
        pthread_mutex_unlock(&c->lock);
        for (size_t i = 0; i < n_gone; i++)
                (void) store_db_replace_images(c->db, gone[i], NULL, 0);
        pthread_mutex_unlock(&c->sync_lock);
        for (size_t i = 0; i < n_gone; i++)
                catalog_notify(c, gone[i], NULL);
        if (n_gone)
                catalog_gc_cache(c);
}

static int sync_all(store_catalog *c, size_t *ret_ns, size_t *ret_images, rpc_error *err) {
        _cleanup_pb_msg_ rpc_namespace_list *list = NULL;
        int r = rpc_namespaces_list(c->rpc, NULL, &list, err);
        if (r < 0)
                return r;
        size_t images = 0;
        for (size_t i = 0; i < list->n_namespaces; i++) {
                /* The first failure is the one reported. */
                int k = catalog_sync_ns(c, list->namespaces[i]->name, r >= 0 ? err : NULL);
                if (k < 0 && r >= 0)
                        r = k;
                if (k > 0)
                        images += (size_t) k;
        }
        drop_gone(c, list);
        *ret_ns = list->n_namespaces;
        *ret_images = images;
        return r;
}

/* Once each: a failure repeated (containerd away, asked again and again)
 * goes to the debug level. */
static void log_sync(store_catalog *c, const char *ns, int r, const rpc_error *err, size_t n_ns, size_t n_images,
                     long ms) {
        pthread_mutex_lock(&c->lock);
        bool repeated = r < 0 && r == c->last_sync_error;
        c->last_sync_error = r < 0 ? r : 0;
        pthread_mutex_unlock(&c->lock);
        const char *what = ns ? ns : "every namespace";
        if (r >= 0)
                log_debug("resync of %s: %zu namespace%s, %zu images, %ld ms", what, n_ns, n_ns == 1 ? "" : "s",
                          n_images, ms);
        else
                log_internal(repeated ? LOG_DEBUG : LOG_WARNING, r, "resync of %s failed after %ld ms%s%s", what,
                             ms, err->message[0] ? ": " : "", err->message);
}

int store_catalog_sync(store_catalog *c, const char *ns) {
        struct timespec t0 = monotime_now();
        rpc_error err = { .message = "" };
        size_t n_ns = 1, n_images = 0;
        if (!ns)
                ns = c->only_ns;
        int r = ns ? catalog_sync_ns(c, ns, &err) : sync_all(c, &n_ns, &n_images, &err);
        if (ns && r >= 0)
                n_images = (size_t) r;
        log_sync(c, ns, r, &err, n_ns, n_images, monotime_ms_since(&t0));
        return r < 0 ? r : 0;
}
