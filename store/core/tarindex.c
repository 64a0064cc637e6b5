/* SPDX-License-Identifier: MIT */
#include "tarindex.h"
#include "hash.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define BLOCK 512u
#define PATH_LIMIT 4095u         /* like PATH_MAX - 1 */
#define NAME_LIMIT 255u          /* like NAME_MAX */
#define EXT_LIMIT (1u << 20)     /* a pax or GNU long-name payload larger than this is absurd */
#define READAHEAD (64u << 10)

struct ustar_header {
        char name[100];
        char mode[8];
        char uid[8];
        char gid[8];
        char size[12];
        char mtime[12];
        char chksum[8];
        char typeflag;
        char linkname[100];
        char magic[6];
        char version[2];
        char uname[32];
        char gname[32];
        char devmajor[8];
        char devminor[8];
        char prefix[155];
        char pad[12];
};
_Static_assert(sizeof(struct ustar_header) == BLOCK, "ustar header is one block");

/* ---- numeric fields ---------------------------------------------------- */

/* Octal (optionally space/NUL padded) or base-256 (high bit of the first
 * byte set; bit 0x40 is the sign). Empty fields are 0. */
static int parse_numeric(const char *field, size_t len, bool allow_negative, int64_t *ret) {
        const uint8_t *p = (const uint8_t *) field;
        uint64_t v = 0;
        size_t i = 0;

        if (len > 0 && (p[0] & 0x80)) {
                bool neg = p[0] & 0x40;
                uint8_t inv = neg ? 0xff : 0x00;

                if (neg && !allow_negative)
                        return -EBADMSG;
                for (i = 0; i < len; i++) {
                        uint8_t c = p[i] ^ inv;
                        if (i == 0)
                                c &= 0x7f;
                        if (v >> 56)
                                return -EBADMSG;
                        v = (v << 8) | c;
                }
                if (v >> 63)
                        return -EBADMSG;
                /* ~v of the inverted magnitude is the two's complement value. */
                *ret = neg ? ~(int64_t) v : (int64_t) v;
                return 0;
        }

        while (i < len && (p[i] == ' ' || p[i] == '\0'))
                i++;
        for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
                if (v >> 60)
                        return -EBADMSG;
                v = (v << 3) | (uint64_t) (p[i] - '0');
        }
        for (; i < len; i++)
                if (p[i] != ' ' && p[i] != '\0')
                        return -EBADMSG;
        if (v > INT64_MAX)
                return -EBADMSG;
        *ret = (int64_t) v;
        return 0;
}

static int parse_unsigned(const char *field, size_t len, uint64_t max, uint64_t *ret) {
        int64_t v;
        int k = parse_numeric(field, len, false, &v);

        if (k < 0)
                return k;
        if ((uint64_t) v > max)
                return -EBADMSG;
        *ret = (uint64_t) v;
        return 0;
}

static int verify_checksum(const uint8_t *blk) {
        const struct ustar_header *h = (const void *) blk;
        uint64_t stored, usum = 0;
        int64_t ssum = 0;
        int k;

        k = parse_unsigned(h->chksum, sizeof(h->chksum), UINT32_MAX, &stored);
        if (k < 0)
                return k;
        /* The field itself counts as spaces; some old writers summed signed chars. */
        for (size_t i = 0; i < BLOCK; i++) {
                bool in_field = i >= offsetof(struct ustar_header, chksum) &&
                                i < offsetof(struct ustar_header, chksum) + sizeof(h->chksum);
                uint8_t c = in_field ? ' ' : blk[i];
                usum += c;
                ssum += (int8_t) c;
        }
        if (stored != usum && (int64_t) stored != ssum)
                return -EBADMSG;
        return 0;
}

/* ---- paths ------------------------------------------------------------- */

int tar_path_normalize(const char *in, char **ret_path) {
        size_t len, o = 0;
        const char *p;
        char *out;

        if (!in || !ret_path)
                return -EINVAL;
        len = strlen(in);
        if (len == 0 || len > 2 * PATH_LIMIT)
                return -EINVAL;
        out = malloc(len + 1);
        if (!out)
                return -ENOMEM;

        for (p = in; *p;) {
                const char *e;
                size_t n;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                e = strchrnul(p, '/');
                n = (size_t) (e - p);
                if (n == 1 && p[0] == '.') {
                        p = e;
                        continue;
                }
                if ((n == 2 && p[0] == '.' && p[1] == '.') || n > NAME_LIMIT) {
                        free(out);
                        return -EINVAL;
                }
                if (o > 0)
                        out[o++] = '/';
                memcpy(out + o, p, n);
                o += n;
                p = e;
        }
        out[o] = '\0';
        if (o > PATH_LIMIT) {
                free(out);
                return -EINVAL;
        }
        *ret_path = out;
        return 0;
}

const char *tar_type_to_string(enum tar_type t) {
        static const char *const names[_TAR_TYPE_MAX] = {
                [TAR_TYPE_REG] = "reg",          [TAR_TYPE_DIR] = "dir",
                [TAR_TYPE_SYMLINK] = "symlink",  [TAR_TYPE_HARDLINK] = "hardlink",
                [TAR_TYPE_CHAR] = "char",        [TAR_TYPE_BLOCK] = "block",
                [TAR_TYPE_FIFO] = "fifo",
        };
        return (unsigned) t < _TAR_TYPE_MAX ? names[t] : NULL;
}

/* ---- scanning state ---------------------------------------------------- */

/* Overrides collected from extension headers for the next real header. */
struct pending {
        char *pax_path, *pax_linkpath, *pax_uname, *pax_gname;
        char *gnu_name, *gnu_link;
        bool has_size, has_mtime, has_uid, has_gid;
        uint64_t size, uid, gid;
        int64_t mtime_sec;
        uint32_t mtime_nsec;
        uint64_t first_header; /* offset of the first extension header */
        bool any;
};

static void pending_clear(struct pending *p) {
        free(p->pax_path);
        free(p->pax_linkpath);
        free(p->pax_uname);
        free(p->pax_gname);
        free(p->gnu_name);
        free(p->gnu_link);
        *p = (struct pending) {};
}

struct scan {
        struct store_reader *r;
        uint64_t pos;          /* next header block */
        uint8_t *buf;          /* read-ahead window over the stream */
        uint64_t buf_off;
        size_t buf_len;
        struct pending pend;
};

/* Reads the 512-byte block at off through the read-ahead window. Returns 0,
 * -ENODATA at end of data, -EBADMSG when the data ends mid-block, or -errno. */
static int read_block(struct scan *s, uint64_t off, const uint8_t **ret_blk) {
        ssize_t n;

        if (off >= s->buf_off && off - s->buf_off + BLOCK <= s->buf_len) {
                *ret_blk = s->buf + (off - s->buf_off);
                return 0;
        }
        n = store_reader_pread(s->r, s->buf, READAHEAD, off);
        if (n < 0)
                return (int) n;
        s->buf_off = off;
        s->buf_len = (size_t) n;
        if (n == 0)
                return -ENODATA;
        if ((size_t) n < BLOCK)
                return -EBADMSG;
        *ret_blk = s->buf;
        return 0;
}

static uint64_t padded(uint64_t size) {
        return (size + BLOCK - 1) & ~(uint64_t) (BLOCK - 1);
}

/* Checks that [off, off+len) plus padding lies inside the stream. */
static int check_extent(struct scan *s, uint64_t off, uint64_t len) {
        if (off > s->r->size || len > s->r->size - off)
                return -EBADMSG;
        return 0;
}

/* Reads an extension payload (pax records, GNU long name) as a NUL-terminated
 * string of exactly len bytes (it may itself contain NULs). */
static int read_ext(struct scan *s, uint64_t off, uint64_t len, char **ret) {
        _cleanup_free_ char *b = NULL;
        int k;

        if (len > EXT_LIMIT)
                return -EBADMSG;
        k = check_extent(s, off, len);
        if (k < 0)
                return k;
        b = malloc(len + 1);
        if (!b)
                return -ENOMEM;
        k = store_reader_read_exact(s->r, b, len, off);
        if (k == -ENODATA)
                return -EBADMSG;
        if (k < 0)
                return k;
        b[len] = '\0';
        *ret = TAKE_PTR(b);
        return 0;
}

/* GNU 'L'/'K' payload: a name followed by NUL padding. A NUL followed by
 * anything else is a NUL inside the name. */
static int gnu_longname(char *b, uint64_t len, char **ret) {
        size_t n = strlen(b);

        for (size_t i = n; i < len; i++)
                if (b[i] != '\0')
                        return -EINVAL;
        if (n == 0)
                return -EINVAL;
        *ret = b;
        return 0;
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

static int pax_apply(struct pending *p, const char *key, size_t klen, const char *v, size_t vlen) {
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
static int pax_parse(struct pending *p, const char *b, size_t len) {
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

/* ---- member assembly --------------------------------------------------- */

static char *field_dup(const char *f, size_t max) {
        return strndup(f, strnlen(f, max));
}

static void set_flags(struct tar_member *m) {
        const char *base = strrchr(m->path, '/');

        base = base ? base + 1 : m->path;
        if (strcmp(base, ".wh..wh..opq") == 0)
                m->flags |= TAR_MEMBER_OPAQUE;
        else if (strncmp(base, ".wh.", 4) == 0)
                m->flags |= TAR_MEMBER_WHITEOUT;
}

/* Builds the member for the real header h at s->pos. *ret_skip is the number
 * of data bytes that follow the header in the stream. */
static int assemble(struct scan *s, const struct ustar_header *h, enum tar_type type,
                    bool has_data, struct tar_member *m, uint64_t *ret_skip) {
        struct pending *p = &s->pend;
        bool posix = memcmp(h->magic, "ustar\0", 6) == 0;
        bool gnu = memcmp(h->magic, "ustar ", 6) == 0;
        _cleanup_free_ char *raw = NULL;
        uint64_t size, v;
        int64_t t;
        int k;

        /* Name: pax path > GNU long name > ustar prefix/name. */
        if (p->pax_path)
                raw = strdup(p->pax_path);
        else if (p->gnu_name)
                raw = strdup(p->gnu_name);
        else if (posix && h->prefix[0]) {
                /* star puts atime/ctime after a 131-byte prefix and "tar\0" at 508. */
                size_t plen = memcmp((const char *) h + 508, "tar", 4) == 0 ? 131 : sizeof(h->prefix);
                size_t pl = strnlen(h->prefix, plen), nl = strnlen(h->name, sizeof(h->name));
                raw = malloc(pl + 1 + nl + 1);
                if (raw) {
                        memcpy(raw, h->prefix, pl);
                        raw[pl] = '/';
                        memcpy(raw + pl + 1, h->name, nl);
                        raw[pl + 1 + nl] = '\0';
                }
        } else
                raw = field_dup(h->name, sizeof(h->name));
        if (!raw)
                return -ENOMEM;
        if (!raw[0])
                return -EINVAL;

        /* v7 archives mark directories with a trailing slash on a regular entry. */
        if (type == TAR_TYPE_REG && raw[strlen(raw) - 1] == '/' && (h->typeflag == '0' || h->typeflag == '\0')) {
                type = TAR_TYPE_DIR;
                has_data = false;
        }

        k = tar_path_normalize(raw, &m->path);
        if (k < 0)
                return k;
        if (!m->path[0] && type != TAR_TYPE_DIR)
                return -EINVAL; /* "." must be the root directory */
        m->type = type;

        if (type == TAR_TYPE_SYMLINK || type == TAR_TYPE_HARDLINK) {
                _cleanup_free_ char *lt = NULL;

                if (p->pax_linkpath)
                        lt = strdup(p->pax_linkpath);
                else if (p->gnu_link)
                        lt = strdup(p->gnu_link);
                else
                        lt = field_dup(h->linkname, sizeof(h->linkname));
                if (!lt)
                        return -ENOMEM;
                if (type == TAR_TYPE_HARDLINK) {
                        k = tar_path_normalize(lt, &m->link_target);
                        if (k < 0)
                                return k;
                        if (!m->link_target[0])
                                return -EINVAL;
                } else {
                        if (strlen(lt) > PATH_LIMIT)
                                return -EINVAL;
                        m->link_target = TAKE_PTR(lt);
                }
        }

        k = parse_unsigned(h->mode, sizeof(h->mode), INT64_MAX, &v);
        if (k < 0)
                return k;
        m->mode = (uint32_t) (v & 07777);

        if (p->has_uid)
                m->uid = p->uid;
        else if ((k = parse_unsigned(h->uid, sizeof(h->uid), UINT32_MAX, &m->uid)) < 0)
                return k;
        if (p->has_gid)
                m->gid = p->gid;
        else if ((k = parse_unsigned(h->gid, sizeof(h->gid), UINT32_MAX, &m->gid)) < 0)
                return k;

        if (p->has_size)
                size = p->size;
        else if ((k = parse_unsigned(h->size, sizeof(h->size), INT64_MAX, &size)) < 0)
                return k;

        if (p->has_mtime) {
                m->mtime_sec = p->mtime_sec;
                m->mtime_nsec = p->mtime_nsec;
        } else {
                k = parse_numeric(h->mtime, sizeof(h->mtime), true, &t);
                if (k < 0)
                        return k;
                m->mtime_sec = t;
        }

        if (p->pax_uname)
                m->uname = strdup(p->pax_uname);
        else if ((posix || gnu) && h->uname[0])
                m->uname = field_dup(h->uname, sizeof(h->uname));
        if (p->pax_gname)
                m->gname = strdup(p->pax_gname);
        else if ((posix || gnu) && h->gname[0])
                m->gname = field_dup(h->gname, sizeof(h->gname));
        if ((p->pax_uname || ((posix || gnu) && h->uname[0])) && !m->uname)
                return -ENOMEM;
        if ((p->pax_gname || ((posix || gnu) && h->gname[0])) && !m->gname)
                return -ENOMEM;

        if ((type == TAR_TYPE_CHAR || type == TAR_TYPE_BLOCK) && (posix || gnu)) {
                if ((k = parse_unsigned(h->devmajor, sizeof(h->devmajor), UINT32_MAX, &v)) < 0)
                        return k;
                m->devmajor = (uint32_t) v;
                if ((k = parse_unsigned(h->devminor, sizeof(h->devminor), UINT32_MAX, &v)) < 0)
                        return k;
                m->devminor = (uint32_t) v;
        }

        m->header_offset = p->any ? p->first_header : s->pos;
        m->data_offset = s->pos + BLOCK;
        m->size = type == TAR_TYPE_REG ? size : 0;
        set_flags(m);
        *ret_skip = has_data ? size : 0;
        return 0;
}

/* Maps a typeflag. Returns 1 for a member (with *type and *has_data set), 0
 * for an extension/ignored header, or -errno. */
static int classify(char tf, enum tar_type *type, bool *has_data) {
        *has_data = false;
        switch (tf) {
        case '0': case '\0': case '7':
                *type = TAR_TYPE_REG;
                *has_data = true;
                return 1;
        case '1': *type = TAR_TYPE_HARDLINK; return 1;
        case '2': *type = TAR_TYPE_SYMLINK; return 1;
        case '3': *type = TAR_TYPE_CHAR; return 1;
        case '4': *type = TAR_TYPE_BLOCK; return 1;
        case '5': *type = TAR_TYPE_DIR; return 1;
        case '6': *type = TAR_TYPE_FIFO; return 1;
        case 'D': /* GNU dump directory: a directory followed by a listing */
                *type = TAR_TYPE_DIR;
                *has_data = true;
                return 1;
        case 'x': case 'X': case 'g': case 'L': case 'K': case 'V':
                return 0;
        case 'S': case 'M': case 'N':
                return -EOPNOTSUPP;
        default:
                /* POSIX: unknown types are read as regular files. */
                *type = TAR_TYPE_REG;
                *has_data = true;
                return 1;
        }
}

static bool is_zero_block(const uint8_t *b) {
        for (size_t i = 0; i < BLOCK; i++)
                if (b[i])
                        return false;
        return true;
}

/* Handles one non-member header (extension or ignored). */
static int handle_extension(struct scan *s, const struct ustar_header *h) {
        uint64_t size, data = s->pos + BLOCK;
        char *b = NULL;
        int k;

        k = parse_unsigned(h->size, sizeof(h->size), INT64_MAX, &size);
        if (k < 0)
                return k;
        /* Member-specific extensions belong to the next member. */
        if (!s->pend.any && h->typeflag && strchr("xXLK", h->typeflag)) {
                s->pend.any = true;
                s->pend.first_header = s->pos;
        }
        switch (h->typeflag) {
        case 'x': case 'X':
                k = read_ext(s, data, size, &b);
                if (k < 0)
                        return k;
                k = pax_parse(&s->pend, b, size);
                free(b);
                if (k < 0)
                        return k;
                break;
        case 'L': case 'K':
                k = read_ext(s, data, size, &b);
                if (k < 0)
                        return k;
                k = gnu_longname(b, size, &b);
                if (k < 0) {
                        free(b);
                        return k;
                }
                if (h->typeflag == 'L') {
                        free(s->pend.gnu_name);
                        s->pend.gnu_name = b;
                } else {
                        free(s->pend.gnu_link);
                        s->pend.gnu_link = b;
                }
                break;
        default: /* 'g' global pax headers and 'V' volume labels: skipped */
                k = check_extent(s, data, size);
                if (k < 0)
                        return k;
        }
        s->pos = data + padded(size);
        return 0;
}

int tarindex_scan(struct store_reader *r, tar_member_cb cb, void *userdata) {
        _cleanup_free_ uint8_t *buf = NULL;
        struct scan s = { .r = r };
        int count = 0, k;

        if (!r || !cb)
                return -EINVAL;
        buf = malloc(READAHEAD);
        if (!buf)
                return -ENOMEM;
        s.buf = buf;

        for (;;) {
                const uint8_t *blk;
                struct ustar_header h;
                enum tar_type type;
                bool has_data;
                uint64_t skip = 0;
                struct tar_member m = {};

                k = read_block(&s, s.pos, &blk);
                if (k == -ENODATA)
                        k = -EBADMSG; /* no end-of-archive marker: truncated */
                if (k < 0)
                        goto fail;
                if (is_zero_block(blk)) {
                        /* End marker: a second zero block (or, leniently, the end of data). */
                        k = read_block(&s, s.pos + BLOCK, &blk);
                        if (k == -ENODATA || (k == 0 && is_zero_block(blk)))
                                k = s.pend.any ? -EBADMSG : 0; /* dangling extension header */
                        else if (k == 0)
                                k = -EBADMSG;
                        if (k < 0)
                                goto fail;
                        break;
                }
                memcpy(&h, blk, BLOCK);
                k = verify_checksum(blk);
                if (k < 0)
                        goto fail;

                k = classify(h.typeflag, &type, &has_data);
                if (k < 0)
                        goto fail;
                if (k == 0) {
                        k = handle_extension(&s, &h);
                        if (k < 0)
                                goto fail;
                        continue;
                }

                k = assemble(&s, &h, type, has_data, &m, &skip);
                if (k >= 0)
                        k = check_extent(&s, m.data_offset, skip);
                if (k >= 0 && count == INT_MAX)
                        k = -E2BIG;
                if (k >= 0)
                        k = cb(&m, userdata);
                tar_member_done(&m);
                if (k < 0)
                        goto fail;
                count++;
                s.pos += BLOCK + padded(skip);
                pending_clear(&s.pend);
        }
        pending_clear(&s.pend);
        return count;
fail:
        pending_clear(&s.pend);
        return k;
}

/* ---- owned arrays ------------------------------------------------------ */

struct tar_tree;
static void tar_tree_free(struct tar_tree *t);

void tar_member_done(struct tar_member *m) {
        if (!m)
                return;
        free(m->path);
        free(m->link_target);
        free(m->uname);
        free(m->gname);
        m->path = m->link_target = m->uname = m->gname = NULL;
}

static int dup_opt(char **dst, const char *src) {
        *dst = NULL;
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

int tar_member_copy(const struct tar_member *m, struct tar_member *ret_copy) {
        struct tar_member c = *m;

        c.path = c.link_target = c.uname = c.gname = NULL;
        if (dup_opt(&c.path, m->path) < 0 || dup_opt(&c.link_target, m->link_target) < 0 ||
            dup_opt(&c.uname, m->uname) < 0 || dup_opt(&c.gname, m->gname) < 0) {
                tar_member_done(&c);
                return -ENOMEM;
        }
        *ret_copy = c;
        return 0;
}

int tar_index_append(struct tar_index *idx, const struct tar_member *m) {
        int k;

        if (idx->n == idx->n_allocated) {
                size_t cap = idx->n_allocated ? idx->n_allocated * 2 : 64;
                struct tar_member *a;

                if (cap > SIZE_MAX / sizeof(*a))
                        return -ENOMEM;
                a = realloc(idx->members, cap * sizeof(*a));
                if (!a)
                        return -ENOMEM;
                idx->members = a;
                idx->n_allocated = cap;
        }
        k = tar_member_copy(m, &idx->members[idx->n]);
        if (k < 0)
                return k;
        idx->n++;
        tar_tree_free(TAKE_PTR(idx->tree));
        return 0;
}

/* ---- the tree -------------------------------------------------------- */

#define NONE UINT32_MAX

/* One path of the tree. Its string is the first path_len bytes of the path
 * of member path_of (an implicit directory is a prefix of a member path). */
struct tar_node {
        uint32_t parent;     /* node of the parent directory; the root's is itself */
        uint32_t member;     /* the last member of this path, or NONE */
        uint32_t path_of;    /* NONE for the root */
        uint32_t path_len;
        uint32_t children;   /* first of its children in child[] */
        uint32_t n_children;
};

struct tar_tree {
        struct tar_node *nodes; /* nodes[0] is the root "" */
        size_t n_nodes, n_allocated;
        uint32_t *slots;        /* open-addressing hash of paths: node + 1, 0 is free */
        size_t n_slots;         /* a power of two, at least twice n_nodes */
        uint32_t *child;        /* every node but the root, grouped by parent */
};

static void tar_tree_free(struct tar_tree *t) {
        if (!t)
                return;
        free(t->nodes);
        free(t->slots);
        free(t->child);
        free(t);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tar_tree *, tar_tree_free);

/* Appended members may lack a path: such a member is the root. */
static const char *member_path(const struct tar_index *idx, uint32_t m) {
        return idx->members[m].path ?: "";
}

static const char *node_path(const struct tar_index *idx, const struct tar_node *nd) {
        return nd->path_of == NONE ? "" : member_path(idx, nd->path_of);
}

static uint64_t path_hash(const char *p, size_t len) {
        return fnv1a(FNV1A_INIT, p, len);
}

/* The slot holding path p[0..len), or the free slot where it would go. */
static uint32_t *find_slot(const struct tar_index *idx, const struct tar_tree *t, const char *p, size_t len) {
        size_t mask = t->n_slots - 1;

        for (size_t s = path_hash(p, len) & mask;; s = (s + 1) & mask) {
                const struct tar_node *nd;

                if (!t->slots[s])
                        return &t->slots[s];
                nd = &t->nodes[t->slots[s] - 1];
                if (nd->path_len == len && memcmp(node_path(idx, nd), p, len) == 0)
                        return &t->slots[s];
        }
}

static int grow_slots(const struct tar_index *idx, struct tar_tree *t, size_t n_slots) {
        uint32_t *old = t->slots;

        t->slots = calloc(n_slots, sizeof(*t->slots));
        if (!t->slots) {
                t->slots = old;
                return -ENOMEM;
        }
        t->n_slots = n_slots;
        for (size_t i = 0; i < t->n_nodes; i++) {
                const struct tar_node *nd = &t->nodes[i];
                *find_slot(idx, t, node_path(idx, nd), nd->path_len) = (uint32_t) i + 1;
        }
        free(old);
        return 0;
}

/* The node of path p[0..len) (a prefix of the path of member m), added if
 * new. Returns 1 when added, 0 when it was there, or -errno. */
static int intern(const struct tar_index *idx, struct tar_tree *t, uint32_t m, size_t len, uint32_t *ret_node) {
        const char *p = member_path(idx, m);
        uint32_t *slot = find_slot(idx, t, p, len);
        int k;

        if (*slot) {
                *ret_node = *slot - 1;
                return 0;
        }
        if (t->n_nodes >= NONE - 1)
                return -E2BIG;
        if (t->n_nodes == t->n_allocated) {
                size_t cap = t->n_allocated * 2;
                struct tar_node *v = realloc(t->nodes, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                t->nodes = v;
                t->n_allocated = cap;
        }
        /* Keep the table at most half full. */
        if ((t->n_nodes + 1) * 2 > t->n_slots) {
                k = grow_slots(idx, t, t->n_slots * 2);
                if (k < 0)
                        return k;
                slot = find_slot(idx, t, p, len);
        }
        t->nodes[t->n_nodes] = (struct tar_node) {
                .parent = NONE, .member = NONE, .path_of = m, .path_len = (uint32_t) len,
        };
        *slot = (uint32_t) ++t->n_nodes;
        *ret_node = (uint32_t) t->n_nodes - 1;
        return 1;
}

/* Adds member m (the last of its path so far) and the parents its path
 * implies. Nodes are created in archive order of their first mention, so
 * node numbers order siblings that way. */
static int tree_add(const struct tar_index *idx, struct tar_tree *t, uint32_t m) {
        const char *p = member_path(idx, m);
        size_t len = strlen(p);
        uint32_t node, parent;
        int k = intern(idx, t, m, len, &node);

        if (k < 0)
                return k;
        t->nodes[node].member = m;
        /* A new path: walk up until a parent that was there (the root is). */
        while (k > 0) {
                const char *slash = memrchr(p, '/', len);

                len = slash ? (size_t) (slash - p) : 0;
                k = intern(idx, t, m, len, &parent);
                if (k < 0)
                        return k;
                t->nodes[node].parent = parent;
                node = parent;
        }
        return 0;
}

/* Groups the children of each node, in node order, by a counting sort. */
static int tree_link(struct tar_tree *t) {
        uint32_t next = 0;

        t->child = malloc(t->n_nodes * sizeof(*t->child));
        if (!t->child)
                return -ENOMEM;
        for (size_t i = 1; i < t->n_nodes; i++)
                t->nodes[t->nodes[i].parent].n_children++;
        for (size_t i = 0; i < t->n_nodes; i++) {
                t->nodes[i].children = next;
                next += t->nodes[i].n_children;
                t->nodes[i].n_children = 0;
        }
        for (size_t i = 1; i < t->n_nodes; i++) {
                struct tar_node *pa = &t->nodes[t->nodes[i].parent];
                t->child[pa->children + pa->n_children++] = (uint32_t) i;
        }
        return 0;
}

int tar_index_finish(struct tar_index *idx) {
        _cleanup_(tar_tree_freep) struct tar_tree *t = NULL;
        size_t n_slots = 64;
        int k;

        if (!idx)
                return -EINVAL;
        if (idx->tree)
                return 0;
        if (idx->n >= NONE - 1)
                return -E2BIG;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        while (n_slots < 2 * (idx->n + 1))
                n_slots *= 2;
        t->n_allocated = idx->n + 1;
        t->nodes = malloc(t->n_allocated * sizeof(*t->nodes));
        t->slots = calloc(n_slots, sizeof(*t->slots));
        if (!t->nodes || !t->slots)
                return -ENOMEM;
        t->n_slots = n_slots;
        t->nodes[0] = (struct tar_node) { .parent = 0, .member = NONE, .path_of = NONE };
        t->n_nodes = 1;
        *find_slot(idx, t, "", 0) = 1;

        for (size_t i = 0; i < idx->n; i++)
                if ((k = tree_add(idx, t, (uint32_t) i)) < 0)
                        return k;
        if ((k = tree_link(t)) < 0)
                return k;
        idx->tree = TAKE_PTR(t);
        return 0;
}

/* The node of a path in a finished index, or NULL. */
static const struct tar_node *tree_find(const struct tar_index *idx, const char *path) {
        const struct tar_tree *t = idx->tree;
        uint32_t slot = *find_slot(idx, t, path, strlen(path));

        return slot ? &t->nodes[slot - 1] : NULL;
}

static const struct tar_member *member_of(const struct tar_index *idx, const struct tar_node *nd) {
        return nd->member == NONE ? NULL : &idx->members[nd->member];
}

int tar_index_lookup(const struct tar_index *idx, const char *path, const struct tar_member **ret_member) {
        const struct tar_node *nd;

        if (!idx || !idx->tree || !path || !ret_member)
                return -EINVAL;
        nd = tree_find(idx, path);
        if (!nd)
                return -ENOENT;
        *ret_member = member_of(idx, nd);
        return 0;
}

int tar_index_foreach_child(const struct tar_index *idx, const char *dir, tar_child_cb cb, void *userdata) {
        const struct tar_node *nd;
        char name[NAME_LIMIT + 1];

        if (!idx || !idx->tree || !dir || !cb)
                return -EINVAL;
        nd = tree_find(idx, dir);
        if (!nd)
                return -ENOENT;
        for (uint32_t i = 0; i < nd->n_children; i++) {
                const struct tar_node *c = &idx->tree->nodes[idx->tree->child[nd->children + i]];
                const char *p = node_path(idx, c);
                /* The name follows the parent's path and its "/". */
                size_t off = nd->path_len ? nd->path_len + 1 : 0;
                int k;

                if (c->path_len - off > NAME_LIMIT)
                        return -EBADMSG; /* not from tar_path_normalize() */
                memcpy(name, p + off, c->path_len - off);
                name[c->path_len - off] = '\0';
                k = cb(name, member_of(idx, c), userdata);
                if (k < 0)
                        return k;
        }
        return 0;
}

const struct tar_member *tar_index_find(const struct tar_index *idx, const char *path) {
        if (!idx || !path)
                return NULL;
        if (idx->tree) {
                const struct tar_node *nd = tree_find(idx, path);
                return nd ? member_of(idx, nd) : NULL;
        }
        for (size_t i = idx->n; i > 0; i--)
                if (strcmp(idx->members[i - 1].path ?: "", path) == 0)
                        return &idx->members[i - 1];
        return NULL;
}

void tar_index_free(struct tar_index *idx) {
        if (!idx)
                return;
        for (size_t i = 0; i < idx->n; i++)
                tar_member_done(&idx->members[i]);
        free(idx->members);
        tar_tree_free(idx->tree);
        free(idx);
}

static int collect(const struct tar_member *m, void *userdata) {
        return tar_index_append(userdata, m);
}

int tarindex_build(struct store_reader *r, struct tar_index **ret_index) {
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        int k;

        if (!ret_index)
                return -EINVAL;
        idx = calloc(1, sizeof(*idx));
        if (!idx)
                return -ENOMEM;
        k = tarindex_scan(r, collect, idx);
        if (k < 0)
                return k;
        k = tar_index_finish(idx);
        if (k < 0)
                return k;
        *ret_index = TAKE_PTR(idx);
        return 0;
}
