/* The kinds of CRIU record images: which message each record holds and what
 * raw payload follows a record (../shared/notes/criu-format.md §1). Static,
 * read-only data; thread-safe. */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

enum criu_extra {
        CRIU_EXTRA_NONE,
        CRIU_EXTRA_PAGEMAP,     /* not an extra: the first record is a pagemap_head */
        CRIU_EXTRA_PIPE_DATA,   /* pipe_data_entry.bytes raw bytes */
        CRIU_EXTRA_SK_QUEUE,    /* sk_packet_entry.length raw bytes */
        CRIU_EXTRA_TCP_STREAM,  /* inq_len then outq_len raw bytes */
        CRIU_EXTRA_BPFMAP,      /* keys_bytes + values_bytes raw bytes */
        CRIU_EXTRA_IPC_SHM,     /* size raw bytes, padded to 4 */
        CRIU_EXTRA_UNSUPPORTED, /* payloads this decoder does not read (yet) */
};

struct criu_kind {
        const char *name; /* as crit prints it in "magic": "PSTREE" */
        uint32_t magic;
        const ProtobufCMessageDescriptor *message;
        enum criu_extra extra;
        bool secret; /* memory, registers or data in flight: for the owner only */
};

/* The kind of an image by its (second) magic, NULL when unknown. */
const struct criu_kind *criu_kind_by_magic(uint32_t magic);

/* pagemap_head, the message of a pagemap image's first record. */
const ProtobufCMessageDescriptor *criu_pagemap_head_descriptor(void);
