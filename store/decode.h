/* Decoding the protobuf blobs of a checkpoint into JSON.
 *
 * - config (`application/vnd.containerd.container.checkpoint.config.v1+proto`):
 *   a google.protobuf.Any whose value is the OCI runtime spec as JSON.
 *   Rendered as {"typeUrl": ..., "spec": {...}}.
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

int store_decode_config(const uint8_t *buf, size_t len, char **ret_json, size_t *ret_len);

/* The container a config blob belongs to, as far as it tells: the last
 * component of linux.cgroupsPath ("/<ns>/<id>" for containers ctr made,
 * "<slice>:<prefix>:<id>" with systemd cgroups). -ENOENT when there is none. */
int store_decode_config_container(const uint8_t *buf, size_t len, char **ret_id);

/* Either blob may be absent (NULL, 0): its key is then null. */
int store_decode_options(const uint8_t *ckpt, size_t ckpt_len, const uint8_t *runtime, size_t runtime_len,
                         char **ret_json, size_t *ret_len);
