/* SPDX-License-Identifier: MIT */
/* The catalogue rows of the cache: images, blobs, and the descriptors an
 * index or manifest blob lists. */
#include "db-internal.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"

static const struct db_col image_cols[] = {
        DB_COL(TEXT_REQ, struct store_image, ns),
        DB_COL(TEXT_REQ, struct store_image, name),
        DB_COL(TEXT_REQ, struct store_image, target_digest),
        DB_COL(TEXT_REQ, struct store_image, target_mediatype),
        DB_COL(U64, struct store_image, target_size),
        DB_COL(I64, struct store_image, created),
        DB_COL(I64, struct store_image, updated),
        DB_COL(TEXT, struct store_image, labels_json),
};

/* ---- images ---------------------------------------------------------------- */

int store_db_put_image(struct store_db *db, const struct store_image *img) {
        return db_put_record(db, DB_IMAGE_PUT, img, image_cols, ELEMENTSOF(image_cols));
}

/* Statement id with (ns, name) bound. */
static int image_stmt(struct store_db *db, enum db_stmt id, const char *ns, const char *name, sqlite3_stmt **st) {
        if (!ns || !name)
                return -EINVAL;
        int k = db_stmt_key(db, id, ns, st);
        return k < 0 ? k : db_bind_text(*st, 2, name);
}

int store_db_get_image(struct store_db *db, const char *ns, const char *name, struct store_image **ret_image) {
        struct store_image img, *copy;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        int k = image_stmt(db, DB_IMAGE_GET, ns, name, &st);
        if (k >= 0)
                k = db_step_row(st);
        if (k < 0)
                return k;
        db_record_from_row(st, 0, &img, image_cols, ELEMENTSOF(image_cols));
        copy = db_record_pack(&img, sizeof(img), image_cols, ELEMENTSOF(image_cols));
        if (!copy)
                return -ENOMEM;
        *ret_image = copy;
        return 0;
}

int store_db_delete_image(struct store_db *db, const char *ns, const char *name) {
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        int k = image_stmt(db, DB_IMAGE_DELETE, ns, name, &st);
        return k < 0 ? k : db_step_done(st);
}

struct image_list {
        store_image_cb cb;
        void *userdata;
};

static int image_row(sqlite3_stmt *st, void *ctx) {
        const struct image_list *l = ctx;
        struct store_image img;

        db_record_from_row(st, 0, &img, image_cols, ELEMENTSOF(image_cols));
        return l->cb(&img, l->userdata);
}

int store_db_list_images(struct store_db *db, const char *ns, store_image_cb cb, void *userdata) {
        struct image_list l = { .cb = cb, .userdata = userdata };
        int k;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        if (!cb)
                return -EINVAL;
        k = db_stmt_key(db, ns ? DB_IMAGES_OF_NS : DB_IMAGES_ALL, ns, &st);
        return k < 0 ? k : db_for_each_row(st, image_row, &l);
}

static int bind_image(sqlite3_stmt *ins, size_t i, void *images) {
        return db_bind_record(ins, 1, (const struct store_image *) images + i, image_cols, ELEMENTSOF(image_cols));
}

int store_db_replace_images(struct store_db *db, const char *ns,
                            const struct store_image *images, size_t n) {
        DB_LOCK_OR_RETURN(db);

        if (!ns || (!images && n > 0))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!images[i].ns || strcmp(images[i].ns, ns) != 0)
                        return -EINVAL;
        return db_replace_rows(db, DB_IMAGES_DELETE_NS, ns, DB_IMAGE_PUT, n, bind_image, (void *) images);
}

/* ---- blobs ----------------------------------------------------------------- */

static const struct db_col blob_cols[] = {
        DB_COL(TEXT_REQ, struct store_blob, digest),
        DB_COL(TEXT, struct store_blob, mediatype),
        DB_COL(U64, struct store_blob, size),
};

int store_db_put_blob(struct store_db *db, const struct store_blob *blob) {
        return db_put_record(db, DB_BLOB_PUT, blob, blob_cols, ELEMENTSOF(blob_cols));
}

int store_db_get_blob(struct store_db *db, const char *digest, struct store_blob **ret_blob) {
        struct store_blob b, *copy;
        int k;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        if (!digest || !ret_blob)
                return -EINVAL;
        k = db_stmt_row(db, DB_BLOB_GET, digest, &st);
        if (k < 0)
                return k;
        db_record_from_row(st, 0, &b, blob_cols, ELEMENTSOF(blob_cols));
        copy = db_record_pack(&b, sizeof(b), blob_cols, ELEMENTSOF(blob_cols));
        if (!copy)
                return -ENOMEM;
        *ret_blob = copy;
        return 0;
}

/* ---- descriptors ----------------------------------------------------------- */

/* The columns after parent_digest and idx, which the put binds itself. */
static const struct db_col desc_cols[] = {
        DB_COL(TEXT_REQ, struct store_descriptor, digest),
        DB_COL(TEXT_REQ, struct store_descriptor, mediatype),
        DB_COL(U64, struct store_descriptor, size),
        DB_COL(TEXT, struct store_descriptor, annotations_json),
        DB_COL(TEXT, struct store_descriptor, platform_json),
};

struct desc_put {
        const char *parent_digest;
        const struct store_descriptor *descs;
};

static int bind_descriptor(sqlite3_stmt *ins, size_t i, void *ctx) {
        const struct desc_put *put = ctx;
        int k;

        k = db_bind_text(ins, 1, put->parent_digest);
        k = k ?: db_bind_i64(ins, 2, (int64_t) i);
        return k ?: db_bind_record(ins, 3, &put->descs[i], desc_cols, ELEMENTSOF(desc_cols));
}

int store_db_put_descriptors(struct store_db *db, const char *parent_digest,
                             const struct store_descriptor *descs, size_t n) {
        struct desc_put put = { .parent_digest = parent_digest, .descs = descs };
        DB_LOCK_OR_RETURN(db);

        if (!parent_digest || (!descs && n > 0) || n > UINT32_MAX)
                return -EINVAL;
        return db_replace_rows(db, DB_DESCS_DELETE, parent_digest, DB_DESCS_PUT, n, bind_descriptor, &put);
}

struct desc_list {
        store_descriptor_cb cb;
        void *userdata;
};

static int descriptor_row(sqlite3_stmt *st, void *ctx) {
        const struct desc_list *l = ctx;
        struct store_descriptor d = {
                .parent_digest = (const char *) sqlite3_column_text(st, 0),
                .idx = (uint32_t) sqlite3_column_int64(st, 1),
        };

        db_record_from_row(st, 2, &d, desc_cols, ELEMENTSOF(desc_cols));
        return l->cb(&d, l->userdata);
}

int store_db_list_descriptors(struct store_db *db, const char *parent_digest,
                              store_descriptor_cb cb, void *userdata) {
        struct desc_list l = { .cb = cb, .userdata = userdata };
        int k;
        DB_LOCK_OR_RETURN(db);
        _cleanup_db_stmt_ sqlite3_stmt *st = NULL;

        if (!parent_digest || !cb)
                return -EINVAL;
        k = db_stmt_key(db, DB_DESCS_LIST, parent_digest, &st);
        return k < 0 ? k : db_for_each_row(st, descriptor_row, &l);
}
