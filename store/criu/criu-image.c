#include "criu-image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "criu_magic.h"
#include "pbmsg.h"

struct criu_image {
        struct store_reader *r;
        const struct criu_kind *kind;
        uint64_t off;      /* of the next record's length */
        unsigned n_records;
};

static int read_u32(struct store_reader *r, uint64_t off, uint32_t *ret) {
        uint32_t v;
        int k = store_reader_read_exact(r, &v, sizeof(v), off);
        if (k < 0)
                return k == -ENODATA ? -EBADMSG : k;
        *ret = v;
        return 0;
}

int criu_image_open(struct store_reader *r, struct criu_image **ret_image) {
        uint32_t magic;
        uint64_t off = 4;
        int k = read_u32(r, 0, &magic);
        if (k < 0)
                return k;
        /* Since images v1.1 a common or service magic comes first, except in
         * inventory.img. */
        if (magic == IMG_COMMON_MAGIC || magic == IMG_SERVICE_MAGIC) {
                k = read_u32(r, 4, &magic);
                if (k < 0)
                        return k;
                off = 8;
        }
        const struct criu_kind *kind = criu_kind_by_magic(magic);
        if (!kind)
                return -EBADMSG;
        struct criu_image *img = calloc(1, sizeof(*img));
        if (!img)
                return -ENOMEM;
        *img = (struct criu_image) { .r = r, .kind = kind, .off = off };
        *ret_image = img;
        return 0;
}

void criu_image_free(struct criu_image *img) {
        free(img);
}

const struct criu_kind *criu_image_kind(const struct criu_image *img) {
        return img->kind;
}

/* The unsigned integer field `name` of m (0 when unset). */
static uint64_t field_uint(const ProtobufCMessage *m, const char *name) {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
        if (!f || f->label == PROTOBUF_C_LABEL_REPEATED)
                return 0;
        const char *p = (const char *) m + f->offset;
        switch (f->type) {
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
                return *(const uint32_t *) p;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
                return *(const uint64_t *) p;
        default:
                return 0;
        }
}

/* Where the payload after rec's message lies, per the image kind. */
static int extra_layout(const struct criu_kind *kind, struct criu_record *rec, uint64_t *ret_skip) {
        const ProtobufCMessage *m = rec->msg;
        uint64_t len = 0, len2 = 0, skip;
        switch (kind->extra) {
        case CRIU_EXTRA_NONE:
        case CRIU_EXTRA_PAGEMAP:
                break;
        case CRIU_EXTRA_PIPE_DATA:
                len = field_uint(m, "bytes");
                break;
        case CRIU_EXTRA_SK_QUEUE:
                len = field_uint(m, "length");
                break;
        case CRIU_EXTRA_TCP_STREAM:
                len = field_uint(m, "inq_len");
                len2 = field_uint(m, "outq_len");
                break;
        case CRIU_EXTRA_BPFMAP:
                len = field_uint(m, "keys_bytes") + field_uint(m, "values_bytes");
                break;
        case CRIU_EXTRA_IPC_SHM:
                len = field_uint(m, "size");
                break;
        case CRIU_EXTRA_UNSUPPORTED:
                return -EOPNOTSUPP;
        }
        skip = len + len2;
        if (kind->extra == CRIU_EXTRA_IPC_SHM)
                skip = (len + 3) & ~(uint64_t) 3;
        rec->extra_len = len;
        rec->extra_len2 = len2;
        *ret_skip = skip;
        return 0;
}

int criu_image_next(struct criu_image *img, struct criu_record *ret_record) {
        struct store_reader *r = img->r;
        uint32_t size;
        uint64_t skip;
        if (img->off == r->size)
                return 0;
        int k = read_u32(r, img->off, &size);
        if (k < 0)
                return k;
        if (size > CRIU_RECORD_MAX || size > r->size - img->off - 4)
                return -EBADMSG;
        _cleanup_free_ uint8_t *buf = malloc(size ? size : 1);
        if (!buf)
                return -ENOMEM;
        k = store_reader_read_exact(r, buf, size, img->off + 4);
        if (k < 0)
                return k == -ENODATA ? -EBADMSG : k;
        const ProtobufCMessageDescriptor *desc = img->kind->message;
        if (img->kind->extra == CRIU_EXTRA_PAGEMAP && img->n_records == 0)
                desc = criu_pagemap_head_descriptor();
        struct criu_record rec = { .extra_off = img->off + 4 + size };
        k = pb_msg_unpack(desc, buf, size, &rec.msg);
        if (k < 0)
                return k;
        k = extra_layout(img->kind, &rec, &skip);
        if (k >= 0 && skip > r->size - rec.extra_off)
                k = -EBADMSG;
        if (k < 0) {
                pb_msg_free(rec.msg);
                return k;
        }
        img->off = rec.extra_off + skip;
        img->n_records++;
        *ret_record = rec;
        return 1;
}

void criu_record_done(struct criu_record *rec) {
        pb_msg_free(rec->msg);
        rec->msg = NULL;
}

int criu_image_first(struct store_reader *r, const ProtobufCMessageDescriptor *desc, struct criu_record *ret_record) {
        _cleanup_criu_image_ struct criu_image *img = NULL;
        struct criu_record rec;
        int k = criu_image_open(r, &img);
        if (k >= 0)
                k = criu_image_next(img, &rec);
        if (k == 0)
                return -EBADMSG;
        if (k < 0)
                return k;
        if (rec.msg->descriptor != desc) {
                criu_record_done(&rec);
                return -EBADMSG;
        }
        *ret_record = rec;
        return 0;
}

int criu_image_first_of(criu_open_fn open, void *userdata, const char *name, const ProtobufCMessageDescriptor *desc,
                        struct criu_record *ret_record) {
        _cleanup_store_reader_ struct store_reader *r = NULL;
        int k = open(userdata, name, &r);
        return k < 0 ? k : criu_image_first(r, desc, ret_record);
}
