/* What a restore reads from JSON blobs: the checkpoint's index, and the
 * base image's index/manifest/config down to its diff ids. Pure (jansson
 * only), for unit tests. Errors: -EBADMSG for text that is not the JSON
 * expected, -ENOMEM. */
#pragma once

#include "digest.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct restore_desc {
        char media_type[128];
        char digest[DIGEST_MAX];
        int64_t size;
        bool found;
} restore_desc;

typedef struct restore_index {
        char *image_name;    /* the base image (org.opencontainers.image.ref.name); NULL: none */
        char *runtime;       /* io.containerd.checkpoint.runtime; NULL: none */
        char *snapshotter;   /* io.containerd.checkpoint.snapshotter; NULL: none */
        restore_desc criu;   /* the CRIU tar */
        restore_desc config; /* the spec, an Any in protobuf */
        restore_desc runtime_options;
        restore_desc rw;     /* the rw layer (tar+gzip, as containerd's client looks it up) */
} restore_index;

/* Parses a checkpoint index; the first descriptor of each media type
 * counts, as containerd's GetIndexByMediaType. Clear *ret with
 * restore_index_clear() after success. */
int restore_index_parse(const char *text, size_t len, restore_index *ret);
void restore_index_clear(restore_index *ix);

/* One step down a base image from blob `text` of media type `mt`: an OCI
 * index or Docker list gives the manifest for linux/<this machine's
 * architecture> (the first without platform if none matches exactly),
 * a manifest gives its config. -ENOENT when the list has no manifest for
 * this platform, -EBADMSG for another media type or bad JSON. */
int restore_image_step(const char *mt, const char *text, size_t len, restore_desc *ret_next);
/* The rootfs.diff_ids of an image config: a NULL-terminated vector (free
 * with strv_free()), *ret_n entries; -EBADMSG when there are none or one
 * is not a digest. */
int restore_config_diff_ids(const char *text, size_t len, char ***ret_ids, size_t *ret_n);
