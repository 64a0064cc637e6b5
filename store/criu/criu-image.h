/* CRIU image files read from a store_reader: the magics at the start, then
 * records of a u32 length (host order) and a protobuf message, some followed
 * by a raw payload (../shared/notes/criu-format.md §1). Raw images
 * (pages-N.img, tmpfs-*.tar.gz.img, ...) have no magic and are not record
 * images. Pure: no FUSE, no gRPC, no containerd.
 *
 * Ownership: a criu_image borrows its reader, which must outlive it; a
 * record's message belongs to the record until criu_record_done().
 * Threads: one image per thread; distinct images may share a reader.
 * Errors: corrupt or truncated data is -EBADMSG, never a crash; read errors
 * of the reader pass through as -errno. */
#pragma once

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "criu-kinds.h"
#include "criu-open.h"
#include "reader.h"

/* A record larger than this is taken as corruption (CRIU's largest records,
 * mm_entry with its VMAs, are far smaller). */
#define CRIU_RECORD_MAX (64u << 20)

struct criu_image;

struct criu_record {
        ProtobufCMessage *msg;
        /* The raw payload after the message: extra_len bytes at extra_off of
         * the reader; a TCP stream's is inq (extra_len) then outq
         * (extra_len2). */
        uint64_t extra_off;
        uint64_t extra_len;
        uint64_t extra_len2;
};

/* Opens the image in r: -EBADMSG when it does not start with a known magic
 * (raw images included), -ENOMEM, or the reader's error. */
int criu_image_open(struct store_reader *r, struct criu_image **ret_image);
void criu_image_free(struct criu_image *img);
static inline void criu_image_freep(struct criu_image **p) {
        if (*p)
                criu_image_free(*p);
}
#define _cleanup_criu_image_ __attribute__((cleanup(criu_image_freep)))

const struct criu_kind *criu_image_kind(const struct criu_image *img);

/* The next record: 1 and *ret_record filled (release it with
 * criu_record_done()), 0 at the end of the image, -EBADMSG (a length past
 * the end or above CRIU_RECORD_MAX, a message that does not parse, a payload
 * past the end), -EOPNOTSUPP for payloads not decoded here (IPC semaphores
 * and messages, ghost files), or the reader's error. */
int criu_image_next(struct criu_image *img, struct criu_record *ret_record);
void criu_record_done(struct criu_record *rec);
/* The first record of r's image, which must be a `desc` (images of one
 * message, as core, mm, ids, stats): 0 and *ret_record (release it with
 * criu_record_done(); it outlives the image), -EBADMSG when the image holds
 * no record or another message, or the reader's error. criu_image_first_of
 * opens image `name` of a dump first (-ENOENT passes through). */
int criu_image_first(struct store_reader *r, const ProtobufCMessageDescriptor *desc, struct criu_record *ret_record);
int criu_image_first_of(criu_open_fn open, void *userdata, const char *name, const ProtobufCMessageDescriptor *desc,
                        struct criu_record *ret_record);

/* The whole image as `crit decode --pretty` prints it:
 * {"magic": "PSTREE", "entries": [...]}, with crit's value formats
 * (criu-json.c). Errors as above. */
int criu_image_json(struct store_reader *r, json_t **ret_json);
