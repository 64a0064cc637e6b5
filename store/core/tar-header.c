/* SPDX-License-Identifier: MIT */
/* One tar header block: numeric fields (octal, base-256), the checksum, the
 * typeflag, and the member it describes once extension headers applied. */
#include "tarindex-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

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

int tar_parse_unsigned(const char *field, size_t len, uint64_t max, uint64_t *ret) {
        int64_t v;
        int k = parse_numeric(field, len, false, &v);

        if (k < 0)
                return k;
        if ((uint64_t) v > max)
                return -EBADMSG;
        *ret = (uint64_t) v;
        return 0;
}

int tar_verify_checksum(const uint8_t *blk) {
        const struct ustar_header *h = (const void *) blk;
        uint64_t stored, usum = 0;
        int64_t ssum = 0;
        int k;

        k = tar_parse_unsigned(h->chksum, sizeof(h->chksum), UINT32_MAX, &stored);
        if (k < 0)
                return k;
        /* The field itself counts as spaces; some old writers summed signed chars. */
        for (size_t i = 0; i < TAR_BLOCK; i++) {
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

/* Which header dialect fills the optional fields (uname, gname, devices). */
static bool has_ustar_fields(const struct ustar_header *h) {
        return memcmp(h->magic, "ustar\0", 6) == 0 || memcmp(h->magic, "ustar ", 6) == 0;
}

/* The raw name: pax path > GNU long name > ustar prefix/name. */
static int member_raw_name(const struct ustar_header *h, const struct tar_pending *p, char **ret) {
        char *raw;

        if (p->pax_path)
                raw = strdup(p->pax_path);
        else if (p->gnu_name)
                raw = strdup(p->gnu_name);
        else if (memcmp(h->magic, "ustar\0", 6) == 0 && h->prefix[0]) {
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
        if (!raw[0]) {
                free(raw);
                return -EINVAL;
        }
        *ret = raw;
        return 0;
}

/* m->path and m->type; v7 archives mark directories with a trailing slash
 * on a regular entry, which then has no data. */
static int member_path(const struct ustar_header *h, const struct tar_pending *p, enum tar_type type,
                       bool *has_data, struct tar_member *m) {
        _cleanup_free_ char *raw = NULL;
        int k = member_raw_name(h, p, &raw);

        if (k < 0)
                return k;
        if (type == TAR_TYPE_REG && raw[strlen(raw) - 1] == '/' && (h->typeflag == '0' || h->typeflag == '\0')) {
                type = TAR_TYPE_DIR;
                *has_data = false;
        }
        k = tar_path_normalize(raw, &m->path);
        if (k < 0)
                return k;
        if (raw[0] == '/')
                m->flags |= TAR_MEMBER_ABSOLUTE;
        if (!m->path[0] && type != TAR_TYPE_DIR)
                return -EINVAL; /* "." must be the root directory */
        m->type = type;
        return 0;
}

/* The target of a link member: hard links name a member (normalised),
 * symlinks are kept verbatim. */
static int member_link(const struct ustar_header *h, const struct tar_pending *p, struct tar_member *m) {
        _cleanup_free_ char *lt = NULL;
        int k;

        if (m->type != TAR_TYPE_SYMLINK && m->type != TAR_TYPE_HARDLINK)
                return 0;
        if (p->pax_linkpath)
                lt = strdup(p->pax_linkpath);
        else if (p->gnu_link)
                lt = strdup(p->gnu_link);
        else
                lt = field_dup(h->linkname, sizeof(h->linkname));
        if (!lt)
                return -ENOMEM;
        if (m->type == TAR_TYPE_SYMLINK) {
                if (strlen(lt) > TAR_PATH_LIMIT)
                        return -EINVAL;
                m->link_target = TAKE_PTR(lt);
                return 0;
        }
        k = tar_path_normalize(lt, &m->link_target);
        if (k < 0)
                return k;
        return m->link_target[0] ? 0 : -EINVAL;
}

/* mode, uid, gid, mtime, and the data size (pax overrides first). */
static int member_numbers(const struct ustar_header *h, const struct tar_pending *p, struct tar_member *m,
                          uint64_t *ret_size) {
        uint64_t v;
        int64_t t;
        int k;

        k = tar_parse_unsigned(h->mode, sizeof(h->mode), INT64_MAX, &v);
        if (k < 0)
                return k;
        m->mode = (uint32_t) (v & 07777);
        if (p->has_uid)
                m->uid = p->uid;
        else if ((k = tar_parse_unsigned(h->uid, sizeof(h->uid), UINT32_MAX, &m->uid)) < 0)
                return k;
        if (p->has_gid)
                m->gid = p->gid;
        else if ((k = tar_parse_unsigned(h->gid, sizeof(h->gid), UINT32_MAX, &m->gid)) < 0)
                return k;
        if (p->has_size)
                *ret_size = p->size;
        else if ((k = tar_parse_unsigned(h->size, sizeof(h->size), INT64_MAX, ret_size)) < 0)
                return k;
        if (p->has_mtime) {
                m->mtime_sec = p->mtime_sec;
                m->mtime_nsec = p->mtime_nsec;
                return 0;
        }
        k = parse_numeric(h->mtime, sizeof(h->mtime), true, &t);
        if (k < 0)
                return k;
        m->mtime_sec = t;
        return 0;
}

/* A pax value, else the header field (ustar and GNU headers only), else NULL. */
static int owner_name(const char *pax, const char *field, size_t size, bool ustar, char **ret) {
        *ret = NULL;
        if (pax)
                *ret = strdup(pax);
        else if (ustar && field[0])
                *ret = field_dup(field, size);
        else
                return 0;
        return *ret ? 0 : -ENOMEM;
}

static int member_owner_device(const struct ustar_header *h, const struct tar_pending *p, struct tar_member *m) {
        bool ustar = has_ustar_fields(h);
        uint64_t v;
        int k;

        k = owner_name(p->pax_uname, h->uname, sizeof(h->uname), ustar, &m->uname);
        k = k ?: owner_name(p->pax_gname, h->gname, sizeof(h->gname), ustar, &m->gname);
        if (k < 0 || !ustar || (m->type != TAR_TYPE_CHAR && m->type != TAR_TYPE_BLOCK))
                return k;
        if ((k = tar_parse_unsigned(h->devmajor, sizeof(h->devmajor), UINT32_MAX, &v)) < 0)
                return k;
        m->devmajor = (uint32_t) v;
        if ((k = tar_parse_unsigned(h->devminor, sizeof(h->devminor), UINT32_MAX, &v)) < 0)
                return k;
        m->devminor = (uint32_t) v;
        return 0;
}

int tar_header_member(const struct ustar_header *h, const struct tar_pending *p, uint64_t pos,
                      enum tar_type type, bool has_data, struct tar_member *m, uint64_t *ret_skip) {
        uint64_t size;
        int k;

        k = member_path(h, p, type, &has_data, m);
        k = k ?: member_link(h, p, m);
        k = k ?: member_numbers(h, p, m, &size);
        k = k ?: member_owner_device(h, p, m);
        if (k < 0)
                return k;
        m->header_offset = p->any ? p->first_header : pos;
        m->data_offset = pos + TAR_BLOCK;
        m->size = m->type == TAR_TYPE_REG ? size : 0;
        set_flags(m);
        *ret_skip = has_data ? size : 0;
        return 0;
}

int tar_classify(char tf, enum tar_type *type, bool *has_data) {
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

bool tar_is_zero_block(const uint8_t *b) {
        for (size_t i = 0; i < TAR_BLOCK; i++)
                if (b[i])
                        return false;
        return true;
}

/* ---- paths ------------------------------------------------------------- */

int tar_path_normalize(const char *in, char **ret_path) {
        size_t len, o = 0;
        const char *p;
        char *out;

        if (!in || !ret_path)
                return -EINVAL;
        len = strlen(in);
        if (len == 0 || len > 2 * TAR_PATH_LIMIT)
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
                if ((n == 2 && p[0] == '.' && p[1] == '.') || n > TAR_NAME_LIMIT) {
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
        if (o > TAR_PATH_LIMIT) {
                free(out);
                return -EINVAL;
        }
        *ret_path = out;
        return 0;
}
