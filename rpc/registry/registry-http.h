/* HTTP to one repository of an OCI registry through libcurl: requests with
 * deadlines, Basic and Bearer-token authentication, the response headers
 * the distribution API uses.
 *
 * Transport: plain HTTP only for a loopback host or when the caller asks
 * (insecure), else HTTPS verified against the system's CAs.
 * Secrets: the credential (base64 user:password) and tokens stay inside the
 * client; no message, log line or response field holds them.
 * Threads: a client is shared by any number of threads (each request has
 * its own curl handle; the token cache has its own lock).
 * Errors: registry_request() returns the HTTP status (>= 100) when a
 * response came, or -errno when none did (-ETIMEDOUT past the deadline,
 * -EIO for other transport failures), with err->message set. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"
#include "registry-ref.h"

typedef struct registry_client registry_client;

/* Idle connections kept per client (one per worker thread and then some). */
#define REGISTRY_IDLE_MAX 8

typedef struct registry_error {
        char message[1024];
} registry_error;

/* `auth`: the base64 "user:password" credential, or NULL (copied).
 * push: the token scope asks for push too. timeout_ms: the base deadline
 * of a request (<= 0: 30 s); a body or an expected download adds 1 ms per
 * kB (1 MB/s at worst). */
int registry_client_new(const registry_ref *ref, bool insecure, const char *auth, bool push, long timeout_ms,
                        registry_client **ret);
registry_client *registry_client_free(registry_client *c);
const registry_ref *registry_client_ref(const registry_client *c);
/* The token also asks for pull on repository `repo` of the same registry
 * (what a cross-repository mount from it needs). Before the client is
 * shared; -E2BIG past a few dozen. */
int registry_client_add_pull_scope(registry_client *c, const char *repo);

/* A request body: buf, or read_at(ud, buf, len, off) bytes [off, off+len). */
typedef struct registry_body {
        const uint8_t *buf;
        ssize_t (*read_at)(void *ud, uint8_t *buf, size_t len, uint64_t off);
        void *ud;
        uint64_t off, len;
} registry_body;

/* Receives a 2xx response's body, in order; returns 0 or -errno to abort. */
typedef int (*registry_sink)(void *ud, const uint8_t *data, size_t len);

typedef struct registry_resp {
        long status;
        char location[2048];
        char digest[DIGEST_MAX];        /* Docker-Content-Digest, "" if none */
        char content_type[256];
        char range[64];
        int64_t content_length;         /* -1 if none */
        char message[512];              /* errors[0] of a failed answer */
} registry_resp;

typedef struct registry_req {
        const char *method;             /* "GET", "HEAD", "POST", "PUT", "PATCH" */
        const char *path;               /* "/v2/..." below the registry, or an absolute URL */
        const char *accept;             /* NULL: none */
        const char *content_type;       /* with a body (NULL: application/octet-stream) */
        const char *content_range;      /* NULL: none */
        const registry_body *body;      /* NULL: no body */
        registry_sink sink;             /* NULL: a 2xx body is dropped */
        void *sink_ud;
        uint64_t expect;                /* bytes expected back (deadline) */
} registry_req;

int registry_request(registry_client *c, const registry_req *q, registry_resp *ret, registry_error *err);

/* Maps a final HTTP status to -errno: 401/403 -EACCES, 404 -ENOENT, 416
 * -ERANGE, other non-2xx -EIO (with the registry's message in err). */
int registry_status_errno(const registry_resp *resp, const char *what, registry_error *err);

/* A sink that keeps up to `max` bytes in memory. */
typedef struct registry_membuf {
        uint8_t *data;
        size_t len, max;
} registry_membuf;
int registry_membuf_sink(void *ud, const uint8_t *data, size_t len);
