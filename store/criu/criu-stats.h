/* CRIU's dump statistics, for proc/stats: the one stats_entry of the
 * `stats-dump` image (no .img suffix; IMG_SERVICE magic), whose dump part
 * CRIU fills in as it dumps (criu-format.md §2, §6). CRIU writes the file
 * into its work dir; ckptfs's own checkpoints carry it at the top of the
 * CRIU tar (rpc/checkpoint: ckpt_dump_add_stats), containerd's do not.
 * Pure: no FUSE, no gRPC.
 *
 * Errors: a corrupt image, or one that is not a stats image, is -EBADMSG;
 * one without a dump part (a restore's) is -ENODATA; the reader's errors
 * pass through. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* dump_stats_entry's fields in the order of stats.proto; the times are in
 * microseconds. */
enum criu_stat {
        CRIU_STAT_FREEZING_TIME,
        CRIU_STAT_FROZEN_TIME,
        CRIU_STAT_MEMDUMP_TIME,
        CRIU_STAT_MEMWRITE_TIME,
        CRIU_STAT_PAGES_SCANNED,
        CRIU_STAT_PAGES_SKIPPED_PARENT,
        CRIU_STAT_PAGES_WRITTEN,
        CRIU_STAT_IRMAP_RESOLVE,
        CRIU_STAT_PAGES_LAZY,
        CRIU_STAT_PAGE_PIPES,
        CRIU_STAT_PAGE_PIPE_BUFS,
        CRIU_STAT_SHPAGES_SCANNED,
        CRIU_STAT_SHPAGES_SKIPPED_PARENT,
        CRIU_STAT_SHPAGES_WRITTEN,
        CRIU_STAT_N
};

struct criu_dump_stats {
        uint64_t v[CRIU_STAT_N];
        uint32_t present;   /* bit i: v[i] is in the image (the optional ones may not be) */
};

/* The field's name in stats.proto ("freezing_time"); NULL out of range. */
const char *criu_stat_name(enum criu_stat s);

int criu_stats_load(struct store_reader *r, struct criu_dump_stats *ret_stats);

/* stats: one "name: value" line per present field, times with " us". */
int criu_stats_text(const struct criu_dump_stats *s, char **ret, size_t *ret_len);
/* stats.json: {"freezing_time": N, ...}, the present fields, as integers. */
int criu_stats_json(const struct criu_dump_stats *s, json_t **ret_json);
/* The text of stats for a dump without stats-dump: says so, and why. (Its
 * stats.json is {}: no field, rather than a field no statistic has.) */
int criu_stats_none_text(char **ret, size_t *ret_len);
