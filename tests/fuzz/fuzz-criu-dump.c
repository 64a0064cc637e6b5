/* libFuzzer target of the decoders that read several images of one dump
 * (proc/: criu-proc.h, criu-mem.h, criu-coredump.h, criu-fds.h): the input
 * is a little archive of named images, each `name NUL, u32 length (LE),
 * bytes`; a pages-N.img of at most 8 bytes stands for that many bytes
 * (u64 LE) of a fixed pattern, so seeds stay small. Damaged images must
 * give errors, never a crash or a sanitizer report. Built and run by
 * tests/fuzz/run-fuzz.sh, seeded from tests/fuzz/seeds/ (crit encode). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "criu-coredump.h"
#include "criu-fds.h"
#include "criu-mem.h"
#include "criu-proc.h"
#include "reader.h"

#define MAX_MEMBERS 64

struct member {
        const char *name;   /* inside the input: NUL-terminated there */
        const uint8_t *data;
        size_t size;
        uint64_t pattern_size;   /* pages stand-in: size of the pattern, else 0 */
};

struct dump {
        struct member v[MAX_MEMBERS];
        size_t n;
};

static void parse(const uint8_t *p, size_t size, struct dump *d) {
        size_t off = 0;
        d->n = 0;
        while (off < size && d->n < MAX_MEMBERS) {
                const uint8_t *nul = memchr(p + off, 0, size - off);
                if (!nul || (size_t) (nul - p) + 5 > size)
                        return;
                struct member *m = &d->v[d->n++];
                m->name = (const char *) p + off;
                off = (size_t) (nul - p) + 1;
                uint32_t len;
                memcpy(&len, p + off, 4);
                off += 4;
                m->size = len < size - off ? len : size - off;
                m->data = p + off;
                off += m->size;
                m->pattern_size = 0;
                if (!strncmp(m->name, "pages-", 6) && m->size <= 8) {
                        uint64_t n = 0;
                        memcpy(&n, m->data, m->size);
                        m->pattern_size = n % (64u << 20);
                }
        }
}

static ssize_t member_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        const struct member *m = ctx;
        uint64_t size = m->pattern_size ? m->pattern_size : m->size;
        if (off >= size)
                return 0;
        if (len > size - off)
                len = (size_t) (size - off);
        if (m->pattern_size)
                for (size_t i = 0; i < len; i++)
                        ((uint8_t *) buf)[i] = (uint8_t) ((off + i) * 131u);
        else
                memcpy(buf, m->data + off, len);
        return (ssize_t) len;
}

static int open_member(void *userdata, const char *name, struct store_reader **ret) {
        const struct dump *d = userdata;
        for (size_t i = 0; i < d->n; i++)
                if (!strcmp(d->v[i].name, name)) {
                        const struct member *m = &d->v[i];
                        return store_reader_new(member_pread, NULL, (void *) m,
                                                m->pattern_size ? m->pattern_size : m->size, ret);
                }
        return -ENOENT;
}

static void memory(struct dump *d, uint32_t pid) {
        struct criu_mem *m = NULL;
        if (criu_mem_open(open_member, d, pid, &m) < 0)
                return;
        size_t n, got;
        const struct criu_mem_range *r = criu_mem_ranges(m, &n);
        uint8_t buf[8192];
        for (size_t i = 0; i < n && i < 8; i++)
                (void) criu_mem_read(m, r[i].vaddr + 100, buf, sizeof(buf), &got);
        uint64_t start, end;
        (void) criu_mem_next_data(m, 0, &start, &end);
        char *s = NULL;
        size_t len;
        if (criu_mem_cmdline(m, &s, &len) == 0)
                free(s);
        if (criu_mem_environ(m, &s, &len) == 0)
                free(s);
        criu_mem_free(m);
}

/* The core file: its headers and the first pieces of its data. */
static void core(struct dump *d, uint32_t pid) {
        struct store_reader *r = NULL;
        if (criu_coredump_open(open_member, d, pid, &r) < 0)
                return;
        static uint8_t buf[65536];
        for (uint64_t off = 0; off < r->size && off < (1u << 20); off += sizeof(buf))
                if (store_reader_pread(r, buf, sizeof(buf), off) < 0)
                        break;
        store_reader_free(r);
}

static void fds(struct dump *d, uint32_t pid) {
        struct criu_task_fds t;
        if (criu_task_fds_load(pid, open_member, d, &t) < 0)
                return;
        criu_task_fds_clear(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct dump d;
        parse(data, size, &d);
        struct criu_procs procs;
        if (criu_procs_load(open_member, &d, &procs) < 0)
                return 0;
        char *s = NULL;
        size_t len;
        if (criu_procs_ps_text(&procs, &s, &len) == 0)
                free(s);
        for (size_t i = 0; i < procs.n && i < 4; i++) {
                if (criu_proc_status(&procs.v[i], &s, &len) == 0)
                        free(s);
                memory(&d, procs.v[i].pid);
                core(&d, procs.v[i].pid);
                fds(&d, procs.v[i].pid);
        }
        criu_procs_clear(&procs);
        return 0;
}
