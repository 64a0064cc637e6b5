/* The control file's command line -> ckpt_request. Hostile input is the
 * normal case here (anything may be written into the file): bounded length,
 * no NULs, every word checked, duplicates of valued options refused. */
#include "checkpoint-request.h"
#include "cleanup.h"
#include "digest.h"
#include "names.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

ckpt_request *ckpt_request_free(ckpt_request *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_empty_ns; i++)
                free(r->empty_ns[i]);
        free(r->empty_ns);
        free(r->cgroups_mode);
        free(r->parent);
        free(r->image_path);
        free(r->work_path);
        free(r->name);
        free(r);
        return NULL;
}

static int fail(char **ret_msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char **ret_msg, const char *fmt, ...) {
        if (ret_msg) {
                va_list ap;
                va_start(ap, fmt);
                if (vasprintf(ret_msg, fmt, ap) < 0)
                        *ret_msg = NULL;
                va_end(ap);
        }
        return -EINVAL;
}

/* A word for messages: printable ASCII only, cut short. */
static void printable(const char *w, size_t n, char out[48]) {
        size_t k = 0;
        for (size_t i = 0; i < n && k < 40; i++)
                out[k++] = (w[i] >= 0x21 && w[i] < 0x7f) ? w[i] : '?';
        if (n > 40) {
                memcpy(out + k, "...", 3);
                k += 3;
        }
        out[k] = 0;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static const char *const namespaces[] = { "network", "ipc", "uts", "pid", "mount", "user", "cgroup" };

static int parse_empty_ns(ckpt_request *r, const char *v, char **ret_msg) {
        if (!*v)
                return fail(ret_msg, "empty-ns needs a namespace list (empty-ns=network[,ipc...])");
        const char *p = v;
        for (;;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t) (comma - p) : strlen(p);
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(namespaces); i++)
                        if (strlen(namespaces[i]) == n && memcmp(namespaces[i], p, n) == 0)
                                known = true;
                if (!known) {
                        char w[48];
                        printable(p, n, w);
                        return fail(ret_msg,
                                    "empty-ns: \"%s\" is not a namespace (network, ipc, uts, pid, mount, user, cgroup)",
                                    w);
                }
                for (size_t i = 0; i < r->n_empty_ns; i++)
                        if (strlen(r->empty_ns[i]) == n && memcmp(r->empty_ns[i], p, n) == 0)
                                return fail(ret_msg, "empty-ns names a namespace twice");
                char **a = realloc(r->empty_ns, (r->n_empty_ns + 1) * sizeof(char *));
                if (!a)
                        return -ENOMEM;
                r->empty_ns = a;
                if (!(a[r->n_empty_ns] = strndup(p, n)))
                        return -ENOMEM;
                r->n_empty_ns++;
                if (!comma)
                        return 0;
                p = comma + 1;
        }
}

static int parse_dir(const char *key, const char *v, char **slot, char **ret_msg) {
        if (v[0] != '/')
                return fail(ret_msg, "%s needs an absolute directory path", key);
        if (strlen(v) >= PATH_MAX)
                return fail(ret_msg, "%s: path too long", key);
        if (!(*slot = strdup(v)))
                return -ENOMEM;
        return 0;
}

static int parse_option(ckpt_request *r, const char *w, const char *eq, char **ret_msg);

/* One word, NUL-terminated (the caller checked that the line has no NUL). */
static int parse_word(ckpt_request *r, const char *w, bool *saw_named_part, char **ret_msg) {
        static const struct { const char *word; unsigned part; } parts[] = {
                { "task", CKPT_PART_TASK }, { "rw", CKPT_PART_RW },
                { "image", CKPT_PART_IMAGE }, { "runtime", CKPT_PART_RUNTIME },
        };
        for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                if (strcmp(w, parts[i].word) == 0) {
                        if (!*saw_named_part)
                                r->parts = 0;
                        *saw_named_part = true;
                        r->parts |= parts[i].part;
                        return 0;
                }
        static const struct { const char *word; size_t off; } flags[] = {
                { "exit", offsetof(ckpt_request, exit) },
                { "tcp", offsetof(ckpt_request, tcp) },
                { "unix-sockets", offsetof(ckpt_request, unix_sockets) },
                { "terminal", offsetof(ckpt_request, terminal) },
                { "file-locks", offsetof(ckpt_request, file_locks) },
                { "keep-all-names", offsetof(ckpt_request, keep_all_names) },
        };
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (strcmp(w, flags[i].word) == 0) {
                        *(bool *) ((char *) r + flags[i].off) = true;
                        return 0;
                }

        const char *eq = strchr(w, '=');
        char shown[48];
        if (!eq) {
                printable(w, strlen(w), shown);
                return fail(ret_msg, "unknown word \"%s\" (parts: task rw image runtime; options: exit tcp "
                            "unix-sockets terminal file-locks empty-ns= cgroups= parent= image-path= work-path= name= "
                            "keep= keep-all-names)",
                            shown);
        }
        return parse_option(r, w, eq, ret_msg);
}

/* One KEY=VALUE word; eq points at its '='. */
static int parse_option(ckpt_request *r, const char *w, const char *eq, char **ret_msg) {
        char shown[48];
        size_t klen = (size_t) (eq - w);
        const char *v = eq + 1;
#define KEY(k) (klen == strlen(k) && memcmp(w, k, klen) == 0)
#define ONCE(field, k)                                                          \
        do {                                                                    \
                if (r->field)                                                   \
                        return fail(ret_msg, "%s is given twice", k);           \
        } while (0)
        if (KEY("empty-ns")) {
                if (r->n_empty_ns)
                        return fail(ret_msg, "empty-ns is given twice");
                return parse_empty_ns(r, v, ret_msg);
        }
        if (KEY("cgroups")) {
                ONCE(cgroups_mode, "cgroups");
                if (strcmp(v, "soft") != 0 && strcmp(v, "full") != 0 && strcmp(v, "strict") != 0)
                        return fail(ret_msg, "cgroups must be soft, full or strict");
                return (r->cgroups_mode = strdup(v)) ? 0 : -ENOMEM;
        }
        if (KEY("parent")) {
                ONCE(parent, "parent");
                if (!digest_valid(v))
                        return fail(ret_msg, "parent must be a digest: sha256:<64 lowercase hex digits>");
                return (r->parent = strdup(v)) ? 0 : -ENOMEM;
        }
        if (KEY("image-path")) {
                ONCE(image_path, "image-path");
                return parse_dir("image-path", v, &r->image_path, ret_msg);
        }
        if (KEY("work-path")) {
                ONCE(work_path, "work-path");
                return parse_dir("work-path", v, &r->work_path, ret_msg);
        }
        if (KEY("name")) {
                ONCE(name, "name");
                const char *why = NULL;
                if (!ckpt_ref_valid(v, &why))
                        return fail(ret_msg, "name is not a valid image reference: %s", why);
                return (r->name = strdup(v)) ? 0 : -ENOMEM;
        }
        if (KEY("keep")) {
                ONCE(keep, "keep");
                char *end;
                unsigned long n = strtoul(v, &end, 10);
                if (!*v || *end || v[0] == '-' || n == 0 || n > CKPT_KEEP_MAX)
                        return fail(ret_msg, "keep must be a number of checkpoints from 1 to %d", CKPT_KEEP_MAX);
                r->keep = (unsigned) n;
                return 0;
        }
#undef KEY
#undef ONCE
        printable(w, klen, shown);
        return fail(ret_msg, "unknown option \"%s=\"", shown);
}

static int finish(ckpt_request *r, bool named_parts, const char *container_id, char **ret_msg) {
        bool criu_opts = r->exit || r->tcp || r->unix_sockets || r->terminal || r->file_locks || r->n_empty_ns ||
                         r->cgroups_mode || r->parent || r->work_path;
        if (r->keep_all_names && !r->keep)
                return fail(ret_msg, "keep-all-names goes with keep=N");
        if (criu_opts && !(r->parts & CKPT_PART_TASK))
                return fail(ret_msg, "CRIU options (exit, tcp, unix-sockets, terminal, file-locks, empty-ns, cgroups, "
                            "parent, work-path) need the task part");
        if (r->image_path) {
                /* As containerd: a dump into a directory makes no image. */
                if (named_parts && r->parts != CKPT_PART_TASK)
                        return fail(ret_msg, "image-path dumps the task into a directory and makes no image: "
                                    "rw, image and runtime cannot go with it");
                if (r->name)
                        return fail(ret_msg, "image-path makes no image: name cannot go with it");
                if (r->keep || r->keep_all_names)
                        return fail(ret_msg, "image-path makes no image: keep cannot go with it");
                r->parts = CKPT_PART_TASK;
                r->parts_explicit = true;
                return 0;
        }
        r->parts_explicit = named_parts;
        if (!r->name)
                return ckpt_default_name(container_id, time(NULL), &r->name);
        return 0;
}

int ckpt_request_parse(const char *line, size_t len, const char *container_id, ckpt_request **ret,
                       char **ret_msg) {
        if (ret_msg)
                *ret_msg = NULL;
        if (!container_id || !*container_id || !ret || (!line && len))
                return fail(ret_msg, "internal error: no container id or no command");
        if (len > CKPT_COMMAND_MAX)
                return fail(ret_msg, "command too long (at most %d bytes)", CKPT_COMMAND_MAX);
        if (len && memchr(line, 0, len))
                return fail(ret_msg, "the command contains a NUL byte");

        _cleanup_(ckpt_request_freep) ckpt_request *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->parts = CKPT_PARTS_ALL;

        char word[CKPT_COMMAND_MAX + 1];
        bool named_parts = false;
        size_t i = 0;
        while (i < len) {
                while (i < len && is_space(line[i]))
                        i++;
                size_t start = i;
                while (i < len && !is_space(line[i]))
                        i++;
                if (i == start)
                        break;
                memcpy(word, line + start, i - start);
                word[i - start] = 0;
                int k = parse_word(r, word, &named_parts, ret_msg);
                if (k < 0)
                        return k;
        }
        int k = finish(r, named_parts, container_id, ret_msg);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

int ckpt_request_for_tag(const char *container_id, const char *tag, ckpt_request **ret, char **ret_msg) {
        if (ret_msg)
                *ret_msg = NULL;
        if (!container_id || !*container_id || !ret)
                return fail(ret_msg, "internal error: no container id");
        if (!ckpt_tag_valid(tag)) {
                char shown[48];
                printable(tag ? tag : "", tag ? strlen(tag) : 0, shown);
                return fail(ret_msg, "\"%s\" is not a valid tag (letters, digits, '_', '.', '-'; at most 128; "
                            "not starting with '.' or '-')", shown);
        }
        _cleanup_(ckpt_request_freep) ckpt_request *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->parts = CKPT_PARTS_ALL;
        int k = ckpt_standard_name(container_id, tag, &r->name);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}
