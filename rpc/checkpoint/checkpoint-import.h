/* The containerd half of an import (the other half, reading and checking
 * an OCI layout, is store/core's oci-import.h; fs/ joins them): blobs
 * already checked against their digests go into the content store under a
 * lease, then the image that names them is created, then the lease goes.
 *
 * Nothing is left behind by a failure: no image is created unless every
 * blob is in, and the blobs written so far are held by the lease only,
 * which is deleted (synchronously, so they are gone when this returns).
 * Every containerd call has a deadline. Threads: any thread; no state.
 * Tests: CKPTFS_TEST_IMPORT_FAIL=N in the environment fails an import
 * (-EIO) once N blobs are written. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"
#include "rpc.h"

typedef struct ckpt_import_blob {
        const char *digest;
        const char *media_type;
        uint64_t size;
        /* false: not in the backup; it must be in the content store already
         * (the lease then holds it too) */
        bool present;
        const char *const *labels; /* key, value, ... (gc.ref labels for its children) */
        size_t n_labels;           /* pairs */
        /* present blobs: their bytes (a store_reader's pread shape) */
        ssize_t (*pread)(void *ctx, void *buf, size_t len, uint64_t off);
        void *ctx;
} ckpt_import_blob;

typedef struct ckpt_import_result {
        char index_digest[DIGEST_MAX];
        size_t n_written;  /* blobs sent (those already in the store included) */
        size_t n_shared;   /* blobs not in the backup, found in the content store */
        uint64_t bytes;    /* bytes sent */
} ckpt_import_result;

/* Whether image `name` is free in `ns`, before the long work of checking
 * the blobs: 0, -EEXIST (with *ret_msg), or containerd's failure.
 * ckpt_import() checks again. */
int ckpt_import_check_name(rpc_client *c, const char *ns, const char *name, char **ret_msg);

/* Imports blobs[0..n) (blobs[0] the image's target) as image `name` in
 * namespace `ns`, labelled containerd.io/checkpoint=true. Returns 0, or
 * -EEXIST (the name is taken), -EIO (a blob missing from both the backup
 * and the store, one whose bytes changed, or a containerd failure),
 * -ETIMEDOUT, -ENOTCONN, -ENOMEM, with *ret_msg (malloc'd) saying what. */
int ckpt_import(rpc_client *c, const char *ns, const char *name, const ckpt_import_blob *blobs, size_t n,
                ckpt_import_result *ret, char **ret_msg);
