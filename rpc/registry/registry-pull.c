/* registry_pull: the index, what it reaches, checked, into containerd. */
#include "registry.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "containerd.h"
#include "monotime.h"
#include "registry-api.h"
#include "registry-pull.h"
#include "strv.h"
#include "vocab.h"

#define MANIFEST_MAX (4 * 1024 * 1024)

void pull_clear(pull_state *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->v[i].mt);
                free(p->v[i].bytes);
                strv_free(p->v[i].children);
        }
        free(p->v);
        pthread_mutex_destroy(&p->lock);
}

static int find(const pull_state *p, const char *digest) {
        for (size_t i = 0; i < p->n; i++)
                if (strcmp(p->v[i].digest, digest) == 0)
                        return (int) i;
        return -1;
}

static int add(pull_state *p, const char *digest, const char *mt, uint64_t size) {
        if (find(p, digest) >= 0)
                return 0;
        if (p->n == p->cap) {
                size_t cap = p->cap ? 2 * p->cap : 16;
                pull_item *v = realloc(p->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                p->v = v;
                p->cap = cap;
        }
        pull_item *it = &p->v[p->n];
        *it = (pull_item) { .size = size };
        snprintf(it->digest, sizeof(it->digest), "%s", digest);
        if (!(it->mt = strdup(mt ? mt : "")))
                return -ENOMEM;
        p->n++;
        return 0;
}

static int add_desc(pull_state *p, json_t *d, char ***children, size_t *nc) {
        const char *digest = json_string_value(json_object_get(d, "digest"));
        const char *mt = json_string_value(json_object_get(d, "mediaType"));
        json_t *size = json_object_get(d, "size");
        if (!digest_valid(digest) || !json_is_integer(size) || json_integer_value(size) < 0)
                return -EBADMSG;
        int r = strv_push(children, nc, digest);
        return r < 0 ? r : add(p, digest, mt, (uint64_t) json_integer_value(size));
}

/* The descriptors a manifest or index names (manifests, config, layers). */
static int parse_children(pull_state *p, size_t i) {
        json_t *j = json_loadb((const char *) p->v[i].bytes, p->v[i].size, 0, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                snprintf(p->err->message, sizeof(p->err->message), "manifest %s is no JSON object", p->v[i].digest);
                return -EBADMSG;
        }
        char **children = NULL;
        size_t nc = 0;
        int r = 0;
        size_t k;
        json_t *d;
        json_array_foreach(json_object_get(j, "manifests"), k, d) if (r >= 0) r = add_desc(p, d, &children, &nc);
        json_array_foreach(json_object_get(j, "layers"), k, d) if (r >= 0) r = add_desc(p, d, &children, &nc);
        json_t *cfg = json_object_get(j, "config");
        if (r >= 0 && cfg)
                r = add_desc(p, cfg, &children, &nc);
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        if (r >= 0 && !p->v[i].mt[0] && mt) {
                free(p->v[i].mt);
                r = (p->v[i].mt = strdup(mt)) ? 0 : -ENOMEM;
        }
        json_decref(j);
        if (r == -EBADMSG)
                snprintf(p->err->message, sizeof(p->err->message), "manifest %s has a bad descriptor", p->v[i].digest);
        if (r < 0) {
                strv_free(children);
                return r;
        }
        p->v[i].children = children;
        return 0;
}

/* Checks the bytes of manifest i against its digest and size. */
static int check_bytes(pull_state *p, size_t i, size_t len) {
        char got[DIGEST_MAX];
        int r = digest_of(p->v[i].bytes, len, got);
        if (r < 0)
                return r;
        if (strcmp(got, p->v[i].digest) != 0 || len != p->v[i].size) {
                snprintf(p->err->message, sizeof(p->err->message),
                         "manifest %s from the registry does not match its digest (%zu bytes, %s)", p->v[i].digest, len,
                         got);
                return -EIO;
        }
        return 0;
}

static int fetch_manifest(pull_state *p, size_t i) {
        size_t len;
        char hdr[DIGEST_MAX];
        int r = registry_manifest_get(p->c, p->v[i].digest, MANIFEST_MAX, &p->v[i].bytes, &len, NULL, hdr, p->err);
        if (r < 0)
                return r;
        p->bytes += len;
        return check_bytes(p, i, len);
}

static int fetch_blob(void *ud, size_t i) {
        pull_state *p = ud;
        pull_item *it = &p->v[i];
        if (registry_is_manifest(it->mt))
                return 0;
        if (pull_have_local(p, i) > 0) {
                it->local = true;
                pthread_mutex_lock(&p->lock);
                p->local++;
                pthread_mutex_unlock(&p->lock);
                return 0;
        }
        registry_error e = { { 0 } };
        int r = pull_stream_blob(p, i, &e);
        if (r < 0) {
                pull_note_error(p, &e);
                return r;
        }
        registry_memo_note(registry_client_ref(p->c)->host, registry_client_ref(p->c)->repo, it->digest);
        pthread_mutex_lock(&p->lock);
        p->bytes += it->size;
        pthread_mutex_unlock(&p->lock);
        return 0;
}

void pull_note_error(pull_state *p, const registry_error *e) {
        pthread_mutex_lock(&p->lock);
        if (!p->err->message[0])
                *p->err = *e;
        pthread_mutex_unlock(&p->lock);
}

/* The index by tag (or digest), checked, then everything it reaches. */
static int fetch_all(pull_state *p, const registry_ref *ref) {
        uint8_t *bytes;
        size_t len;
        char type[256], hdr[DIGEST_MAX], got[DIGEST_MAX];
        int r = registry_manifest_get(p->c, ref->tag[0] ? ref->tag : ref->digest, MANIFEST_MAX, &bytes, &len, type,
                                      hdr, p->err);
        if (r < 0)
                return r;
        if ((r = digest_of(bytes, len, got)) < 0 || (r = add(p, got, NULL, len)) < 0) {
                free(bytes);
                return r;
        }
        p->v[0].bytes = bytes;
        p->bytes += len;
        const char *want = ref->digest[0] ? ref->digest : hdr;
        if (want[0] && strcmp(want, got) != 0) {
                snprintf(p->err->message, sizeof(p->err->message),
                         "the index from the registry does not match its digest (%s, got %s)", want, got);
                return -EIO;
        }
        if ((r = parse_children(p, 0)) < 0)
                return r;
        if (!p->v[0].mt[0]) {
                free(p->v[0].mt);
                if (!(p->v[0].mt = strdup(type[0] ? type : MT_INDEX)))
                        return -ENOMEM;
        }
        /* the list grows while it is walked: breadth-first */
        for (size_t i = 1; i < p->n; i++)
                if (registry_is_manifest(p->v[i].mt) && ((r = fetch_manifest(p, i)) < 0 || (r = parse_children(p, i)) < 0))
                        return r;
        return registry_pool_run(p->n, REGISTRY_THREADS, fetch_blob, p);
}

int registry_pull(rpc_client *rpc, const char *ns, const registry_ref *ref, const registry_conn *conn,
                  const char *name, registry_result *ret, registry_error *err) {
        struct timespec t0 = monotime_now();
        _cleanup_free_ char *dflt = NULL;
        if (!name) {
                if (asprintf(&dflt, "%s:%s", ref->repo, ref->tag[0] ? ref->tag : "latest") < 0)
                        return -ENOMEM;
                name = dflt;
        }
        pull_state p = { .err = err, .rpc = rpc, .ns = ns };
        pthread_mutex_init(&p.lock, NULL);
        err->message[0] = 0;
        int r = registry_client_new(ref, conn->insecure, conn->auth, false, conn->timeout_ms, &p.c);
        if (r >= 0)
                r = pull_lease_begin(&p);
        if (r >= 0)
                r = fetch_all(&p, ref);
        if (r >= 0)
                r = pull_store(&p, name);
        pull_lease_end(&p);
        registry_client_free(p.c);
        if (r >= 0) {
                *ret = (registry_result) { .blobs = (unsigned) p.n, .uploaded = (unsigned) p.n - p.local,
                                           .skipped = p.local, .bytes = p.bytes };
                snprintf(ret->digest, sizeof(ret->digest), "%s", p.v[0].digest);
                for (size_t i = 0; i < p.n; i++)
                        ret->manifests += registry_is_manifest(p.v[i].mt);
                ret->ms = monotime_ms_since(&t0);
        }
        pull_clear(&p);
        return r;
}
