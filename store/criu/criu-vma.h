/* The mappings of a dumped process (mm-<pid>.img's VMAs) and the files
 * behind them (files.img), rendered like /proc/PID/maps. Pure: no FUSE.
 *
 * maps lines are "start-end perms offset dev inode [path]" as the kernel
 * writes them, path at column 73. CRIU records neither the device nor the
 * inode of a mapped file (reg_file_entry has its path and mount id), so dev
 * is always "00:00" and inode 0. Paths: a file mapping's reg_file_entry
 * name (vma.shmid is its id in files.img); [heap], [stack], [vdso], [vvar],
 * [vsyscall] from the status bits, and [stack] also for the VMA holding
 * mm_start_stack (CRIU leaves the bit out on some stacks); "/dev/zero (deleted)" for shared
 * anonymous memory as the kernel names it; none for memfd, SysV and other
 * mappings whose name lives in other images.
 *
 * Errors: corrupt images are -EBADMSG; open's errors pass through
 * (-ENOENT: no mm-<pid>.img, e.g. a zombie). A missing files.img leaves
 * file paths out. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "criu-mem.h"

/* CRIU's VMA status bits (criu-format.md §6). */
enum {
        CRIU_VMA_REGULAR = 1u << 0,
        CRIU_VMA_STACK = 1u << 1,
        CRIU_VMA_VSYSCALL = 1u << 2,
        CRIU_VMA_VDSO = 1u << 3,
        CRIU_VMA_HEAP = 1u << 5,
        CRIU_VMA_FILE_PRIVATE = 1u << 6,
        CRIU_VMA_FILE_SHARED = 1u << 7,
        CRIU_VMA_ANON_SHARED = 1u << 8,
        CRIU_VMA_VVAR = 1u << 12,
        CRIU_VMA_MEMFD = 1u << 14,
};

struct criu_vma {
        uint64_t start, end;  /* [start, end) */
        uint64_t pgoff;       /* bytes into the file */
        uint64_t shmid;       /* file mappings: the file's id in files.img */
        uint32_t prot;        /* PROT_* */
        uint32_t flags;       /* MAP_* */
        uint32_t status;      /* CRIU_VMA_* */
        char *path;           /* owned; NULL: no name */
};

struct criu_vmas {
        struct criu_vma *v;   /* in mm's order: ascending start */
        size_t n;
};

/* The VMAs of process pid, through open (criu-mem.h: it hands over each
 * reader); files.img for the paths of file mappings. */
int criu_vmas_load(criu_open_fn open, void *ctx, uint32_t pid, struct criu_vmas *ret_vmas);
void criu_vmas_clear(struct criu_vmas *v);

/* The /proc/PID/maps text (malloc'ed, NUL-terminated; *ret_len without the
 * NUL). */
int criu_vmas_maps_text(const struct criu_vmas *v, char **ret, size_t *ret_len);
