/* SPDX-License-Identifier: MIT */
/* pax extended headers: the records of an 'x' header that override fields
 * of the next member (path, linkpath, size, mtime, uid, gid, uname, gname). */
#include "tarindex-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tar_pending_clear(struct tar_pending *p) {
        free(p->pax_path);
        free(p->pax_linkpath);
        free(p->pax_uname);
        free(p->pax_gname);
        free(p->gnu_name);
        free(p->gnu_link);
        *p = (struct tar_pending) {};
}

/* ---- pax records ------------------------------------------------------- */

static int pax_decimal(const char *v, size_t len, uint64_t max, uint64_t *ret) {
        uint64_t x = 0;

        if (len == 0)
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return -EBADMSG;
                if (x > (max - (uint64_t) (v[i] - '0')) / 10)
                        return -EBADMSG;
                x = x * 10 + (uint64_t) (v[i] - '0');
        }
        *ret = x;
        return 0;
}

/* "[-]SECONDS[.FRACTION]" into seconds + nanoseconds (floor semantics). */
static int pax_time(const char *v, size_t len, int64_t *ret_sec, uint32_t *ret_nsec) {
        bool neg = len > 0 && v[0] == '-';
        const char *dot;
        size_t ilen, flen;
        uint64_t sec, nsec = 0;
        int k;

        if (neg) {
                v++;
                len--;
        }
        dot = memchr(v, '.', len);
        ilen = dot ? (size_t) (dot - v) : len;
        k = pax_decimal(v, ilen, INT64_MAX, &sec);
        if (k < 0)
                return k;
        if (dot) {
                flen = len - ilen - 1;
                for (size_t i = 0; i < flen; i++) {
                        char c = dot[1 + i];
                        if (c < '0' || c > '9')
                                return -EBADMSG;
                        if (i < 9)
                                nsec = nsec * 10 + (uint64_t) (c - '0');
                }
                for (size_t i = flen; i < 9; i++)
                        nsec *= 10;
        }
        if (!neg) {
                *ret_sec = (int64_t) sec;
                *ret_nsec = (uint32_t) nsec;
        } else if (nsec == 0) {
                *ret_sec = -(int64_t) sec;
                *ret_nsec = 0;
        } else {
                if (sec == INT64_MAX)
                        return -EBADMSG;
                *ret_sec = -(int64_t) sec - 1;
                *ret_nsec = (uint32_t) (1000000000u - nsec);
        }
        return 0;
}

/* Replaces *slot with a copy of the value; an empty value unsets it. */
static int pax_string(char **slot, const char *v, size_t len) {
        char *c = NULL;

        if (memchr(v, '\0', len))
                return -EINVAL;
        if (len > 0) {
                c = strndup(v, len);
                if (!c)
                        return -ENOMEM;
        }
        free(*slot);
        *slot = c;
        return 0;
}

static bool key_is(const char *key, size_t klen, const char *want) {
        return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

static int pax_apply(struct tar_pending *p, const char *key, size_t klen, const char *v, size_t vlen) {
        int k;

        if (key_is(key, klen, "path"))
                return pax_string(&p->pax_path, v, vlen);
        if (key_is(key, klen, "linkpath"))
                return pax_string(&p->pax_linkpath, v, vlen);
        if (key_is(key, klen, "uname"))
                return pax_string(&p->pax_uname, v, vlen);
        if (key_is(key, klen, "gname"))
                return pax_string(&p->pax_gname, v, vlen);
        if (key_is(key, klen, "size")) {
                p->has_size = vlen > 0;
                return vlen > 0 ? pax_decimal(v, vlen, INT64_MAX, &p->size) : 0;
        }
        if (key_is(key, klen, "uid")) {
                p->has_uid = vlen > 0;
                return vlen > 0 ? pax_decimal(v, vlen, UINT32_MAX, &p->uid) : 0;
        }
        if (key_is(key, klen, "gid")) {
                p->has_gid = vlen > 0;
                return vlen > 0 ? pax_decimal(v, vlen, UINT32_MAX, &p->gid) : 0;
        }
        if (key_is(key, klen, "mtime")) {
                p->has_mtime = vlen > 0;
                if (vlen == 0)
                        return 0;
                k = pax_time(v, vlen, &p->mtime_sec, &p->mtime_nsec);
                return k;
        }
        /* Sparse members store a map instead of plain data: cannot serve by offset. */
        if (klen > 11 && memcmp(key, "GNU.sparse.", 11) == 0)
                return -EOPNOTSUPP;
        return 0; /* atime, ctime, charset, comment, SCHILY.*, LIBARCHIVE.*... */
}

/* Records are "LEN KEY=VALUE\n" with LEN counting the whole record. */
int tar_pax_parse(struct tar_pending *p, const char *b, size_t len) {
        size_t off = 0;

        while (off < len) {
                const char *rec = b + off, *sp, *eq;
                size_t rem = len - off, rlen = 0, i;
                int k;

                for (i = 0; i < rem && rec[i] >= '0' && rec[i] <= '9'; i++) {
                        if (rlen > rem)
                                return -EBADMSG;
                        rlen = rlen * 10 + (size_t) (rec[i] - '0');
                }
                if (i == 0 || i >= rem || rec[i] != ' ' || rlen > rem || rlen < i + 4)
                        return -EBADMSG;
                if (rec[rlen - 1] != '\n')
                        return -EBADMSG;
                sp = rec + i;
                eq = memchr(sp + 1, '=', (size_t) (rec + rlen - 1 - (sp + 1)));
                if (!eq || eq == sp + 1)
                        return -EBADMSG;
                k = pax_apply(p, sp + 1, (size_t) (eq - sp - 1), eq + 1,
                              (size_t) (rec + rlen - 1 - (eq + 1)));
                if (k < 0)
                        return k;
                off += rlen;
        }
        return 0;
}

