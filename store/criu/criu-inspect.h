/* The CRIU parts of inspect.json, each in the shape `checkpointctl inspect
 * --format json` prints it (its field names; zero values left out as its
 * omitempty does), one builder per part so that more parts join with a
 * few lines (fs/views-inspect.c puts them together). Pure.
 *
 * Errors: -ENOMEM; the memory readers' errors pass through (-EBADMSG for
 * damaged images). */
#pragma once

#include <jansson.h>

#include "criu-fds.h"
#include "criu-mem.h"
#include "criu-proc.h"
#include "criu-stats.h"

/* checkpointctl's name of a CRIU task state: "Alive", "Dead" (a zombie:
 * CRIU dumps those as dead), "Stopped", "Zombie", else "Unknown". */
const char *criu_inspect_task_state(uint32_t state);

/* "statistics": {freezing_time, frozen_time, memdump_time, memwrite_time
 * (µs), pages_scanned, pages_written}. */
int criu_inspect_statistics(const struct criu_dump_stats *s, json_t **ret_json);

/* "process_tree": the root of the dump (pstree's first process) as {pid,
 * command (the comm), cmdline (argv joined by spaces), task_state,
 * environment_variables {NAME: value}, children: [...]}; cmdline and
 * environment read from the dumped memory through `open` (criu-mem.h) for
 * processes alive or stopped, which alone have memory, and alone list
 * their children (as checkpointctl does). -ENOENT for an empty tree. */
int criu_inspect_process_tree(const struct criu_procs *p, criu_open_fn open, void *ctx, json_t **ret_json);

/* criu-inspect-fds.c. "file_descriptors": [{pid, open_files: [{type,
 * fd ("REG 3"; "cwd", "root"), path (the file, "pipe:[ID]",
 * "socket:[INO]", ...)}]}] per process; "sockets": [{pid, open_sockets:
 * [{protocol ("TCP", "UDP"), data: {type, state, src, src_port, dst,
 * dst_port}} or {data: {type "UNIX", address, state}}]}] for the processes
 * that hold sockets. */
int criu_inspect_file_descriptors(const struct criu_task_fds *tasks, size_t n, const struct criu_files *files,
                                  json_t **ret_json);
int criu_inspect_sockets(const struct criu_task_fds *tasks, size_t n, const struct criu_files *files,
                         json_t **ret_json);
