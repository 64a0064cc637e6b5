/* Telling the kernel that checkpoint names, containers or tasks changed.
 *
 * The catalog reports changes from whatever thread synced (its events
 * thread, or a FUSE op that asked for a resync). fuse_lowlevel_notify_inval_*
 * must never run inside an op (the kernel may hold the very lock the
 * notification needs), so changes are queued here and sent by a thread of
 * our own. */
#include "views-notify.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cleanup.h"
#include "digest.h"
#include "log.h"
#include "path.h"
#include "paths.h"

typedef struct inval {
        char *parent;   /* path below the mount; with sweep: the namespace */
        char *name;     /* entry to drop; NULL: just the parent's cached data */
        bool sweep;     /* check the by-digest entries of namespace `parent` */
} inval;

struct views_notifier {
        fs_ctx *ctx;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        inval *q;
        size_t n;
        bool stop;
};

static void push_item(views_notifier *v, const char *parent, const char *name, bool sweep) {
        inval *nq = realloc(v->q, (v->n + 1) * sizeof(*nq));
        if (!nq)
                return;
        v->q = nq;
        char *p = strdup(parent), *nm = name ? strdup(name) : NULL;
        if (!p || (name && !nm)) {
                free(p);
                free(nm);
                return;
        }
        v->q[v->n++] = (inval) { .parent = p, .name = nm, .sweep = sweep };
}

static void push(views_notifier *v, const char *parent, const char *name) {
        push_item(v, parent, name, false);
}

/* Queues the invalidation of entry `name` (NULL: the cached data) of the
 * node of `kind` with keys ns, k1. A path too long for the tree has no node
 * the kernel could know: skipped. */
static int push_node(views_notifier *v, fs_kind kind, const char *ns, const char *k1, const char *name) {
        char path[PATH_MAX];
        int r = fs_path_of(path, sizeof(path), kind, ns, k1, NULL);
        if (r < 0)
                return r;
        push(v, path, name);
        return 0;
}

static int push_container(views_notifier *v, const char *ns, const char *id) {
        int r = push_node(v, FS_CONTAINERS, ns, NULL, NULL);
        if (r < 0 || !id)
                return r;
        /* A deleted container's dentry goes; the files' cached attributes
         * (sizes) are refetched. */
        push_node(v, FS_CONTAINERS, ns, NULL, id);
        static const fs_kind files[] = { FS_STATUS, FS_CONTAINER_JSON, FS_PIDS, FS_METRICS_JSON };
        for (size_t i = 0; i < ELEMENTSOF(files) && r >= 0; i++)
                r = push_node(v, files[i], ns, id, NULL);
        return r;
}

/* Every level of the name: checkpoints/a/b/c:tag. */
static int push_name_levels(views_notifier *v, const char *ns, const char *name) {
        char path[PATH_MAX];
        int r = fs_path_of(path, sizeof(path), FS_NS_CKPTS, ns, NULL, NULL);
        if (r < 0)
                return r;
        size_t len = (size_t) r;
        for (const char *p = name;;) {
                const char *slash = strchr(p, '/');
                size_t cl = slash ? (size_t) (slash - p) : strlen(p);
                _cleanup_free_ char *comp = strndup(p, cl);
                if (!comp)
                        return -ENOMEM;
                push(v, path, NULL);
                push(v, path, comp);
                if (!slash)
                        return 0;
                if ((r = path_append(path, sizeof(path), &len, comp, cl)) < 0)
                        return r;
                p = slash + 1;
        }
}

/* containers/<id>/checkpoints/<tag> of the standard names. */
static int push_container_ckpt(views_notifier *v, const char *ns, const char *name) {
        const char *tag;
        size_t idlen = ckpt_name_container(name, &tag);
        if (!idlen)
                return 0;
        _cleanup_free_ char *id = strndup(name + strlen(CKPT_NAME_PREFIX), idlen);
        if (!id)
                return -ENOMEM;
        int r = push_node(v, FS_CONTAINER_CKPTS, ns, id, NULL);
        return r < 0 ? r : push_node(v, FS_CONTAINER_CKPTS, ns, id, tag);
}

static int push_ckpt_name(views_notifier *v, const char *ns, const char *name) {
        int r = push_name_levels(v, ns, name);
        int k = push_container_ckpt(v, ns, name);
        return r < 0 ? r : k;
}

void views_notify_cb(void *userdata, const char *ns, const char *name, bool containers) {
        views_notifier *v = userdata;
        int r = 0;
        /* The live view first, so what the kernel then asks for is fresh. */
        if (containers && v->ctx->live)
                store_live_invalidate_container(v->ctx->live, ns, name);
        pthread_mutex_lock(&v->lock);
        if (containers && !ns)
                push(v, "", NULL);
        else if (containers)
                r = push_container(v, ns, name);
        else if (!name)
                r = push_node(v, FS_NS_CKPTS, ns, NULL, NULL);
        else
                r = push_ckpt_name(v, ns, name);
        /* Any image change may take a digest's last name or change which
         * name is its canonical one. */
        if (!containers && ns)
                push_item(v, ns, NULL, true);
        pthread_cond_signal(&v->cond);
        pthread_mutex_unlock(&v->lock);
        if (r < 0)
                log_debug_errno(r, "not telling the kernel about %s in %s", name ? name : "everything",
                                ns ? ns : "every namespace");
}

/* The by-digest entries of ns the kernel may cache (the live nodes) whose
 * digest no image points to any more, or whose canonical name changed, are
 * dropped. A changed canonical name changes st_nlink of both names' files
 * (views_shared_nlink): their entries go too, at the next round. Runs on
 * the notifier's thread, no lock held. */
static void sweep_by_digest(views_notifier *v, const char *ns) {
        char dir[PATH_MAX];
        _cleanup_strv_free_ char **hexes = NULL, **names = NULL;
        if (!v->ctx->catalog || fs_path_of(dir, sizeof(dir), FS_BY_DIGEST, ns, NULL, NULL) < 0 ||
            inode_table_children(v->ctx->inodes, dir, FS_CKPT, &hexes, &names) < 0)
                return;
        uint64_t dir_ino = inode_number_for(dir, NULL);
        for (size_t i = 0; hexes[i]; i++) {
                char digest[DIGEST_MAX];
                _cleanup_free_ char *now = NULL;
                if (digest_from_hex(hexes[i], digest) < 0)
                        continue;
                int r = store_catalog_digest_name(v->ctx->catalog, ns, digest, &now);
                if ((r >= 0 && strcmp(now, names[i]) == 0) || (r < 0 && r != -ENOENT))
                        continue;
                (void) fuse_lowlevel_notify_inval_entry(v->ctx->se, dir_ino, hexes[i], strlen(hexes[i]));
                if (r < 0)
                        continue;
                pthread_mutex_lock(&v->lock);
                (void) push_ckpt_name(v, ns, names[i]);
                (void) push_ckpt_name(v, ns, now);
                pthread_mutex_unlock(&v->lock);
        }
}

static void *notify_main(void *userdata) {
        views_notifier *v = userdata;
        pthread_mutex_lock(&v->lock);
        for (;;) {
                while (!v->stop && v->n == 0)
                        pthread_cond_wait(&v->cond, &v->lock);
                if (v->stop)
                        break;
                inval *q = v->q;
                size_t n = v->n;
                v->q = NULL;
                v->n = 0;
                pthread_mutex_unlock(&v->lock);
                for (size_t i = 0; i < n; i++) {
                        if (q[i].sweep) {
                                if (v->ctx->se)
                                        sweep_by_digest(v, q[i].parent);
                                free(q[i].parent);
                                continue;
                        }
                        uint64_t ino = q[i].parent[0] ? inode_number_for(q[i].parent, NULL) : FS_ROOT_INO;
                        /* Errors (-ENOENT: the kernel does not know the
                         * inode) mean there is nothing to drop. */
                        if (v->ctx->se && inode_table_get(v->ctx->inodes, ino)) {
                                if (q[i].name)
                                        (void) fuse_lowlevel_notify_inval_entry(v->ctx->se, ino, q[i].name,
                                                                                strlen(q[i].name));
                                else
                                        (void) fuse_lowlevel_notify_inval_inode(v->ctx->se, ino, 0, 0);
                        }
                        free(q[i].parent);
                        free(q[i].name);
                }
                free(q);
                pthread_mutex_lock(&v->lock);
        }
        pthread_mutex_unlock(&v->lock);
        return NULL;
}

int views_notifier_new(fs_ctx *ctx, views_notifier **ret) {
        views_notifier *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->ctx = ctx;
        pthread_mutex_init(&v->lock, NULL);
        pthread_cond_init(&v->cond, NULL);
        int r = pthread_create(&v->thread, NULL, notify_main, v);
        if (r != 0) {
                pthread_mutex_destroy(&v->lock);
                pthread_cond_destroy(&v->cond);
                free(v);
                return -r;
        }
        *ret = v;
        return 0;
}

views_notifier *views_notifier_free(views_notifier *v) {
        if (!v)
                return NULL;
        pthread_mutex_lock(&v->lock);
        v->stop = true;
        pthread_cond_signal(&v->cond);
        pthread_mutex_unlock(&v->lock);
        pthread_join(v->thread, NULL);
        for (size_t i = 0; i < v->n; i++) {
                free(v->q[i].parent);
                free(v->q[i].name);
        }
        free(v->q);
        pthread_mutex_destroy(&v->lock);
        pthread_cond_destroy(&v->cond);
        free(v);
        return NULL;
}
