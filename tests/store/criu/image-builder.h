/* CRIU image files built in memory for the unit tests of store/criu: the
 * magics, then u32-length records (criu-format.md §1), or raw bytes. The
 * buffer is fixed (th_put asserts the image fits): enough for the small
 * hand-made dumps of the tests. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

struct th_img {
        const char *name;   /* for tests that serve images by name; may stay NULL */
        uint8_t buf[16384];
        size_t len;
};

void th_put(struct th_img *i, const void *p, size_t n);
void th_put_u32(struct th_img *i, uint32_t v);
/* One record: its packed length, then its bytes. */
void th_put_record(struct th_img *i, const ProtobufCMessage *m);
/* Empties i and writes IMG_COMMON_MAGIC then magic. */
void th_start(struct th_img *i, uint32_t magic);
/* The same with a name. */
void th_start_named(struct th_img *i, const char *name, uint32_t magic);
/* Empties i and writes two given magics (IMG_SERVICE_MAGIC images). */
void th_start2(struct th_img *i, uint32_t magic1, uint32_t magic2);
