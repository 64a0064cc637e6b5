#include "checkpoint-journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hash.h"
#include "json.h"

void ckpt_job_clear(ckpt_job *j) {
        free(j->ns);
        free(j->id);
        free(j->lease);
        free(j->dump_dir);
        *j = (ckpt_job) { 0 };
}

int ckpt_journal_dir(const char *root, const char *address, char **ret) {
        root = root ? root : CKPT_JOURNAL_ROOT;
        if (mkdir(root, 0700) < 0 && errno != EEXIST)
                return -errno;
        char *d = NULL;
        if (asprintf(&d, "%s/%016llx", root, (unsigned long long) fnv1a_str(FNV1A_INIT, address)) < 0)
                return -ENOMEM;
        if (mkdir(d, 0700) < 0 && errno != EEXIST) {
                int r = -errno;
                free(d);
                return r;
        }
        *ret = d;
        return 0;
}

/* containerd's identifiers never hold '/' nor start with '.': a record's
 * name cannot leave the directory or hide. */
static bool name_ok(const char *s) {
        return s && *s && *s != '.' && !strchr(s, '/') && !strchr(s, '@') && strlen(s) < 128;
}

static int record_path(const char *dir, const char *ns, const char *id, const char *ext, char **ret) {
        if (!name_ok(ns) || !name_ok(id))
                return -EINVAL;
        return asprintf(ret, "%s/%s@%s.%s", dir, ns, id, ext) < 0 ? -ENOMEM : 0;
}

static json_t *job_json(const ckpt_job *j) {
        return json_pack("{s:I, s:I, s:s, s:s, s:s?, s:s?, s:b, s:b}", "owner", (json_int_t) j->owner,
                         "owner_start", (json_int_t) j->owner_start, "ns", j->ns, "id", j->id, "lease", j->lease,
                         "dump_dir", j->dump_dir, "paused_by_us", j->paused_by_us, "resumed", j->resumed);
}

int ckpt_journal_write(const char *dir, const ckpt_job *job) {
        _cleanup_free_ char *path = NULL, *tmp = NULL, *text = NULL;
        size_t len;
        int r = record_path(dir, job->ns, job->id, "json", &path);
        if (r < 0)
                return r;
        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        _cleanup_json_ json_t *j = job_json(job);
        r = json_dump_text(j, JSON_COMPACT | JSON_SORT_KEYS, &text, &len);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        /* No fsync: the directory is a tmpfs, and what it guards (a paused
         * task) does not survive a reboot either. */
        if (write(fd, text, len) != (ssize_t) len)
                return errno ? -errno : -EIO;
        if (rename(tmp, path) < 0)
                return -errno;
        return 0;
}

int ckpt_journal_remove(const char *dir, const char *ns, const char *id) {
        _cleanup_free_ char *path = NULL;
        int r = record_path(dir, ns, id, "json", &path);
        if (r < 0)
                return r;
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static char *dup_or_null(json_t *v) {
        const char *s = json_string_value(v);
        return s ? strdup(s) : NULL;
}

static int job_parse(const char *path, ckpt_job *ret) {
        _cleanup_json_ json_t *j = json_load_file(path, 0, NULL);
        if (!json_is_object(j))
                return -EBADMSG;
        ckpt_job job = {
                .owner = (pid_t) json_integer_value(json_object_get(j, "owner")),
                .owner_start = (uint64_t) json_integer_value(json_object_get(j, "owner_start")),
                .ns = dup_or_null(json_object_get(j, "ns")),
                .id = dup_or_null(json_object_get(j, "id")),
                .lease = dup_or_null(json_object_get(j, "lease")),
                .dump_dir = dup_or_null(json_object_get(j, "dump_dir")),
                .paused_by_us = json_is_true(json_object_get(j, "paused_by_us")),
                .resumed = json_is_true(json_object_get(j, "resumed")),
        };
        if (job.owner <= 0 || !name_ok(job.ns) || !name_ok(job.id)) {
                ckpt_job_clear(&job);
                return -EBADMSG;
        }
        *ret = job;
        return 0;
}

int ckpt_journal_list(const char *dir, ckpt_job **ret, size_t *ret_n) {
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? (*ret = NULL, *ret_n = 0, 0) : -errno;
        ckpt_job *v = NULL;
        size_t n = 0;
        int r = 0;
        for (struct dirent *e; r >= 0 && (e = readdir(d));) {
                size_t len = strlen(e->d_name);
                if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
                        continue;
                _cleanup_free_ char *path = NULL;
                ckpt_job job;
                if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (job_parse(path, &job) < 0)
                        continue;
                ckpt_job *nv = realloc(v, (n + 1) * sizeof(*nv));
                if (!nv) {
                        ckpt_job_clear(&job);
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                v[n++] = job;
        }
        closedir(d);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        ckpt_job_clear(&v[i]);
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

uint64_t ckpt_process_start(pid_t pid) {
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* The command may hold spaces and parentheses: count from the last ')'. */
        const char *p = strrchr(buf, ')');
        unsigned long long start = 0;
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                         &start) != 1)
                return 0;
        return start;
}

int ckpt_journal_lock(const char *dir, const char *ns, const char *id, int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        int r = record_path(dir, ns, id, "lock", &path);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
