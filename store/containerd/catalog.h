/* store_catalog: the checkpoint images of containerd, kept in the sqlite
 * cache and in memory.
 *
 * A checkpoint image is one labelled `containerd.io/checkpoint=true`, or
 * whose target is an OCI index holding a descriptor of containerd's
 * checkpoint media types (MT_CKPT_PREFIX: the CRIU dump, the checkpoint
 * config, options, runtime options; so `ctr c checkpoint` images count
 * too, rw-only ones included). For each, the catalog knows the
 * image record, the index's descriptors, and every blob the index reaches
 * (recursively through indexes and manifests, where present in the content
 * store). Everything keyed by digest is immutable; what the cache computed
 * from a blob goes when no image reaches it any more (after a resync or an
 * image event changed an image list; the sqlite rows only). Names are
 * refreshed by the events thread (Events.Subscribe on images, containers
 * and tasks, full resync after every (re)connect; container and task events
 * only go to the callback), by resyncs asked for (store_catalog_sync, now;
 * store_catalog_request_sync, in the background) and by
 * store_catalog_sync_image (one image, now).
 *
 * When containerd is away, what was loaded from the database is served.
 *
 * Threads: every function is thread-safe. Resyncs are serialised: one
 * waits for another in progress (each call to containerd has the client's
 * deadline). Change callbacks run on the thread that resynced (the events
 * thread, the catalog's refresh thread, or the caller of a sync function)
 * with no catalog lock held (they may call back into the catalog). Results
 * are copies owned by the caller.
 * Logging: a lost events stream (warning) and its return (info), each
 * resync (debug) and each failed one (warning; debug when it failed the
 * same way as the last), cache rows dropped (info).
 * Errors: 0 or -errno; -ENOENT for unknown names/digests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "cleanup.h"
#include "names.h"
#include "rpc.h"
#include "strv.h"
#include "vocab.h"

struct store_db;


typedef struct store_catalog store_catalog;

/* A blob as a descriptor names it. */
typedef struct store_desc {
        char *digest;
        char *mediatype;
        uint64_t size;
        char *annotations_json; /* NULL when none */
} store_desc;

void store_desc_clear(store_desc *d);

typedef struct store_descs {
        store_desc *v;
        size_t n;
} store_descs;
void store_descs_clear(store_descs *d);

/* One checkpoint image. */
typedef struct store_ckpt {
        char *ns;
        char *name;
        store_desc target;      /* the checkpoint index */
        int64_t created_ns;     /* image creation, ns since the epoch */
} store_ckpt;
void store_ckpt_clear(store_ckpt *c);

/* Change notifications. containers == false: checkpoint image `name` of
 * ns changed (NULL: anything in ns may have changed, after a resync).
 * containers == true: a container or task event about container `name` of
 * ns (NULL: any container of ns); ns NULL too: anything about containers
 * anywhere (after every (re)subscription, when events may have been
 * missed). */
typedef void (*store_catalog_cb)(void *userdata, const char *ns, const char *name, bool containers);

/* rpc, db and blobs are borrowed and must outlive the catalog. only_ns:
 * just this namespace (NULL: all). Loads what the database holds. */
int store_catalog_new(rpc_client *rpc, struct store_db *db, store_blobs *blobs, const char *only_ns,
                      store_catalog **ret);
/* Stops the events thread (if started) and frees. */
store_catalog *store_catalog_free(store_catalog *c);

/* Full resync of `ns` (NULL: every namespace, or the only one) from
 * containerd, on the caller's thread. Calls the change callback for what
 * changed. */
int store_catalog_sync(store_catalog *c, const char *ns);

/* Asks for a store_catalog_sync(c, ns) and returns at once, never waiting
 * for containerd: for a FUSE lookup that missed. A thread of the catalog
 * (started by the first request) does it; requests coalesce (one resync of
 * ns is due at most once; one of every namespace covers all); the change
 * callback reports the result. Failures are logged, not returned. */
void store_catalog_request_sync(store_catalog *c, const char *ns);
/* Brings image `name` of ns into the catalog now (Images.Get with the
 * client's deadline), on the caller's thread, e.g. right after a checkpoint
 * was taken through the mount, before its event comes: classifies it,
 * adds, updates or drops it in memory and in the database, and calls the
 * change callback when the checkpoint came, went or changed. -ENOENT when
 * containerd has no such image (or one with no valid target); then it is
 * gone from the catalog too. */
int store_catalog_sync_image(store_catalog *c, const char *ns, const char *name);
/* Starts the events thread (first thing it does: a full resync). `cb` may
 * be NULL. */
int store_catalog_start(store_catalog *c, store_catalog_cb cb, void *userdata);

/* The queries below wait, once the catalog is started, until its first
 * resync was tried (at most 5 s): a fresh mount lists what containerd has,
 * not an empty or old cache. With containerd away, that try fails at once
 * and the cache is served. */

/* Namespaces holding checkpoints or seen in the last sync (NULL-terminated,
 * sorted; free with strv_free() from cleanup.h). */
int store_catalog_namespaces(store_catalog *c, char ***ret);
/* The names of the checkpoint images of ns, sorted (NULL-terminated). */
int store_catalog_names(store_catalog *c, const char *ns, char ***ret);
/* The index digests that checkpoint images of ns point to, sorted, each
 * once (NULL-terminated), and ret_names[i] the canonical name of
 * ret_digests[i]: the first, in sort order (strcmp), of the names pointing
 * to it that ckptfs can show (names.h's ckpt_name_showable()), else the
 * first of them all. */
int store_catalog_digests(store_catalog *c, const char *ns, char ***ret_digests, char ***ret_names);
/* The canonical name (as above) of index digest `digest` in ns; -ENOENT
 * when no checkpoint image points to it. */
int store_catalog_digest_name(store_catalog *c, const char *ns, const char *digest, char **ret);
/* One checkpoint image. */
int store_catalog_get(store_catalog *c, const char *ns, const char *name, store_ckpt *ret);
/* Checkpoints of container `id` in ns: ret_names[i] is the image name,
 * ret_tags[i] the directory name under containers/<id>/checkpoints/. */
int store_catalog_container_ckpts(store_catalog *c, const char *ns, const char *id, char ***ret_names,
                                  char ***ret_tags);
/* The container a checkpoint is of: <id> of the name
 * containerd.io/checkpoint/<id>:<tag>, else the one its config blob's spec
 * names (linux.cgroupsPath); -ENOENT when neither tells. */
int store_catalog_ckpt_container(store_catalog *c, const store_ckpt *ck, char **ret_id);

/* The descriptors of an index or manifest blob (children in order; for a
 * manifest: config, then layers). */
int store_catalog_children(store_catalog *c, const char *ns, const store_desc *parent, store_descs *ret);
/* Every blob reachable from `root` (root first, then breadth-first, each
 * digest once), present in the content store. */
int store_catalog_reach(store_catalog *c, const char *ns, const store_desc *root, store_descs *ret);

