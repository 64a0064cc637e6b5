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
        int fd;                 /* blobs: the checked spool file, -1 if none */
        char **children;        /* manifests: the digests they name */
} pull_item;

typedef struct pull_state {
        registry_client *c;
        pull_item *v;           /* v[0]: the index; then breadth-first */
        size_t n, cap;
        pthread_mutex_t lock;   /* guards bytes and err during the fetches */
        uint64_t bytes;
        registry_error *err;
} pull_state;

void pull_clear(pull_state *p);
void pull_note_error(pull_state *p, const registry_error *e);
/* Writes every item into ns's content store under a lease of its own and
 * creates image `name`; deletes the lease whatever happens. */
int pull_store(pull_state *p, rpc_client *rpc, const char *ns, const char *name);
