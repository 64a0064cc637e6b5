/* The root directory's mode in a CRIU files.img (archive.h): Podman and
 * CRI-O (containers/storage) give a container's root mode 0555, containerd's
 * snapshotters 0755, and CRIU's restore refuses a root whose mode differs
 * from the dump's. Edited at the protobuf wire level (no CRIU descriptors
 * here): records FileEntry{3: reg RegFileEntry{6: name, 10: mode}}. */
#include "archive.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


#define IMG_COMMON 0x54564319u
#define IMG_FILES 0x56303138u

static uint32_t get_u32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static int varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *ret) {
        uint64_t v = 0;
        for (unsigned shift = 0; shift < 64; shift += 7) {
                if (*pos >= len)
                        return -EBADMSG;
                uint8_t b = p[(*pos)++];
                v |= (uint64_t) (b & 0x7f) << shift;
                if (!(b & 0x80)) {
                        *ret = v;
                        return 0;
                }
        }
        return -EBADMSG;
}

static size_t put_varint(uint8_t *p, uint64_t v) {
        size_t n = 0;
        do {
                p[n++] = (uint8_t) ((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
                v >>= 7;
        } while (v);
        return n;
}

typedef struct field {
        uint32_t num, wire;
        size_t start, end;     /* the whole field, key included */
        size_t value, vlen;    /* LEN payload, or the varint */
        uint64_t v;
} field;

static int next_field(const uint8_t *p, size_t len, size_t *pos, field *f) {
        uint64_t key;
        f->start = *pos;
        int r = varint(p, len, pos, &key);
        if (r < 0)
                return r;
        f->num = (uint32_t) (key >> 3);
        f->wire = (uint32_t) (key & 7);
        f->value = *pos;
        switch (f->wire) {
        case 0:
                r = varint(p, len, pos, &f->v);
                break;
        case 1:
        case 5:
                *pos += f->wire == 1 ? 8 : 4;
                r = *pos <= len ? 0 : -EBADMSG;
                break;
        case 2:
                r = varint(p, len, pos, &f->v);
                if (r == 0 && f->v > len - *pos)
                        r = -EBADMSG;
                if (r == 0) {
                        f->value = *pos;
                        f->vlen = (size_t) f->v;
                        *pos += f->vlen;
                }
                break;
        default:
                r = -EBADMSG;
        }
        f->end = *pos;
        return r;
}

/* Where the mode varint of a RegFileEntry named "/" with a directory mode
 * other than want is, in reg[0, len); false when there is none. */
static bool root_mode(const uint8_t *reg, size_t len, uint32_t want, field *ret_mode) {
        size_t pos = 0;
        bool root = false, found = false;
        field f;
        while (pos < len) {
                if (next_field(reg, len, &pos, &f) < 0)
                        return false;
                if (f.num == 6 && f.wire == 2)
                        root = f.vlen == 1 && reg[f.value] == '/';
                if (f.num == 10 && f.wire == 0 && S_ISDIR(f.v) && f.v != want) {
                        *ret_mode = f;
                        found = true;
                }
        }
        return root && found;
}

/* A growing copy; a failed allocation sticks in err. */
typedef struct out {
        uint8_t *p;
        size_t len, cap;
        int err;
} out;

static void put(out *o, const void *p, size_t n) {
        if (o->err)
                return;
        if (n > o->cap - o->len) {
                size_t cap = o->cap + (o->cap >> 2) + n + 64;
                uint8_t *q = realloc(o->p, cap);
                if (!q) {
                        o->err = -ENOMEM;
                        return;
                }
                o->p = q;
                o->cap = cap;
        }
        memcpy(o->p + o->len, p, n);
        o->len += n;
}

/* One FileEntry record, rewritten into o when it is the root. */
static int record(const uint8_t *rec, size_t len, uint32_t want, out *o, unsigned *changed) {
        size_t pos = 0;
        field f, m = { 0 };
        while (pos < len) {
                int r = next_field(rec, len, &pos, &f);
                if (r < 0)
                        return r;
                if (f.num != 3 || f.wire != 2 || !root_mode(rec + f.value, f.vlen, want, &m))
                        continue;
                uint8_t mode[16], key = 10 << 3, hdr[16];
                size_t mlen = put_varint(mode, want);
                size_t reglen = f.vlen - (m.end - m.start) + 1 + mlen;
                size_t hlen = put_varint(hdr + 1, reglen) + 1;
                hdr[0] = 3 << 3 | 2;
                uint8_t lenbuf[4];
                put_u32(lenbuf, (uint32_t) (len - (f.end - f.start) + hlen + reglen));
                put(o, lenbuf, 4);
                put(o, rec, f.start);
                put(o, hdr, hlen);
                const uint8_t *reg = rec + f.value; /* m is relative to it */
                put(o, reg, m.start);
                put(o, &key, 1);
                put(o, mode, mlen);
                put(o, reg + m.end, f.vlen - m.end);
                put(o, rec + f.end, len - f.end);
                (*changed)++;
                return 0;
        }
        uint8_t lenbuf[4];
        put_u32(lenbuf, (uint32_t) len);
        put(o, lenbuf, 4);
        put(o, rec, len);
        return 0;
}

int store_archive_fix_root_mode(const uint8_t *img, size_t len, uint32_t want, uint8_t **ret, size_t *ret_len,
                                unsigned *ret_changed) {
        if (len < 8 || get_u32(img) != IMG_COMMON || get_u32(img + 4) != IMG_FILES)
                return -EBADMSG;
        out o = { .p = malloc(len + 64), .cap = len + 64 }; /* room for a few changed records */
        if (!o.p)
                return -ENOMEM;
        put(&o, img, 8);
        unsigned changed = 0;
        int r = 0;
        for (size_t pos = 8; r == 0 && pos < len;) {
                uint32_t n = len - pos >= 4 ? get_u32(img + pos) : 0;
                if (len - pos < 4 || n > len - pos - 4)
                        r = -EBADMSG;
                else
                        r = record(img + pos + 4, n, want, &o, &changed);
                pos += 4 + (size_t) n;
        }
        if (r == 0)
                r = o.err;
        if (r < 0) {
                free(o.p);
                return r;
        }
        *ret_len = o.len;
        *ret = o.p;
        *ret_changed = changed;
        return 0;
}
