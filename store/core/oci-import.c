/* The import control file's command line, and the check of every blob of
 * an OCI layout against its digest, streaming. */
#include "oci-import.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "strv.h"

int oci_fail(char **ret_msg, int r_errno, const char *fmt, ...) {
        if (ret_msg) {
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(ret_msg, fmt, ap) < 0)
                        *ret_msg = NULL;
                va_end(ap);
        }
        return -r_errno;
}

static char *dup_token(const char *p, size_t len) {
        return strndup(p, len);
}

int oci_import_parse(const char *buf, size_t len, char **ret_path, char **ret_name, char **ret_msg) {
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (memchr(buf, '\n', len) || memchr(buf, '\0', len))
                return oci_fail(ret_msg, EINVAL, "one line please: PATH [name=REF]");
        _cleanup_free_ char *path = NULL, *name = NULL;
        size_t i = 0;
        while (i < len) {
                while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
                        i++;
                size_t start = i;
                while (i < len && buf[i] != ' ' && buf[i] != '\t')
                        i++;
                if (i == start)
                        break;
                const char *tok = buf + start;
                size_t tlen = i - start;
                if (!path) {
                        if (tok[0] != '/')
                                return oci_fail(ret_msg, EINVAL, "PATH must be absolute: %.*s", (int) tlen, tok);
                        path = dup_token(tok, tlen);
                        if (!path)
                                return -ENOMEM;
                } else if (!name && tlen > 5 && strncmp(tok, "name=", 5) == 0) {
                        name = dup_token(tok + 5, tlen - 5);
                        if (!name)
                                return -ENOMEM;
                } else
                        return oci_fail(ret_msg, EINVAL, "unknown word %.*s (expected: PATH [name=REF])", (int) tlen,
                                        tok);
        }
        if (!path)
                return oci_fail(ret_msg, EINVAL, "no PATH (expected: PATH [name=REF])");
        if (strlen(path) >= 4096)
                return oci_fail(ret_msg, ENAMETOOLONG, "PATH is too long");
        if (name && strlen(name) > 512)
                return oci_fail(ret_msg, EINVAL, "the name is too long");
        *ret_path = TAKE_PTR(path);
        *ret_name = TAKE_PTR(name);
        return 0;
}

int oci_blob_relpath(const char *digest, char buf[DIGEST_MAX + 16]) {
        if (!digest_valid(digest))
                return -EINVAL;
        snprintf(buf, DIGEST_MAX + 16, "blobs/sha256/%s", digest + strlen(DIGEST_PREFIX));
        return 0;
}

oci_plan *oci_plan_free(oci_plan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n; i++) {
                free(p->blobs[i].media_type);
                strv_free(p->blobs[i].labels);
        }
        free(p->blobs);
        free(p->name);
        free(p);
        return NULL;
}

/* sha256 of a reader's bytes, 1 MiB at a time. */
static int hash_reader(struct store_reader *r, char out[DIGEST_MAX]) {
        enum { CHUNK = 1 << 20 };
        _cleanup_free_ uint8_t *buf = malloc(CHUNK);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ret = buf && md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -ENOMEM;
        for (uint64_t off = 0; ret == 0 && off < r->size;) {
                ssize_t n = store_reader_pread(r, buf, CHUNK, off);
                if (n <= 0)
                        ret = n < 0 ? (int) n : -EIO;
                else if (EVP_DigestUpdate(md, buf, (size_t) n) != 1)
                        ret = -ENOMEM;
                else
                        off += (uint64_t) n;
        }
        uint8_t raw[32];
        unsigned int rawlen = 0;
        if (ret == 0 && (EVP_DigestFinal_ex(md, raw, &rawlen) != 1 || rawlen != 32))
                ret = -ENOMEM;
        EVP_MD_CTX_free(md);
        if (ret == 0)
                digest_format(raw, out);
        return ret;
}

static int verify_one(oci_src *s, const oci_blob *b, char **ret_msg) {
        char rel[DIGEST_MAX + 16];
        int r = oci_blob_relpath(b->digest, rel);
        if (r < 0)
                return oci_fail(ret_msg, EIO, "blob %s: not a sha256 digest", b->digest);
        _cleanup_store_reader_ struct store_reader *rd = NULL;
        r = oci_src_open_file(s, rel, &rd);
        if (r == -ENOENT)
                return oci_fail(ret_msg, EIO, "blob %s is missing from the layout", b->digest);
        if (r < 0)
                return oci_fail(ret_msg, EIO, "blob %s cannot be read: %s", b->digest, strerror(-r));
        if (rd->size != b->size)
                return oci_fail(ret_msg, EIO, "blob %s is damaged: %llu bytes, its descriptor says %llu", b->digest,
                                (unsigned long long) rd->size, (unsigned long long) b->size);
        char got[DIGEST_MAX];
        r = hash_reader(rd, got);
        if (r < 0)
                return oci_fail(ret_msg, EIO, "blob %s cannot be read: %s", b->digest, strerror(-r));
        if (strcmp(got, b->digest) != 0)
                return oci_fail(ret_msg, EIO, "blob %s is damaged: its bytes hash to %s", b->digest, got);
        return 0;
}

int oci_plan_verify(oci_src *s, const oci_plan *p, char **ret_msg) {
        for (size_t i = 0; i < p->n; i++) {
                if (!p->blobs[i].present)
                        continue;
                int r = verify_one(s, &p->blobs[i], ret_msg);
                if (r < 0)
                        return r;
        }
        return 0;
}
