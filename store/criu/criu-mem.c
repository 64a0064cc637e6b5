/* The memory index of a dumped process; see criu-mem.h. */
#include "criu-mem.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "criu-image.h"
#include "criu_mm.pb-c.h"
#include "criu_pagemap.pb-c.h"

#define PAGE 4096u
/* CRIU's pagemap entry flags (criu/include/pagemap.h). */
#define PE_PARENT (1u << 0)
#define PE_PRESENT (1u << 2)
/* More memory than this (2^47 pages of address space) is corruption. */
#define MAX_PAGES (1ull << 35)

struct criu_mem {
        struct store_reader *pages;
        struct criu_mem_range *ranges;
        size_t n;
        uint64_t arg_start, arg_end, env_start, env_end;
        uint32_t pages_id;
};

void criu_mem_free(struct criu_mem *m) {
        if (m->pages)
                store_reader_free(m->pages);
        free(m->ranges);
        free(m);
}

static int load_mm(criu_open_fn open, void *ctx, uint32_t pid, struct criu_mem *m) {
        char name[64];
        struct criu_record rec;
        snprintf(name, sizeof name, "mm-%u.img", pid);
        int rc = criu_image_first_of(open, ctx, name, &mm_entry__descriptor, &rec);
        if (rc < 0)
                return rc;
        const MmEntry *mm = (const MmEntry *)rec.msg;
        m->arg_start = mm->mm_arg_start, m->arg_end = mm->mm_arg_end;
        m->env_start = mm->mm_env_start, m->env_end = mm->mm_env_end;
        criu_record_done(&rec);
        return 0;
}

/* Appends one entry's range when present; *off is the running offset. */
static int add_entry(struct criu_mem *m, size_t *cap, const PagemapEntry *e, uint64_t *off, uint64_t *last_end) {
        uint64_t np = e->has_nr_pages ? e->nr_pages : e->compat_nr_pages;
        /* Without flags (older CRIU), in_parent says where the page is. */
        uint32_t flags = e->has_flags ? e->flags : (e->has_in_parent && e->in_parent) ? PE_PARENT : PE_PRESENT;
        if (np == 0 || np > MAX_PAGES || e->vaddr % PAGE || e->vaddr + np * PAGE < e->vaddr)
                return -EBADMSG;
        if (e->vaddr < *last_end)
                return -EBADMSG; /* unsorted or overlapping */
        *last_end = e->vaddr + np * PAGE;
        /* PE_LAZY alone (lazy pages) and PE_PARENT have no data here. */
        if (!(flags & PE_PRESENT))
                return 0;
        if (m->n == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                struct criu_mem_range *nr = realloc(m->ranges, nc * sizeof *nr);
                if (!nr)
                        return -ENOMEM;
                m->ranges = nr, *cap = nc;
        }
        m->ranges[m->n++] = (struct criu_mem_range){e->vaddr, np, *off};
        *off += np * PAGE;
        return 0;
}

static int load_pagemap(struct criu_image *img, struct criu_mem *m, uint32_t *ret_pages_id) {
        struct criu_record rec;
        int rc = criu_image_next(img, &rec);
        if (rc <= 0)
                return rc < 0 ? rc : -EBADMSG;
        if (rec.msg->descriptor != &pagemap_head__descriptor) {
                criu_record_done(&rec);
                return -EBADMSG;
        }
        uint32_t id = ((const PagemapHead *)rec.msg)->pages_id;
        criu_record_done(&rec);
        size_t cap = 0;
        uint64_t off = 0, last_end = 0;
        while ((rc = criu_image_next(img, &rec)) == 1) {
                if (rec.msg->descriptor != &pagemap_entry__descriptor)
                        rc = -EBADMSG;
                else
                        rc = add_entry(m, &cap, (const PagemapEntry *)rec.msg, &off, &last_end);
                criu_record_done(&rec);
                if (rc < 0)
                        return rc;
        }
        if (rc < 0)
                return rc;
        *ret_pages_id = id;
        return 0;
}

int criu_mem_open(criu_open_fn open, void *ctx, uint32_t pid, struct criu_mem **ret_mem) {
        struct criu_mem *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        int rc = load_mm(open, ctx, pid, m);
        char name[64];
        struct store_reader *r = NULL;
        uint32_t pages_id = 0;
        snprintf(name, sizeof name, "pagemap-%u.img", pid);
        if (rc == 0)
                rc = open(ctx, name, &r);
        if (rc == 0) {
                struct criu_image *img = NULL;
                rc = criu_image_open(r, &img);
                if (rc == 0) {
                        rc = load_pagemap(img, m, &pages_id);
                        criu_image_free(img);
                }
                store_reader_free(r);
        }
        m->pages_id = pages_id;
        snprintf(name, sizeof name, "pages-%u.img", pages_id);
        if (rc == 0)
                rc = open(ctx, name, &m->pages);
        if (rc < 0) {
                criu_mem_free(m);
                return rc;
        }
        *ret_mem = m;
        return 0;
}

const struct criu_mem_range *criu_mem_ranges(const struct criu_mem *m, size_t *ret_n) {
        *ret_n = m->n;
        return m->ranges;
}

/* The index of the first range ending after vaddr (m->n when none). */
static size_t find(const struct criu_mem *m, uint64_t vaddr) {
        size_t lo = 0, hi = m->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (m->ranges[mid].vaddr + m->ranges[mid].nr_pages * PAGE <= vaddr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int criu_mem_next_data(const struct criu_mem *m, uint64_t vaddr, uint64_t *ret_start, uint64_t *ret_end) {
        size_t i = find(m, vaddr);
        if (i == m->n)
                return -ENXIO;
        *ret_start = m->ranges[i].vaddr;
        *ret_end = m->ranges[i].vaddr + m->ranges[i].nr_pages * PAGE;
        return 0;
}

uint64_t criu_mem_data_bytes(const struct criu_mem *m, uint64_t start, uint64_t end) {
        uint64_t sum = 0;
        for (size_t i = find(m, start); i < m->n && m->ranges[i].vaddr < end; i++) {
                uint64_t s = m->ranges[i].vaddr, e = s + m->ranges[i].nr_pages * PAGE;
                sum += (e < end ? e : end) - (s > start ? s : start);
        }
        return sum;
}

bool criu_mem_has_data(const struct criu_mem *m, uint64_t start, uint64_t end) {
        size_t i = find(m, start);
        return i < m->n && m->ranges[i].vaddr < end;
}

int criu_mem_next_hole(const struct criu_mem *m, uint64_t vaddr, uint64_t *ret_hole) {
        size_t i = find(m, vaddr);
        uint64_t a = vaddr;
        /* Touching ranges are one data run. */
        while (i < m->n && m->ranges[i].vaddr <= a) {
                a = m->ranges[i].vaddr + m->ranges[i].nr_pages * PAGE;
                i++;
        }
        *ret_hole = a;
        return 0;
}

int criu_mem_read(struct criu_mem *m, uint64_t vaddr, void *buf, size_t len, size_t *ret_n) {
        uint8_t *out = buf;
        if (len > UINT64_MAX - vaddr)
                len = (size_t)(UINT64_MAX - vaddr); /* the address space ends */
        size_t done = 0;
        size_t i = find(m, vaddr);
        while (done < len) {
                uint64_t a = vaddr + done;
                size_t want = len - done;
                if (i == m->n || a < m->ranges[i].vaddr) {
                        /* a hole: zeros up to the next range */
                        uint64_t gap = i == m->n ? want : m->ranges[i].vaddr - a;
                        size_t z = gap < want ? (size_t)gap : want;
                        memset(out + done, 0, z);
                        done += z;
                        continue;
                }
                uint64_t end = m->ranges[i].vaddr + m->ranges[i].nr_pages * PAGE;
                size_t k = end - a < want ? (size_t)(end - a) : want;
                ssize_t got = store_reader_pread(m->pages, out + done, k, m->ranges[i].pages_off + (a - m->ranges[i].vaddr));
                if (got < 0)
                        return (int)got;
                if ((size_t)got != k)
                        return -EBADMSG; /* pages image shorter than its pagemap */
                done += k;
                i++;
        }
        *ret_n = done;
        return 0;
}

static int read_span(struct criu_mem *m, uint64_t start, uint64_t end, char **ret_buf, size_t *ret_len) {
        if (end < start || end - start > (1u << 24))
                return -EBADMSG;
        size_t len = end - start, n;
        char *b = malloc(len + 1);
        if (!b)
                return -ENOMEM;
        int rc = criu_mem_read(m, start, b, len, &n);
        if (rc < 0) {
                free(b);
                return rc;
        }
        b[len] = 0;
        *ret_buf = b;
        *ret_len = len;
        return 0;
}

int criu_mem_cmdline(struct criu_mem *m, char **ret_buf, size_t *ret_len) {
        return read_span(m, m->arg_start, m->arg_end, ret_buf, ret_len);
}

int criu_mem_environ(struct criu_mem *m, char **ret_buf, size_t *ret_len) {
        return read_span(m, m->env_start, m->env_end, ret_buf, ret_len);
}

/* The stored index: a header of INDEX_WORDS u64 (magic, pages_id, the
 * arg/env bounds, the count), then three u64 per range, host order (the
 * cache is this machine's). */
#define INDEX_MAGIC 0x314d454d55495243ull /* "CRIUMEM1" */
#define INDEX_WORDS 7

int criu_mem_index_bytes(const struct criu_mem *m, void **ret, size_t *ret_len) {
        size_t len = (INDEX_WORDS + 3 * m->n) * sizeof(uint64_t);
        uint64_t *w = malloc(len);
        if (!w)
                return -ENOMEM;
        uint64_t head[INDEX_WORDS] = { INDEX_MAGIC, m->pages_id, m->arg_start, m->arg_end,
                                       m->env_start, m->env_end, m->n };
        memcpy(w, head, sizeof head);
        for (size_t i = 0; i < m->n; i++) {
                w[INDEX_WORDS + 3 * i] = m->ranges[i].vaddr;
                w[INDEX_WORDS + 3 * i + 1] = m->ranges[i].nr_pages;
                w[INDEX_WORDS + 3 * i + 2] = m->ranges[i].pages_off;
        }
        *ret = w;
        *ret_len = len;
        return 0;
}

/* The ranges of a stored index, checked as load_pagemap checks entries. */
static int index_ranges(const uint64_t *w, size_t n, struct criu_mem *m) {
        m->ranges = malloc((n ? n : 1) * sizeof *m->ranges);
        if (!m->ranges)
                return -ENOMEM;
        uint64_t off = 0, last_end = 0;
        for (size_t i = 0; i < n; i++) {
                struct criu_mem_range r = { w[3 * i], w[3 * i + 1], w[3 * i + 2] };
                if (!r.nr_pages || r.nr_pages > MAX_PAGES || r.vaddr % PAGE || r.vaddr + r.nr_pages * PAGE < r.vaddr ||
                    r.vaddr < last_end || r.pages_off != off)
                        return -EBADMSG;
                last_end = r.vaddr + r.nr_pages * PAGE;
                off += r.nr_pages * PAGE;
                m->ranges[m->n++] = r;
        }
        return 0;
}

int criu_mem_open_index(const void *data, size_t len, criu_open_fn open, void *ctx, struct criu_mem **ret_mem) {
        uint64_t head[INDEX_WORDS];
        if (len < sizeof head)
                return -EBADMSG;
        memcpy(head, data, sizeof head);
        size_t n = (size_t)head[6];
        if (head[0] != INDEX_MAGIC || head[1] > UINT32_MAX || head[6] > (len / sizeof(uint64_t)) ||
            len != (INDEX_WORDS + 3 * n) * sizeof(uint64_t))
                return -EBADMSG;
        struct criu_mem *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->pages_id = (uint32_t)head[1];
        m->arg_start = head[2], m->arg_end = head[3], m->env_start = head[4], m->env_end = head[5];
        uint64_t *w = malloc(len);
        int rc = w ? 0 : -ENOMEM;
        if (rc == 0) {
                memcpy(w, data, len); /* aligned copy */
                rc = index_ranges(w + INDEX_WORDS, n, m);
                free(w);
        }
        char name[32];
        snprintf(name, sizeof name, "pages-%u.img", m->pages_id);
        if (rc == 0)
                rc = open(ctx, name, &m->pages);
        if (rc < 0) {
                criu_mem_free(m);
                return rc;
        }
        *ret_mem = m;
        return 0;
}
