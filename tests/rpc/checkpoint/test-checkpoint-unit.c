/* Unit tests of the parts of rpc/checkpoint that need no daemon: command
 * parsing (with a fuzz loop), the index JSON, the ustar writer (read back by
 * tar(1)), the work dir parsers and dirs, the registry. The name grammar
 * itself is store/base's (tests/base/test-names.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "checkpoint-index.h"
#include "checkpoint-registry.h"
#include "checkpoint-request.h"
#include "checkpoint-stopped.h"
#include "checkpoint-tar.h"
#include "checkpoint-workdir.h"
#include "cleanup.h"
#include "vocab.h"

#include <errno.h>

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static const char *const ID = "web-1";

static ckpt_request *parse_ok(const char *line) {
        ckpt_request *r = NULL;
        char *msg = NULL;
        int k = ckpt_request_parse(line, strlen(line), ID, &r, &msg);
        if (k != 0)
                print_error("unexpected failure for \"%s\": %s\n", line, msg ? msg : "(no message)");
        assert_int_equal(k, 0);
        assert_null(msg);
        assert_non_null(r);
        return r;
}

/* Returns the message (caller frees); asserts -EINVAL with a printable one. */
static char *parse_bad_n(const char *line, size_t len) {
        ckpt_request *r = NULL;
        char *msg = NULL;
        int k = ckpt_request_parse(line, len, ID, &r, &msg);
        if (k != -EINVAL)
                print_error("expected EINVAL for \"%.*s\", got %d\n", (int) (len > 80 ? 80 : len), line, k);
        assert_int_equal(k, -EINVAL);
        assert_null(r);
        assert_non_null(msg);
        assert_true(strlen(msg) > 5);
        for (const char *p = msg; *p; p++)
                assert_true(*p >= 0x20 && *p < 0x7f);
        return msg;
}

static void parse_bad(const char *line, const char *expect_in_msg) {
        char *msg = parse_bad_n(line, strlen(line));
        if (expect_in_msg && !strstr(msg, expect_in_msg))
                print_error("message for \"%s\" lacks \"%s\": %s\n", line, expect_in_msg, msg);
        if (expect_in_msg)
                assert_non_null(strstr(msg, expect_in_msg));
        free(msg);
}

static bool looks_like_default_name(const char *name) {
        const char *prefix = "containerd.io/checkpoint/web-1:";
        if (strncmp(name, prefix, strlen(prefix)) != 0)
                return false;
        const char *stamp = name + strlen(prefix);
        /* MM-DD-YYYY-HH:MM:SS */
        const char *shape = "dd-dd-dddd-dd:dd:dd";
        if (strlen(stamp) != strlen(shape))
                return false;
        for (size_t i = 0; shape[i]; i++)
                if (shape[i] == 'd' ? !(stamp[i] >= '0' && stamp[i] <= '9') : stamp[i] != shape[i])
                        return false;
        return true;
}

static void test_parse_defaults(void **state) {
        const char *lines[] = { "", "\n", "   \t \r\n", "\n\n" };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                ckpt_request *r = parse_ok(lines[i]);
                assert_int_equal(r->parts, CKPT_PARTS_ALL);
                assert_false(r->parts_explicit);
                assert_false(r->exit || r->tcp || r->unix_sockets || r->terminal || r->file_locks);
                assert_null(r->image_path);
                assert_null(r->parent);
                assert_int_equal(r->n_empty_ns, 0);
                assert_true(looks_like_default_name(r->name));
                ckpt_request_free(r);
        }
        /* NULL line with length 0 is the empty command */
        ckpt_request *r = NULL;
        assert_int_equal(ckpt_request_parse(NULL, 0, ID, &r, NULL), 0);
        assert_int_equal(r->parts, CKPT_PARTS_ALL);
        ckpt_request_free(r);
}

static void test_parse_parts_and_options(void **state) {
        ckpt_request *r = parse_ok("task rw\n");
        assert_int_equal(r->parts, CKPT_PART_TASK | CKPT_PART_RW);
        assert_true(r->parts_explicit);
        ckpt_request_free(r);

        r = parse_ok("runtime  image");
        assert_int_equal(r->parts, CKPT_PART_RUNTIME | CKPT_PART_IMAGE);
        ckpt_request_free(r);

        r = parse_ok("exit tcp unix-sockets terminal file-locks empty-ns=network,ipc cgroups=strict "
                     "parent=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef "
                     "work-path=/var/tmp/w name=registry.local:5000/ckpt/web:v1");
        assert_int_equal(r->parts, CKPT_PARTS_ALL);
        assert_false(r->parts_explicit);
        assert_true(r->exit && r->tcp && r->unix_sockets && r->terminal && r->file_locks);
        assert_int_equal(r->n_empty_ns, 2);
        assert_string_equal(r->empty_ns[0], "network");
        assert_string_equal(r->empty_ns[1], "ipc");
        assert_string_equal(r->cgroups_mode, "strict");
        assert_string_equal(r->parent, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        assert_string_equal(r->work_path, "/var/tmp/w");
        assert_string_equal(r->name, "registry.local:5000/ckpt/web:v1");
        ckpt_request_free(r);

        /* flags may repeat; parts accumulate */
        r = parse_ok("task exit exit task");
        assert_int_equal(r->parts, CKPT_PART_TASK);
        assert_true(r->exit);
        ckpt_request_free(r);

        /* containerd's own default-name shape is accepted as name= */
        r = parse_ok("name=containerd.io/checkpoint/web-1:11-25-2026-12:18:12");
        assert_string_equal(r->name, "containerd.io/checkpoint/web-1:11-25-2026-12:18:12");
        ckpt_request_free(r);
}

static void test_parse_keep(void **state) {
        (void) state;
        ckpt_request *r = parse_ok("");
        assert_int_equal(r->keep, 0);
        assert_false(r->keep_all_names);
        ckpt_request_free(r);
        r = parse_ok("task rw keep=2");
        assert_int_equal(r->keep, 2);
        assert_false(r->keep_all_names);
        ckpt_request_free(r);
        r = parse_ok("keep-all-names keep=1000");
        assert_int_equal(r->keep, 1000);
        assert_true(r->keep_all_names);
        ckpt_request_free(r);
}

static void test_parse_image_path(void **state) {
        ckpt_request *r = parse_ok("image-path=/var/tmp/dump");
        assert_int_equal(r->parts, CKPT_PART_TASK);
        assert_null(r->name);
        assert_string_equal(r->image_path, "/var/tmp/dump");
        ckpt_request_free(r);
        r = parse_ok("task image-path=/d work-path=/w exit");
        assert_string_equal(r->work_path, "/w");
        ckpt_request_free(r);
        parse_bad("rw image-path=/d", "image-path");
        parse_bad("task image image-path=/d", "image-path");
        parse_bad("image-path=/d name=a/b", "name");
        parse_bad("image-path=relative/dir", "absolute");
}

static void test_parse_errors(void **state) {
        parse_bad("snapshot", "unknown word \"snapshot\"");
        parse_bad("task --tcp", "unknown word");
        parse_bad("TASK", "unknown word");
        parse_bad("frobnicate=1", "unknown option");
        parse_bad("cgroups=ignore", "soft, full or strict");
        parse_bad("cgroups=", "soft, full or strict");
        parse_bad("cgroups=soft cgroups=full", "twice");
        parse_bad("empty-ns=", "namespace list");
        parse_bad("empty-ns=net", "not a namespace");
        parse_bad("empty-ns=network,", "not a namespace");
        parse_bad("empty-ns=network,network", "twice");
        parse_bad("empty-ns=ipc empty-ns=uts", "twice");
        parse_bad("parent=sha256:abc", "digest");
        parse_bad("parent=sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "digest");
        parse_bad("parent=md5:0123456789abcdef0123456789abcdef", "digest");
        parse_bad("work-path=tmp", "absolute");
        parse_bad("work-path=", "absolute");
        parse_bad("name=", "not a valid image reference");
        parse_bad("name=Web/App", "not a valid image reference");
        parse_bad("name=a//b", "not a valid image reference");
        parse_bad("name=a:.tag", "not a valid image reference");
        parse_bad("name=a b", "unknown word");
        parse_bad("name=a name=b", "twice");
        parse_bad("rw exit", "need the task part");
        parse_bad("image tcp", "need the task part");
        parse_bad("runtime empty-ns=network", "need the task part");
        parse_bad("rw work-path=/x", "need the task part");
        parse_bad("keep=0", "from 1 to 1000");
        parse_bad("keep=1001", "from 1 to 1000");
        parse_bad("keep=-2", "from 1 to 1000");
        parse_bad("keep=2x", "from 1 to 1000");
        parse_bad("keep=", "from 1 to 1000");
        parse_bad("keep=2 keep=3", "twice");
        parse_bad("keep-all-names", "goes with keep=N");
        parse_bad("image-path=/tmp/x keep=2", "keep cannot go with it");
        /* NULs anywhere */
        static const char nul1[] = "task\0rw";
        free(parse_bad_n(nul1, sizeof(nul1) - 1));
        static const char nul2[] = "\0";
        free(parse_bad_n(nul2, 1));
        static const char nul3[] = "task\n\0";
        free(parse_bad_n(nul3, sizeof(nul3) - 1));
        /* too long, even if made of valid words or blanks */
        size_t n = CKPT_COMMAND_MAX + 1;
        char *blank = malloc(n);
        memset(blank, ' ', n);
        free(parse_bad_n(blank, n));
        free(blank);
        /* a bad word is shown printable and cut short */
        char *msg = parse_bad_n("\x01\xff" "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", 54);
        assert_non_null(strstr(msg, "??abcdef"));
        assert_non_null(strstr(msg, "..."));
        free(msg);
        /* ret_msg is optional */
        ckpt_request *r = NULL;
        assert_int_equal(ckpt_request_parse("bogus", 5, ID, &r, NULL), -EINVAL);
        assert_null(r);
        assert_int_equal(ckpt_request_parse("", 0, "", &r, NULL), -EINVAL);
        assert_int_equal(ckpt_request_parse("", 0, NULL, &r, NULL), -EINVAL);
}

/* mkdir checkpoints/<tag>: the tag's grammar is store/base's, the request
 * is the default one under the standard name. */
static void test_request_for_tag(void **state) {
        const char *good[] = { "v1", "latest", "a_b.c-d", "_x", "1", "11-25-2026-12.18.12" };
        const char *bad[] = { "", ".x", "-x", "a:b", "a/b", "a b", "ä", "a\n", "x@y" };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                ckpt_request *r = NULL;
                char *msg = NULL;
                assert_int_equal(ckpt_request_for_tag(ID, good[i], &r, &msg), 0);
                assert_null(msg);
                char want[256];
                snprintf(want, sizeof(want), "containerd.io/checkpoint/web-1:%s", good[i]);
                assert_string_equal(r->name, want);
                assert_int_equal(r->parts, CKPT_PARTS_ALL);
                assert_false(r->parts_explicit);
                ckpt_request_free(r);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ckpt_request *r = NULL;
                char *msg = NULL;
                assert_int_equal(ckpt_request_for_tag(ID, bad[i], &r, &msg), -EINVAL);
                assert_null(r);
                assert_non_null(msg);
                for (const char *p = msg; *p; p++)
                        assert_true(*p >= 0x20 && *p < 0x7f);
                free(msg);
        }
        ckpt_request *r = NULL;
        assert_int_equal(ckpt_request_for_tag(ID, NULL, &r, NULL), -EINVAL);
}

/* ---- fuzz ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(void) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (uint32_t) (rng_state >> 11);
}

static void fuzz_one(const char *buf, size_t len, bool must_fail) {
        ckpt_request *r = NULL;
        char *msg = NULL;
        int k = ckpt_request_parse(buf, len, ID, &r, &msg);
        assert_true(k == 0 || k == -EINVAL);
        if (k == 0) {
                assert_false(must_fail);
                assert_non_null(r);
                assert_null(msg);
                assert_true(r->parts != 0);
                assert_true(r->name || r->image_path);
        } else {
                assert_null(r);
                assert_non_null(msg);
                for (const char *p = msg; *p; p++)
                        assert_true(*p >= 0x20 && *p < 0x7f);
        }
        ckpt_request_free(r);
        free(msg);
}

static void test_fuzz(void **state) {
        static const char *const words[] = {
                "task", "rw", "image", "runtime", "exit", "tcp", "unix-sockets", "terminal", "file-locks",
                "empty-ns=network", "empty-ns=", "empty-ns=ipc,uts", "cgroups=soft", "cgroups=x",
                "parent=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "image-path=/x", "work-path=/y", "name=a/b:c", "name=", "name=A", "=", "==", "name==",
                " ", "\t", "\n", "\r", "\v", "\f",
        };
        size_t cap = 70000;
        char *buf = malloc(cap);
        assert_non_null(buf);
        unsigned accepted = 0;
        for (int iter = 0; iter < 30000; iter++) {
                size_t len = 0;
                int kind = iter % 5;
                if (kind == 0) {
                        /* random bytes */
                        len = rnd() % 300;
                        for (size_t i = 0; i < len; i++)
                                buf[i] = (char) rnd();
                } else if (kind == 1 || kind == 2) {
                        /* words of the grammar, and mutations of them */
                        int nw = (int) (rnd() % 8);
                        for (int w = 0; w < nw; w++) {
                                const char *s = words[rnd() % ELEMENTSOF(words)];
                                size_t n = strlen(s);
                                memcpy(buf + len, s, n);
                                len += n;
                                buf[len++] = ' ';
                        }
                        if (kind == 2 && len) {
                                int flips = 1 + (int) (rnd() % 3);
                                for (int f = 0; f < flips; f++)
                                        buf[rnd() % len] = (char) rnd();
                        }
                } else if (kind == 3) {
                        /* a NUL somewhere in an otherwise valid line */
                        len = (size_t) snprintf(buf, cap, "task rw image runtime exit");
                        buf[rnd() % len] = 0;
                        fuzz_one(buf, len, true);
                        continue;
                } else {
                        /* long lines: 4 KiB .. 64 KiB of words, blanks or bytes */
                        len = CKPT_COMMAND_MAX + 1 + rnd() % (65536 - CKPT_COMMAND_MAX);
                        int fill = (int) (rnd() % 3);
                        for (size_t i = 0; i < len; i++)
                                buf[i] = fill == 0 ? ' ' : fill == 1 ? "task "[i % 5] : (char) rnd();
                        fuzz_one(buf, len, true);
                        continue;
                }
                ckpt_request *r = NULL;
                int k = ckpt_request_parse(buf, len, ID, &r, NULL);
                assert_true(k == 0 || k == -EINVAL);
                accepted += k == 0;
                ckpt_request_free(r);
                fuzz_one(buf, len, false);
        }
        /* the generator does produce valid commands too */
        assert_true(accepted > 100);
        /* exactly 64 KiB, every byte value */
        for (size_t i = 0; i < 65536; i++)
                buf[i] = (char) i;
        fuzz_one(buf, 65536, true);
        free(buf);
}

/* ---- index ---- */

static void test_index(void **state) {
        const char *ann[] = { "org.z", "last", "io.containerd.image.name", "docker.io/library/x:1" };
        ckpt_desc d[] = {
                { .media_type = MT_RUNTIME_OPTIONS, .digest = "sha256:aa", .size = 28, .platform = true },
                { .media_type = "application/vnd.oci.image.manifest.v1+json", .digest = "sha256:bb", .size = 405,
                  .annotations = ann, .n_annotations = 2 },
                { .media_type = MT_CRIU, .digest = "sha256:cc", .size = 1073857536, .platform = true },
        };
        char *json = NULL;
        size_t len = 0;
        assert_int_equal(ckpt_index_build(d, 3, "io.containerd.runc.v2", "overlayfs", "docker.io/library/x:1", &json,
                                          &len), 0);
        char want[2048];
        snprintf(want, sizeof(want),
                 "{\"schemaVersion\":2,\"manifests\":["
                 "{\"mediaType\":\"%s\",\"digest\":\"sha256:aa\",\"size\":28,"
                 "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}},"
                 "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:bb\",\"size\":405,"
                 "\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/x:1\",\"org.z\":\"last\"}},"
                 "{\"mediaType\":\"%s\",\"digest\":\"sha256:cc\",\"size\":1073857536,"
                 "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}],"
                 "\"annotations\":{\"io.containerd.checkpoint.runtime\":\"io.containerd.runc.v2\","
                 "\"io.containerd.checkpoint.snapshotter\":\"overlayfs\","
                 "\"org.opencontainers.image.ref.name\":\"docker.io/library/x:1\"}}\n",
                 MT_RUNTIME_OPTIONS, ckpt_goarch(), MT_CRIU, ckpt_goarch());
        assert_string_equal(json, want);
        assert_int_equal(len, strlen(want));
        /* and it is JSON an OCI reader takes */
        json_error_t e;
        json_t *root = json_loadb(json, len, 0, &e);
        assert_non_null(root);
        assert_int_equal(json_integer_value(json_object_get(root, "schemaVersion")), 2);
        assert_int_equal(json_array_size(json_object_get(root, "manifests")), 3);
        json_decref(root);
        free(json);

        /* no image name: no ref.name annotation */
        assert_int_equal(ckpt_index_build(d, 1, "io.containerd.runc.v2", "overlayfs", "", &json, &len), 0);
        assert_null(strstr(json, "org.opencontainers.image.ref.name"));
        free(json);
        /* strings are escaped */
        ckpt_desc q = { .media_type = "a\"b\\c\n", .digest = "sha256:x", .size = 0 };
        assert_int_equal(ckpt_index_build(&q, 1, "r", "s", NULL, &json, &len), 0);
        assert_non_null(strstr(json, "\"a\\\"b\\\\c\\n\""));
        free(json);
        /* bad descriptors */
        ckpt_desc bad = { .media_type = NULL, .digest = "sha256:x", .size = 1 };
        assert_int_equal(ckpt_index_build(&bad, 1, "r", "s", NULL, &json, &len), -EINVAL);
        bad = (ckpt_desc) { .media_type = "m", .digest = "sha256:x", .size = -1 };
        assert_int_equal(ckpt_index_build(&bad, 1, "r", "s", NULL, &json, &len), -EINVAL);
}

/* ---- tar ---- */

static char tmpdir[256];

static void write_file(const char *rel, size_t size, unsigned seed) {
        char path[512];
        snprintf(path, sizeof(path), "%s/src/%s", tmpdir, rel);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (size_t i = 0; i < size; i++)
                fputc((int) ((i * 131 + seed) & 0xff), f);
        fclose(f);
}

static int run(const char *cmd) {
        int st = system(cmd);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Streams the tar of src/ into out.tar in pieces of `piece` bytes. */
static uint64_t stream_to_file(const char *src, const char *out, size_t piece) {
        ckpt_tar *t = NULL;
        assert_int_equal(ckpt_tar_open(src, &t), 0);
        uint64_t want = ckpt_tar_size(t);
        assert_int_equal(want % 512, 0);
        FILE *f = fopen(out, "w");
        assert_non_null(f);
        uint8_t *buf = malloc(piece);
        uint64_t total = 0;
        for (;;) {
                ssize_t n = ckpt_tar_read(t, buf, piece);
                assert_true(n >= 0);
                if (n == 0)
                        break;
                assert_true((size_t) n <= piece);
                fwrite(buf, 1, (size_t) n, f);
                total += (uint64_t) n;
        }
        /* stays at the end */
        assert_int_equal(ckpt_tar_read(t, buf, piece), 0);
        fclose(f);
        free(buf);
        ckpt_tar_free(t);
        assert_int_equal(total, want);
        return total;
}

static int tar_setup(void **state) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/ckpt-unit-XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        char p[512];
        snprintf(p, sizeof(p), "%s/src", tmpdir);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/src/sub", tmpdir);
        mkdir(p, 0700);
        /* a name longer than 100 characters, split into ustar's prefix */
        snprintf(p, sizeof(p), "%s/src/sub/%s", tmpdir,
                 "a-directory-with-a-rather-long-name-to-push-the-member-name-over-one-hundred-characters");
        mkdir(p, 0755);
        return 0;
}

static int tar_teardown(void **state) {
        return ckpt_rm_rf(tmpdir) == 0 ? 0 : -1;
}

static void test_tar_roundtrip(void **state) {
        write_file("pages-1.img", 1024 * 1024 + 3, 1);
        write_file("empty.img", 0, 0);
        write_file("one.img", 1, 2);
        write_file("b511.img", 511, 3);
        write_file("b512.img", 512, 4);
        write_file("b513.img", 513, 5);
        write_file("sub/inner.img", 4096, 6);
        write_file("sub/a-directory-with-a-rather-long-name-to-push-the-member-name-over-one-hundred-characters/"
                   "core-1.img", 777, 7);
        char src[300], out[512], cmd[2048];
        snprintf(src, sizeof(src), "%s/src", tmpdir);
        char path[512];
        snprintf(path, sizeof(path), "%s/b511.img", src);
        chmod(path, 0600);

        ckpt_tar *t = NULL;
        assert_int_equal(ckpt_tar_open(src, &t), 0);
        assert_int_equal(ckpt_tar_members(t), 10);   /* 8 files + 2 dirs */
        ckpt_tar_free(t);

        size_t pieces[] = { 1, 7, 512, 513, 65536, 4 << 20 };
        uint64_t first = 0;
        for (size_t i = 0; i < ELEMENTSOF(pieces); i++) {
                snprintf(out, sizeof(out), "%s/out-%zu.tar", tmpdir, i);
                uint64_t n = stream_to_file(src, out, pieces[i]);
                if (i == 0)
                        first = n;
                assert_int_equal(n, first);
                snprintf(cmd, sizeof(cmd), "cmp -s %s/out-0.tar %s", tmpdir, out);
                assert_int_equal(run(cmd), 0);
        }
        /* tar(1) reads it back: same files, same bytes, same modes */
        snprintf(cmd, sizeof(cmd),
                 "cd %s && mkdir x && tar -xpf out-0.tar -C x && diff -r src x >/dev/null && "
                 "test \"$(stat -c %%a x/b511.img)\" = 600 && test \"$(stat -c %%a x/sub)\" = 700 && "
                 "tar -tvf out-0.tar | grep -q ' 0/0 .* pages-1.img$' && "
                 "test \"$(tar -tf out-0.tar | head -n1)\" = b511.img",
                 tmpdir);
        assert_int_equal(run(cmd), 0);
        /* and GNU tar finds no fault in the headers (checksums, ustar magic) */
        snprintf(cmd, sizeof(cmd), "cd %s && tar --format=ustar -tf out-0.tar >/dev/null 2>err && ! test -s err", tmpdir);
        assert_int_equal(run(cmd), 0);
}

static void test_tar_errors(void **state) {
        char dir[512], p[600];
        snprintf(dir, sizeof(dir), "%s/bad", tmpdir);
        mkdir(dir, 0755);
        snprintf(p, sizeof(p), "%s/fifo", dir);
        assert_int_equal(mkfifo(p, 0600), 0);
        ckpt_tar *t = NULL;
        assert_int_equal(ckpt_tar_open(dir, &t), -EINVAL);
        assert_null(t);
        unlink(p);
        assert_int_equal(ckpt_tar_open("/nonexistent/ckpt", &t), -ENOENT);

        /* a file that shrinks after the scan is an error, not a short tar */
        snprintf(p, sizeof(p), "%s/shrinks.img", dir);
        FILE *f = fopen(p, "w");
        for (int i = 0; i < 5000; i++)
                fputc('x', f);
        fclose(f);
        assert_int_equal(ckpt_tar_open(dir, &t), 0);
        assert_int_equal(truncate(p, 100), 0);
        uint8_t buf[8192];
        ssize_t n, last = 0;
        while ((n = ckpt_tar_read(t, buf, sizeof(buf))) > 0)
                last = n;
        (void) last;
        assert_int_equal(n, -EIO);
        ckpt_tar_free(t);

        /* a name that cannot be split into ustar's fields */
        char longname[151];
        memset(longname, 'n', 150);
        longname[150] = 0;
        snprintf(p, sizeof(p), "%.300s/%s", dir, longname);
        f = fopen(p, "w");
        assert_non_null(f);
        fclose(f);
        snprintf(p, sizeof(p), "%s/shrinks.img", dir);
        unlink(p);
        assert_int_equal(ckpt_tar_open(dir, &t), 0);
        assert_int_equal(ckpt_tar_read(t, buf, sizeof(buf)), -ENAMETOOLONG);
        ckpt_tar_free(t);
        assert_int_equal(ckpt_rm_rf(dir), 0);
        assert_int_equal(ckpt_rm_rf(dir), 0);   /* gone: still success */
}

static void test_tar_huge_size(void **state) {
        /* a sparse file of 8 GiB + 1: its size goes in base-256 */
        char dir[512], p[600];
        snprintf(dir, sizeof(dir), "%s/huge", tmpdir);
        mkdir(dir, 0755);
        snprintf(p, sizeof(p), "%s/pages-1.img", dir);
        int fd = open(p, O_CREAT | O_WRONLY, 0644);
        assert_true(fd >= 0);
        uint64_t size = (8ULL << 30) + 1;
        assert_int_equal(ftruncate(fd, (off_t) size), 0);
        close(fd);
        ckpt_tar *t = NULL;
        assert_int_equal(ckpt_tar_open(dir, &t), 0);
        assert_int_equal(ckpt_tar_size(t), 512 + ((size + 511) / 512) * 512 + 1024);
        uint8_t h[512];
        assert_int_equal(ckpt_tar_read(t, h, sizeof(h)), 512);
        assert_int_equal(h[124], 0x80);
        uint64_t v = 0;
        for (int i = 125; i < 136; i++)
                v = (v << 8) | h[i];
        assert_int_equal(v, size);
        /* the checksum still holds */
        unsigned sum = 0;
        for (int i = 0; i < 512; i++)
                sum += (i >= 148 && i < 156) ? ' ' : h[i];
        assert_int_equal(strtoul((char *) h + 148, NULL, 8), sum);
        ckpt_tar_free(t);
        assert_int_equal(ckpt_rm_rf(dir), 0);
}

/* ---- work dirs ---- */

static void test_workdir_parsers(void **state) {
        char path[256];
        bool v2 = true;
        assert_int_equal(ckpt_memory_cgroup_path("12:pids:/ns/x\n11:memory:/ns/x\n0::/\n", path, sizeof(path), &v2), 0);
        assert_string_equal(path, "/ns/x");
        assert_false(v2);
        assert_int_equal(ckpt_memory_cgroup_path("4:cpu,memory,blkio:/a/b\n", path, sizeof(path), &v2), 0);
        assert_string_equal(path, "/a/b");
        assert_int_equal(ckpt_memory_cgroup_path("3:memoryx:/no\n0::/system.slice/c.scope\n", path, sizeof(path), &v2),
                         0);
        assert_string_equal(path, "/system.slice/c.scope");
        assert_true(v2);
        assert_int_equal(ckpt_memory_cgroup_path("1:name=systemd:/x\n", path, sizeof(path), &v2), -ENOENT);
        assert_int_equal(ckpt_memory_cgroup_path("", path, sizeof(path), &v2), -ENOENT);
        assert_int_equal(ckpt_memory_cgroup_path("2:memory:relative\n", path, sizeof(path), &v2), -EINVAL);
        assert_int_equal(ckpt_memory_cgroup_path("2:memory:/far/too/long/for/the/buffer\n", path, 8, &v2), -EINVAL);
        assert_int_equal(ckpt_memory_cgroup_path("garbage without colons", path, sizeof(path), &v2), -ENOENT);

        assert_int_equal(ckpt_memstat_dumpable("cache 999\nrss 10\nshmem 5\ntotal_cache 999\ntotal_rss 4096\n"
                                               "total_shmem 100\n", false), 4196);
        assert_int_equal(ckpt_memstat_dumpable("anon 5\nfile 7\nanon_thp 2\nshmem 3\n", true), 8);
        assert_int_equal(ckpt_memstat_dumpable("", true), 0);
        assert_int_equal(ckpt_meminfo_available("MemTotal:  100 kB\nMemFree: 5 kB\nMemAvailable:   2048 kB\n"),
                         2048 * 1024);
        assert_int_equal(ckpt_meminfo_available("MemTotal:  100 kB\n"), 0);

        /* no task: the disk, never a gamble with RAM */
        uint64_t est = 1;
        assert_string_equal(ckpt_pick_work_root(0, &est), "/var/tmp");
        assert_int_equal(est, 0);
}

static bool is_dir(const char *path) {
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_workdir_dirs(void **state) {
        char root[] = "/tmp/ckpt-unit-root-XXXXXX";
        assert_non_null(mkdtemp(root));
        ckpt_dirs d;
        assert_int_equal(ckpt_dirs_make(root, "web-1", NULL, &d), 0);
        char want[PATH_MAX + 8];
        snprintf(want, sizeof(want), "%s/ckptfs-dump-web-1-", root);
        assert_int_equal(strncmp(d.top, want, strlen(want)), 0);
        assert_true(is_dir(d.top) && is_dir(d.dump) && is_dir(d.work) && is_dir(d.empty));
        snprintf(want, sizeof(want), "%s/dump", d.top);
        assert_string_equal(d.dump, want);
        struct stat st;
        assert_int_equal(stat(d.top, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);

        /* CRIU's reasons, without their location, the first ones first */
        char log[PATH_MAX + 16], criu[64];
        snprintf(log, sizeof(log), "%s/dump.log", d.work);
        FILE *f = fopen(log, "w");
        assert_non_null(f);
        fputs("(00.001) Dumping task\n(00.02) Error (criu/sk-inet.c:191): Connected TCP socket\n"
              "(00.03) Warn: nothing\n(00.04) Error (criu/cr-dump.c:1): Dumping FAILED.\n"
              "(00.05) Error (criu/x.c:1): one line too many for the buffer\n", f);
        fclose(f);
        ckpt_criu_errors(d.work, criu, sizeof(criu));
        assert_string_equal(criu, "Connected TCP socket\nDumping FAILED.");
        ckpt_criu_errors(d.dump, criu, sizeof(criu));   /* no log */
        assert_string_equal(criu, "");

        /* CRIU's stats-dump goes from the work dir into the dump, once */
        assert_int_equal(ckpt_dump_add_stats(&d), -ENOENT);
        snprintf(log, sizeof(log), "%s/stats-dump", d.work);
        f = fopen(log, "w");
        assert_non_null(f);
        fputs("STATS\x01\x02", f);
        fclose(f);
        assert_int_equal(ckpt_dump_add_stats(&d), 0);
        snprintf(log, sizeof(log), "%s/stats-dump", d.dump);
        f = fopen(log, "r");
        assert_non_null(f);
        char got[16] = { 0 };
        assert_int_equal(fread(got, 1, sizeof(got), f), 7);
        fclose(f);
        assert_string_equal(got, "STATS\x01\x02");
        assert_int_equal(ckpt_dump_add_stats(&d), -EEXIST);
        assert_int_equal(ckpt_rm_rf(d.top), 0);
        assert_false(is_dir(d.top));

        /* the user's work dir is used as it is, not created */
        assert_int_equal(ckpt_dirs_make(root, "web-1", "/srv/criu-logs", &d), 0);
        assert_string_equal(d.work, "/srv/criu-logs");
        assert_true(is_dir(d.dump) && is_dir(d.empty));
        assert_int_equal(ckpt_rm_rf(d.top), 0);

        /* failures leave nothing behind */
        assert_int_equal(ckpt_dirs_make("/nonexistent/ckpt", "web-1", NULL, &d), -ENOENT);
        char longroot[PATH_MAX];
        memset(longroot, 'r', sizeof(longroot) - 1);
        longroot[0] = '/';
        longroot[sizeof(longroot) - 1] = 0;
        assert_int_equal(ckpt_dirs_make(longroot, "web-1", NULL, &d), -ENAMETOOLONG);
        assert_int_equal(rmdir(root), 0);   /* empty */
}

/* ---- registry ---- */

static void test_registry(void **state) {
        ckpt_registry *reg = NULL;
        assert_int_equal(ckpt_registry_new(&reg), 0);
        assert_null(ckpt_registry_work_dir(reg));   /* chosen per checkpoint */
        char *text = NULL;
        assert_int_equal(ckpt_registry_last_report(reg, "ns", "a", &text), -ENOENT);
        assert_int_equal(ckpt_registry_status_lines(reg, "ns", "a", &text), 0);
        assert_string_equal(text, "");
        free(text);

        ckpt_entry *e = NULL, *e2 = NULL;
        assert_int_equal(ckpt_registry_begin(reg, "ns", "a", &e), 0);
        assert_int_equal(ckpt_registry_begin(reg, "ns", "a", &e2), -EBUSY);
        /* other containers and namespaces are independent */
        assert_int_equal(ckpt_registry_begin(reg, "ns", "b", &e2), 0);
        ckpt_entry *e3 = NULL;
        assert_int_equal(ckpt_registry_begin(reg, "other", "a", &e3), 0);
        ckpt_registry_stage(reg, e, "dump");
        assert_int_equal(ckpt_registry_status_lines(reg, "ns", "a", &text), 0);
        assert_string_equal(text, "checkpoint: running (stage: dump)\n");
        free(text);
        assert_int_equal(ckpt_registry_last_report(reg, "ns", "a", &text), 0);
        assert_non_null(strstr(text, "result: running\nstage: dump\n"));
        free(text);
        char digest[DIGEST_MAX];
        assert_int_equal(ckpt_registry_last_index(reg, "ns", "a", digest), -ENOENT);   /* none yet */
        ckpt_registry_end(reg, e, strdup("result: ok\n"), strdup("last_checkpoint: ok x\n"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_int_equal(ckpt_registry_last_index(reg, "ns", "a", digest), 0);
        assert_string_equal(digest, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_int_equal(ckpt_registry_last_report(reg, "ns", "a", &text), 0);
        assert_string_equal(text, "result: ok\n");
        free(text);
        assert_int_equal(ckpt_registry_status_lines(reg, "ns", "a", &text), 0);
        assert_string_equal(text, "last_checkpoint: ok x\n");
        free(text);
        /* again, while the last result stays visible */
        assert_int_equal(ckpt_registry_begin(reg, "ns", "a", &e), 0);
        assert_int_equal(ckpt_registry_status_lines(reg, "ns", "a", &text), 0);
        assert_string_equal(text, "checkpoint: running (stage: prepare)\nlast_checkpoint: ok x\n");
        free(text);
        assert_int_equal(ckpt_registry_last_index(reg, "ns", "a", digest), -ENOENT);   /* one runs */
        ckpt_registry_end(reg, e, NULL, NULL, NULL);
        assert_int_equal(ckpt_registry_last_index(reg, "ns", "a", digest), -ENOENT);   /* it made none */
        ckpt_registry_end(reg, e2, NULL, NULL, NULL);
        ckpt_registry_end(reg, e3, NULL, NULL, NULL);

        assert_int_equal(ckpt_registry_note_error(reg, "ns", "c", "unknown word \"x\""), 0);
        assert_int_equal(ckpt_registry_last_report(reg, "ns", "c", &text), 0);
        assert_non_null(strstr(text, "result: failed\nerror: EINVAL"));
        assert_non_null(strstr(text, "unknown word \"x\""));
        free(text);
        assert_int_equal(ckpt_registry_status_lines(reg, "ns", "c", &text), 0);
        assert_string_equal(text, "last_checkpoint: failed (parse, EINVAL): unknown word \"x\"\n");
        free(text);
        assert_int_equal(ckpt_registry_last_index(reg, "ns", "c", digest), -ENOENT);

        assert_int_equal(ckpt_registry_set_work_dir(reg, "relative"), -EINVAL);
        assert_int_equal(ckpt_registry_set_work_dir(reg, "/srv/ckpt"), 0);
        assert_string_equal(ckpt_registry_work_dir(reg), "/srv/ckpt");
        ckpt_registry_free(reg);
}

/* The state letter after the command, which may hold ") " itself; a
 * stopped child is found, a running one is not. */
static void test_stopped(void **state) {
        (void) state;
        const char *l1 = "42 (sleep) S 1 42 42 0 -1";
        assert_int_equal(ckpt_stat_state(l1, strlen(l1)), 'S');
        const char *l2 = "7 (a) T (b) ) R 1 2";
        assert_int_equal(ckpt_stat_state(l2, strlen(l2)), 'R');
        assert_int_equal(ckpt_stat_state("7 (x", 4), 0);
        assert_int_equal(ckpt_stat_state("7 (x) ", 6), 0);
        pid_t kid = fork();
        assert_true(kid >= 0);
        if (kid == 0) {
                for (;;)
                        pause();
        }
        pid_t pids[] = { getpid(), kid }, found = 0;
        assert_int_equal(ckpt_find_stopped(pids, 2, &found), 0);
        assert_int_equal(kill(kid, SIGSTOP), 0);
        int st;
        assert_int_equal(waitpid(kid, &st, WUNTRACED), kid);
        assert_int_equal(ckpt_find_stopped(pids, 2, &found), 1);
        assert_int_equal(found, kid);
        kill(kid, SIGKILL);
        waitpid(kid, &st, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_defaults),
                cmocka_unit_test(test_parse_parts_and_options),
                cmocka_unit_test(test_parse_keep),
                cmocka_unit_test(test_parse_image_path),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_request_for_tag),
                cmocka_unit_test(test_fuzz),
                cmocka_unit_test(test_index),
                cmocka_unit_test_setup_teardown(test_tar_roundtrip, tar_setup, tar_teardown),
                cmocka_unit_test_setup_teardown(test_tar_errors, tar_setup, tar_teardown),
                cmocka_unit_test_setup_teardown(test_tar_huge_size, tar_setup, tar_teardown),
                cmocka_unit_test(test_workdir_parsers),
                cmocka_unit_test(test_workdir_dirs),
                cmocka_unit_test(test_registry),
                cmocka_unit_test(test_stopped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
