/* Garbage collection of the cache: what was computed from blobs (tar
 * members, gzip indexes, descriptors) goes when no image reaches the blob
 * any more, after an image list changed. The sqlite rows only: memory is
 * keyed by digest and stays right. */
#include "catalog-internal.h"

#include "db.h"
#include "log.h"

typedef struct digests {
        char **v;
        size_t n;
} digests;

static int collect_digest(const char *digest, void *userdata) {
        digests *d = userdata;
        return strv_push(&d->v, &d->n, digest);
}

void catalog_gc_cache(store_catalog *c) {
        digests gone = { 0 };
        size_t removed = 0;
        /* The cache is best effort: what is not collected now is next time. */
        if (store_db_list_unreached_blobs(c->db, collect_digest, &gone) >= 0)
                for (size_t i = 0; i < gone.n; i++)
                        if (store_db_delete_blob(c->db, gone.v[i]) >= 0)
                                removed++;
        strv_free(gone.v);
        if (removed)
                log_info("cache: dropped what was kept of %zu blob%s no image reaches any more", removed,
                         removed == 1 ? "" : "s");
}
