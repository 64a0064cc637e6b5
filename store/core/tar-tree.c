/* SPDX-License-Identifier: MIT */
/* Owned tar indexes and the tree `tar -x` would make of their members: an
 * open-addressing hash of every path (FNV-1a) and the children of each
 * directory in archive order. */
#include "tarindex-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hash.h"

/* ---- owned arrays ------------------------------------------------------ */

int tar_index_new(uint64_t n_hint, struct tar_index **ret_index) {
        _cleanup_free_ struct tar_index *idx = calloc(1, sizeof(*idx));

        if (!idx)
                return -ENOMEM;
        if (n_hint > 0 && n_hint < SIZE_MAX / sizeof(struct tar_member)) {
                idx->members = calloc((size_t) n_hint, sizeof(struct tar_member));
                if (!idx->members)
                        return -ENOMEM;
                idx->n_allocated = (size_t) n_hint;
        }
        *ret_index = TAKE_PTR(idx);
        return 0;
}

struct tar_tree;
static void tar_tree_free(struct tar_tree *t);

void tar_member_done(struct tar_member *m) {
        if (!m)
                return;
        free(m->path);
        free(m->link_target);
        free(m->uname);
        free(m->gname);
        m->path = m->link_target = m->uname = m->gname = NULL;
}

static int dup_opt(char **dst, const char *src) {
        *dst = NULL;
        if (!src)
                return 0;
        *dst = strdup(src);
        return *dst ? 0 : -ENOMEM;
}

/* Deep-copies m into *ret_copy (whose old contents are not freed). */
static int member_copy(const struct tar_member *m, struct tar_member *ret_copy) {
        struct tar_member c = *m;

        c.path = c.link_target = c.uname = c.gname = NULL;
        if (dup_opt(&c.path, m->path) < 0 || dup_opt(&c.link_target, m->link_target) < 0 ||
            dup_opt(&c.uname, m->uname) < 0 || dup_opt(&c.gname, m->gname) < 0) {
                tar_member_done(&c);
                return -ENOMEM;
        }
        *ret_copy = c;
        return 0;
}

int tar_index_append(struct tar_index *idx, const struct tar_member *m) {
        int k;

        if (idx->n == idx->n_allocated) {
                size_t cap = idx->n_allocated ? idx->n_allocated * 2 : 64;
                struct tar_member *a;

                if (cap > SIZE_MAX / sizeof(*a))
                        return -ENOMEM;
                a = realloc(idx->members, cap * sizeof(*a));
                if (!a)
                        return -ENOMEM;
                idx->members = a;
                idx->n_allocated = cap;
        }
        k = member_copy(m, &idx->members[idx->n]);
        if (k < 0)
                return k;
        idx->n++;
        tar_tree_free(TAKE_PTR(idx->tree));
        return 0;
}

/* ---- the tree -------------------------------------------------------- */

#define NONE UINT32_MAX

/* One path of the tree. Its string is the first path_len bytes of the path
 * of member path_of (an implicit directory is a prefix of a member path). */
struct tar_node {
        uint32_t parent;     /* node of the parent directory; the root's is itself */
        uint32_t member;     /* the last member of this path, or NONE */
        uint32_t path_of;    /* NONE for the root */
        uint32_t path_len;
        uint32_t children;   /* first of its children in child[] */
        uint32_t n_children;
};

struct tar_tree {
        struct tar_node *nodes; /* nodes[0] is the root "" */
        size_t n_nodes, n_allocated;
        uint32_t *slots;        /* open-addressing hash of paths: node + 1, 0 is free */
        size_t n_slots;         /* a power of two, at least twice n_nodes */
        uint32_t *child;        /* every node but the root, grouped by parent */
};

static void tar_tree_free(struct tar_tree *t) {
        if (!t)
                return;
        free(t->nodes);
        free(t->slots);
        free(t->child);
        free(t);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tar_tree *, tar_tree_free);

/* Appended members may lack a path: such a member is the root. */
static const char *member_path(const struct tar_index *idx, uint32_t m) {
        return idx->members[m].path ?: "";
}

static const char *node_path(const struct tar_index *idx, const struct tar_node *nd) {
        return nd->path_of == NONE ? "" : member_path(idx, nd->path_of);
}

static uint64_t path_hash(const char *p, size_t len) {
        return fnv1a(FNV1A_INIT, p, len);
}

/* The slot holding path p[0..len), or the free slot where it would go. */
static uint32_t *find_slot(const struct tar_index *idx, const struct tar_tree *t, const char *p, size_t len) {
        size_t mask = t->n_slots - 1;

        for (size_t s = path_hash(p, len) & mask;; s = (s + 1) & mask) {
                const struct tar_node *nd;

                if (!t->slots[s])
                        return &t->slots[s];
                nd = &t->nodes[t->slots[s] - 1];
                if (nd->path_len == len && memcmp(node_path(idx, nd), p, len) == 0)
                        return &t->slots[s];
        }
}

static int grow_slots(const struct tar_index *idx, struct tar_tree *t, size_t n_slots) {
        uint32_t *old = t->slots;

        t->slots = calloc(n_slots, sizeof(*t->slots));
        if (!t->slots) {
                t->slots = old;
                return -ENOMEM;
        }
        t->n_slots = n_slots;
        for (size_t i = 0; i < t->n_nodes; i++) {
                const struct tar_node *nd = &t->nodes[i];
                *find_slot(idx, t, node_path(idx, nd), nd->path_len) = (uint32_t) i + 1;
        }
        free(old);
        return 0;
}

/* The node of path p[0..len) (a prefix of the path of member m), added if
 * new. Returns 1 when added, 0 when it was there, or -errno. */
static int intern(const struct tar_index *idx, struct tar_tree *t, uint32_t m, size_t len, uint32_t *ret_node) {
        const char *p = member_path(idx, m);
        uint32_t *slot = find_slot(idx, t, p, len);
        int k;

        if (*slot) {
                *ret_node = *slot - 1;
                return 0;
        }
        if (t->n_nodes >= NONE - 1)
                return -E2BIG;
        if (t->n_nodes == t->n_allocated) {
                size_t cap = t->n_allocated * 2;
                struct tar_node *v = realloc(t->nodes, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                t->nodes = v;
                t->n_allocated = cap;
        }
        /* Keep the table at most half full. */
        if ((t->n_nodes + 1) * 2 > t->n_slots) {
                k = grow_slots(idx, t, t->n_slots * 2);
                if (k < 0)
                        return k;
                slot = find_slot(idx, t, p, len);
        }
        t->nodes[t->n_nodes] = (struct tar_node) {
                .parent = NONE, .member = NONE, .path_of = m, .path_len = (uint32_t) len,
        };
        *slot = (uint32_t) ++t->n_nodes;
        *ret_node = (uint32_t) t->n_nodes - 1;
        return 1;
}

/* Adds member m (the last of its path so far) and the parents its path
 * implies. Nodes are created in archive order of their first mention, so
 * node numbers order siblings that way. */
static int tree_add(const struct tar_index *idx, struct tar_tree *t, uint32_t m) {
        const char *p = member_path(idx, m);
        size_t len = strlen(p);
        uint32_t node, parent;
        int k = intern(idx, t, m, len, &node);

        if (k < 0)
                return k;
        t->nodes[node].member = m;
        /* A new path: walk up until a parent that was there (the root is). */
        while (k > 0) {
                const char *slash = memrchr(p, '/', len);

                len = slash ? (size_t) (slash - p) : 0;
                k = intern(idx, t, m, len, &parent);
                if (k < 0)
                        return k;
                t->nodes[node].parent = parent;
                node = parent;
        }
        return 0;
}

/* Groups the children of each node, in node order, by a counting sort. */
static int tree_link(struct tar_tree *t) {
        uint32_t next = 0;

        t->child = malloc(t->n_nodes * sizeof(*t->child));
        if (!t->child)
                return -ENOMEM;
        for (size_t i = 1; i < t->n_nodes; i++)
                t->nodes[t->nodes[i].parent].n_children++;
        for (size_t i = 0; i < t->n_nodes; i++) {
                t->nodes[i].children = next;
                next += t->nodes[i].n_children;
                t->nodes[i].n_children = 0;
        }
        for (size_t i = 1; i < t->n_nodes; i++) {
                struct tar_node *pa = &t->nodes[t->nodes[i].parent];
                t->child[pa->children + pa->n_children++] = (uint32_t) i;
        }
        return 0;
}

int tar_index_finish(struct tar_index *idx) {
        _cleanup_(tar_tree_freep) struct tar_tree *t = NULL;
        size_t n_slots = 64;
        int k;

        if (!idx)
                return -EINVAL;
        if (idx->tree)
                return 0;
        if (idx->n >= NONE - 1)
                return -E2BIG;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        while (n_slots < 2 * (idx->n + 1))
                n_slots *= 2;
        t->n_allocated = idx->n + 1;
        t->nodes = malloc(t->n_allocated * sizeof(*t->nodes));
        t->slots = calloc(n_slots, sizeof(*t->slots));
        if (!t->nodes || !t->slots)
                return -ENOMEM;
        t->n_slots = n_slots;
        t->nodes[0] = (struct tar_node) { .parent = 0, .member = NONE, .path_of = NONE };
        t->n_nodes = 1;
        *find_slot(idx, t, "", 0) = 1;

        for (size_t i = 0; i < idx->n; i++)
                if ((k = tree_add(idx, t, (uint32_t) i)) < 0)
                        return k;
        if ((k = tree_link(t)) < 0)
                return k;
        idx->tree = TAKE_PTR(t);
        return 0;
}

/* The node of a path in a finished index, or NULL. */
static const struct tar_node *tree_find(const struct tar_index *idx, const char *path) {
        const struct tar_tree *t = idx->tree;
        uint32_t slot = *find_slot(idx, t, path, strlen(path));

        return slot ? &t->nodes[slot - 1] : NULL;
}

static const struct tar_member *member_of(const struct tar_index *idx, const struct tar_node *nd) {
        return nd->member == NONE ? NULL : &idx->members[nd->member];
}

int tar_index_lookup(const struct tar_index *idx, const char *path, const struct tar_member **ret_member) {
        const struct tar_node *nd;

        if (!idx || !idx->tree || !path || !ret_member)
                return -EINVAL;
        nd = tree_find(idx, path);
        if (!nd)
                return -ENOENT;
        *ret_member = member_of(idx, nd);
        return 0;
}

int tar_index_foreach_child(const struct tar_index *idx, const char *dir, tar_child_cb cb, void *userdata) {
        const struct tar_node *nd;
        char name[TAR_NAME_LIMIT + 1];

        if (!idx || !idx->tree || !dir || !cb)
                return -EINVAL;
        nd = tree_find(idx, dir);
        if (!nd)
                return -ENOENT;
        for (uint32_t i = 0; i < nd->n_children; i++) {
                const struct tar_node *c = &idx->tree->nodes[idx->tree->child[nd->children + i]];
                const char *p = node_path(idx, c);
                /* The name follows the parent's path and its "/". */
                size_t off = nd->path_len ? nd->path_len + 1 : 0;
                int k;

                if (c->path_len - off > TAR_NAME_LIMIT)
                        return -EBADMSG; /* not from tar_path_normalize() */
                memcpy(name, p + off, c->path_len - off);
                name[c->path_len - off] = '\0';
                k = cb(name, member_of(idx, c), userdata);
                if (k < 0)
                        return k;
        }
        return 0;
}

const struct tar_member *tar_index_find(const struct tar_index *idx, const char *path) {
        if (!idx || !path)
                return NULL;
        if (idx->tree) {
                const struct tar_node *nd = tree_find(idx, path);
                return nd ? member_of(idx, nd) : NULL;
        }
        for (size_t i = idx->n; i > 0; i--)
                if (strcmp(idx->members[i - 1].path ?: "", path) == 0)
                        return &idx->members[i - 1];
        return NULL;
}

void tar_index_free(struct tar_index *idx) {
        if (!idx)
                return;
        for (size_t i = 0; i < idx->n; i++)
                tar_member_done(&idx->members[i]);
        free(idx->members);
        tar_tree_free(idx->tree);
        free(idx);
}
