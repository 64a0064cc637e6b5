/* Where the dump goes. The frozen window lasts as long as CRIU writes the
 * dump, so by default it goes to RAM (/dev/shm) when the task's memory fits
 * there with room to spare, and to disk (/var/tmp) otherwise. Measured
 * here: 1 GiB into a tmpfs ~1.1 s, into the disk's page cache ~7 s. */
#include "checkpoint-internal.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#define RAM_DIR "/dev/shm"
#define DISK_DIR "/var/tmp"
#define MARGIN (256ULL << 20)

int ckpt_memory_cgroup_path(const char *proc_cgroup, char *out, size_t n, bool *ret_v2) {
        const char *v2 = NULL;
        for (const char *line = proc_cgroup; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t) (end - line) : strlen(line);
                /* "ID:CONTROLLERS:PATH" */
                const char *c1 = memchr(line, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - line)) : NULL;
                if (c2) {
                        const char *ctrl = c1 + 1, *path = c2 + 1;
                        size_t clen = (size_t) (c2 - ctrl), plen = len - (size_t) (path - line);
                        bool memory = false;
                        for (const char *p = ctrl; p < c2;) {
                                const char *comma = memchr(p, ',', (size_t) (c2 - p));
                                size_t l = comma ? (size_t) (comma - p) : (size_t) (c2 - p);
                                if (l == 6 && memcmp(p, "memory", 6) == 0)
                                        memory = true;
                                p += l + 1;
                        }
                        if (memory || (clen == 0 && !v2)) {
                                if (plen + 1 > n || plen == 0 || path[0] != '/')
                                        return -EINVAL;
                                if (memory) {
                                        memcpy(out, path, plen);
                                        out[plen] = 0;
                                        *ret_v2 = false;
                                        return 0;
                                }
                                v2 = path;
                        }
                }
                line = end ? end + 1 : NULL;
        }
        if (!v2)
                return -ENOENT;
        size_t plen = strcspn(v2, "\n");
        memcpy(out, v2, plen);
        out[plen] = 0;
        *ret_v2 = true;
        return 0;
}

/* Sum of the named "key value" lines of a stat-like text. */
static uint64_t sum_keys(const char *text, const char *const *keys, size_t n_keys, bool *found) {
        uint64_t sum = 0;
        *found = false;
        for (const char *line = text; line && *line;) {
                for (size_t i = 0; i < n_keys; i++) {
                        size_t kl = strlen(keys[i]);
                        if (strncmp(line, keys[i], kl) == 0 && (line[kl] == ' ' || line[kl] == ':')) {
                                const char *v = line + kl + 1;
                                while (*v == ' ')
                                        v++;
                                sum += strtoull(v, NULL, 10);
                                *found = true;
                        }
                }
                const char *end = strchr(line, '\n');
                line = end ? end + 1 : NULL;
        }
        return sum;
}

uint64_t ckpt_memstat_dumpable(const char *memory_stat, bool v2) {
        /* What CRIU writes: anonymous memory and shared memory (shmem,
         * tmpfs), not the page cache of files. */
        static const char *const v1_keys[] = { "total_rss", "total_shmem" };
        static const char *const v2_keys[] = { "anon", "shmem" };
        bool found;
        return v2 ? sum_keys(memory_stat, v2_keys, 2, &found) : sum_keys(memory_stat, v1_keys, 2, &found);
}

uint64_t ckpt_meminfo_available(const char *meminfo) {
        static const char *const keys[] = { "MemAvailable" };
        bool found;
        uint64_t kb = sum_keys(meminfo, keys, 1, &found);
        return found ? kb * 1024 : 0;
}

static char *read_text(const char *path) {
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *buf = NULL;
        size_t cap = 0;
        ssize_t n = getdelim(&buf, &cap, '\0', f);
        fclose(f);
        if (n < 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* The memory a dump of the task `pid` will take, from its memory cgroup;
 * 0 if unknown. */
static uint64_t task_memory(pid_t pid) {
        char path[PATH_MAX], cg[PATH_MAX / 2];
        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        _cleanup_free_ char *text = read_text(path);
        bool v2 = false;
        if (!text || ckpt_memory_cgroup_path(text, cg, sizeof(cg), &v2) < 0)
                return 0;
        snprintf(path, sizeof(path), v2 ? "/sys/fs/cgroup%s/memory.stat" : "/sys/fs/cgroup/memory%s/memory.stat", cg);
        _cleanup_free_ char *stat = read_text(path);
        return stat ? ckpt_memstat_dumpable(stat, v2) : 0;
}

const char *ckpt_pick_work_root(pid_t pid, uint64_t *ret_estimate) {
        uint64_t need = pid > 0 ? task_memory(pid) : 0;
        *ret_estimate = need;
        if (need == 0)
                return DISK_DIR;   /* unknown: do not gamble with RAM */
        struct statvfs sv;
        if (statvfs(RAM_DIR, &sv) < 0)
                return DISK_DIR;
        uint64_t room = (uint64_t) sv.f_bavail * sv.f_frsize;
        _cleanup_free_ char *meminfo = read_text("/proc/meminfo");
        uint64_t avail = meminfo ? ckpt_meminfo_available(meminfo) : 0;
        /* The dump must fit in the tmpfs and leave the machine its memory:
         * the task's own pages stay, the dump doubles them for a while. */
        if (room >= need + MARGIN && avail >= 2 * need + MARGIN)
                return RAM_DIR;
        return DISK_DIR;
}
