/* Blob reading: the content store's file when we can, Content.Read when not. */
#include "blob.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "containerd.h"
#include "path.h"

/* A local blob file that was read whole and matched its digest. */
typedef struct verified_file {
        char digest[DIGEST_MAX];
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec ctime;   /* changes with every write, and cannot be set back */
} verified_file;

struct store_blobs {
        rpc_client *rpc;
        char *root;
        pthread_mutex_t verified_lock;
        verified_file *verified;
        size_t n_verified, cap_verified;
};

int store_blobs_new(rpc_client *rpc, const char *content_root, store_blobs **ret) {
        _cleanup_free_ store_blobs *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->rpc = rpc;
        pthread_mutex_init(&b->verified_lock, NULL);
        if (content_root && !(b->root = strdup(content_root)))
                return -ENOMEM;
        *ret = TAKE_PTR(b);
        return 0;
}

store_blobs *store_blobs_free(store_blobs *b) {
        if (b) {
                free(b->root);
                free(b->verified);
                pthread_mutex_destroy(&b->verified_lock);
                free(b);
        }
        return NULL;
}

static bool same_file(const verified_file *v, const char *digest, const struct stat *st) {
        return strcmp(v->digest, digest) == 0 && v->dev == st->st_dev && v->ino == st->st_ino &&
               v->size == st->st_size && v->ctime.tv_sec == st->st_ctim.tv_sec &&
               v->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Linear: the list holds the blobs read whole since the mount started. */
static verified_file *find_verified(store_blobs *b, const char *digest, const struct stat *st) {
        for (size_t i = 0; i < b->n_verified; i++)
                if (same_file(&b->verified[i], digest, st))
                        return &b->verified[i];
        return NULL;
}

static int mark_verified(store_blobs *b, const char *digest, const struct stat *st) {
        int r = 0;
        pthread_mutex_lock(&b->verified_lock);
        if (!find_verified(b, digest, st)) {
                if (b->n_verified == b->cap_verified) {
                        size_t cap = b->cap_verified ? 2 * b->cap_verified : 16;
                        verified_file *v = reallocarray(b->verified, cap, sizeof(*v));
                        if (!v)
                                r = -ENOMEM;
                        else {
                                b->verified = v;
                                b->cap_verified = cap;
                        }
                }
                if (r == 0) {
                        verified_file *v = &b->verified[b->n_verified++];
                        strcpy(v->digest, digest);   /* valid: fits */
                        v->dev = st->st_dev;
                        v->ino = st->st_ino;
                        v->size = st->st_size;
                        v->ctime = st->st_ctim;
                }
        }
        pthread_mutex_unlock(&b->verified_lock);
        return r;
}

static bool is_verified(store_blobs *b, const char *digest, const struct stat *st) {
        pthread_mutex_lock(&b->verified_lock);
        bool found = find_verified(b, digest, st) != NULL;
        pthread_mutex_unlock(&b->verified_lock);
        return found;
}

int store_blobs_verify_file(store_blobs *b, const char *digest, int fd) {
        /* The identity from before the read is what gets remembered: a file
         * changed meanwhile no longer matches it and is read again. */
        struct stat st;
        if (!digest_valid(digest))
                return -EINVAL;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (is_verified(b, digest, &st))
                return 0;
        store_blob_verifier *v;
        int r = store_blob_verifier_new(digest, (uint64_t) st.st_size, &v);
        if (r < 0)
                return r;
        (void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        enum { CHUNK = 1 << 20 };
        _cleanup_free_ uint8_t *buf = malloc(CHUNK);
        uint64_t off = 0;
        r = buf ? 0 : -ENOMEM;
        while (r == 0 && off < (uint64_t) st.st_size) {
                ssize_t n = pread(fd, buf, CHUNK, (off_t) off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        r = n < 0 ? -errno : -EIO;   /* shorter than it said */
                else {
                        r = store_blob_verifier_feed(v, buf, (size_t) n, off);
                        off += (uint64_t) n;
                }
        }
        if (r == 0 && !store_blob_verifier_matched(v))
                r = -EIO;   /* a failed hash, or a file shorter than it said */
        store_blob_verifier_free(v);
        return r < 0 ? r : mark_verified(b, digest, &st);
}

const char *store_blobs_root(const store_blobs *b) {
        return b->root;
}

int store_blobs_discover_root(store_blobs *b) {
        static const char *const filters[] = { "type==io.containerd.content.v1" };
        _cleanup_pb_msg_ rpc_plugin_list *resp = NULL;
        int r = rpc_introspection_plugins(b->rpc, NULL, filters, ELEMENTSOF(filters), &resp, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < resp->n_plugins; i++) {
                const char *root = rpc_plugin_export(resp->plugins[i], "root");
                if (!root || strcmp(resp->plugins[i]->type, "io.containerd.content.v1") != 0)
                        continue;
                char dir[PATH_MAX];
                if (path_join(dir, sizeof(dir), root, "blobs", "sha256", NULL) < 0)
                        return -ENAMETOOLONG;
                /* Only a store we can actually read is a fast path. */
                if (access(dir, R_OK | X_OK) < 0)
                        return -ENOENT;
                char *copy = strdup(root);
                if (!copy)
                        return -ENOMEM;
                free(b->root);
                b->root = copy;
                return 0;
        }
        return -ENOENT;
}

/* ---- Content.Read backend ---------------------------------------------- */

typedef struct api_ctx {
        rpc_client *rpc;
        char *ns;
        char *digest;
} api_ctx;

static void api_ctx_free(void *p) {
        api_ctx *c = p;
        if (c) {
                free(c->ns);
                free(c->digest);
                free(c);
        }
}

typedef struct copy_state {
        uint8_t *buf;
        size_t cap;
} copy_state;

static int copy_chunk(const uint8_t *data, size_t len, uint64_t offset, void *userdata) {
        copy_state *s = userdata;
        if (len > s->cap)
                return -EIO;
        memcpy(s->buf, data, len);
        s->buf += len;
        s->cap -= len;
        return 0;
}

static ssize_t api_pread(void *ctx, void *buf, size_t len, uint64_t off) {
        api_ctx *c = ctx;
        copy_state s = { .buf = buf, .cap = len };
        rpc_opts o = { .ns = c->ns };
        if (len == 0)
                return 0;
        int64_t n = rpc_content_read(c->rpc, &o, c->digest, off, len, copy_chunk, &s, NULL);
        return (ssize_t) n;
}

static int open_api(store_blobs *b, const char *ns, const char *digest, uint64_t size, struct store_reader **ret) {
        api_ctx *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->rpc = b->rpc;
        c->ns = strdup(ns);
        c->digest = strdup(digest);
        if (!c->ns || !c->digest) {
                api_ctx_free(c);
                return -ENOMEM;
        }
        int r = store_reader_new(api_pread, api_ctx_free, c, size, ret);
        if (r < 0)
                api_ctx_free(c);
        return r;
}

static int open_local(store_blobs *b, const char *digest, uint64_t size, struct store_reader **ret) {
        if (!b->root)
                return -ENOENT;
        char path[PATH_MAX];
        if (path_join(path, sizeof(path), b->root, "blobs", "sha256", digest + strlen(DIGEST_PREFIX), NULL) < 0)
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        struct store_reader *rd;
        int r = store_reader_from_fd(fd, &rd);   /* checks it is a regular file */
        if (r < 0)
                return r;
        TAKE_FD(fd);
        if (rd->size != size) {
                store_reader_free(rd);
                return -ENOENT;
        }
        *ret = rd;
        return 0;
}

int store_blob_open(store_blobs *b, const char *ns, const char *digest, uint64_t size,
                    struct store_reader **ret) {
        if (!digest_valid(digest))
                return -EINVAL;
        if (open_local(b, digest, size, ret) == 0)
                return 0;
        return open_api(b, ns, digest, size, ret);
}

int store_blob_read_all(store_blobs *b, const char *ns, const char *digest, uint64_t size, uint64_t max,
                        uint8_t **ret, size_t *ret_len) {
        if (size > max)
                return -EFBIG;
        _cleanup_(store_reader_freep) struct store_reader *rd = NULL;
        int r = store_blob_open(b, ns, digest, size, &rd);
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *buf = malloc(size + 1);
        if (!buf)
                return -ENOMEM;
        r = store_reader_read_exact(rd, buf, size, 0);
        if (r == -ENODATA)
                return -EIO;
        if (r < 0)
                return r;
        buf[size] = 0;
        char got[DIGEST_MAX];
        r = digest_of(buf, size, got);
        if (r < 0)
                return r;
        if (strcmp(got, digest) != 0)
                return -EIO;
        *ret = TAKE_PTR(buf);
        *ret_len = size;
        return 0;
}
