/* The lists nodes hand out: directory entries and extended attributes. */
#include "fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int fs_dirents_add(fs_dirents *d, fs_kind kind, const char *name, const char *k0, const char *k1, const char *k2) {
        return fs_dirents_add_salted(d, kind, name, NULL, k0, k1, k2);
}

static void dirent_free(fs_dirent *e) {
        free(e->name);
        for (int i = 0; i < 3; i++)
                free(e->key[i]);
        free(e->salt);
        free(e->alias);
}

int fs_dirents_add_salted(fs_dirents *d, fs_kind kind, const char *name, const char *salt, const char *k0,
                          const char *k1, const char *k2) {
        if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 16;
                fs_dirent *v = realloc(d->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                d->v = v;
                d->cap = cap;
        }
        fs_dirent *e = &d->v[d->n];
        *e = (fs_dirent) { .kind = kind, .name = strdup(name), .salt = salt ? strdup(salt) : NULL };
        const char *keys[3] = { k0, k1, k2 };
        bool ok = e->name && (!salt || e->salt);
        for (int i = 0; i < 3; i++)
                if (keys[i] && !(e->key[i] = strdup(keys[i])))
                        ok = false;
        if (!ok) {
                dirent_free(e);
                return -ENOMEM;
        }
        d->n++;
        return 0;
}

int fs_dirent_set_alias(fs_dirent *e, const char *alias) {
        char *a = strdup(alias);
        if (!a)
                return -ENOMEM;
        free(e->alias);
        e->alias = a;
        return 0;
}

void fs_dirents_clear(fs_dirents *d) {
        for (size_t i = 0; i < d->n; i++)
                dirent_free(&d->v[i]);
        free(d->v);
        *d = (fs_dirents) { 0 };
}

fs_dirent *fs_dirents_find(const fs_dirents *d, const char *name) {
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->v[i].name, name) == 0)
                        return &d->v[i];
        return NULL;
}

fs_node_spec fs_dirent_spec(const fs_dirent *e) {
        return (fs_node_spec) {
                .kind = e->kind,
                .name = e->name,
                .key = { e->key[0], e->key[1], e->key[2] },
                .salt = e->salt,
                .alias = e->alias,
        };
}

int fs_xattrs_add(fs_xattrs *x, const char *name, const char *value, size_t len) {
        fs_xattr *v = realloc(x->v, (x->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        x->v = v;
        fs_xattr *e = &v[x->n];
        e->name = strdup(name);
        e->value = malloc(len ? len : 1);
        if (!e->name || !e->value) {
                free(e->name);
                free(e->value);
                return -ENOMEM;
        }
        memcpy(e->value, value, len);
        e->len = len;
        x->n++;
        return 0;
}

void fs_xattrs_clear(fs_xattrs *x) {
        for (size_t i = 0; i < x->n; i++) {
                free(x->v[i].name);
                free(x->v[i].value);
        }
        free(x->v);
        *x = (fs_xattrs) { 0 };
}
