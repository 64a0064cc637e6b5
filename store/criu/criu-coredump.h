/* proc/<pid>/core: the ELF core file (criu-elfcore.h) of one process of a
 * CRIU dump. Threads and their registers from pstree.img and
 * core-<tid>.img (thread_info.gpregs; fpregs' fxsave area as NT_FPREGSET
 * when whole; no NT_X86_XSTATE), the auxiliary vector and the
 * mappings from mm-<pid>.img, file paths from files.img, memory through
 * criu-mem.h. Pure: no FUSE, no gRPC.
 *
 * Segments, one PT_LOAD or more per VMA (what gdb reads best):
 * - private anonymous memory (heap, stack, vDSO, ...): the whole VMA with
 *   data, zeros where nothing was dumped (untouched pages are zero);
 * - private file mappings: the dumped runs with data, the rest with no
 *   file size, so gdb reads it from the file as for a kernel core (those
 *   pages are the file's unmodified bytes: criu-format.md §4.6);
 * - vvar, vsyscall, PROT_NONE and shared mappings (their pages are not in
 *   the task's pagemap): no file size.
 * Errors: -ENOENT when the process has no memory image (a zombie);
 * corrupt images -EBADMSG; the opener's errors pass through. A read of the
 * reader whose pages turn out damaged (pages-N.img shorter than its
 * pagemap) fails with -EIO, what a read(2) of the file should say. */
#pragma once

#include <stdint.h>

#include "criu-mem.h"
#include "reader.h"

/* A reader of the core file of process pid (its size is exact); the
 * reader owns everything it needs and frees it, readers opened by `open`
 * included. */
int criu_coredump_open(criu_open_fn open, void *ctx, uint32_t pid, struct store_reader **ret_reader);
