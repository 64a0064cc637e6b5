/* Decoding the protobuf blobs of a checkpoint into JSON.
 *
 * - config.json, the checkpointed container record, from three blobs: the
 *   config blob (`application/vnd.containerd.container.checkpoint.config.v1+proto`,
 *   a google.protobuf.Any whose value is the OCI runtime spec as JSON), the
 *   checkpoint index (its annotations name the container's image, runtime
 *   and snapshotter, as containerd's client and rpc/ write them) and the
 *   runtime options blob (the container's runtime options, an Any).
 *   Rendered as {"id", "image", "runtime": {"name", "options"},
 *   "snapshotter", "spec"}; what a blob does not tell is null.
 * - checkpoint options (`...checkpoint.options.v1+proto`): an Any of
 *   containerd.runc.v1.CheckpointOptions; runtime options
 *   (`...checkpoint.runtime.options+proto`): the runc Options message
 *   (bare, or wrapped in an Any). Rendered together as
 *   {"checkpoint": {"typeUrl": ..., fields...}, "runtime": {...}}, field
 *   names as in the .proto, every field present (defaults included).
 *
 * Pure functions on memory: no I/O, thread-safe. Output is malloc'd JSON
 * text ending in a newline. Errors: -EBADMSG (not the expected message),
 * -ENOMEM. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct store_config_parts {
        const char *id;                 /* the container id; NULL: unknown */
        const uint8_t *config;          /* the config blob (required) */
        size_t config_len;
        const uint8_t *index;           /* the checkpoint index; NULL: absent */
        size_t index_len;
        const uint8_t *runtime_options; /* NULL: absent */
        size_t runtime_options_len;
} store_config_parts;

/* -EBADMSG when the config blob or the index do not parse; runtime options
 * that are not runc's are shown as null. */
int store_decode_config(const store_config_parts *p, char **ret_json, size_t *ret_len);

/* The container a config blob belongs to, as far as it tells: the last
 * component of linux.cgroupsPath ("/<ns>/<id>" for containers ctr made,
 * "<slice>:<prefix>:<id>" with systemd cgroups). -ENOENT when there is none. */
int store_decode_config_container(const uint8_t *buf, size_t len, char **ret_id);

/* The OCI runtime spec of a config blob as it stores it (the Any's value,
 * JSON text, NUL-terminated after *ret_len bytes): what containerd's CRI
 * plugin writes as spec.dump. -EBADMSG when it is not a JSON spec. */
int store_decode_config_spec(const uint8_t *buf, size_t len, uint8_t **ret, size_t *ret_len);
/* Either blob may be absent (NULL, 0): its key is then null. */
int store_decode_options(const uint8_t *ckpt, size_t ckpt_len, const uint8_t *runtime, size_t runtime_len,
                         char **ret_json, size_t *ret_len);
