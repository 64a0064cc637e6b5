#include "registry-api.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

static void repo_path(registry_client *c, char *out, size_t size, const char *kind, const char *rest) {
        snprintf(out, size, "/v2/%s/%s/%s", registry_client_ref(c)->repo, kind, rest);
}

/* The answer's status as -errno, or a transport failure as it is. */
static int outcome(int r, const registry_resp *resp, const char *what, registry_error *err) {
        return r < 0 ? r : registry_status_errno(resp, what, err);
}

int registry_blob_head(registry_client *c, const char *digest, uint64_t *ret_size, registry_error *err) {
        char path[1024];
        repo_path(c, path, sizeof(path), "blobs", digest);
        registry_req q = { .method = "HEAD", .path = path };
        registry_resp resp;
        int r = registry_request(c, &q, &resp, err);
        if (r < 0)
                return r;
        if (r == 404)
                return -ENOENT;
        r = registry_status_errno(&resp, "HEAD blob", err);
        if (r >= 0 && ret_size)
                *ret_size = resp.content_length < 0 ? 0 : (uint64_t) resp.content_length;
        return r;
}

/* POST .../blobs/uploads/[?query]; *loc: the upload's Location. 201: done. */
static int start_upload(registry_client *c, const char *query, char loc[2048], registry_error *err) {
        char path[1024];
        repo_path(c, path, sizeof(path), "blobs", query ? query : "uploads/");
        registry_req q = { .method = "POST", .path = path };
        registry_resp resp;
        int r = registry_request(c, &q, &resp, err);
        if (r < 0)
                return r;
        if (r != 201 && r != 202)
                return registry_status_errno(&resp, "starting a blob upload", err);
        if (r == 202 && !resp.location[0]) {
                snprintf(err->message, sizeof(err->message), "the registry gave no upload location");
                return -EIO;
        }
        snprintf(loc, 2048, "%s", resp.location);
        return r;
}

static int put_chunk(registry_client *c, char loc[2048], const char *method, const char *digest, uint64_t off,
                     uint64_t len, ssize_t (*read_at)(void *, uint8_t *, size_t, uint64_t), void *ud,
                     registry_error *err) {
        char url[2300], range[64];
        if (digest)
                snprintf(url, sizeof(url), "%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', digest);
        else
                snprintf(url, sizeof(url), "%s", loc);
        registry_body body = { .read_at = read_at, .ud = ud, .off = off, .len = len };
        registry_req q = { .method = method, .path = url, .body = &body };
        if (!digest) {
                snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long) off,
                         (unsigned long long) (off + len - 1));
                q.content_range = range;
        }
        registry_resp resp;
        int r = registry_request(c, &q, &resp, err);
        if (r < 0)
                return r;
        int want = digest ? 201 : 202;
        if (r >= 300)
                return registry_status_errno(&resp, digest ? "PUT blob" : "PATCH blob", err);
        if (r != want) {
                snprintf(err->message, sizeof(err->message), "%s blob: unexpected HTTP %d", method, r);
                return -EIO;
        }
        if (resp.location[0])
                snprintf(loc, 2048, "%s", resp.location);
        return 0;
}

int registry_blob_upload(registry_client *c, const char *digest, uint64_t size,
                         ssize_t (*read_at)(void *ud, uint8_t *buf, size_t len, uint64_t off), void *ud,
                         registry_error *err) {
        char loc[2048];
        int r = start_upload(c, NULL, loc, err);
        if (r < 0)
                return r;
        if (size <= REGISTRY_CHUNK)
                return put_chunk(c, loc, "PUT", digest, 0, size, read_at, ud, err);
        uint64_t off = 0;
        for (; off < size; off += REGISTRY_CHUNK) {
                uint64_t n = size - off < REGISTRY_CHUNK ? size - off : REGISTRY_CHUNK;
                r = put_chunk(c, loc, "PATCH", NULL, off, n, read_at, ud, err);
                if (r < 0)
                        return r;
        }
        return put_chunk(c, loc, "PUT", digest, size, 0, read_at, ud, err);
}

int registry_blob_mount(registry_client *c, const char *digest, const char *from, registry_error *err) {
        char query[1024], loc[2048];
        snprintf(query, sizeof(query), "uploads/?mount=%s&from=%s", digest, from);
        int r = start_upload(c, query, loc, err);
        if (r < 0)
                return r;
        /* 202: a new, empty upload session instead; it expires by itself */
        return r == 201 ? 0 : -ENOENT;
}

/* Sink into an fd, hashing and counting. */
typedef struct fd_sink {
        int fd;
        EVP_MD_CTX *md;
        uint64_t got, size;
} fd_sink;

static int to_fd(void *ud, const uint8_t *data, size_t len) {
        fd_sink *s = ud;
        if (s->got + len > s->size)
                return -EIO;
        EVP_DigestUpdate(s->md, data, len);
        s->got += len;
        while (len) {
                ssize_t n = write(s->fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                data += n;
                len -= (size_t) n;
        }
        return 0;
}

int registry_blob_fetch_fd(registry_client *c, const char *digest, uint64_t size, int fd, registry_error *err) {
        char path[1024];
        repo_path(c, path, sizeof(path), "blobs", digest);
        fd_sink s = { .fd = fd, .md = EVP_MD_CTX_new(), .size = size };
        if (!s.md || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(s.md);
                return -ENOMEM;
        }
        registry_req q = { .method = "GET", .path = path, .sink = to_fd, .sink_ud = &s, .expect = size };
        registry_resp resp;
        int r = outcome(registry_request(c, &q, &resp, err), &resp, "GET blob", err);
        uint8_t raw[32];
        unsigned int rl = 0;
        EVP_DigestFinal_ex(s.md, raw, &rl);
        EVP_MD_CTX_free(s.md);
        if (r < 0) {
                if (r == -EIO && s.got >= size && !err->message[0])
                        snprintf(err->message, sizeof(err->message), "blob %s is longer than %llu bytes", digest,
                                 (unsigned long long) size);
                return r;
        }
        char got[DIGEST_MAX];
        digest_format(raw, got);
        if (s.got != size || strcmp(got, digest) != 0) {
                snprintf(err->message, sizeof(err->message),
                         "blob %s from the registry does not match its digest (%llu bytes, sha256 %s)", digest,
                         (unsigned long long) s.got, got);
                return -EIO;
        }
        return 0;
}

int registry_manifest_put(registry_client *c, const char *reference, const char *media_type, const uint8_t *buf,
                          size_t len, registry_error *err) {
        char path[1024];
        repo_path(c, path, sizeof(path), "manifests", reference);
        registry_body body = { .buf = buf, .len = len };
        registry_req q = { .method = "PUT", .path = path, .content_type = media_type, .body = &body };
        registry_resp resp;
        return outcome(registry_request(c, &q, &resp, err), &resp, "PUT manifest", err);
}

int registry_manifest_get(registry_client *c, const char *reference, size_t max, uint8_t **ret, size_t *ret_len,
                          char *ret_type, char ret_digest[DIGEST_MAX], registry_error *err) {
        char path[1024];
        repo_path(c, path, sizeof(path), "manifests", reference);
        registry_membuf m = { .max = max };
        registry_req q = { .method = "GET", .path = path, .accept = REGISTRY_ACCEPT_MANIFESTS,
                           .sink = registry_membuf_sink, .sink_ud = &m, .expect = max };
        registry_resp resp;
        int r = outcome(registry_request(c, &q, &resp, err), &resp, "GET manifest", err);
        if (r >= 0 && !m.data && !(m.data = calloc(1, 1)))
                r = -ENOMEM;
        if (r < 0) {
                free(m.data);
                return r;
        }
        if (ret_type)
                snprintf(ret_type, 256, "%s", resp.content_type);
        snprintf(ret_digest, DIGEST_MAX, "%s", digest_valid(resp.digest) ? resp.digest : "");
        *ret = m.data;
        *ret_len = m.len;
        return 0;
}
