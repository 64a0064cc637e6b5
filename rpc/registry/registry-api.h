/* The distribution API calls on the client's repository: blobs (HEAD,
 * upload by POST+PUT or PATCH chunks, cross-repository mount, GET streamed
 * and verified) and manifests (PUT of exact bytes, GET with Accept).
 * 0 or -errno as registry_status_errno() maps them; err says what failed
 * (never a secret). */
#pragma once

#include <stdint.h>

#include "registry-http.h"

/* Blobs above this go up in PATCH chunks of this size. */
#define REGISTRY_CHUNK (64ULL * 1024 * 1024)
/* What a manifest GET accepts: OCI and Docker indexes and manifests. */
#define REGISTRY_ACCEPT_MANIFESTS                                                                              \
        "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "                \
        "application/vnd.docker.distribution.manifest.list.v2+json, "                                           \
        "application/vnd.docker.distribution.manifest.v2+json"

/* 0 when the repository has blob `digest` (its size in *ret_size, may be
 * NULL), -ENOENT when not. */
int registry_blob_head(registry_client *c, const char *digest, uint64_t *ret_size, registry_error *err);
/* Uploads `size` bytes read by read_at(ud, ...) as blob `digest`; the
 * registry checks the digest. Chunked above REGISTRY_CHUNK. */
int registry_blob_upload(registry_client *c, const char *digest, uint64_t size,
                         ssize_t (*read_at)(void *ud, uint8_t *buf, size_t len, uint64_t off), void *ud,
                         registry_error *err);
/* Mounts blob `digest` from repository `from` of the same registry:
 * 0 when mounted, -ENOENT when the registry would not (upload it then). */
int registry_blob_mount(registry_client *c, const char *digest, const char *from, registry_error *err);
/* Streams blob `digest` of `size` bytes into fd (at its current offset),
 * checking size and sha256 on the way: -EIO on a mismatch. */
int registry_blob_fetch_fd(registry_client *c, const char *digest, uint64_t size, int fd, registry_error *err);

/* PUT /v2/<repo>/manifests/<reference> (a tag or a digest) of the exact bytes. */
int registry_manifest_put(registry_client *c, const char *reference, const char *media_type, const uint8_t *buf,
                          size_t len, registry_error *err);
/* GET of manifest `reference` (at most max bytes) into *ret (malloc'd,
 * NUL-terminated), its Content-Type into ret_type (may be NULL, 256 bytes)
 * and the Docker-Content-Digest into ret_digest ("" when none). */
int registry_manifest_get(registry_client *c, const char *reference, size_t max, uint8_t **ret, size_t *ret_len,
                          char *ret_type, char ret_digest[DIGEST_MAX], registry_error *err);
