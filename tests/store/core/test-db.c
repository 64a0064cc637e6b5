/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "cleanup.h"
#include "db.h"
#include "schema.h"
#include "gzindex-internal.h"

struct fixture {
        char *dir;
        char *path;
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        f->dir = th_mkdtemp();
        /* A directory that does not exist yet: the store creates it 0700. */
        if (asprintf(&f->path, "%s/state/cache/ckptfs.db", f->dir) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        th_rm_rf(f->dir);
        free(f->dir);
        free(f->path);
        free(f);
        return 0;
}

/* The schema version of the file at path, read on a connection of its own. */
static int schema_version_at(const char *path) {
        sqlite3 *h = NULL;
        int v = -1;

        assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(store_schema_version(h, &v), 0);
        sqlite3_close(h);
        return v;
}

struct image_lookup {
        const char *name;
        struct store_image *found;
};

static char *copy_str(char **p, const char *s) {
        char *d = *p;

        if (!s)
                return NULL;
        strcpy(d, s);
        *p += strlen(s) + 1;
        return d;
}

static int lookup_image(const struct store_image *img, void *userdata) {
        struct image_lookup *l = userdata;
        size_t n = sizeof(*img) + strlen(img->ns) + strlen(img->name) + strlen(img->target_digest) +
                   strlen(img->target_mediatype) + (img->labels_json ? strlen(img->labels_json) : 0) + 5;
        struct store_image *c;
        char *p;

        if (strcmp(img->name, l->name) != 0)
                return 0;
        c = malloc(n);
        assert_non_null(c);
        p = (char *) (c + 1);
        *c = *img;
        c->ns = copy_str(&p, img->ns);
        c->name = copy_str(&p, img->name);
        c->target_digest = copy_str(&p, img->target_digest);
        c->target_mediatype = copy_str(&p, img->target_mediatype);
        c->labels_json = copy_str(&p, img->labels_json);
        l->found = c;
        return 0;
}

/* The image (ns, name) as one allocation, found through the listing (the
 * store serves images as lists); -ENOENT when there is none. */
static int get_image(struct store_db *db, const char *ns, const char *name, struct store_image **ret) {
        struct image_lookup l = { .name = name };
        int k = store_db_list_images(db, ns, lookup_image, &l);

        if (k < 0)
                return k;
        if (!l.found)
                return -ENOENT;
        *ret = l.found;
        return 0;
}

static void test_open_modes(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_free_ char *dir = NULL;
        struct stat st;

        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_null(store_db_moved_aside(db));
        assert_int_equal(schema_version_at(f->path), STORE_SCHEMA_LATEST);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        dir = strndup(f->path, strrchr(f->path, '/') - f->path);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        /* Write something so that the WAL exists, and check its mode too. */
        assert_int_equal(store_db_put_blob(db, &(struct store_blob) { .digest = "sha256:aa", .size = 1 }), 0);
        {
                _cleanup_free_ char *wal = NULL;
                assert_int_not_equal(asprintf(&wal, "%s-wal", f->path), -1);
                assert_int_equal(stat(wal, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0600);
        }
        store_db_close(TAKE_PTR(db));

        /* A wider mode is tightened on open. */
        assert_int_equal(chmod(f->path, 0644), 0);
        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        {
                _cleanup_free_ struct store_blob *b = NULL;
                assert_int_equal(store_db_get_blob(db, "sha256:aa", &b), 0); /* data survived */
        }
}

/* ---- images ---- */

struct collected {
        int n;
        char names[16][64];
        char labels[16][64];
};

static int collect_image(const struct store_image *img, void *userdata) {
        struct collected *c = userdata;
        snprintf(c->names[c->n], sizeof(c->names[0]), "%s/%s", img->ns, img->name);
        snprintf(c->labels[c->n], sizeof(c->labels[0]), "%s", img->labels_json ? img->labels_json : "-");
        c->n++;
        return 0;
}

static void test_images(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_free_ struct store_image *got = NULL;
        struct collected c = {};
        struct store_image img = {
                .ns = "default", .name = "ckpt:1", .target_digest = "sha256:1111",
                .target_mediatype = "application/vnd.oci.image.index.v1+json", .target_size = 1234,
                .created = 1700000000123456789, .updated = 1700000001000000000,
                .labels_json = "{\"containerd.io/checkpoint\":\"true\"}",
        };

        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_int_equal(get_image(db, "default", "ckpt:1", &got), -ENOENT);
        assert_null(got);
        assert_int_equal(store_db_put_image(db, &img), 0);
        assert_int_equal(get_image(db, "default", "ckpt:1", &got), 0);
        assert_string_equal(got->ns, "default");
        assert_string_equal(got->name, "ckpt:1");
        assert_string_equal(got->target_digest, "sha256:1111");
        assert_string_equal(got->target_mediatype, img.target_mediatype);
        assert_int_equal(got->target_size, 1234);
        assert_int_equal(got->created, 1700000000123456789);
        assert_int_equal(got->updated, 1700000001000000000);
        assert_string_equal(got->labels_json, img.labels_json);
        free(TAKE_PTR(got));

        /* Upsert. */
        img.target_size = 99;
        img.labels_json = NULL;
        assert_int_equal(store_db_put_image(db, &img), 0);
        assert_int_equal(get_image(db, "default", "ckpt:1", &got), 0);
        assert_int_equal(got->target_size, 99);
        assert_null(got->labels_json);
        free(TAKE_PTR(got));

        /* Schema checks surface as -EINVAL. */
        img.labels_json = "{not json";
        assert_int_equal(store_db_put_image(db, &img), -EINVAL);
        img.labels_json = NULL;
        img.target_size = UINT64_MAX;
        assert_int_equal(store_db_put_image(db, &img), -EINVAL);
        img.target_size = 1;
        img.target_digest = NULL;
        assert_int_equal(store_db_put_image(db, &img), -EINVAL);
        img.target_digest = "sha256:1111";

        /* Full resync of one namespace leaves the others alone. */
        img.ns = "other";
        img.name = "keep";
        assert_int_equal(store_db_put_image(db, &img), 0);
        struct store_image set[3] = { img, img, img };
        for (int i = 0; i < 3; i++) {
                set[i].ns = "default";
                set[i].name = (const char *[]) { "b", "a", "c" }[i];
        }
        set[1].labels_json = "{\"x\":\"y\"}";
        assert_int_equal(store_db_replace_images(db, "default", set, 3), 0);
        assert_int_equal(store_db_list_images(db, "default", collect_image, &c), 3);
        assert_string_equal(c.names[0], "default/a");
        assert_string_equal(c.labels[0], "{\"x\":\"y\"}");
        assert_string_equal(c.names[1], "default/b");
        assert_string_equal(c.names[2], "default/c");
        c = (struct collected) {};
        assert_int_equal(store_db_list_images(db, NULL, collect_image, &c), 4);
        assert_string_equal(c.names[3], "other/keep");

        /* A failing resync (bad row) keeps the old contents. */
        set[2].labels_json = "[broken";
        assert_int_equal(store_db_replace_images(db, "default", set, 3), -EINVAL);
        set[2].ns = "other";
        assert_int_equal(store_db_replace_images(db, "default", set, 3), -EINVAL);
        c = (struct collected) {};
        assert_int_equal(store_db_list_images(db, "default", collect_image, &c), 3);
        assert_int_equal(store_db_replace_images(db, "default", NULL, 0), 0);
        assert_int_equal(store_db_list_images(db, "default", collect_image, &c), 0);

        assert_int_equal(store_db_replace_images(db, "other", NULL, 0), 0);
        assert_int_equal(store_db_list_images(db, NULL, collect_image, &c), 0);
}

static int stop_cb(const struct store_image *img, void *userdata) {
        (void) img;
        return ++*(int *) userdata == 2 ? -EINTR : 0;
}

struct reentry {
        struct store_db *db;
        int inner;
};

static int reenter_cb(const struct store_image *img, void *userdata) {
        struct reentry *r = userdata;
        _cleanup_free_ struct store_blob *b = NULL;
        (void) img;
        r->inner = store_db_get_blob(r->db, "x", &b);
        return 0;
}

static void test_callbacks(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        struct store_image img = { .ns = "n", .target_digest = "d", .target_mediatype = "m" };
        struct reentry r = {};
        int seen = 0;

        assert_int_equal(store_db_open(f->path, &db), 0);
        for (int i = 0; i < 5; i++) {
                char name[8];
                snprintf(name, sizeof(name), "i%d", i);
                img.name = name;
                assert_int_equal(store_db_put_image(db, &img), 0);
        }
        assert_int_equal(store_db_list_images(db, "n", stop_cb, &seen), -EINTR);
        assert_int_equal(seen, 2);
        /* Calling back into the db from a callback is refused, not deadlocked. */
        r.db = db;
        assert_int_equal(store_db_list_images(db, "n", reenter_cb, &r), 5);
        assert_int_equal(r.inner, -EDEADLK);
}

/* ---- blobs and descriptors ---- */

struct descs {
        int n;
        struct store_descriptor d[8];
        char strs[8][4][128];
};

static int collect_desc(const struct store_descriptor *d, void *userdata) {
        struct descs *c = userdata;
        c->d[c->n] = *d;
        snprintf(c->strs[c->n][0], 128, "%s", d->digest);
        snprintf(c->strs[c->n][1], 128, "%s", d->mediatype);
        snprintf(c->strs[c->n][2], 128, "%s", d->annotations_json ? d->annotations_json : "-");
        snprintf(c->strs[c->n][3], 128, "%s", d->platform_json ? d->platform_json : "-");
        c->n++;
        return 0;
}

static void test_blobs_descriptors(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_free_ struct store_blob *b = NULL;
        struct descs c = {};
        const struct store_descriptor ds[3] = {
                { .digest = "sha256:opts", .mediatype = "application/vnd.containerd.container.checkpoint.runtime.options+proto",
                  .size = 10 },
                { .digest = "sha256:rw", .mediatype = "application/vnd.oci.image.layer.v1.tar+gzip", .size = 20,
                  .annotations_json = "{\"a\":\"b\"}" },
                { .digest = "sha256:criu", .mediatype = "application/vnd.containerd.container.criu.checkpoint.criu.tar",
                  .size = 30, .platform_json = "{\"architecture\":\"amd64\",\"os\":\"linux\"}" },
        };

        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_int_equal(store_db_put_blob(db, &(struct store_blob) { .digest = "sha256:idx", .size = 5,
                                                                      .mediatype = "application/vnd.oci.image.index.v1+json" }), 0);
        assert_int_equal(store_db_put_blob(db, &(struct store_blob) { .digest = "sha256:nomt", .size = 0 }), 0);
        assert_int_equal(store_db_get_blob(db, "sha256:idx", &b), 0);
        assert_string_equal(b->digest, "sha256:idx");
        assert_string_equal(b->mediatype, "application/vnd.oci.image.index.v1+json");
        assert_int_equal(b->size, 5);
        free(TAKE_PTR(b));
        assert_int_equal(store_db_get_blob(db, "sha256:nomt", &b), 0);
        assert_null(b->mediatype);
        free(TAKE_PTR(b));

        assert_int_equal(store_db_list_descriptors(db, "sha256:idx", collect_desc, &c), 0);
        assert_int_equal(store_db_put_descriptors(db, "sha256:idx", ds, 3), 0);
        assert_int_equal(store_db_list_descriptors(db, "sha256:idx", collect_desc, &c), 3);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(c.d[i].idx, i);
                assert_int_equal(c.d[i].size, ds[i].size);
                assert_string_equal(c.strs[i][0], ds[i].digest);
                assert_string_equal(c.strs[i][1], ds[i].mediatype);
        }
        assert_string_equal(c.strs[0][2], "-");
        assert_string_equal(c.strs[1][2], "{\"a\":\"b\"}");
        assert_string_equal(c.strs[2][3], ds[2].platform_json);
        /* Replacing shrinks the list. */
        c = (struct descs) {};
        assert_int_equal(store_db_put_descriptors(db, "sha256:idx", ds + 2, 1), 0);
        assert_int_equal(store_db_list_descriptors(db, "sha256:idx", collect_desc, &c), 1);
        assert_string_equal(c.strs[0][0], "sha256:criu");
        assert_int_equal(c.d[0].idx, 0);

        /* Deleting a blob drops what was derived from it. */
        assert_int_equal(store_db_delete_blob(db, "sha256:idx"), 0);
        assert_int_equal(store_db_get_blob(db, "sha256:idx", &b), -ENOENT);
        assert_int_equal(store_db_list_descriptors(db, "sha256:idx", collect_desc, &c), 0);
        assert_int_equal(store_db_delete_blob(db, "sha256:idx"), -ENOENT);
}

/* ---- tar members and gzip indexes ---- */

static void test_tar_members(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        const struct tar_member *m;
        const struct tar_member ms[4] = {
                { .path = "", .type = TAR_TYPE_DIR, .mode = 0755, .mtime_sec = -5, .header_offset = 0,
                  .data_offset = 512 },
                { .path = "etc/passwd", .type = TAR_TYPE_REG, .mode = 0644, .uid = 4000000000u, .gid = 7,
                  .uname = "root", .gname = "wheel", .size = 1ull << 40, .mtime_sec = 1700000000,
                  .mtime_nsec = 999999999, .header_offset = 512, .data_offset = 1024 },
                { .path = "dev/x", .type = TAR_TYPE_CHAR, .devmajor = 1, .devminor = 3,
                  .flags = TAR_MEMBER_WHITEOUT, .link_target = NULL },
                { .path = "etc/passwd", .type = TAR_TYPE_SYMLINK, .link_target = "../shadow",
                  .data_offset = 4096 },
        };

        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_int_equal(store_db_get_tar_members(db, "sha256:t", &idx), -ENOENT);
        assert_int_equal(store_db_put_tar_members(db, "sha256:t", ms, 4), 0);
        assert_int_equal(store_db_get_tar_members(db, "sha256:t", &idx), 0);
        assert_int_equal(idx->n, 4);
        for (size_t i = 0; i < 4; i++) {
                const struct tar_member *a = &idx->members[i], *e = &ms[i];
                assert_string_equal(a->path, e->path);
                assert_int_equal(a->type, e->type);
                assert_int_equal(a->mode, e->mode);
                assert_int_equal(a->uid, e->uid);
                assert_int_equal(a->gid, e->gid);
                assert_int_equal(a->size, e->size);
                assert_int_equal(a->mtime_sec, e->mtime_sec);
                assert_int_equal(a->mtime_nsec, e->mtime_nsec);
                assert_int_equal(a->devmajor, e->devmajor);
                assert_int_equal(a->devminor, e->devminor);
                assert_int_equal(a->flags, e->flags);
                assert_int_equal(a->header_offset, e->header_offset);
                assert_int_equal(a->data_offset, e->data_offset);
                if (e->uname)
                        assert_string_equal(a->uname, e->uname);
                else
                        assert_null(a->uname);
                if (e->gname)
                        assert_string_equal(a->gname, e->gname);
                if (e->link_target)
                        assert_string_equal(a->link_target, e->link_target);
                else
                        assert_null(a->link_target);
        }
        tar_index_free(TAKE_PTR(idx));

        /* The last of duplicated paths wins in the loaded index. */
        assert_int_equal(store_db_get_tar_members(db, "sha256:t", &idx), 0);
        m = tar_index_find(idx, "etc/passwd");
        assert_non_null(m);
        assert_int_equal(m->type, TAR_TYPE_SYMLINK);
        assert_string_equal(m->link_target, "../shadow");
        assert_null(tar_index_find(idx, "etc"));
        tar_index_free(TAKE_PTR(idx));

        /* An indexed empty archive differs from an unindexed one. */
        assert_int_equal(store_db_put_tar_members(db, "sha256:empty", NULL, 0), 0);
        assert_int_equal(store_db_get_tar_members(db, "sha256:empty", &idx), 0);
        assert_int_equal(idx->n, 0);
        tar_index_free(TAKE_PTR(idx));

        /* Re-indexing replaces; bad members roll the whole put back. */
        assert_int_equal(store_db_put_tar_members(db, "sha256:t", ms + 1, 1), 0);
        assert_int_equal(store_db_get_tar_members(db, "sha256:t", &idx), 0);
        assert_int_equal(idx->n, 1);
        tar_index_free(TAKE_PTR(idx));
        struct tar_member bad[2] = { ms[0], ms[1] };
        bad[1].size = UINT64_MAX;
        assert_int_equal(store_db_put_tar_members(db, "sha256:t", bad, 2), -EINVAL);
        assert_int_equal(store_db_get_tar_members(db, "sha256:t", &idx), 0);
        assert_int_equal(idx->n, 1);
        tar_index_free(TAKE_PTR(idx));

        /* Deleting the blob takes its tar index along. */
        assert_int_equal(store_db_delete_blob(db, "sha256:t"), 0);
        assert_int_equal(store_db_get_tar_members(db, "sha256:t", &idx), -ENOENT);
        assert_int_equal(store_db_delete_blob(db, "sha256:t"), -ENOENT);
}

static void test_tar_members_many(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        struct tar_member *ms = calloc(20000, sizeof(*ms));
        const struct tar_member *m;

        for (int i = 0; i < 20000; i++) {
                assert_int_not_equal(asprintf(&ms[i].path, "d%d/f%d", i % 100, i), -1);
                ms[i].size = (uint64_t) i;
                ms[i].data_offset = (uint64_t) i * 512;
        }
        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_int_equal(store_db_put_tar_members(db, "sha256:many", ms, 20000), 0);
        assert_int_equal(store_db_get_tar_members(db, "sha256:many", &idx), 0);
        assert_int_equal(idx->n, 20000);
        assert_string_equal(idx->members[12345].path, "d45/f12345");
        m = tar_index_find(idx, "d99/f19999");
        assert_non_null(m);
        assert_int_equal(m->size, 19999);
        for (int i = 0; i < 20000; i++)
                free(ms[i].path);
        free(ms);
}

static int count_rows(const char *path, const char *sql) {
        sqlite3 *h;
        sqlite3_stmt *st;
        int n;

        assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(h);
        return n;
}

static void exec_sql(const char *path, const char *sql) {
        sqlite3 *h;

        assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h);
}

static void test_gzindex(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_store_reader_ struct store_reader *r = NULL;
        _cleanup_gzindex_ struct gzindex *idx = NULL, *back = NULL;
        struct th_buf gz = {};
        const size_t plen = 3 << 20;
        uint8_t *plain = malloc(plen), buf[1000];
        uint64_t seed = 5;
        int n_windows;

        th_fill(&seed, plain, plen, 20);
        th_gzip(&gz, plain, plen, 6);
        assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &r), 0);
        assert_int_equal(gzindex_build(r, 256 << 10, &idx), 0);

        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_int_equal(store_db_get_gzindex(db, "sha256:gz", &back), -ENOENT);
        assert_int_equal(store_db_put_gzindex(db, "sha256:gz", idx), 0);
        /* One row per window (not the first point: the stream's start). */
        n_windows = count_rows(f->path, "SELECT count(*) FROM gz_windows WHERE blob_digest = 'sha256:gz'");
        assert_int_equal(n_windows, gzindex_n_points(idx) - 1);
        assert_int_equal(store_db_get_gzindex(db, "sha256:gz", &back), 0);
        assert_int_equal(gzindex_usize(back), plen);
        assert_int_equal(gzindex_n_points(back), gzindex_n_points(idx));
        assert_int_equal(gzindex_read(back, r, plen - 1000, buf, 1000), 1000);
        assert_memory_equal(buf, plain + plen - 1000, 1000);
        assert_false(gzindex_damaged(back));
        /* An index from this db cannot be put into it (its windows load through it). */
        assert_int_equal(store_db_put_gzindex(db, "sha256:gz", back), -EDEADLK);
        assert_int_equal(count_rows(f->path, "SELECT count(*) FROM gz_windows"), n_windows);
        gzindex_free(TAKE_PTR(back));
        /* Putting again replaces every row. */
        assert_int_equal(store_db_put_gzindex(db, "sha256:gz", idx), 0);
        assert_int_equal(count_rows(f->path, "SELECT count(*) FROM gz_windows"), n_windows);
        store_db_close(TAKE_PTR(db));

        /* Damaged stored points are reported, not used. */
        exec_sql(f->path, "UPDATE gz_indexes SET points = "  /* point 1's offset */
                          "substr(points, 1, 73) || x'ff' || substr(points, 75)");
        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_int_equal(store_db_get_gzindex(db, "sha256:gz", &back), -EBADMSG);
        assert_null(back);
        assert_int_equal(store_db_put_gzindex(db, "sha256:gz", idx), 0);
        store_db_close(TAKE_PTR(db));

        /* A damaged or missing window: the index loads (lazily), reads stay
         * right from an earlier point, and it says it is damaged; putting it
         * again (re-indexing) heals the cache. */
        for (int pass = 0; pass < 2; pass++) {
                exec_sql(f->path, pass == 0 ? "UPDATE gz_windows SET window = "
                                              "substr(window, 1, 100) || x'00' || substr(window, 102) "
                                              "WHERE point = (SELECT max(point) FROM gz_windows)"
                                            : "DELETE FROM gz_windows WHERE point = (SELECT max(point) FROM gz_windows)");
                assert_int_equal(store_db_open(f->path, &db), 0);
                assert_int_equal(store_db_get_gzindex(db, "sha256:gz", &back), 0);
                assert_false(gzindex_damaged(back));
                assert_int_equal(gzindex_read(back, r, plen - 1000, buf, 1000), 1000);
                assert_memory_equal(buf, plain + plen - 1000, 1000);
                assert_true(gzindex_damaged(back));
                gzindex_free(TAKE_PTR(back));
                assert_int_equal(store_db_put_gzindex(db, "sha256:gz", idx), 0);
                assert_int_equal(store_db_get_gzindex(db, "sha256:gz", &back), 0);
                assert_int_equal(gzindex_read(back, r, plen - 1000, buf, 1000), 1000);
                assert_memory_equal(buf, plain + plen - 1000, 1000);
                assert_false(gzindex_damaged(back));
                gzindex_free(TAKE_PTR(back));
                store_db_close(TAKE_PTR(db));
        }

        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_int_equal(store_db_delete_blob(db, "sha256:gz"), 0);
        assert_int_equal(store_db_delete_blob(db, "sha256:gz"), -ENOENT);
        assert_int_equal(count_rows(f->path, "SELECT count(*) FROM gz_windows"), 0);
        /* Deleting the blob takes its gzip index along. */
        assert_int_equal(store_db_put_blob(db, &(struct store_blob) { .digest = "sha256:gz", .size = gz.len }), 0);
        assert_int_equal(store_db_put_gzindex(db, "sha256:gz", idx), 0);
        assert_int_equal(store_db_delete_blob(db, "sha256:gz"), 0);
        assert_int_equal(store_db_get_gzindex(db, "sha256:gz", &back), -ENOENT);
        assert_int_equal(count_rows(f->path, "SELECT count(*) FROM gz_windows"), 0);
        th_buf_free(&gz);
        free(plain);
}

/* ---- migrations and untrusted files ---- */

static void test_migrations(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_free_ struct store_image *img = NULL;
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        const struct tar_member m = { .path = "x", .type = TAR_TYPE_REG };
        sqlite3 *h;
        int v = -1;

        /* Build a version-1 database as an older ckptfs would have left it. */
        assert_int_equal(store_db_open(f->path, &db), 0); /* creates the directory */
        store_db_close(TAKE_PTR(db));
        assert_int_equal(unlink(f->path), 0);
        assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
        assert_int_equal(store_schema_version(h, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(store_schema_migrate(h, 1), 0);
        assert_int_equal(store_schema_version(h, &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(sqlite3_exec(h, "INSERT INTO images VALUES ('ns', 'old', 'sha256:o', 'mt', 7, 1, 2, NULL);"
                                         "INSERT INTO blobs VALUES ('sha256:o', 'mt', 7);",
                                      NULL, NULL, NULL), SQLITE_OK);
        /* Tables of later versions do not exist yet. */
        assert_int_not_equal(sqlite3_exec(h, "SELECT * FROM tar_members", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(store_schema_migrate(h, 1), 0); /* idempotent */
        sqlite3_close(h);

        /* Opening migrates to the latest version and keeps the data. */
        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_null(store_db_moved_aside(db));
        assert_int_equal(schema_version_at(f->path), STORE_SCHEMA_LATEST);
        assert_int_equal(get_image(db, "ns", "old", &img), 0);
        assert_int_equal(img->target_size, 7);
        assert_int_equal(store_db_put_tar_members(db, "sha256:o", &m, 1), 0);
        assert_int_equal(store_db_get_tar_members(db, "sha256:o", &idx), 0);
        store_db_close(TAKE_PTR(db));

        /* Every step on its own, from empty. */
        assert_int_equal(sqlite3_open(":memory:", &h), SQLITE_OK);
        for (int target = 1; target <= STORE_SCHEMA_LATEST; target++) {
                assert_int_equal(store_schema_migrate(h, target), 0);
                assert_int_equal(store_schema_version(h, &v), 0);
                assert_int_equal(v, target);
        }
        assert_int_equal(store_schema_migrate(h, 1), -ESTALE);
        assert_int_equal(store_schema_migrate(h, STORE_SCHEMA_LATEST + 1), -EINVAL);
        sqlite3_close(h);
}

/* v2 -> v3: the one-blob gzip indexes are dropped (rebuilt on use), the
 * rest stays. */
static void test_migration_v3(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_tar_index_ struct tar_index *tidx = NULL;
        struct gzindex *gidx = NULL;
        const struct tar_member m = { .path = "x", .type = TAR_TYPE_REG };
        sqlite3 *h;
        int v = -1;

        assert_int_equal(store_db_open(f->path, &db), 0); /* creates the directory */
        store_db_close(TAKE_PTR(db));
        assert_int_equal(unlink(f->path), 0);
        assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
        assert_int_equal(store_schema_migrate(h, 2), 0);
        assert_int_equal(store_schema_version(h, &v), 0);
        assert_int_equal(v, 2);
        assert_int_equal(sqlite3_exec(h, "INSERT INTO tar_indexes VALUES ('sha256:t', 1);"
                                         "INSERT INTO tar_members (blob_digest, idx, path, type, mode, uid, gid, "
                                         "  size, mtime_sec, mtime_nsec, header_offset, data_offset) "
                                         "VALUES ('sha256:t', 0, 'x', 0, 420, 0, 0, 0, 0, 0, 0, 512);"
                                         "INSERT INTO gz_index VALUES ('sha256:t', 10, x'434b475a49445831');",
                                      NULL, NULL, NULL), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(h, "SELECT * FROM gz_windows", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h);

        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_null(store_db_moved_aside(db));
        assert_int_equal(schema_version_at(f->path), STORE_SCHEMA_LATEST);
        assert_int_equal(store_db_get_tar_members(db, "sha256:t", &tidx), 0);
        assert_int_equal(tidx->n, 1);
        assert_string_equal(tidx->members[0].path, "x");
        assert_int_equal(store_db_get_gzindex(db, "sha256:t", &gidx), -ENOENT);
        assert_int_equal(store_db_put_tar_members(db, "sha256:u", &m, 1), 0);
        store_db_close(TAKE_PTR(db));
        assert_int_equal(count_rows(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'gz_index'"), 0);
        assert_int_equal(count_rows(f->path, "SELECT count(*) FROM gz_indexes"), 0);
}

/* Checks that the file was moved aside and a fresh database is in place. */
static void assert_rebuilt(struct fixture *f, const char *expect_content, size_t len) {
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_free_ void *aside = NULL;
        _cleanup_free_ struct store_image *img = NULL;
        _cleanup_free_ char *name = NULL;
        size_t alen;
        struct stat st;

        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_non_null(store_db_moved_aside(db));
        name = strdup(store_db_moved_aside(db));
        assert_true(strncmp(name, f->path, strlen(f->path)) == 0);
        assert_true(strncmp(name + strlen(f->path), ".corrupt-", 9) == 0);
        if (expect_content) {
                assert_int_equal(th_read_file(name, &aside, &alen), 0);
                assert_int_equal(alen, len);
                assert_memory_equal(aside, expect_content, len);
        }
        assert_int_equal(schema_version_at(f->path), STORE_SCHEMA_LATEST);
        assert_int_equal(get_image(db, "ns", "x", &img), -ENOENT);
        assert_int_equal(store_db_put_image(db, &(struct store_image) { .ns = "ns", .name = "x",
                                                                        .target_digest = "d", .target_mediatype = "m" }), 0);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        store_db_close(TAKE_PTR(db));
        /* The rebuilt file is trusted next time. */
        assert_int_equal(store_db_open(f->path, &db), 0);
        assert_null(store_db_moved_aside(db));
        assert_int_equal(get_image(db, "ns", "x", &img), 0);
        /* Start the next case from scratch. */
        assert_int_equal(unlink(name), 0);
        store_db_close(TAKE_PTR(db));
        assert_int_equal(unlink(f->path), 0);
}

static int count_aside(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        while ((e = readdir(d)))
                n += strstr(e->d_name, ".corrupt-") != NULL;
        closedir(d);
        return n;
}

static void test_untrusted_files(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_free_ char *dir = strndup(f->path, strrchr(f->path, '/') - f->path);
        char garbage[8192];
        uint64_t seed = 77;
        sqlite3 *h;

        assert_int_equal(store_db_open(f->path, &db), 0); /* creates the directory */
        store_db_close(TAKE_PTR(db));
        assert_int_equal(unlink(f->path), 0);

        /* Not a database. */
        th_fill(&seed, (uint8_t *) garbage, sizeof(garbage), 100);
        assert_int_equal(th_write_file(f->path, garbage, sizeof(garbage)), 0);
        assert_rebuilt(f, garbage, sizeof(garbage));

        /* A text file that begins like one. */
        assert_int_equal(th_write_file(f->path, "SQLite format 3\0garbage", 23), 0);
        assert_rebuilt(f, NULL, 0);

        /* From the future. */
        assert_int_equal(store_db_open(f->path, &db), 0);
        store_db_close(TAKE_PTR(db));
        assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h);
        assert_rebuilt(f, NULL, 0);

        /* Somebody else's database. */
        assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(h);
        assert_rebuilt(f, NULL, 0);

        /* Damaged pages: quick_check fails. */
        assert_int_equal(store_db_open(f->path, &db), 0);
        {
                struct tar_member *ms = calloc(3000, sizeof(*ms));
                for (int i = 0; i < 3000; i++)
                        assert_int_not_equal(asprintf(&ms[i].path, "some/longish/path/%d", i), -1);
                assert_int_equal(store_db_put_tar_members(db, "sha256:x", ms, 3000), 0);
                for (int i = 0; i < 3000; i++)
                        free(ms[i].path);
                free(ms);
        }
        store_db_close(TAKE_PTR(db)); /* checkpoints the WAL into the file */
        {
                int fd = open(f->path, O_WRONLY);
                struct stat st;
                char junk[2048];
                assert_true(fd >= 0);
                assert_int_equal(fstat(fd, &st), 0);
                assert_true(st.st_size > 64 * 1024);
                memset(junk, 0x5a, sizeof(junk));
                /* Scribble over the middle of several b-tree pages. */
                for (off_t off = 8192 + 100; off < st.st_size - 4096; off += 16384)
                        assert_int_equal(pwrite(fd, junk, sizeof(junk), off), (ssize_t) sizeof(junk));
                close(fd);
        }
        assert_rebuilt(f, NULL, 0);

        /* A stale WAL next to a garbage file goes with it, not into the new db. */
        {
                _cleanup_free_ char *wal = NULL;
                assert_int_not_equal(asprintf(&wal, "%s-wal", f->path), -1);
                assert_int_equal(th_write_file(f->path, garbage, sizeof(garbage)), 0);
                assert_int_equal(th_write_file(wal, garbage, 1000), 0);
                assert_int_equal(store_db_open(f->path, &db), 0);
                assert_non_null(store_db_moved_aside(db));
                {
                        _cleanup_free_ char *moved_wal = NULL;
                        struct stat st;
                        assert_int_not_equal(asprintf(&moved_wal, "%s-wal", store_db_moved_aside(db)), -1);
                        assert_int_equal(stat(moved_wal, &st), 0);
                        assert_int_equal(st.st_size, 1000);
                }
                store_db_close(TAKE_PTR(db));
        }

        /* Two failures within the same second get distinct names. */
        assert_int_equal(th_write_file(f->path, garbage, sizeof(garbage)), 0);
        assert_int_equal(store_db_open(f->path, &db), 0);
        store_db_close(TAKE_PTR(db));
        assert_int_equal(th_write_file(f->path, garbage, sizeof(garbage)), 0);
        assert_int_equal(store_db_open(f->path, &db), 0);
        store_db_close(TAKE_PTR(db));
        assert_true(count_aside(dir) >= 3);
}

/* ---- threads ---- */

struct thread_arg {
        struct store_db *db;
        int id;
        int errors;
};

static void *thread_main(void *p) {
        struct thread_arg *a = p;
        char name[32];

        for (int i = 0; i < 200; i++) {
                struct store_image *got = NULL;
                snprintf(name, sizeof(name), "t%d-%d", a->id, i);
                if (store_db_put_image(a->db, &(struct store_image) { .ns = "threads", .name = name,
                                                                     .target_digest = "d", .target_mediatype = "m",
                                                                     .target_size = (uint64_t) i }) < 0)
                        a->errors++;
                if (get_image(a->db, "threads", name, &got) < 0 || got->target_size != (uint64_t) i)
                        a->errors++;
                free(got);
        }
        return NULL;
}

static void test_threads(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        struct thread_arg args[4];
        pthread_t t[4];
        int n = 0;

        assert_int_equal(store_db_open(f->path, &db), 0);
        for (int i = 0; i < 4; i++) {
                args[i] = (struct thread_arg) { .db = db, .id = i };
                assert_int_equal(pthread_create(&t[i], NULL, thread_main, &args[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
                pthread_join(t[i], NULL);
                assert_int_equal(args[i].errors, 0);
        }
        assert_int_equal(store_db_list_images(db, "threads", stop_cb, &n), -EINTR);
}

/* ---- garbage collection ---- */

struct digests {
        char v[16][64];
        size_t n;
};

static int collect_digest(const char *digest, void *userdata) {
        struct digests *d = userdata;
        assert_true(d->n < 16);
        snprintf(d->v[d->n++], 64, "%s", digest);
        return 0;
}

/* What the catalog does: list, then delete each. Returns the list joined. */
static const char *gc(struct store_db *db, char *out, size_t size) {
        struct digests d = { 0 };
        out[0] = 0;
        int n = store_db_list_unreached_blobs(db, collect_digest, &d);
        assert_int_equal(n, (int) d.n);
        for (size_t i = 0; i < d.n; i++) {
                assert_int_equal(store_db_delete_blob(db, d.v[i]), 0);
                snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", d.v[i]);
        }
        return out;
}

static void put_index(struct store_db *db, const char *parent, const char *const *kids, size_t n) {
        struct store_descriptor ds[4];
        assert_true(n <= 4);
        for (size_t i = 0; i < n; i++)
                ds[i] = (struct store_descriptor) { .digest = kids[i], .mediatype = "m", .size = 1 };
        assert_int_equal(store_db_put_descriptors(db, parent, ds, n), 0);
        assert_int_equal(store_db_put_blob(db, &(struct store_blob) { .digest = parent, .size = 1 }), 0);
}

static void test_gc(void **state) {
        struct fixture *f = *state;
        _cleanup_store_db_ struct store_db *db = NULL;
        _cleanup_tar_index_ struct tar_index *idx = NULL;
        _cleanup_store_reader_ struct store_reader *r = NULL;
        _cleanup_gzindex_ struct gzindex *gzi = NULL, *back = NULL;
        const struct tar_member ms[1] = { { .path = "pages-1.img", .type = TAR_TYPE_REG, .size = 1,
                                            .data_offset = 512 } };
        struct th_buf gz = {};
        uint8_t plain[4096] = { 0 };
        char out[1024];

        th_gzip(&gz, plain, sizeof(plain), 6);
        assert_int_equal(th_reader_from_memory(gz.p, gz.len, NULL, &r), 0);
        assert_int_equal(gzindex_build(r, 1024, &gzi), 0);
        assert_int_equal(store_db_open(f->path, &db), 0);
        /* ns a: a -> idx1 -> (criu1, man1 -> (cfg, layer)); ns b: b -> idx2 -> (criu2, layer):
         * the layer is shared. */
        const struct store_image imgs[] = {
                { .ns = "a", .name = "ck1", .target_digest = "sha256:idx1", .target_mediatype = "m" },
                { .ns = "b", .name = "ck2", .target_digest = "sha256:idx2", .target_mediatype = "m" },
        };
        assert_int_equal(store_db_replace_images(db, "a", &imgs[0], 1), 0);
        assert_int_equal(store_db_replace_images(db, "b", &imgs[1], 1), 0);
        put_index(db, "sha256:idx1", (const char *[]) { "sha256:criu1", "sha256:man1" }, 2);
        put_index(db, "sha256:man1", (const char *[]) { "sha256:cfg", "sha256:layer" }, 2);
        put_index(db, "sha256:idx2", (const char *[]) { "sha256:criu2", "sha256:layer" }, 2);
        assert_int_equal(store_db_put_tar_members(db, "sha256:criu1", ms, 1), 0);
        assert_int_equal(store_db_put_tar_members(db, "sha256:criu2", ms, 1), 0);
        assert_int_equal(store_db_put_tar_members(db, "sha256:layer", ms, 1), 0);
        assert_int_equal(store_db_put_gzindex(db, "sha256:layer", gzi), 0);
        /* Left over from an image long gone: only a tar index, a gzip index. */
        assert_int_equal(store_db_put_tar_members(db, "sha256:old", ms, 1), 0);
        assert_int_equal(store_db_put_gzindex(db, "sha256:oldgz", gzi), 0);

        assert_string_equal(gc(db, out, sizeof(out)), "sha256:old sha256:oldgz");
        assert_int_equal(store_db_get_gzindex(db, "sha256:oldgz", &back), -ENOENT);
        assert_string_equal(gc(db, out, sizeof(out)), "");

        /* ck1 goes: its index, CRIU dump and manifest (the config has no rows of
         * its own); not the shared layer. */
        assert_int_equal(store_db_replace_images(db, "a", NULL, 0), 0);
        assert_string_equal(gc(db, out, sizeof(out)), "sha256:criu1 sha256:idx1 sha256:man1");
        assert_int_equal(store_db_get_tar_members(db, "sha256:criu1", &idx), -ENOENT);
        assert_int_equal(store_db_get_tar_members(db, "sha256:criu2", &idx), 0);
        tar_index_free(TAKE_PTR(idx));
        assert_int_equal(store_db_get_tar_members(db, "sha256:layer", &idx), 0);
        assert_int_equal(store_db_get_gzindex(db, "sha256:layer", &back), 0);
        gzindex_free(TAKE_PTR(back));
        struct descs c = {};
        assert_int_equal(store_db_list_descriptors(db, "sha256:idx1", collect_desc, &c), 0);
        assert_int_equal(store_db_list_descriptors(db, "sha256:idx2", collect_desc, &c), 2);

        /* ck2 goes too: nothing is left. */
        assert_int_equal(store_db_replace_images(db, "b", NULL, 0), 0);
        assert_string_equal(gc(db, out, sizeof(out)), "sha256:criu2 sha256:idx2 sha256:layer");
        assert_int_equal(store_db_get_gzindex(db, "sha256:layer", &back), -ENOENT);
        assert_int_equal(store_db_get_tar_members(db, "sha256:layer", &idx), -ENOENT);
        th_buf_free(&gz);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_open_modes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_images, setup, teardown),
                cmocka_unit_test_setup_teardown(test_callbacks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blobs_descriptors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tar_members, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tar_members_many, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gzindex, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
                cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
                cmocka_unit_test_setup_teardown(test_migration_v3, setup, teardown),
                cmocka_unit_test_setup_teardown(test_untrusted_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        };
        return cmocka_run_group_tests_name("store-db", tests, NULL, NULL);
}
