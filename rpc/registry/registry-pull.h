/* Internal to the pull (registry-pull.c fetches, registry-store.c writes
 * into containerd). */
#pragma once

#include <pthread.h>

#include "registry.h"

typedef struct pull_item {
        char digest[DIGEST_MAX];
        char *mt;               /* "" when unknown */
        uint64_t size;
        uint8_t *bytes;         /* manifests: the checked bytes */
        bool local;             /* blobs: in containerd already (and in our lease) */
        char **children;        /* manifests: the digests they name */
} pull_item;

typedef struct pull_state {
        registry_client *c;
        pull_item *v;           /* v[0]: the index; then breadth-first */
        size_t n, cap;
        pthread_mutex_t lock;   /* guards bytes and err during the fetches */
        uint64_t bytes;
        unsigned local;         /* blobs containerd had */
        registry_error *err;
        rpc_client *rpc;
        const char *ns;
        char lease[96];         /* "" until made */
} pull_state;

void pull_clear(pull_state *p);
void pull_note_error(pull_state *p, const registry_error *e);
/* The lease everything pulled is written under (p->lease), and its end
 * (whatever happened: the image, if made, holds what it needs). */
int pull_lease_begin(pull_state *p);
void pull_lease_end(pull_state *p);
/* 1 (and in the lease) when containerd has blob i already, 0 when not. */
int pull_have_local(pull_state *p, size_t i);
/* Streams blob i from the registry into containerd (a fetching thread, a
 * pipe, Content.Write): checked while it streams; a mismatch is -EIO and
 * leaves nothing but what the lease holds. Thread-safe for distinct i. */
int pull_stream_blob(pull_state *p, size_t i, registry_error *err);
/* Writes the manifests into the content store under the lease and
 * creates image `name`. */
int pull_store(pull_state *p, const char *name);
