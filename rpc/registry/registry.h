/* Push and pull of a checkpoint (an OCI index and every blob it reaches)
 * through an OCI registry, and the text reports `cat push|pull` shows.
 *
 * Push: every non-manifest blob first (HEAD: skipped when the registry has
 * it; else mounted from another repository of the registry known to have
 * it (registry_memo_*), else uploaded, in chunks above REGISTRY_CHUNK;
 * REGISTRY_THREADS at a time), then the manifests below the index by digest (deepest first), the
 * index last by tag: its bytes and digest unchanged.
 * Pull: the index by tag (checked against the tag's Docker-Content-Digest,
 * and the reference's digest when it has one), its manifests and blobs by
 * digest, each checked while it streams; all written into containerd's
 * content store under a lease, then the image created with the checkpoint
 * label; any failure leaves no image (the lease goes, the blobs with it).
 *
 * Errors: -EACCES for 401/403 (the message names no secret), -EIO for a
 * registry error or a digest mismatch (with the registry's message),
 * -ETIMEDOUT or -EIO when the registry is gone. Blocks the caller for the
 * whole transfer; every request has a deadline. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "registry-http.h"
#include "registry-ref.h"
#include "rpc.h"

#define REGISTRY_THREADS 4

/* One blob of a checkpoint. */
typedef struct registry_item {
        const char *digest;
        const char *media_type;
        uint64_t size;
} registry_item;

/* Where push reads blobs from: open gives a handle for read_at, close frees it. */
typedef struct registry_source {
        int (*open)(void *ud, const char *digest, uint64_t size, void **ret_handle);
        ssize_t (*read_at)(void *handle, uint8_t *buf, size_t len, uint64_t off);
        void (*close)(void *handle);
        void *ud;
} registry_source;

typedef struct registry_result {
        char digest[DIGEST_MAX];   /* the index */
        unsigned blobs, uploaded, skipped, manifests;   /* pull: uploaded = fetched */
        unsigned mounted;          /* push: blobs mounted from another repository */
        unsigned chunked;          /* push: blobs uploaded in PATCH chunks */
        uint64_t bytes;            /* sent (push) or received (pull) */
        long ms;
} registry_result;

/* How to reach the registry: the credential (base64 user:password, NULL:
 * anonymous; a secret), plain HTTP when asked. */
typedef struct registry_conn {
        const char *auth;
        bool insecure;
        long timeout_ms;           /* per request; <= 0: 30 s */
} registry_conn;

/* items[0] is the index (of media type MT_INDEX), the others every blob it
 * reaches (each once). */
int registry_push(const registry_ref *ref, const registry_conn *conn, const registry_item *items, size_t n,
                  const registry_source *src, registry_result *ret, registry_error *err);

/* Pulls ref into namespace ns of containerd as image `name` (NULL: REPO:TAG
 * of the ref), labelled containerd.io/checkpoint=true. -EEXIST when the
 * name is taken. */
int registry_pull(rpc_client *rpc, const char *ns, const registry_ref *ref, const registry_conn *conn,
                  const char *name, registry_result *ret, registry_error *err);

/* Runs fn(ud, i) for i in [0, n) on up to `threads` threads; the first
 * error stops the handing out of more and is returned. */
int registry_pool_run(size_t n, unsigned threads, int (*fn)(void *ud, size_t i), void *ud);

/* The process's memory of which repository of a registry holds a blob
 * (pushed or pulled there): push mounts from it. Thread-safe, bounded. */
void registry_memo_note(const char *host, const char *repo, const char *digest);
bool registry_memo_find(const char *host, const char *not_repo, const char *digest, char ret_repo[REGISTRY_REPO_MAX]);

/* True for the media types pushed as manifests (OCI/Docker index and manifest). */
bool registry_is_manifest(const char *media_type);

/* The credential for ref's host in the docker-style config.json at path
 * (NULL path: none): *ret malloc'd or NULL when the file names none. */
int registry_auth_from_file(const char *path, const char *host, char **ret);

/* The last outcome per key ("<ns>/<image>" for push, "<ns>" for pull), as
 * the text of `cat push|pull`. Thread-safe. */
typedef struct registry_reports registry_reports;
int registry_reports_new(registry_reports **ret);
registry_reports *registry_reports_free(registry_reports *r);
/* Records the outcome of op ("push"/"pull") of `ref` (display form): r < 0
 * with err's message, or the result. */
int registry_reports_note(registry_reports *rep, const char *key, const char *op, const char *ref, int r,
                          const registry_result *res, const registry_error *err);
/* The text of key (malloc'd; "" when none). */
int registry_reports_get(registry_reports *rep, const char *key, char **ret);
