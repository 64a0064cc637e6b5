/* SPDX-License-Identifier: MIT */
/* The scan of a tar stream: header blocks through a read-ahead window,
 * extension headers collected for the member they precede, each member
 * handed to a callback; and the archive path normalisation. */
#include "tarindex-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define EXT_LIMIT (1u << 20)     /* a pax or GNU long-name payload larger than this is absurd */
#define READAHEAD (64u << 10)

struct scan {
        struct store_reader *r;
        uint64_t pos;          /* next header block */
        uint8_t *buf;          /* read-ahead window over the stream */
        uint64_t buf_off;
        size_t buf_len;
        struct tar_pending pend;
};

/* Reads the 512-byte block at off through the read-ahead window. Returns 0,
 * -ENODATA at end of data, -EBADMSG when the data ends mid-block, or -errno. */
static int read_block(struct scan *s, uint64_t off, const uint8_t **ret_blk) {
        ssize_t n;

        if (off >= s->buf_off && off - s->buf_off + TAR_BLOCK <= s->buf_len) {
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
        if ((size_t) n < TAR_BLOCK)
                return -EBADMSG;
        *ret_blk = s->buf;
        return 0;
}

static uint64_t padded(uint64_t size) {
        return (size + TAR_BLOCK - 1) & ~(uint64_t) (TAR_BLOCK - 1);
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


/* Handles one non-member header (extension or ignored). */
static int handle_extension(struct scan *s, const struct ustar_header *h) {
        uint64_t size, data = s->pos + TAR_BLOCK;
        char *b = NULL;
        int k;

        k = tar_parse_unsigned(h->size, sizeof(h->size), INT64_MAX, &size);
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
                k = tar_pax_parse(&s->pend, b, size);
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
                if (tar_is_zero_block(blk)) {
                        /* End marker: a second zero block (or, leniently, the end of data). */
                        k = read_block(&s, s.pos + TAR_BLOCK, &blk);
                        if (k == -ENODATA || (k == 0 && tar_is_zero_block(blk)))
                                k = s.pend.any ? -EBADMSG : 0; /* dangling extension header */
                        else if (k == 0)
                                k = -EBADMSG;
                        if (k < 0)
                                goto fail;
                        break;
                }
                memcpy(&h, blk, TAR_BLOCK);
                k = tar_verify_checksum(blk);
                if (k < 0)
                        goto fail;

                k = tar_classify(h.typeflag, &type, &has_data);
                if (k < 0)
                        goto fail;
                if (k == 0) {
                        k = handle_extension(&s, &h);
                        if (k < 0)
                                goto fail;
                        continue;
                }

                k = tar_header_member(&h, &s.pend, s.pos, type, has_data, &m, &skip);
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
                s.pos += TAR_BLOCK + padded(skip);
                tar_pending_clear(&s.pend);
        }
        tar_pending_clear(&s.pend);
        return count;
fail:
        tar_pending_clear(&s.pend);
        return k;
}

static int collect(const struct tar_member *m, void *userdata) {
        return tar_index_append(userdata, m);
}

int tarindex_build(struct store_reader *r, struct tar_index **ret_index) {
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        int k;

        if (!ret_index)
                return -EINVAL;
        k = tar_index_new(0, &idx);
        if (k < 0)
                return k;
        k = tarindex_scan(r, collect, idx);
        if (k < 0)
                return k;
        k = tar_index_finish(idx);
        if (k < 0)
                return k;
        *ret_index = TAKE_PTR(idx);
        return 0;
}
