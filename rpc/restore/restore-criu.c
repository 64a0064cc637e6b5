/* restore-criu.h */
#include "restore-criu.h"
#include "cleanup.h"
#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUNC_OPTIONS_TYPE "containerd.runc.v1.Options"

int rcriu_workdir_make(char ret[PATH_MAX]) {
        char tmpl[] = "/var/tmp/ckptfs-restore-XXXXXX";
        if (!mkdtemp(tmpl))
                return -errno;
        memcpy(ret, tmpl, sizeof(tmpl));
        return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

void rcriu_workdir_remove(const char *dir) {
        if (dir && *dir)
                (void) nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void *remove_thread(void *dir) {
        rcriu_workdir_remove(dir);
        free(dir);
        return NULL;
}

void rcriu_workdir_remove_async(const char *dir) {
        if (!dir || !*dir)
                return;
        char *copy = strdup(dir);
        pthread_attr_t attr;
        pthread_t th;
        bool started = copy && pthread_attr_init(&attr) == 0;
        if (started) {
                (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                started = pthread_create(&th, &attr, remove_thread, copy) == 0;
                pthread_attr_destroy(&attr);
        }
        if (!started) {
                rcriu_workdir_remove(dir);
                free(copy);
        }
}

int rcriu_task_options(const Google__Protobuf__Any *runtime_options, const char *work, const char *image,
                       Google__Protobuf__Any *ret_any, uint8_t **ret_buf) {
        Containerd__Runc__V1__Options empty = CONTAINERD__RUNC__V1__OPTIONS__INIT, *o = &empty;
        _cleanup_pb_msg_ Containerd__Runc__V1__Options *decoded = NULL;
        const Google__Protobuf__Any *rt = runtime_options;
        if (rt && rt->type_url && *rt->type_url) {
                const char *slash = strrchr(rt->type_url, '/');
                if (strcmp(slash ? slash + 1 : rt->type_url, RUNC_OPTIONS_TYPE) != 0)
                        return -EOPNOTSUPP;
                if (pb_msg_unpack(&containerd__runc__v1__options__descriptor, rt->value.data, rt->value.len,
                                  (ProtobufCMessage **) &decoded) < 0)
                        return -EBADMSG;
                o = decoded;
        }
        char *saved = o->criu_work_path, *saved_image = o->criu_image_path;
        o->criu_work_path = (char *) work;
        if (image)
                o->criu_image_path = (char *) image;
        uint8_t *buf = NULL;
        size_t len = 0;
        int r = pb_msg_pack(&o->base, &buf, &len);
        o->criu_work_path = saved;   /* the decoded message frees its own */
        o->criu_image_path = saved_image;
        if (r < 0)
                return r;
        *ret_any = (Google__Protobuf__Any) GOOGLE__PROTOBUF__ANY__INIT;
        ret_any->type_url = (char *) RUNC_OPTIONS_TYPE;
        ret_any->value.data = buf;
        ret_any->value.len = len;
        *ret_buf = buf;
        return 0;
}

/* The words of one CRIU log line "(00.0123)  1: Error (file.c:12): words",
 * or NULL (*ret_len 0) when it is no error line. */
static const char *error_words(const char *line, size_t n, size_t *ret_len) {
        const char *e = memmem(line, n, "Error (", 7);
        if (!e)
                return NULL;
        const char *end = line + n;
        const char *w = memmem(e, (size_t) (end - e), "): ", 3);
        w = w ? w + 3 : e;
        *ret_len = (size_t) (end - w);
        return *ret_len ? w : NULL;
}

int rcriu_log_errors(const char *text, size_t len, size_t max, char *buf, size_t size) {
        size_t n = 0, off = 0;
        if (size)
                buf[0] = '\0';
        for (const char *p = text, *end = text + len; n < max && p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t ll = nl ? (size_t) (nl - p) : (size_t) (end - p), wl;
                const char *w = error_words(p, ll, &wl);
                p += ll + 1;
                /* CRIU goes on after failing to raise its own fd limit. */
                if (!w || (wl >= 7 && memcmp(w, "rlimit:", 7) == 0))
                        continue;
                if (off + 1 < size) {
                        int k = snprintf(buf + off, size - off, "%s%.*s", n ? "; " : "", (int) wl, w);
                        off = k < 0 ? off : off + (size_t) k >= size ? size - 1 : off + (size_t) k;
                }
                n++;
        }
        return (int) n;
}

int rcriu_workdir_errors(const char *work, char *buf, size_t size) {
        char path[PATH_MAX];
        if (!work || !*work || path_join(path, sizeof(path), work, "restore.log", NULL) < 0)
                return 0;
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        /* The first errors say why; a log is tens of KiB. */
        enum { TAIL = 1024 * 1024 };
        _cleanup_free_ char *text = malloc(TAIL);
        if (!text)
                return 0;
        size_t len = fread(text, 1, TAIL, f);
        return rcriu_log_errors(text, len, 3, buf, size);
}
