/* The metadata files of the checkpoint archive a Kubernetes node writes
 * through containerd's CRI plugin (CheckpointContainer: config.dump,
 * status.dump; spec.dump is the config blob's spec as stored, decode.h's
 * store_decode_config_spec()), made from what a checkpoint image holds:
 * config.json's record (decode.h's store_decode_config()) and the image's
 * creation time.
 *
 * config.dump is checkpointctl's ContainerConfig (its lib "metadata"):
 *   known: id (null in config.json: ""), name (the spec annotation
 *     io.kubernetes.cri.container-name of a CRI container, else the id),
 *     rootfsImage and rootfsImageName (the index's image name annotation),
 *     runtime (the runtime name), checkpointedTime (the image's creation);
 *   left empty: rootfsImageRef (omitted: the image digest is not in the
 *     checkpoint), createdTime and restoredTime (Go's zero time
 *     "0001-01-01T00:00:00Z": not recorded), restored (false).
 * status.dump is CRI's ContainerStatus as Go's encoding/json writes it
 * (snake_case names, empty fields omitted):
 *   known: id, metadata.name (as above), state (1, CONTAINER_RUNNING: only
 *     a running container is checkpointed), image.image, annotations (the
 *     spec's);
 *   left out: created_at, started_at, image_ref, image_id, labels,
 *     mounts, log_path, resources, user (not in a checkpoint image).
 * Both are compact JSON without a trailing newline, keys in that order.
 *
 * Pure (memory in, memory out), thread-safe. Errors: -EBADMSG (config.json
 * is not a JSON object), -ENOMEM. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct store_cri_dumps {
        char *config_dump;
        size_t config_len;
        char *status_dump;
        size_t status_len;
} store_cri_dumps;

/* created_ns: ns since the epoch, <= 0 for unknown (the zero time). */
int store_cri_dumps_render(const char *config_json, size_t len, int64_t created_ns, store_cri_dumps *ret);
void store_cri_dumps_clear(store_cri_dumps *d);

/* t as Go's time.RFC3339Nano in UTC ("2026-12-03T07:52:39.12Z", fraction
 * without trailing zeros; Go's zero time for ns <= 0) into buf (>= 40). */
void store_cri_time(int64_t ns, char *buf, size_t size);
