/* The files of a checkpoint directory that ckptfs makes from its blobs:
 * which of them a checkpoint has, and their text.
 *
 * - config.json: the checkpointed container record, decoded from the
 *   config blob, the checkpoint index and the runtime options blob (see
 *   decode.h), with the container id the catalog knows;
 * - options.json: the checkpoint and runtime options decoded;
 * - layout/index.json: the one-descriptor index of the OCI layout;
 * - the file name of each descriptor of the index in manifests/, and the
 *   annotations of a descriptor (its extended attributes).
 *
 * Blobs are read through store_blobs (checked against their sha256), at
 * most STORE_CKPT_SMALL_BLOB_MAX bytes each. Thread-safe (catalog and blobs
 * are). Text is malloc'd and NUL-terminated; *ret_len excludes the NUL.
 * Errors: 0 or -errno; -ENOENT when the checkpoint lacks what a file is
 * made from, -EFBIG for a blob above the bound, -EBADMSG for one that does
 * not decode, -EIO and rpc errors from reading. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "blob.h"
#include "catalog.h"

#define STORE_CKPT_SMALL_BLOB_MAX (4 * 1024 * 1024)

/* The descriptors of a checkpoint index that ckptfs shows as files, borrowed
 * from the children they were found in (NULL: absent). */
typedef struct store_ckpt_parts {
        const store_desc *config;           /* MT_CKPT_CONFIG */
        const store_desc *options;          /* MT_CKPT_OPTIONS */
        const store_desc *runtime_options;  /* MT_RUNTIME_OPTIONS */
        const store_desc *criu;             /* MT_CRIU: task/ */
        const store_desc *layer;            /* the first layer of any kind: rw/ */
} store_ckpt_parts;

/* The parts among the children of a checkpoint index (the first of each
 * media type). */
store_ckpt_parts store_ckpt_parts_of(const store_descs *children);

/* Whether the checkpoint has a config.json (its config blob) and an
 * options.json (checkpoint or runtime options). */
bool store_ckpt_has_config_json(const store_ckpt_parts *p);
bool store_ckpt_has_options_json(const store_ckpt_parts *p);

/* The text of config.json and options.json of checkpoint `ck` (JSON ending
 * in a newline). */
int store_ckpt_config_json(store_catalog *cat, store_blobs *blobs, const store_ckpt *ck, char **ret,
                           size_t *ret_len);
int store_ckpt_options_json(store_catalog *cat, store_blobs *blobs, const store_ckpt *ck, char **ret,
                            size_t *ret_len);

/* The text of layout/index.json (compact JSON, no newline: as it always
 * was): the checkpoint index, annotated with the image name and its tag. */
int store_ckpt_layout_index(const store_ckpt *ck, char **ret, size_t *ret_len);

/* The tag of an image name as containerd's exporter names it
 * (org.opencontainers.image.ref.name): what follows the first ':' of the
 * last path component (tags may hold ':' themselves, as containerd's
 * checkpoint timestamps do), else the whole name. Points into `name`. */
const char *store_ckpt_ref_name(const char *name);

/* The name of a descriptor of media type `mt` in manifests/ ("criu.tar",
 * "rw.tar.gz", "config.pb", ...); NULL for a kind without one. */
const char *store_ckpt_manifest_name(const char *mt);

/* Calls cb for each annotation of descriptor `d` whose value is a string,
 * in the order of its JSON; annotations that do not parse count as none.
 * Stops at the first error of cb and returns it. */
int store_desc_foreach_annotation(const store_desc *d, int (*cb)(const char *key, const char *value, void *userdata),
                                  void *userdata);
