/* The catalog object's life: made with what the database holds loaded (and
 * classified), freed after its threads are joined. */
#include "catalog-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "db.h"

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
