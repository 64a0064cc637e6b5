/* The checkpoint's OCI image index (checkpoint-index.c): used by rpc/checkpoint
 * and by store/core's archive converter. Pure functions,
 * thread-safe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ckpt_desc {
        const char *media_type;
        const char *digest;
        int64_t size;
        bool platform;                  /* add "platform": {architecture, os} */
        const char *const *annotations; /* n_annotations key/value pairs */
        size_t n_annotations;
} ckpt_desc;

/* GOARCH of this build ("amd64", "arm64", ...). */
const char *ckpt_goarch(void);

/* The OCI image index JSON, as containerd's client writes it: schemaVersion
 * 2, manifests in the given order (field order mediaType, digest, size,
 * annotations, platform), annotations io.containerd.checkpoint.runtime,
 * io.containerd.checkpoint.snapshotter and (if image_name)
 * org.opencontainers.image.ref.name, keys sorted; a trailing newline.
 * *ret_json is malloc'd, NUL-terminated, *ret_len bytes without the NUL. */
int ckpt_index_build(const ckpt_desc *descs, size_t n, const char *runtime, const char *snapshotter,
                     const char *image_name, char **ret_json, size_t *ret_len);
