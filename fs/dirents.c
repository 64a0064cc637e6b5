#include "fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int fs_dirents_add(fs_dirents *d, fs_kind kind, const char *name, const char *k0, const char *k1, const char *k2) {
        if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 16;
                fs_dirent *v = realloc(d->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                d->v = v;
                d->cap = cap;
        }
        fs_dirent *e = &d->v[d->n];
        *e = (fs_dirent) { .kind = kind, .name = strdup(name) };
        const char *keys[3] = { k0, k1, k2 };
        bool ok = e->name;
        for (int i = 0; i < 3; i++)
                if (keys[i] && !(e->key[i] = strdup(keys[i])))
                        ok = false;
        if (!ok) {
                free(e->name);
                for (int i = 0; i < 3; i++)
                        free(e->key[i]);
                return -ENOMEM;
        }
        d->n++;
        return 0;
}

void fs_dirents_clear(fs_dirents *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->v[i].name);
                for (int k = 0; k < 3; k++)
                        free(d->v[i].key[k]);
        }
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
        };
}
