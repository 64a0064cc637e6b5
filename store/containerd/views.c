/* Derived views of checkpoint blobs: tar member indexes (persisted), member
 * readers. */
#include "views.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "db.h"
#include "gzindex.h"

typedef struct tar_entry {
        char *digest;
        struct tar_index *tar;
        struct gzindex *gz;    /* NULL for an uncompressed tar */
} tar_entry;

struct store_views {
        struct store_db *db;
        store_blobs *blobs;
        pthread_mutex_t lock;  /* guards entries and retired */
        tar_entry *v;
        size_t n;
        /* Replaced damaged gzip indexes: member readers may still borrow them. */
        struct gzindex **retired;
        size_t n_retired;
};

int store_views_new(struct store_db *db, store_blobs *blobs, store_views **ret) {
        store_views *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->db = db;
        v->blobs = blobs;
        pthread_mutex_init(&v->lock, NULL);
        *ret = v;
        return 0;
}

store_views *store_views_free(store_views *v) {
        if (!v)
                return NULL;
        for (size_t i = 0; i < v->n; i++) {
                free(v->v[i].digest);
                tar_index_free(v->v[i].tar);
                gzindex_free(v->v[i].gz);
        }
        free(v->v);
        for (size_t i = 0; i < v->n_retired; i++)
                gzindex_free(v->retired[i]);
        free(v->retired);
        pthread_mutex_destroy(&v->lock);
        free(v);
        return NULL;
}

/* True when the layer's media type says gzip. */
static bool is_gzip(const char *mt) {
        size_t n = mt ? strlen(mt) : 0;
        return (n > 5 && strcmp(mt + n - 5, "+gzip") == 0) || (n > 5 && strcmp(mt + n - 5, ".gzip") == 0);
}

static tar_entry *find_entry(store_views *v, const char *digest) {
        for (size_t i = 0; i < v->n; i++)
                if (strcmp(v->v[i].digest, digest) == 0)
                        return &v->v[i];
        return NULL;
}

/* The gzip index of d: database (unless rebuild), else built by inflating
 * the blob once, and stored. */
static int load_gzindex(store_views *v, const store_desc *d, struct store_reader *blob, bool rebuild,
                        struct gzindex **ret) {
        struct gzindex *gz = NULL, *stored = NULL;
        int r = rebuild ? -ENOENT : store_db_get_gzindex(v->db, d->digest, &gz);
        if (r == 0 && gzindex_csize(gz) == d->size) {
                *ret = gz;
                return 0;
        }
        gzindex_free(gz);
        gz = NULL;
        r = gzindex_build(blob, 0, &gz);
        if (r < 0)
                return r;
        /* Once stored, keep only the points in memory (32 KiB a MiB of
         * incompressible data otherwise). A rebuilt index stays whole: the
         * stored one just failed us. */
        if (store_db_put_gzindex(v->db, d->digest, gz) >= 0 && !rebuild &&
            store_db_get_gzindex(v->db, d->digest, &stored) >= 0) {
                gzindex_free(gz);
                gz = stored;
        }
        *ret = gz;
        return 0;
}

int store_views_tar(store_views *v, const char *ns, const store_desc *d, const struct tar_index **ret) {
        pthread_mutex_lock(&v->lock);
        tar_entry *e = find_entry(v, d->digest);
        /* Read under the lock: an insert may move the array. */
        const struct tar_index *known = e ? e->tar : NULL;
        pthread_mutex_unlock(&v->lock);
        if (known) {
                *ret = known;
                return 0;
        }

        /* Built without the lock (a big layer takes a while); a racing
         * builder's result is dropped. */
        bool gzip = is_gzip(d->mediatype);
        struct gzindex *gz = NULL;
        struct tar_index *tar = NULL;
        _cleanup_(store_reader_freep) struct store_reader *blob = NULL;
        /* Members known: listing and stat need no gzip index (it is loaded
         * by the first read, see member_reader). */
        int r = store_db_get_tar_members(v->db, d->digest, &tar);
        if (r == -ENOENT) {
                if ((r = store_blob_open(v->blobs, ns, d->digest, d->size, &blob)) < 0)
                        return r;
                if (gzip && (r = load_gzindex(v, d, blob, false, &gz)) < 0)
                        return r;
                struct store_reader *src = blob, *un = NULL;
                if (gzip && (r = gzindex_reader_new(gz, blob, 0, &un)) < 0) {
                        gzindex_free(gz);
                        return r;
                }
                if (un)
                        src = un;
                r = tarindex_build(src, &tar);
                store_reader_free(un);
                if (r >= 0)
                        (void) store_db_put_tar_members(v->db, d->digest, tar->members, tar->n);
        }
        if (r < 0) {
                gzindex_free(gz);
                return r;
        }

        pthread_mutex_lock(&v->lock);
        e = find_entry(v, d->digest);
        if (!e) {
                tar_entry *nv = realloc(v->v, (v->n + 1) * sizeof(*nv));
                char *dg = strdup(d->digest);
                if (nv)
                        v->v = nv;
                if (nv && dg) {
                        e = &v->v[v->n++];
                        *e = (tar_entry) { .digest = dg, .tar = tar, .gz = gz };
                        tar = NULL;
                        gz = NULL;
                } else
                        free(dg);
        }
        const struct tar_index *res = e ? e->tar : NULL;
        pthread_mutex_unlock(&v->lock);
        tar_index_free(tar);
        gzindex_free(gz);
        if (!res)
                return -ENOMEM;
        *ret = res;
        return 0;
}

int store_views_member_reader(store_views *v, const char *ns, const store_desc *d, const struct tar_member *m,
                              struct store_reader **ret) {
        const struct tar_index *tar;
        int r = store_views_tar(v, ns, d, &tar);
        if (r < 0)
                return r;
        struct store_reader *blob = NULL;
        r = store_blob_open(v->blobs, ns, d->digest, d->size, &blob);
        if (r < 0)
                return r;
        struct store_reader *src = blob;
        if (is_gzip(d->mediatype)) {
                pthread_mutex_lock(&v->lock);
                tar_entry *e = find_entry(v, d->digest);
                struct gzindex *gz = e ? e->gz : NULL;
                pthread_mutex_unlock(&v->lock);
                if (!gz || gzindex_damaged(gz)) {
                        /* First read of this layer: its seek points, from
                         * the database (or inflated once). Or the cached
                         * windows were damaged: index again, heal the cache. */
                        struct gzindex *loaded = NULL, *old = gz;
                        r = load_gzindex(v, d, blob, old != NULL, &loaded);
                        if (r < 0) {
                                store_reader_free(blob);
                                return r;
                        }
                        pthread_mutex_lock(&v->lock);
                        e = find_entry(v, d->digest);
                        struct gzindex **nr = old ? realloc(v->retired, (v->n_retired + 1) * sizeof(*nr)) : NULL;
                        if (nr)
                                v->retired = nr;
                        if (e && e->gz == old && (!old || nr)) {
                                if (old)
                                        v->retired[v->n_retired++] = old;
                                e->gz = TAKE_PTR(loaded);
                        }
                        gz = e ? e->gz : NULL;
                        pthread_mutex_unlock(&v->lock);
                        gzindex_free(loaded);
                        if (!gz) {
                                store_reader_free(blob);
                                return -EIO;
                        }
                }
                r = gzindex_reader_new(gz, blob, GZREADER_OWN_SOURCE, &src);
                if (r < 0) {
                        store_reader_free(blob);
                        return r;
                }
        }
        r = store_reader_slice_owning(src, m->data_offset, m->size, ret);
        if (r < 0)
                store_reader_free(src);
        return r == -EINVAL ? -EBADMSG : r;   /* a member outside its tar */
}
