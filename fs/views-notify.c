/* Telling the kernel that checkpoint names, containers or tasks changed.
 *
 * The catalog reports changes from whatever thread synced (its events
 * thread, or a FUSE op that asked for a resync). fuse_lowlevel_notify_inval_*
 * must never run inside an op (the kernel may hold the very lock the
 * notification needs), so changes are queued here and sent by a thread of
 * our own. */
#include "views-notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

typedef struct inval {
        char *parent;   /* path below the mount */
        char *name;     /* entry to drop; NULL: just the parent's cached data */
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

static void push(views_notifier *v, const char *parent, const char *name) {
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
        v->q[v->n++] = (inval) { .parent = p, .name = nm };
}

void views_notify_cb(void *userdata, const char *ns, const char *name, bool containers) {
        views_notifier *v = userdata;
        char path[4096];
        /* The live view first, so what the kernel then asks for is fresh. */
        if (containers && v->ctx->live)
                store_live_invalidate_container(v->ctx->live, ns, name);
        pthread_mutex_lock(&v->lock);
        if (containers && !ns) {
                push(v, "", NULL);
        } else if (containers) {
                snprintf(path, sizeof(path), "%s/containers", ns);
                push(v, path, NULL);
                if (name) {
                        /* A deleted container's dentry goes; the files'
                         * cached attributes (sizes) are refetched. */
                        push(v, path, name);
                        static const char *const files[] = { "status", "container.json" };
                        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                                snprintf(path, sizeof(path), "%s/containers/%s/%s", ns, name, files[i]);
                                push(v, path, NULL);
                        }
                }
        } else if (!name) {
                snprintf(path, sizeof(path), "%s/checkpoints", ns);
                push(v, path, NULL);
        } else {
                /* Every level of the name: checkpoints/a/b/c:tag. */
                int len = snprintf(path, sizeof(path), "%s/checkpoints", ns);
                const char *p = name;
                while (len > 0 && (size_t) len < sizeof(path)) {
                        const char *slash = strchr(p, '/');
                        size_t cl = slash ? (size_t) (slash - p) : strlen(p);
                        char comp[1024];
                        if (cl >= sizeof(comp))
                                break;
                        memcpy(comp, p, cl);
                        comp[cl] = 0;
                        push(v, path, NULL);
                        push(v, path, comp);
                        if (!slash)
                                break;
                        len += snprintf(path + len, sizeof(path) - (size_t) len, "/%s", comp);
                        p = slash + 1;
                }
                /* containers/<id>/checkpoints/<tag> of the standard names. */
                const char *tag;
                size_t idlen = ckpt_name_container(name, &tag);
                if (idlen) {
                        snprintf(path, sizeof(path), "%s/containers/%.*s/checkpoints", ns, (int) idlen,
                                 name + strlen(CKPT_NAME_PREFIX));
                        push(v, path, NULL);
                        push(v, path, tag);
                }
        }
        pthread_cond_signal(&v->cond);
        pthread_mutex_unlock(&v->lock);
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
                        uint64_t ino = q[i].parent[0] ? inode_number_for_path(q[i].parent) : FS_ROOT_INO;
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
