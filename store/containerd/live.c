/* The live view: lists and small files from containerd, each cached for
 * STORE_LIVE_TTL_MS under a key naming what, namespace and container. */
#include "live.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containerd.h"
#include "monotime.h"
#include "render.h"

typedef struct cache_entry {
        struct cache_entry *next;
        char *key;
        char *data;     /* NUL-terminated */
        size_t len;
        char **strv;    /* for lists */
        struct timespec stored;  /* CLOCK_MONOTONIC */
} cache_entry;

struct store_live {
        rpc_client *client;
        char *only_ns;
        pthread_mutex_t lock;
        cache_entry *entries;
};

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void entry_free(cache_entry *e) {
        free(e->key);
        free(e->data);
        strv_free(e->strv);
        free(e);
}

int store_live_new(rpc_client *c, const char *only_ns, store_live **ret) {
        store_live *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->client = c;
        if (only_ns && !(l->only_ns = strdup(only_ns))) {
                free(l);
                return -ENOMEM;
        }
        pthread_mutex_init(&l->lock, NULL);
        *ret = l;
        return 0;
}

store_live *store_live_free(store_live *l) {
        if (!l)
                return NULL;
        for (cache_entry *e = l->entries, *next; e; e = next) {
                next = e->next;
                entry_free(e);
        }
        pthread_mutex_destroy(&l->lock);
        free(l->only_ns);
        free(l);
        return NULL;
}

/* Looks `key` up; on a hit copies the text or the list out. Expired
 * entries are dropped on the way. Returns 0 on a hit, -ENOENT on a miss. */
static int cache_get(store_live *l, const char *key, char **ret_data, size_t *ret_len, char ***ret_strv) {
        int r = -ENOENT;
        pthread_mutex_lock(&l->lock);
        for (cache_entry **p = &l->entries; *p;) {
                cache_entry *e = *p;
                if (monotime_ms_since(&e->stored) >= STORE_LIVE_TTL_MS) {
                        *p = e->next;
                        entry_free(e);
                        continue;
                }
                if (r == -ENOENT && strcmp(e->key, key) == 0) {
                        if (ret_strv) {
                                *ret_strv = strv_copy(e->strv);
                                r = *ret_strv ? 0 : -ENOMEM;
                        } else {
                                *ret_data = malloc(e->len + 1);
                                if (*ret_data) {
                                        memcpy(*ret_data, e->data, e->len + 1);
                                        *ret_len = e->len;
                                        r = 0;
                                } else
                                        r = -ENOMEM;
                        }
                }
                p = &e->next;
        }
        pthread_mutex_unlock(&l->lock);
        return r;
}

/* Stores a copy; failures to cache are not errors (the next call refetches). */
static void cache_put(store_live *l, const char *key, const char *data, size_t len, char *const *strv) {
        cache_entry *e = calloc(1, sizeof(*e));
        if (!e)
                return;
        e->key = strdup(key);
        if (strv)
                e->strv = strv_copy(strv);
        else if ((e->data = malloc(len + 1)))
                memcpy(e->data, data, len + 1);
        e->len = len;
        e->stored = monotime_now();
        if (!e->key || (strv ? !e->strv : !e->data)) {
                entry_free(e);
                return;
        }
        pthread_mutex_lock(&l->lock);
        for (cache_entry **p = &l->entries; *p; p = &(*p)->next)
                if (strcmp((*p)->key, key) == 0) {
                        cache_entry *old = *p;
                        *p = old->next;
                        entry_free(old);
                        break;
                }
        e->next = l->entries;
        l->entries = e;
        pthread_mutex_unlock(&l->lock);
}

/* Keys are "<what>\x1f<ns>\x1f<id>" (the namespace list: an empty ns, lists:
 * an empty id). Matches: ns NULL: everything; id NULL: all of ns; else the
 * lists of ns and the files of that container. */
static bool key_matches(const char *key, const char *ns, const char *id) {
        const char *sep = strchr(key, '\x1f');
        size_t n = ns ? strlen(ns) : 0;
        if (!ns || !sep)
                return true;
        if (strncmp(sep + 1, ns, n) != 0 || sep[1 + n] != '\x1f')
                return false;
        const char *kid = sep + 2 + n;
        return !id || !*kid || strcmp(kid, id) == 0;
}

static void invalidate(store_live *l, const char *ns, const char *id) {
        pthread_mutex_lock(&l->lock);
        for (cache_entry **p = &l->entries; *p;) {
                cache_entry *e = *p;
                if (key_matches(e->key, ns, id)) {
                        *p = e->next;
                        entry_free(e);
                } else
                        p = &e->next;
        }
        pthread_mutex_unlock(&l->lock);
}

void store_live_invalidate_container(store_live *l, const char *ns, const char *id) {
        invalidate(l, ns, id);
}

static char *make_key(const char *what, const char *ns, const char *id) {
        char *k;
        if (asprintf(&k, "%s\x1f%s\x1f%s", what, ns ? ns : "", id ? id : "") < 0)
                return NULL;
        return k;
}

static void sort_strv(char **v) {
        qsort(v, strv_length(v), sizeof(*v), cmp_str);
}

typedef int (*fetch_list_fn)(store_live *l, const char *ns, char ***ret);

/* A list from the cache, or fetched, sorted and cached. */
static int cached_list(store_live *l, const char *what, fetch_list_fn fetch, const char *ns, char ***ret) {
        char *key = make_key(what, ns, NULL);
        if (!key)
                return -ENOMEM;
        char **v = NULL;
        int r = cache_get(l, key, NULL, NULL, &v);
        if (r < 0) {
                r = fetch(l, ns, &v);
                if (r >= 0) {
                        sort_strv(v);
                        cache_put(l, key, NULL, 0, v);
                }
        }
        free(key);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int fetch_namespaces(store_live *l, const char *ns, char ***ret) {
        _cleanup_pb_msg_ rpc_namespace_list *list = NULL;
        int r = rpc_namespaces_list(l->client, NULL, &list, NULL);
        if (r < 0)
                return r;
        char **v = calloc(list->n_namespaces + 2, sizeof(*v)); /* + only_ns, + NULL */
        size_t n = 0;
        for (size_t i = 0; v && i < list->n_namespaces; i++) {
                const char *name = list->namespaces[i]->name;
                if (l->only_ns && strcmp(name, l->only_ns) != 0)
                        continue;
                if (!(v[n++] = strdup(name)))
                        v = strv_free(v);
        }
        /* The one namespace of a --namespace mount shows even before it
         * exists (a fresh containerd): its import file makes it. */
        if (v && l->only_ns && n == 0 && !(v[n++] = strdup(l->only_ns)))
                v = strv_free(v);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

static int fetch_containers(store_live *l, const char *ns, char ***ret) {
        _cleanup_pb_msg_ rpc_container_list *list = NULL;
        int r = rpc_containers_list(l->client, &(rpc_opts) { .ns = ns }, NULL, 0, &list, NULL);
        if (r < 0)
                return r;
        char **v = calloc(list->n_containers + 1, sizeof(*v));
        for (size_t i = 0; v && i < list->n_containers; i++)
                if (!(v[i] = strdup(list->containers[i]->id)))
                        v = strv_free(v);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

int store_live_namespaces(store_live *l, char ***ret) {
        return cached_list(l, "namespaces", fetch_namespaces, NULL, ret);
}

int store_live_containers(store_live *l, const char *ns, char ***ret) {
        return cached_list(l, "containers", fetch_containers, ns, ret);
}

static int strv_has(char **v, const char *s) {
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return 0;
        return -ENOENT;
}

int store_live_has_namespace(store_live *l, const char *ns) {
        char **v;
        int r = store_live_namespaces(l, &v);
        if (r < 0)
                return r;
        r = strv_has(v, ns);
        strv_free(v);
        return r;
}

int store_live_has_container(store_live *l, const char *ns, const char *id) {
        char **v;
        int r = store_live_containers(l, ns, &v);
        if (r < 0)
                return r;
        r = strv_has(v, id);
        strv_free(v);
        return r;
}

typedef int (*render_fn)(rpc_client *c, const char *ns, const char *id, char **ret, size_t *ret_len);

static int cached_text(store_live *l, const char *what, render_fn render, const char *ns, const char *id,
                       char **ret, size_t *ret_len) {
        char *key = make_key(what, ns, id);
        if (!key)
                return -ENOMEM;
        int r = cache_get(l, key, ret, ret_len, NULL);
        if (r == 0) {
                free(key);
                return 0;
        }
        r = render(l->client, ns, id, ret, ret_len);
        if (r == 0)
                cache_put(l, key, *ret, *ret_len, NULL);
        free(key);
        return r;
}

int store_live_status(store_live *l, const char *ns, const char *id, char **ret, size_t *ret_len) {
        return cached_text(l, "status", render_status, ns, id, ret, ret_len);
}

int store_live_container_json(store_live *l, const char *ns, const char *id, char **ret, size_t *ret_len) {
        return cached_text(l, "container.json", render_container_json, ns, id, ret, ret_len);
}


int store_live_pids(store_live *l, const char *ns, const char *id, char **ret, size_t *ret_len) {
        return cached_text(l, "pids", render_pids, ns, id, ret, ret_len);
}

int store_live_metrics_json(store_live *l, const char *ns, const char *id, char **ret, size_t *ret_len) {
        return cached_text(l, "metrics.json", render_metrics_json, ns, id, ret, ret_len);
}
