/* Private to the catalog's files (catalog*.c): the object and what they
 * share.
 *
 *   catalog-model.c    the object, its in-memory model, loading the database
 *   catalog-query.c    the queries (names, images, checkpoints of a container)
 *   catalog-index.c    descriptors, children and reach of index blobs;
 *                      whether an index is a checkpoint
 *   catalog-resync.c   full resyncs: images -> classification -> database
 *   catalog-image.c    the resync of one image (Images.Get)
 *   catalog-refresh.c  the thread doing resyncs asked for in the background
 *   catalog-events.c   the events thread
 *   catalog-gc.c       dropping cache rows no image reaches
 *
 * Locking: c->lock guards every table below and the threads' state; it is
 * held only for memory work, never across an rpc call or a database call
 * (except the short ones noted). c->sync_lock serialises resyncs (of all,
 * of one namespace, of one image) so that an image list fetched earlier
 * never replaces one fetched later; it is taken before c->lock. No change
 * callback runs with either held. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "containerd.h"

struct store_image;

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

/* Whether an index digest holds a CRIU dump (immutable). */
typedef struct criu_known {
        char *digest;
        bool criu;
} criu_known;

/* The hash of the last image list of a namespace written to the database. */
typedef struct ns_hash {
        char *ns;
        uint64_t h;
} ns_hash;

struct store_catalog {
        rpc_client *rpc;
        struct store_db *db;
        store_blobs *blobs;
        char *only_ns;

        pthread_mutex_t sync_lock;  /* serialises resyncs, see above */
        pthread_mutex_t lock;       /* guards everything below */
        ns_entry *ns;
        size_t n_ns;
        reach_entry *reach;
        size_t n_reach;
        owner_entry *owners;
        size_t n_owners;
        /* Sorted by digest: a resync of 1,000 images costs no query for
         * known ones. */
        criu_known *known;
        size_t n_known;
        /* An unchanged list is not written to the database again. */
        ns_hash *hashes;
        size_t n_hashes;
        int last_sync_error;        /* of the last full resync (0: it worked) */

        bool stop;                  /* store_catalog_free() began */
        store_catalog_cb cb;
        void *userdata;

        /* events thread */
        pthread_t thread;
        bool started;
        bool first_sync_done;       /* the first resync was tried (either way) */
        pthread_cond_t wake, first_sync;
        rpc_call *call;

        /* refresh thread: started by the first request */
        pthread_t refresh_thread;
        bool refresh_started;
        pthread_cond_t refresh_wake;
        bool refresh_all;           /* a resync of every namespace is due */
        char **refresh_ns;          /* namespaces due (NULL-terminated) */
        size_t n_refresh_ns;
};

/* ---- catalog-model.c ---- */

int catalog_desc_copy(store_desc *dst, const store_desc *src);
int catalog_descs_push(store_descs *d, const store_desc *x);
int catalog_descs_copy(store_descs *dst, const store_descs *src);
int catalog_ckpt_copy(store_ckpt *dst, const store_ckpt *src);
/* Frees v[0..n) and v. */
void catalog_ckpts_free(store_ckpt *v, size_t n);
/* With c->lock held. */
ns_entry *catalog_find_ns(store_catalog *c, const char *ns);
const store_ckpt *catalog_find_ckpt(const ns_entry *e, const char *name);
/* Replaces the checkpoints of ns with v[0..n) (taken over, even on error).
 * The old ones go to *ret_old and *ret_n_old when given, else are freed. With
 * c->lock held. */
int catalog_set_ns(store_catalog *c, const char *ns, store_ckpt *v, size_t n, store_ckpt **ret_old,
                   size_t *ret_n_old);
/* Puts *ck into the checkpoints of ns in place of the one named `name`
 * (ck NULL: drops that one); *ck is taken over (zeroed) on success.
 * *ret_changed: whether a name came, went or got another target. With
 * c->lock held. */
int catalog_put_ckpt(store_catalog *c, const char *ns, const char *name, store_ckpt *ck, bool *ret_changed);
/* Whether the labels (JSON object text) say containerd.io/checkpoint=true. */
bool catalog_labels_say_checkpoint(const char *labels_json);

/* ---- catalog-index.c ---- */

/* The descriptors the database holds for digest; returns their count (0:
 * none known). */
int catalog_children_db(store_catalog *c, const char *digest, store_descs *ret);
/* 1 if target is a checkpoint index, 0 if not, -errno when it cannot be
 * told; db_only: do not read blobs (at load). Takes c->lock briefly. */
int catalog_classify(store_catalog *c, const char *ns, const store_desc *target, bool labelled, bool db_only);

/* ---- catalog-resync.c ---- */

/* The database row of img in ns (pointing into img; *ret_labels: its
 * labels as JSON text, to free); -EINVAL for an image with no valid
 * target, which is not shown. */
int catalog_image_row(const char *ns, const rpc_image *img, struct store_image *ret_row, char **ret_labels);
/* 1 and a copy of the row as a checkpoint in *ret, 0 when it is none,
 * -errno when that cannot be told. */
int catalog_row_classify(store_catalog *c, const struct store_image *row, store_ckpt *ret);
/* The names that differ between old and new (both sorted by name). */
int catalog_changed_names(const store_ckpt *old, size_t n_old, const store_ckpt *new, size_t n_new, char ***ret);
/* The change callback for each of names (NULL: for the whole ns). With no
 * lock held. */
void catalog_notify(store_catalog *c, const char *ns, char *const *names);
/* Forgets the hash of the image list of ns last written: the database
 * changed behind it. With c->lock held. */
void catalog_forget_hash(store_catalog *c, const char *ns);
/* Full resync of one namespace; returns the number of images containerd
 * listed. err (may be NULL) as in rpc.h. Takes c->sync_lock. */
int catalog_sync_ns(store_catalog *c, const char *ns, rpc_error *err);

/* ---- catalog-gc.c ---- */

/* Drops what the cache computed from blobs no image reaches any more. */
void catalog_gc_cache(store_catalog *c);

/* ---- catalog-events.c, catalog-refresh.c ---- */

/* Ends the thread and waits for it (called by store_catalog_free() after
 * c->stop was set, with no lock held). */
void catalog_events_join(store_catalog *c);
void catalog_refresh_join(store_catalog *c);
