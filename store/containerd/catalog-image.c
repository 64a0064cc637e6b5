/* The resync of one image (Images.Get), on the caller's thread: right
 * after a checkpoint was taken through the mount, before its event comes. */
#include "catalog-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "db.h"
#include "log.h"

/* What containerd says of one image: absent, not shown, or its row and,
 * for a checkpoint, the checkpoint. */
typedef struct image_state {
        rpc_image *img;
        struct store_image row;
        char *labels;
        bool exists;      /* a row for the database */
        store_ckpt ck;
        bool is_ckpt;
} image_state;

static void image_state_clear(image_state *s) {
        pb_msg_free(s->img);
        free(s->labels);
        store_ckpt_clear(&s->ck);
}

static int fetch_image(store_catalog *c, const char *ns, const char *name, image_state *s) {
        rpc_error err;
        int r = rpc_images_get(c->rpc, &(rpc_opts) { .ns = ns }, name, &s->img, &err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return log_debug_errno(r, "Images.Get %s in %s: %s", name, ns, err.message);
        /* An image without a valid target is not shown, like in a resync. */
        if (catalog_image_row(ns, s->img, &s->row, &s->labels) < 0)
                return 0;
        s->exists = true;
        r = catalog_row_classify(c, &s->row, &s->ck);
        if (r < 0)
                return r;
        s->is_ckpt = r > 0;
        return 0;
}

/* Writes the row (or its absence); true when the cache may hold rows no
 * image reaches now (the name had another target, or went). */
static bool store_row(store_catalog *c, const char *ns, const char *name, const image_state *s) {
        _cleanup_free_ struct store_image *prev = NULL;
        bool had = store_db_get_image(c->db, ns, name, &prev) == 0;
        /* The cache is best effort: the next resync writes what fails here. */
        if (s->exists)
                (void) store_db_put_image(c->db, &s->row);
        else if (had)
                (void) store_db_delete_image(c->db, ns, name);
        return had && (!s->exists || strcmp(prev->target_digest, s->row.target_digest) != 0);
}

int store_catalog_sync_image(store_catalog *c, const char *ns, const char *name) {
        image_state s = { 0 };
        bool changed = false, unreached = false;
        /* Held across Images.Get: a resync that listed earlier must not
         * land after this. */
        pthread_mutex_lock(&c->sync_lock);
        int r = fetch_image(c, ns, name, &s);
        if (r >= 0) {
                unreached = store_row(c, ns, name, &s);
                pthread_mutex_lock(&c->lock);
                catalog_forget_hash(c, ns);
                r = catalog_put_ckpt(c, ns, name, s.is_ckpt ? &s.ck : NULL, &changed);
                pthread_mutex_unlock(&c->lock);
        }
        pthread_mutex_unlock(&c->sync_lock);
        if (changed)
                catalog_notify(c, ns, (char *const[]) { (char *) name, NULL });
        if (unreached)
                catalog_gc_cache(c);
        if (r >= 0 && !s.exists)
                r = -ENOENT;
        image_state_clear(&s);
        return r;
}
