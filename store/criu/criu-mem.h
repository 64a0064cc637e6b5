/* The memory of a dumped process (../shared/notes/criu-format.md §4):
 * mm-<pid>.img (VMAs, arg/env bounds) and pagemap-<pid>.img indexed as a
 * flat sorted array of present ranges, vaddr -> offset in pages-<id>.img.
 * Pages are never loaded whole: reads go by pread through the reader.
 * Entries with PE_PRESENT have their data in pages-<pages_id>.img, back to
 * back in pagemap order; PE_LAZY alone and PE_PARENT (data in a parent
 * dump) have none here and read as zeros (holes).
 * Threads: reads may run concurrently (the pages reader is pread-only).
 * Errors: corrupt data is -EBADMSG, never a crash; reader errors pass. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "criu-open.h"
#include "reader.h"


/* One present range; flat so it could later be stored in a table. */
struct criu_mem_range {
        uint64_t vaddr;
        uint64_t nr_pages;
        uint64_t pages_off;
};

struct criu_mem;

int criu_mem_open(criu_open_fn open, void *ctx, uint32_t pid, struct criu_mem **ret_mem);
void criu_mem_free(struct criu_mem *m);
static inline void criu_mem_freep(struct criu_mem **p) {
        if (*p)
                criu_mem_free(*p);
}
#define _cleanup_criu_mem_ __attribute__((cleanup(criu_mem_freep)))

/* The index, sorted by vaddr, non-overlapping. */
const struct criu_mem_range *criu_mem_ranges(const struct criu_mem *m, size_t *ret_n);

/* Up to len bytes at vaddr: dumped bytes, zeros where no entry covers an
 * address. *ret_n is len (less only at the end of the address space).
 * -EBADMSG when pages-N.img is shorter than its pagemap says. */
int criu_mem_read(struct criu_mem *m, uint64_t vaddr, void *buf, size_t len, size_t *ret_n);

/* The first present range ending after vaddr: [*ret_start, *ret_end), with
 * *ret_start possibly below vaddr. -ENXIO when none (SEEK_DATA's answer). */
int criu_mem_next_data(const struct criu_mem *m, uint64_t vaddr, uint64_t *ret_start, uint64_t *ret_end);

/* How many dumped bytes lie in [start, end) (a sparse file's blocks). */
uint64_t criu_mem_data_bytes(const struct criu_mem *m, uint64_t start, uint64_t end);
/* Whether any dumped byte lies in [start, end). */
bool criu_mem_has_data(const struct criu_mem *m, uint64_t start, uint64_t end);

/* The first address at or above vaddr that no present range covers
 * (vaddr itself in a hole; touching ranges count as one). SEEK_HOLE. */
int criu_mem_next_hole(const struct criu_mem *m, uint64_t vaddr, uint64_t *ret_hole);

/* The bytes of mm_arg_start..mm_arg_end / mm_env_start..mm_env_end
 * (malloc'ed, the caller frees). */
int criu_mem_cmdline(struct criu_mem *m, char **ret_buf, size_t *ret_len);
int criu_mem_environ(struct criu_mem *m, char **ret_buf, size_t *ret_len);

/* The index (ranges, pages id, arg/env bounds) as bytes to keep in a cache
 * (malloc'ed), and a criu_mem from such bytes without reading mm or the
 * pagemap again (pages-<id>.img is opened through open). Bytes that are not
 * such an index, or whose ranges break the pagemap's rules: -EBADMSG. */
int criu_mem_index_bytes(const struct criu_mem *m, void **ret, size_t *ret_len);
int criu_mem_open_index(const void *data, size_t len, criu_open_fn open, void *ctx, struct criu_mem **ret_mem);

/* criu-mem-reader.c. A store_reader over [base, base + size) of m's memory
 * (offset 0 is address base): proc/<pid>/mem (base 0) and one VMA's bytes.
 * Takes m on success (the reader frees it), the caller's on failure. Its
 * reads fail with -EIO where criu_mem_read says -EBADMSG. */
int criu_mem_reader(struct criu_mem *m, uint64_t base, uint64_t size, struct store_reader **ret_reader);
/* SEEK_DATA (hole false) or SEEK_HOLE (true) on a criu_mem_reader from off:
 * the offset, or -ENXIO at or past its size (SEEK_DATA also when no data
 * follows), -EINVAL for any other reader. The end is a hole, as lseek(2)
 * says. */
int criu_mem_reader_seek(const struct store_reader *r, uint64_t off, bool hole, uint64_t *ret_off);
