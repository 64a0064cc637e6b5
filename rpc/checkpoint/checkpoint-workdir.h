/* Where a dump goes, on this host (checkpoint-workdir.c): the choice
 * between RAM and disk from the task's memory cgroup, the private
 * directories of one checkpoint, what CRIU's log there says, and their
 * removal. The parsers are pure and thread-safe; the rest touches the
 * file system. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* From the text of /proc/PID/cgroup: the path of the memory cgroup (v1
 * "N:...memory...:PATH", else v2 "0::PATH"). -ENOENT if none. */
int ckpt_memory_cgroup_path(const char *proc_cgroup, char *out, size_t n, bool *ret_v2);
/* From memory.stat: bytes a CRIU dump takes (v1 total_rss + total_shmem,
 * v2 anon + shmem). */
uint64_t ckpt_memstat_dumpable(const char *memory_stat, bool v2);
/* MemAvailable of /proc/meminfo in bytes (0 if absent). */
uint64_t ckpt_meminfo_available(const char *meminfo);
/* The default parent of the dump dir for task `pid`: /dev/shm when its
 * memory (*ret_estimate, 0 if unknown) fits in that tmpfs and twice in
 * MemAvailable with a margin, else /var/tmp. */
const char *ckpt_pick_work_root(pid_t pid, uint64_t *ret_estimate);
/* The bytes a dump of task `pid` takes, from its memory cgroup; 0 if
 * unknown. */
uint64_t ckpt_task_memory(pid_t pid);

/* The directories of one checkpoint. */
typedef struct ckpt_dirs {
        char top[PATH_MAX];     /* ours, removed at the end; "" for none (a raw image-path dump) */
        char dump[PATH_MAX];    /* CRIU's images (runc's image_path) */
        char work[PATH_MAX];    /* CRIU's work dir with its logs; "" for runc's default */
        char empty[PATH_MAX];   /* an empty dir: the left side of the differ's tar of the dump */
} ckpt_dirs;
/* Creates ROOT/ckptfs-dump-<id>-XXXXXX (mode 0700, the id says whose a
 * leftover is) with dump/, empty/ and work/ in it, or `work_path` as the
 * work dir when given. -ENAMETOOLONG for a root that is too long, else the
 * -errno of mkdtemp() or mkdir(); on failure nothing is left behind. */
int ckpt_dirs_make(const char *root, const char *id, const char *work_path, ckpt_dirs *ret);

/* CRIU writes its dump statistics (stats-dump) into its work dir, not
 * among the images; kubelet's and CRI-O's archives carry them beside the
 * images. Copies WORK/stats-dump to DUMP/stats-dump so that the CRIU tar
 * has them. -ENOENT when CRIU wrote none (or there is no work dir of
 * ours), -EEXIST when the dump has one already, else 0 or -errno (nothing
 * half-written left). */
int ckpt_dump_add_stats(const ckpt_dirs *d);

/* The lines of CRIU's log (WORK/dump.log) that say what went wrong, their
 * location dropped, joined by '\n' into out (n bytes, "" if none); the
 * first errors are the telling ones, so later ones that do not fit are
 * left out. */
void ckpt_criu_errors(const char *work_dir, char *out, size_t n);

/* Removes `path` and everything below it; ENOENT is success. */
int ckpt_rm_rf(const char *path);
