/* Blobs of a converted archive (archive.h): a reader's bytes, optionally
 * gzip-compressed, into blobs/sha256/<hex> of an OCI layout, hashed on the
 * way, through a temporary file renamed into place. */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cleanup.h"
#include "digest.h"

#define CHUNK (1u << 20)

typedef struct sink {
        int fd;
        EVP_MD_CTX *md;
        int64_t size;
} sink;

static int sink_put(sink *s, const uint8_t *buf, size_t len) {
        if (EVP_DigestUpdate(s->md, buf, len) != 1)
                return -ENOMEM;
        s->size += (int64_t) len;
        while (len > 0) {
                ssize_t n = write(s->fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Deflates in[0, len) (flush: Z_FINISH at the end) into the sink. */
static int deflate_put(sink *s, z_stream *z, const uint8_t *in, size_t len, int flush, uint8_t *out) {
        z->next_in = (Bytef *) in;
        z->avail_in = (uInt) len;
        int zr;
        do {
                z->next_out = out;
                z->avail_out = CHUNK;
                zr = deflate(z, flush);
                if (zr == Z_STREAM_ERROR)
                        return -EIO;
                int r = sink_put(s, out, CHUNK - z->avail_out);
                if (r < 0)
                        return r;
        } while (z->avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
        return 0;
}

static int copy(sink *s, struct store_reader *r, int gzip) {
        _cleanup_free_ uint8_t *buf = malloc(CHUNK);
        _cleanup_free_ uint8_t *out = gzip ? malloc(CHUNK) : NULL;
        if (!buf || (gzip && !out))
                return -ENOMEM;
        z_stream z = { 0 };
        if (gzip && deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return -ENOMEM;
        int ret = 0;
        for (uint64_t off = 0; off < r->size && ret == 0;) {
                size_t want = r->size - off < CHUNK ? (size_t) (r->size - off) : CHUNK;
                ret = store_reader_read_exact(r, buf, want, off);
                if (ret == 0)
                        ret = gzip ? deflate_put(s, &z, buf, want, Z_NO_FLUSH, out) : sink_put(s, buf, want);
                off += want;
        }
        if (gzip) {
                if (ret == 0)
                        ret = deflate_put(s, &z, NULL, 0, Z_FINISH, out);
                deflateEnd(&z);
        }
        return ret == -ENODATA ? -EBADMSG : ret;
}

static int blob_dir(const char *outdir, char *buf, size_t size) {
        const char *parts[] = { "", "/blobs", "/blobs/sha256" };
        for (size_t i = 0; i < 3; i++) {
                if ((size_t) snprintf(buf, size, "%s%s", outdir, parts[i]) >= size)
                        return -ENAMETOOLONG;
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return -errno;
        }
        return 0;
}

static int write_blob(const char *outdir, struct store_reader *r, const void *bytes, size_t len, int gzip,
                      char ret_digest[DIGEST_MAX], int64_t *ret_size) {
        char dir[4096], tmp[4200], dst[4200];
        int e = blob_dir(outdir, dir, sizeof(dir));
        if (e < 0)
                return e;
        snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir);
        sink s = { .fd = mkstemp(tmp), .md = EVP_MD_CTX_new() };
        if (s.fd < 0) {
                EVP_MD_CTX_free(s.md);
                return -errno;
        }
        int ret = s.md && EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) == 1 ? 0 : -ENOMEM;
        if (ret == 0)
                ret = r ? copy(&s, r, gzip) : sink_put(&s, bytes, len);
        uint8_t raw[32];
        unsigned n = 0;
        if (ret == 0 && EVP_DigestFinal_ex(s.md, raw, &n) != 1)
                ret = -ENOMEM;
        if (ret == 0 && fchmod(s.fd, 0644) < 0)
                ret = -errno;
        if (close(s.fd) < 0 && ret == 0)
                ret = -errno;
        EVP_MD_CTX_free(s.md);
        if (ret == 0) {
                digest_format(raw, ret_digest);
                snprintf(dst, sizeof(dst), "%s/%s", dir, ret_digest + strlen(DIGEST_PREFIX));
                if (rename(tmp, dst) < 0)
                        ret = -errno;
        }
        if (ret < 0) {
                unlink(tmp);
                return ret;
        }
        *ret_size = s.size;
        return 0;
}

int store_archive_write_blob(const char *outdir, struct store_reader *r, int gzip, char ret_digest[72],
                             int64_t *ret_size) {
        return write_blob(outdir, r, NULL, 0, gzip, ret_digest, ret_size);
}

int store_archive_write_bytes(const char *outdir, const void *buf, size_t len, char ret_digest[72],
                              int64_t *ret_size) {
        return write_blob(outdir, NULL, buf, len, 0, ret_digest, ret_size);
}
