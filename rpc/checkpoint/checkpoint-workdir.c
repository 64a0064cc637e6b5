/* Where the dump goes. The frozen window lasts as long as CRIU writes the
 * dump, so by default it goes to RAM (/dev/shm) when the task's memory fits
 * there with room to spare, and to disk (/var/tmp) otherwise. Measured
 * here: 1 GiB into a tmpfs ~1.1 s, into the disk's page cache ~7 s. */
#include "checkpoint-workdir.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

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

uint64_t ckpt_task_memory(pid_t pid) {
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
        uint64_t need = pid > 0 ? ckpt_task_memory(pid) : 0;
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

int ckpt_dirs_make(const char *root, const char *id, const char *work_path, ckpt_dirs *ret) {
        ckpt_dirs d = { .top = "" };
        /* top stays short of PATH_MAX by 16 at least, for the names below. */
        if ((size_t) snprintf(d.top, sizeof(d.top), "%s/ckptfs-dump-%.80s-XXXXXX", root, id) >= sizeof(d.top) - 16)
                return -ENAMETOOLONG;
        if (!mkdtemp(d.top))
                return -errno;
        strcpy(stpcpy(d.dump, d.top), "/dump");
        strcpy(stpcpy(d.empty, d.top), "/empty");
        if (work_path)
                snprintf(d.work, sizeof(d.work), "%s", work_path);
        else
                strcpy(stpcpy(d.work, d.top), "/work");
        if (mkdir(d.dump, 0700) < 0 || mkdir(d.empty, 0700) < 0 || (!work_path && mkdir(d.work, 0700) < 0)) {
                int r = -errno;
                (void) ckpt_rm_rf(d.top);
                return r;
        }
        *ret = d;
        return 0;
}

/* Copies the small regular file `from` to the new file `to`. */
static int copy_small(const char *from, const char *to) {
        char buf[64 << 10];
        _cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (in < 0)
                return -errno;
        _cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (out < 0)
                return -errno;
        int r = 0;
        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));
                if (n <= 0) {
                        r = n < 0 ? -errno : 0;
                        break;
                }
                if (write(out, buf, (size_t) n) != n) {
                        r = -EIO;
                        break;
                }
        }
        if (r < 0)
                (void) unlink(to);
        return r;
}

int ckpt_dump_add_stats(const ckpt_dirs *d) {
        if (!*d->work || !*d->dump)
                return -ENOENT;
        char from[PATH_MAX + 16], to[PATH_MAX + 16];
        snprintf(from, sizeof(from), "%s/stats-dump", d->work);
        snprintf(to, sizeof(to), "%s/stats-dump", d->dump);
        return copy_small(from, to);
}

void ckpt_criu_errors(const char *work_dir, char *out, size_t n) {
        *out = 0;
        char path[PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/dump.log", work_dir);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return;
        char line[512];
        size_t k = 0;
        while (fgets(line, sizeof(line), f)) {
                char *e = strstr(line, "Error (");
                if (!e)
                        continue;
                /* "(00.01) Error (criu/sk-inet.c:191): msg" -> "msg" */
                char *close_paren = strstr(e, "): ");
                char *text = close_paren ? close_paren + 3 : e;
                text[strcspn(text, "\n")] = 0;
                size_t len = strlen(text);
                if (k + len + 2 > n)
                        break;
                if (k)
                        out[k++] = '\n';
                memcpy(out + k, text, len + 1);
                k += len;
        }
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        int r = flag == FTW_DP ? rmdir(path) : unlink(path);
        return r < 0 && errno != ENOENT ? -1 : 0;
}

int ckpt_rm_rf(const char *path) {
        if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 0;
}
