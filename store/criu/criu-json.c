/* CRIU image records as JSON in the shape and value formats of
 * `crit decode --pretty` (lib/pycriu/images/pb2dict.py): only set fields,
 * enums by name (null when unknown), bytes as base64 lines, and the custom
 * field options of images/opts.proto: hex (inherited by nested messages),
 * dev/odev, flags, dict, ipadd, and the unix_name conversion. */
#include "criu-image.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "cleanup.h"
#include "criu-fieldopts.h"
#include "criu-names.h"
#include "json.h"
#include "pbjson.h"

/* jansson has no integers above INT64_MAX (RLIM_INFINITY and the like):
 * those are decimal strings, the one difference from crit's output. */
#define CRIT_FLAGS (PBJSON_ENUM_NAMES | PBJSON_SET_ONLY | PBJSON_BYTES_LINES | PBJSON_U64_STRINGS)

static int opts_cmp(const void *key, const void *elem) {
        const struct criu_field_opts *k = key, *e = elem;
        int c = strcmp(k->message, e->message);
        return c ? c : (k->field > e->field) - (k->field < e->field);
}

static const struct criu_field_opts *opts_of(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
        struct criu_field_opts key = { .message = m->descriptor->name, .field = f->id };
        return bsearch(&key, criu_field_opts_table, criu_field_opts_count, sizeof(key), opts_cmp);
}

static bool is_integer(ProtobufCType t) {
        return t != PROTOBUF_C_TYPE_BOOL && t != PROTOBUF_C_TYPE_ENUM && t != PROTOBUF_C_TYPE_FLOAT &&
               t != PROTOBUF_C_TYPE_DOUBLE && t != PROTOBUF_C_TYPE_STRING && t != PROTOBUF_C_TYPE_BYTES &&
               t != PROTOBUF_C_TYPE_MESSAGE;
}

static bool is_signed(ProtobufCType t) {
        return t == PROTOBUF_C_TYPE_INT32 || t == PROTOBUF_C_TYPE_SINT32 || t == PROTOBUF_C_TYPE_SFIXED32 ||
               t == PROTOBUF_C_TYPE_INT64 || t == PROTOBUF_C_TYPE_SINT64 || t == PROTOBUF_C_TYPE_SFIXED64;
}

static json_t *hex_json(int64_t sv, uint64_t uv, bool sgn) {
        char buf[24];
        if (sgn && sv < 0)
                snprintf(buf, sizeof(buf), "-0x%llx", (unsigned long long) -(uint64_t) sv);
        else
                snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long) uv);
        return json_string(buf);
}

/* One integer as crit prints it with the field's options. */
static json_t *integer_json(const ProtobufCFieldDescriptor *f, const void *p, bool hex,
                            const struct criu_field_opts *o) {
        bool sgn = is_signed(f->type);
        bool wide = pbjson_value_size(f) == 8;
        int64_t sv = wide ? *(const int64_t *) p : sgn ? *(const int32_t *) p : 0;
        uint64_t uv = wide ? *(const uint64_t *) p : sgn ? (uint64_t) sv : *(const uint32_t *) p;
        char buf[48];
        if (hex)
                return hex_json(sv, uv, sgn);
        if (o && (o->bits & CRIU_OPT_ODEV)) {
                snprintf(buf, sizeof(buf), "%u:%u", major(uv), minor(uv));
                return json_string(buf);
        }
        if (o && (o->bits & CRIU_OPT_DEV)) {
                snprintf(buf, sizeof(buf), "%llu:%llu", (unsigned long long) (uv >> 20),
                         (unsigned long long) (uv & ((1u << 20) - 1)));
                return json_string(buf);
        }
        if (o && o->flags)
                return criu_flags_json(o->flags, uv);
        if (o && o->dict) {
                const char *name = criu_dict_name(o->dict, f->name, uv);
                if (name)
                        return json_string(name);
        }
        if (!sgn && uv > INT64_MAX) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long) uv);
                return json_string(buf);
        }
        return json_integer(sgn ? (json_int_t) sv : (json_int_t) uv);
}

static const bool hex_inherited = true;

static int criu_field(const struct pbjson_hooks *hooks, const ProtobufCMessage *m,
                      const ProtobufCFieldDescriptor *f, unsigned flags, json_t **ret_value);
static const struct pbjson_hooks plain_hooks = { criu_field, NULL };
static const struct pbjson_hooks hex_hooks = { criu_field, &hex_inherited };

/* One element of field f at p, or NULL (-ENOMEM). */
static json_t *element_json(const ProtobufCFieldDescriptor *f, const void *p, bool hex,
                            const struct criu_field_opts *o) {
        if (f->type == PROTOBUF_C_TYPE_ENUM) {
                const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int32_t *) p);
                return ev ? json_string(ev->name) : json_null();
        }
        if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                const ProtobufCMessage *sub = *(const ProtobufCMessage *const *) p;
                json_t *o2 = NULL;
                return pbjson_message_hooked(sub, CRIT_FLAGS, hex ? &hex_hooks : &plain_hooks, &o2) < 0 ? NULL : o2;
        }
        if (f->type == PROTOBUF_C_TYPE_BYTES)
                return criu_unix_name_json(p);
        return integer_json(f, p, hex, o);
}

static int criu_field(const struct pbjson_hooks *hooks, const ProtobufCMessage *m,
                      const ProtobufCFieldDescriptor *f, unsigned flags, json_t **ret_value) {
        const struct criu_field_opts *o = opts_of(m, f);
        bool inherited = hooks->userdata == &hex_inherited;
        bool hex = inherited || (o && (o->bits & CRIU_OPT_HEX));
        const char *base = (const char *) m;
        bool mine = f->type == PROTOBUF_C_TYPE_ENUM ||
                    (f->type == PROTOBUF_C_TYPE_MESSAGE && hex && !inherited) ||
                    (f->type == PROTOBUF_C_TYPE_BYTES && o && o->conv && !strcmp(o->conv, "unix_name")) ||
                    (is_integer(f->type) && (hex || o));
        if (o && (o->bits & CRIU_OPT_IPADD) && f->label == PROTOBUF_C_LABEL_REPEATED) {
                *ret_value = criu_ipadd_json(*(const uint32_t *const *) (base + f->offset),
                                             *(const size_t *) (base + f->quantifier_offset));
                return *ret_value ? 1 : -ENOMEM;
        }
        if (!mine)
                return 0;
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
                *ret_value = element_json(f, base + f->offset, hex, o);
                return *ret_value ? 1 : -ENOMEM;
        }
        size_t n = *(const size_t *) (base + f->quantifier_offset);
        const char *arr = *(char *const *) (base + f->offset);
        _cleanup_json_ json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, element_json(f, arr + i * pbjson_value_size(f), hex, o)) < 0)
                        return -ENOMEM;
        if (!a)
                return -ENOMEM;
        *ret_value = TAKE_PTR(a);
        return 1;
}

/* The raw payload after a record, as crit's "extra". */
static int extra_json(struct store_reader *r, const struct criu_kind *kind, const struct criu_record *rec,
                      json_t **ret) {
        uint64_t total = rec->extra_len + rec->extra_len2;
        _cleanup_free_ uint8_t *buf = malloc(total ? total : 1);
        if (!buf)
                return -ENOMEM;
        int k = store_reader_read_exact(r, buf, total, rec->extra_off);
        if (k < 0)
                return k == -ENODATA ? -EBADMSG : k;
        if (kind->extra != CRIU_EXTRA_TCP_STREAM) {
                *ret = pbjson_base64(buf, total, CRIT_FLAGS);
                return *ret ? 0 : -ENOMEM;
        }
        json_t *o = json_pack("{s:o,s:o}", "inq", pbjson_base64(buf, rec->extra_len, CRIT_FLAGS),
                              "outq", pbjson_base64(buf + rec->extra_len, rec->extra_len2, CRIT_FLAGS));
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}

static int record_json(struct store_reader *r, const struct criu_kind *kind, const struct criu_record *rec,
                       json_t **ret) {
        _cleanup_json_ json_t *e = NULL;
        int k = pbjson_message_hooked(rec->msg, CRIT_FLAGS, &plain_hooks, &e);
        if (k < 0)
                return k;
        if (kind->extra != CRIU_EXTRA_NONE && kind->extra != CRIU_EXTRA_PAGEMAP) {
                json_t *x;
                k = extra_json(r, kind, rec, &x);
                if (k < 0)
                        return k;
                if (json_object_set_new(e, "extra", x) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(e);
        return 0;
}

int criu_image_json(struct store_reader *r, json_t **ret_json) {
        _cleanup_criu_image_ struct criu_image *img = NULL;
        int k = criu_image_open(r, &img);
        if (k < 0)
                return k;
        _cleanup_json_ json_t *entries = json_array();
        if (!entries)
                return -ENOMEM;
        for (;;) {
                struct criu_record rec;
                json_t *e = NULL;
                k = criu_image_next(img, &rec);
                if (k <= 0)
                        break;
                k = record_json(r, criu_image_kind(img), &rec, &e);
                criu_record_done(&rec);
                if (k < 0)
                        return k;
                if (json_array_append_new(entries, e) < 0)
                        return -ENOMEM;
        }
        if (k < 0)
                return k;
        json_t *o = json_pack("{s:s,s:O}", "magic", criu_image_kind(img)->name, "entries", entries);
        if (!o)
                return -ENOMEM;
        *ret_json = o;
        return 0;
}
