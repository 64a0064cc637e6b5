/* The catalog's queries: snapshots of the in-memory model taken under the
 * lock (once the first resync was tried), and the container a checkpoint
 * is of (by its name, else its config blob; cached by digest). */
#include "catalog-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "decode.h"

/* Right after the start, the lists may not hold what containerd has yet
 * (an empty or old cache): callers wait for the first resync, which
 * reports either way, up to FIRST_SYNC_WAIT_MS. With c->lock held. */
#define FIRST_SYNC_WAIT_MS 5000
static void wait_first_sync(store_catalog *c) {
        if (!c->started || c->first_sync_done)
                return;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += FIRST_SYNC_WAIT_MS / 1000;
        while (!c->first_sync_done && !c->stop && pthread_cond_timedwait(&c->first_sync, &c->lock, &until) == 0)
                ;
}

/* The names of the namespaces (ns NULL) or of the checkpoints of ns. */
static int snapshot_names(store_catalog *c, const char *ns, char ***ret) {
        _cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
        size_t n = 0;
        int r = v ? 0 : -ENOMEM;
        pthread_mutex_lock(&c->lock);
        wait_first_sync(c);
        const ns_entry *e = ns ? catalog_find_ns(c, ns) : NULL;
        size_t count = ns ? (e ? e->n : 0) : c->n_ns;
        for (size_t i = 0; r >= 0 && i < count; i++)
                r = strv_push(&v, &n, ns ? e->v[i].name : c->ns[i].ns);
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

/* Copies of the checkpoints of ns. */
static int snapshot_ckpts(store_catalog *c, const char *ns, store_ckpt **ret, size_t *ret_n) {
        store_ckpt *v = NULL;
        size_t n = 0;
        int r = 0;
        pthread_mutex_lock(&c->lock);
        wait_first_sync(c);
        const ns_entry *e = catalog_find_ns(c, ns);
        if (e && e->n && !(v = calloc(e->n, sizeof(*v))))
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && e && i < e->n; i++)
                if ((r = catalog_ckpt_copy(&v[i], &e->v[i])) >= 0)
                        n++;
        pthread_mutex_unlock(&c->lock);
        if (r < 0) {
                catalog_ckpts_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int store_catalog_namespaces(store_catalog *c, char ***ret) {
        return snapshot_names(c, NULL, ret);
}

int store_catalog_names(store_catalog *c, const char *ns, char ***ret) {
        return snapshot_names(c, ns, ret);
}

int store_catalog_get(store_catalog *c, const char *ns, const char *name, store_ckpt *ret) {
        pthread_mutex_lock(&c->lock);
        wait_first_sync(c);
        const store_ckpt *k = catalog_find_ckpt(catalog_find_ns(c, ns), name);
        int r = k ? catalog_ckpt_copy(ret, k) : -ENOENT;
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* ---- checkpoints by index digest ----------------------------------------- */

static int cmp_by_target(const void *a, const void *b) {
        const store_ckpt *x = *(const store_ckpt *const *) a, *y = *(const store_ckpt *const *) b;
        int d = strcmp(x->target.digest, y->target.digest);
        if (d)
                return d;
        d = (int) ckpt_name_showable(y->name, NULL) - (int) ckpt_name_showable(x->name, NULL);
        return d ? d : strcmp(x->name, y->name);
}

int store_catalog_digests(store_catalog *c, const char *ns, char ***ret_digests, char ***ret_names) {
        _cleanup_strv_free_ char **digests = calloc(1, sizeof(char *)), **names = calloc(1, sizeof(char *));
        size_t nd = 0, nn = 0;
        int r = digests && names ? 0 : -ENOMEM;
        pthread_mutex_lock(&c->lock);
        wait_first_sync(c);
        const ns_entry *e = catalog_find_ns(c, ns);
        /* Pointers into the model, sorted by (target, shown names first,
         * name): the first of each target is its canonical name. */
        _cleanup_free_ const store_ckpt **by = e && e->n ? calloc(e->n, sizeof(*by)) : NULL;
        if (e && e->n && !by)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && by && i < e->n; i++)
                by[i] = &e->v[i];
        if (r >= 0 && by)
                qsort(by, e->n, sizeof(*by), cmp_by_target);
        for (size_t i = 0; r >= 0 && by && i < e->n; i++) {
                if (i > 0 && strcmp(by[i - 1]->target.digest, by[i]->target.digest) == 0)
                        continue;
                r = strv_push(&digests, &nd, by[i]->target.digest);
                if (r >= 0)
                        r = strv_push(&names, &nn, by[i]->name);
        }
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
                return r;
        *ret_digests = TAKE_PTR(digests);
        *ret_names = TAKE_PTR(names);
        return 0;
}

int store_catalog_digest_name(store_catalog *c, const char *ns, const char *digest, char **ret) {
        char *name = NULL;
        int r = -ENOENT;
        pthread_mutex_lock(&c->lock);
        wait_first_sync(c);
        const ns_entry *e = catalog_find_ns(c, ns);
        /* Sorted by name: the first hit that can be shown, else the first. */
        const store_ckpt *hit = NULL;
        for (size_t i = 0; e && i < e->n; i++)
                if (strcmp(e->v[i].target.digest, digest) == 0) {
                        bool shown = ckpt_name_showable(e->v[i].name, NULL);
                        if (!hit || shown)
                                hit = &e->v[i];
                        if (shown)
                                break;
                }
        if (hit)
                r = (name = strdup(hit->name)) ? 0 : -ENOMEM;
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
                return r;
        *ret = name;
        return 0;
}

/* ---- the container of a checkpoint --------------------------------------- */

/* 0 and a copy of the container known for index digest (NULL: none named),
 * -ENOENT when not known yet. */
static int owner_cached(store_catalog *c, const char *digest, char **ret) {
        int r = -ENOENT;
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->n_owners && r == -ENOENT; i++)
                if (strcmp(c->owners[i].digest, digest) == 0) {
                        const char *id = c->owners[i].container;
                        *ret = id ? strdup(id) : NULL;
                        r = id && !*ret ? -ENOMEM : 0;
                }
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* Best effort: what is not remembered is read again. */
static void owner_remember(store_catalog *c, const char *digest, const char *id) {
        pthread_mutex_lock(&c->lock);
        owner_entry *nv = realloc(c->owners, (c->n_owners + 1) * sizeof(*nv));
        char *dg = strdup(digest), *idc = id ? strdup(id) : NULL;
        if (nv)
                c->owners = nv;
        if (nv && dg && (!id || idc))
                c->owners[c->n_owners++] = (owner_entry) { .digest = TAKE_PTR(dg), .container = TAKE_PTR(idc) };
        free(dg);
        free(idc);
        pthread_mutex_unlock(&c->lock);
}

/* The container a checkpoint index belongs to, by its config blob (the
 * spec's cgroups path). *ret NULL when the config names none. */
static int owner_of(store_catalog *c, const char *ns, const store_desc *target, char **ret) {
        int r = owner_cached(c, target->digest, ret);
        if (r != -ENOENT)
                return r;
        store_descs kids;
        r = store_catalog_children(c, ns, target, &kids);
        if (r < 0)
                return r;
        char *id = NULL;
        for (size_t i = 0; i < kids.n; i++) {
                if (strcmp(kids.v[i].mediatype, MT_CKPT_CONFIG) != 0)
                        continue;
                _cleanup_free_ uint8_t *buf = NULL;
                size_t len;
                r = store_blob_read_all(c->blobs, ns, kids.v[i].digest, kids.v[i].size, MAX_INDEX_BLOB, &buf, &len);
                if (r >= 0 && store_decode_config_container(buf, len, &id) < 0)
                        id = NULL;
                break;
        }
        store_descs_clear(&kids);
        if (r < 0)
                return r;
        owner_remember(c, target->digest, id);
        *ret = id;
        return 0;
}

int store_catalog_ckpt_container(store_catalog *c, const store_ckpt *ck, char **ret_id) {
        const char *tag;
        size_t idlen = ckpt_name_container(ck->name, &tag);
        char *id = NULL;
        if (idlen)
                id = strndup(ck->name + strlen(CKPT_NAME_PREFIX), idlen);
        else {
                int r = owner_of(c, ck->ns, &ck->target, &id);
                if (r < 0)
                        return r;
                if (!id)
                        return -ENOENT;
        }
        if (!id)
                return -ENOMEM;
        *ret_id = id;
        return 0;
}

/* ---- the checkpoints of a container -------------------------------------- */

/* The directory name of ck under containers/<id>/checkpoints/ (*ret NULL
 * when ck is not of container id): the tag of a standard name, else the
 * last path component of the name, whose config names id. */
static int tag_of(store_catalog *c, const char *ns, const store_ckpt *ck, const char *id, char **ret) {
        const char *name = ck->name, *tag_at = NULL;
        size_t plen = strlen(CKPT_NAME_PREFIX);
        *ret = NULL;
        if (strncmp(name, CKPT_NAME_PREFIX, plen) == 0) {
                size_t idlen = ckpt_name_container(name, &tag_at);
                if (!idlen || idlen != strlen(id) || strncmp(name + plen, id, idlen) != 0)
                        return 0;
        } else {
                _cleanup_free_ char *owner = NULL;
                if (owner_of(c, ns, &ck->target, &owner) < 0 || !owner || strcmp(owner, id) != 0)
                        return 0;
                const char *slash = strrchr(name, '/');
                tag_at = slash ? slash + 1 : name;
        }
        return (*ret = strdup(tag_at)) ? 0 : -ENOMEM;
}

static bool has_string(char *const *v, const char *s) {
        for (; *v; v++)
                if (strcmp(*v, s) == 0)
                        return true;
        return false;
}

int store_catalog_container_ckpts(store_catalog *c, const char *ns, const char *id, char ***ret_names,
                                  char ***ret_tags) {
        /* Snapshot the list, then look at configs without the lock. */
        store_ckpt *snap = NULL;
        size_t n = 0;
        int r = snapshot_ckpts(c, ns, &snap, &n);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *)), **tags = calloc(1, sizeof(char *));
        size_t nn = 0, nt = 0;
        if (!names || !tags)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *tag = NULL;
                r = tag_of(c, ns, &snap[i], id, &tag);
                /* Two names may give one tag: the first keeps it. */
                if (r < 0 || !tag || !*tag || has_string(tags, tag))
                        continue;
                if ((r = strv_push(&names, &nn, snap[i].name)) >= 0)
                        r = strv_push(&tags, &nt, tag);
        }
        catalog_ckpts_free(snap, n);
        if (r < 0)
                return r;
        *ret_names = TAKE_PTR(names);
        *ret_tags = TAKE_PTR(tags);
        return 0;
}
