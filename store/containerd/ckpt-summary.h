/* summary and the container part of inspect.json: what a checkpoint is,
 * in the few lines `checkpointctl show` prints (container, image,
 * runtime, when, sizes) and whether its CRIU dump is there and decodes.
 * The facts are gathered by fs/views-summary.c (the catalog, config.json,
 * the CRIU tar's index); rendering them is pure, thread-safe. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store_ckpt_facts {
        char *name;          /* the image name */
        char *container;     /* the container id; NULL: not known */
        char *image;         /* the container's image; NULL: not known */
        char *runtime;       /* NULL: not known */
        int64_t created_ns;  /* the checkpoint image's creation; <= 0: not known */
        uint64_t total_size; /* the index and every blob it reaches that the content store has */
        bool has_criu;       /* a CRIU dump (task/, proc/) */
        uint64_t criu_size;  /* its tar */
        size_t n_images;     /* its files */
        uint64_t pages_size; /* its pages-*.img */
        bool has_stats;      /* it holds CRIU's stats-dump */
        bool has_rw;         /* an rw layer diff (rw/) */
        uint64_t rw_size;
        char **damaged;      /* strv: "<image>: <reason>" per image that does not decode; NULL: none */
        json_t *mounts;      /* the spec's mounts as inspect.json lists them; NULL: none */
} store_ckpt_facts;

void store_ckpt_facts_clear(store_ckpt_facts *f);

/* Takes container, image, runtime and the spec's mounts ([{destination,
 * type, source}], what checkpointctl shows as mounts: the OCI spec's, not
 * CRIU's mount tree) from the text of config.json (ckpt-files.h); what it
 * lacks stays as it was. -EBADMSG when it is not
 * a JSON object, -ENOMEM. */
int store_ckpt_facts_from_config(store_ckpt_facts *f, const char *config_json);

/* RFC 3339 in UTC to the second, as checkpointctl prints times
 * ("2026-12-03T07:50:05Z"), into buf (size >= 32); "" for ns <= 0. */
void store_ckpt_time_text(int64_t ns, char *buf, size_t size);

/* The summary file: "key: value" lines; a "damaged:" line per image that
 * does not decode. */
int store_ckpt_summary_text(const store_ckpt_facts *f, char **ret, size_t *ret_len);

/* The fields of `checkpointctl inspect --format json` that come from the
 * container and the blobs: container_name, image, id, runtime, created,
 * checkpointed, engine ("containerd"), checkpoint_size {total_size,
 * memory_pages_size, root_fs_diff_size} (zeros left out, as its omitempty
 * does) and mounts (when the spec has some), into object o. containerd keeps no creation time of the
 * container in a checkpoint: created is the checkpoint's, as checkpointed. */
int store_ckpt_inspect_container(const store_ckpt_facts *f, json_t *o);
