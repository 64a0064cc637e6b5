/* oci-import: what importing an OCI layout (oci-src.h) into a content
 * store means before any containerd call: the command line of the import
 * control file, the blobs the layout's index reaches (walked from
 * index.json through index and manifest blobs), and the check of every one
 * of them against its digest and size.
 *
 * Pure: no containerd, no FUSE. Errors come with a message for the user
 * (*ret_msg, malloc'd, set on failure only, may be NULL on -ENOMEM).
 * Threads: a plan is immutable once built. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "oci-src.h"

/* More than this many blobs reached, or an index/manifest over this size,
 * is refused (-EIO): no checkpoint comes near either. */
#define OCI_IMPORT_MAX_BLOBS 4096
#define OCI_IMPORT_MAX_JSON (4u << 20)

typedef struct oci_blob {
        char digest[DIGEST_MAX];
        char *media_type;
        uint64_t size;
        bool present;      /* in the layout; else it must be in the content store already */
        char **labels;     /* gc.ref labels to its children: key, value, ... (strv) or NULL */
        size_t n_labels;   /* key/value pairs */
} oci_blob;

typedef struct oci_plan {
        oci_blob *blobs;   /* blobs[0] is the image's target; then breadth-first, each digest once */
        size_t n;
        char *name;        /* io.containerd.image.name, else org.opencontainers.image.ref.name; or NULL */
        uint64_t bytes;    /* of the present blobs */
        size_t n_present;
} oci_plan;

/* Parses one line `PATH [name=REF]` (a trailing newline allowed; PATH
 * absolute). Returns 0, or -EINVAL with a message. */
int oci_import_parse(const char *buf, size_t len, char **ret_path, char **ret_name, char **ret_msg);

/* "blobs/sha256/<hex>" of a valid digest. */
int oci_blob_relpath(const char *digest, char buf[DIGEST_MAX + 16]);

/* Reads index.json and walks the blobs it reaches. Index and manifest
 * blobs are checked against their digests as they are read (their
 * children are only believed then). Returns 0, -EIO (index.json or a blob
 * is damaged, missing, or not a regular file: the message names it),
 * -EINVAL (index.json lists no image, or more than one), -ENOMEM. */
int oci_plan_build(oci_src *s, oci_plan **ret, char **ret_msg);

/* Streams every present blob through sha256 (never loaded whole) and
 * compares digest and size. Returns 0, or -EIO naming the first bad blob. */
int oci_plan_verify(oci_src *s, const oci_plan *p, char **ret_msg);

oci_plan *oci_plan_free(oci_plan *p);
static inline void oci_plan_freep(oci_plan **p) {
        if (*p)
                oci_plan_free(*p);
}
#define _cleanup_oci_plan_ __attribute__((cleanup(oci_plan_freep)))

/* For oci-*.c: sets *ret_msg (when not NULL) from the format; returns -r_errno. */
int oci_fail(char **ret_msg, int r_errno, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
