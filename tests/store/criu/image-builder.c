/* CRIU images built in memory for the tests (image-builder.h). */
#include "image-builder.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "criu_magic.h"
#include "pbmsg.h"

void th_put(struct th_img *i, const void *p, size_t n) {
        assert_true(i->len + n <= sizeof(i->buf));
        memcpy(i->buf + i->len, p, n);
        i->len += n;
}

void th_put_u32(struct th_img *i, uint32_t v) {
        th_put(i, &v, sizeof(v));
}

void th_put_record(struct th_img *i, const ProtobufCMessage *m) {
        uint8_t *b = NULL;
        size_t n = 0;
        assert_int_equal(pb_msg_pack(m, &b, &n), 0);
        th_put_u32(i, (uint32_t) n);
        th_put(i, b, n);
        free(b);
}

void th_start2(struct th_img *i, uint32_t magic1, uint32_t magic2) {
        i->len = 0;
        th_put_u32(i, magic1);
        th_put_u32(i, magic2);
}

void th_start(struct th_img *i, uint32_t magic) {
        th_start2(i, IMG_COMMON_MAGIC, magic);
}

void th_start_named(struct th_img *i, const char *name, uint32_t magic) {
        i->name = name;
        th_start(i, magic);
}
