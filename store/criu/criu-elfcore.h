/* An ELF core file (x86-64) of a process, generated on the fly: the ELF
 * header, the program headers, one PT_NOTE (NT_PRSTATUS per thread,
 * NT_PRPSINFO, NT_AUXV, NT_FILE) are built in memory; the data of the
 * PT_LOAD segments is read through a callback by virtual address when a
 * range of the file is asked for, never held whole. Layout: headers, notes,
 * zeros up to a 4096 boundary, then the data of each segment with a file
 * size, back to back in segment order (each a multiple of 4096). Notes
 * of a thread (NT_PRSTATUS, then NT_FPREGSET) come together: gdb gives an
 * NT_FPREGSET to the NT_PRSTATUS before it.
 * Pure: no FUSE, no CRIU; criu-coredump.h feeds it from a dump.
 *
 * Threads: elfcore_pread may run concurrently if the read callback may. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* The 27 general registers in the order of the kernel's x86-64
 * user_regs_struct (<sys/user.h>): r15 ... gs. */
#define ELFCORE_NREGS 27

struct elfcore_thread {
        uint32_t tid;
        uint64_t regs[ELFCORE_NREGS];
        bool has_fpregs; /* NT_FPREGSET after the thread's NT_PRSTATUS */
        struct user_fpregs_struct fpregs;
};

struct elfcore_seg {
        uint64_t start, end; /* page-aligned, start < end */
        uint32_t prot;       /* PROT_READ|PROT_WRITE|PROT_EXEC -> PF_R|PF_W|PF_X */
        bool has_data;       /* p_filesz = end - start (read by callback) or 0 */
        const char *path;    /* file-backed: listed in NT_FILE; NULL: not */
        uint64_t pgoff;      /* offset in that file, bytes */
};

/* Reads len bytes of the process's memory at vaddr into buf (all of them:
 * holes as zeros). 0 or -errno. */
typedef int (*elfcore_read_fn)(void *ctx, uint64_t vaddr, void *buf, size_t len);

struct elfcore_input {
        uint32_t pid, ppid, pgid, sid, uid, gid;
        int cursig;        /* pr_cursig of each NT_PRSTATUS */
        char state;        /* pr_sname: 'R', 'T', ... */
        const char *comm;  /* pr_fname, cut to 15 */
        const char *args;  /* argv as NUL-separated bytes (psargs, cut to 79) */
        size_t args_len;
        /* The main thread first (gdb takes the first NT_PRSTATUS as the
         * current thread). At least one. */
        const struct elfcore_thread *threads;
        size_t n_threads;
        /* (type, value) pairs, up to and with AT_NULL when there. */
        const uint64_t *auxv;
        size_t n_auxv; /* count of u64 values */
        const struct elfcore_seg *segs; /* sorted by start, not overlapping */
        size_t n_segs;
};

struct elfcore;

/* Builds the headers and notes from `in` (copied: in's memory may go after
 * the call). read/ctx serve the segments' data; on success the core owns
 * ctx and calls free_ctx(ctx) (may be NULL) when freed. -EINVAL for bad
 * input (no thread, unaligned or unsorted segments), -EFBIG past 65534
 * segments, -ENOMEM. */
int elfcore_new(const struct elfcore_input *in, elfcore_read_fn read, void (*free_ctx)(void *ctx), void *ctx,
                struct elfcore **ret_core);
void elfcore_free(struct elfcore *c);
static inline void elfcore_freep(struct elfcore **p) {
        if (*p)
                elfcore_free(*p);
}
#define _cleanup_elfcore_ __attribute__((cleanup(elfcore_freep)))

/* The exact size of the file. */
uint64_t elfcore_size(const struct elfcore *c);

/* Up to len bytes at off (short only at the end): the count, or the read
 * callback's -errno. A store_reader pread callback (ctx = the core). */
ssize_t elfcore_pread(void *core, void *buf, size_t len, uint64_t off);
