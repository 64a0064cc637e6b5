#include "inode.h"

#include "cleanup.h"
#include "hash.h"
#include "paths.h"
#include "strv.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing keyed by inode number; the table doubles at 50% load. */
struct inode_table {
        pthread_mutex_t lock;
        fs_node **slots;
        size_t cap, used;
        fs_node *root;
};

static uint64_t hash_path(const char *s, const char *salt, const char *alias) {
        /* FNV-1a 64, then a final mix: cheap and stable across versions.
         * Without a salt, the hash of the path alone (as it always was); an
         * alias (a by-digest directory) counts too: the same directory for
         * another canonical name is another node. */
        uint64_t h = fnv1a_str(FNV1A_INIT, s);
        if (salt)
                h = fnv1a_str(h * FNV1A_PRIME, salt); /* a NUL between path and salt */
        if (alias)
                h = fnv1a_str(h * FNV1A_PRIME, alias);
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return h;
}

static uint64_t number_of(const char *path, const char *salt, const char *alias) {
        uint64_t h = hash_path(path, salt, alias);
        return h <= FS_ROOT_INO ? FS_ROOT_INO + 1 : h;
}

uint64_t inode_number_for(const char *path, const char *salt) {
        return number_of(path, salt, NULL);
}

static bool same_string(const char *a, const char *b) {
        return a == b || (a && b && strcmp(a, b) == 0);
}

static size_t slot_of(const inode_table *t, uint64_t ino) {
        return (size_t) (ino * 0x9e3779b97f4a7c15ULL) & (t->cap - 1);
}

static fs_node *find_locked(inode_table *t, uint64_t ino) {
        for (size_t i = slot_of(t, ino);; i = (i + 1) & (t->cap - 1)) {
                if (!t->slots[i])
                        return NULL;
                if (t->slots[i]->ino == ino)
                        return t->slots[i];
        }
}

static int insert_locked(inode_table *t, fs_node *n);

static int grow_locked(inode_table *t) {
        fs_node **old = t->slots;
        size_t old_cap = t->cap;
        fs_node **slots = calloc(old_cap * 2, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        t->slots = slots;
        t->cap = old_cap * 2;
        t->used = 0;
        for (size_t i = 0; i < old_cap; i++)
                if (old[i])
                        insert_locked(t, old[i]);
        free(old);
        return 0;
}

static int insert_locked(inode_table *t, fs_node *n) {
        if ((t->used + 1) * 2 > t->cap) {
                int r = grow_locked(t);
                if (r < 0)
                        return r;
        }
        size_t i = slot_of(t, n->ino);
        while (t->slots[i])
                i = (i + 1) & (t->cap - 1);
        t->slots[i] = n;
        t->used++;
        return 0;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void remove_locked(inode_table *t, fs_node *n) {
        size_t i = slot_of(t, n->ino);
        while (t->slots[i] != n)
                i = (i + 1) & (t->cap - 1);
        t->slots[i] = NULL;
        t->used--;
        for (size_t j = (i + 1) & (t->cap - 1); t->slots[j]; j = (j + 1) & (t->cap - 1)) {
                size_t home = slot_of(t, t->slots[j]->ino);
                /* Move back if its home is not cyclically in (i, j]. */
                bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
                if (!stays) {
                        t->slots[i] = t->slots[j];
                        t->slots[j] = NULL;
                        i = j;
                }
        }
}

static fs_node *node_free(fs_node *n) {
        if (!n)
                return NULL;
        free(n->path);
        free(n->name);
        for (int i = 0; i < 3; i++)
                free(n->key[i]);
        free(n->salt);
        free(n->alias);
        free(n);
        return NULL;
}

/* A child's salt: its own, else its parent's. */
static const char *child_salt(const fs_node *parent, const char *salt) {
        return salt ? salt : parent ? parent->salt : NULL;
}

int inode_number_of_child(const fs_node *parent, const fs_node_spec *spec, uint64_t *ret) {
        _cleanup_free_ char *path = NULL, *alias = NULL;
        int r = fs_child_path(parent ? parent->path : NULL, parent ? parent->alias : NULL, spec, &path, &alias);
        if (r < 0)
                return r;
        *ret = number_of(path, child_salt(parent, spec->salt), alias);
        return 0;
}

static fs_node *node_new(const fs_node *parent, const fs_node_spec *spec) {
        fs_node *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->kind = spec->kind;
        n->name = strdup(spec->name ? spec->name : "");
        const char *salt = child_salt(parent, spec->salt);
        bool ok = n->name &&
                  fs_child_path(parent ? parent->path : NULL, parent ? parent->alias : NULL, spec, &n->path,
                                &n->alias) >= 0 &&
                  (!salt || (n->salt = strdup(salt)));
        for (int i = 0; i < 3; i++)
                if (spec->key[i] && !(n->key[i] = strdup(spec->key[i])))
                        ok = false;
        return ok ? n : node_free(n);
}

int inode_table_new(inode_table **ret) {
        inode_table *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        pthread_mutex_init(&t->lock, NULL);
        t->cap = 64;
        t->slots = calloc(t->cap, sizeof(*t->slots));
        t->root = node_new(NULL, &(fs_node_spec) { .kind = FS_ROOT, .name = "" });
        if (!t->slots || !t->root) {
                inode_table_free(t);
                return -ENOMEM;
        }
        t->root->ino = FS_ROOT_INO;
        t->root->nlookup = 1;
        insert_locked(t, t->root);
        *ret = t;
        return 0;
}

inode_table *inode_table_free(inode_table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; t->slots && i < t->cap; i++)
                node_free(t->slots[i]);
        free(t->slots);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
}

fs_node *inode_table_get(inode_table *t, uint64_t ino) {
        pthread_mutex_lock(&t->lock);
        fs_node *n = find_locked(t, ino);
        pthread_mutex_unlock(&t->lock);
        return n;
}

int inode_table_ref(inode_table *t, const fs_node *parent, const fs_node_spec *spec, fs_node **ret) {
        fs_node *fresh = node_new(parent, spec);
        if (!fresh)
                return -ENOMEM;
        uint64_t ino = hash_path(fresh->path, fresh->salt, fresh->alias);
        pthread_mutex_lock(&t->lock);
        for (;; ino++) {
                if (ino <= FS_ROOT_INO)
                        continue;
                fs_node *n = find_locked(t, ino);
                if (!n)
                        break;
                if (strcmp(n->path, fresh->path) == 0 && n->kind == fresh->kind && same_string(n->salt, fresh->salt) &&
                    same_string(n->alias, fresh->alias)) {
                        n->nlookup++;
                        pthread_mutex_unlock(&t->lock);
                        node_free(fresh);
                        *ret = n;
                        return 0;
                }
        }
        fresh->ino = ino;
        fresh->nlookup = 1;
        int r = insert_locked(t, fresh);
        pthread_mutex_unlock(&t->lock);
        if (r < 0) {
                node_free(fresh);
                return r;
        }
        *ret = fresh;
        return 0;
}

void inode_table_forget(inode_table *t, uint64_t ino, uint64_t n) {
        if (ino == FS_ROOT_INO)
                return;
        pthread_mutex_lock(&t->lock);
        fs_node *node = find_locked(t, ino);
        if (node) {
                node->nlookup = node->nlookup > n ? node->nlookup - n : 0;
                if (node->nlookup == 0) {
                        remove_locked(t, node);
                        node_free(node);
                }
        }
        pthread_mutex_unlock(&t->lock);
}

int inode_table_children(inode_table *t, const char *dir, fs_kind kind, char ***ret_names, char ***ret_k1) {
        _cleanup_strv_free_ char **names = NULL, **k1 = NULL;
        size_t nn = 0, nk = 0, len = strlen(dir);
        int r = 0;
        pthread_mutex_lock(&t->lock);
        for (size_t i = 0; r >= 0 && i < t->cap; i++) {
                const fs_node *n = t->slots[i];
                if (!n || n->kind != kind || strncmp(n->path, dir, len) != 0 || n->path[len] != '/' ||
                    strcmp(n->path + len + 1, n->name) != 0)
                        continue;
                r = strv_push(&names, &nn, n->name);
                if (r >= 0)
                        r = strv_push(&k1, &nk, n->key[1] ? n->key[1] : "");
        }
        pthread_mutex_unlock(&t->lock);
        if (r >= 0 && !names && (!(names = calloc(1, sizeof(char *))) || !(k1 = calloc(1, sizeof(char *)))))
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret_names = TAKE_PTR(names);
        *ret_k1 = TAKE_PTR(k1);
        return 0;
}
