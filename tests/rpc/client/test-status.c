/* Unit tests of the rpc core that need no daemon: the gRPC status -> errno
 * table, protobuf-c pack/unpack, rpc_client_new() arguments, rpc_error_set(),
 * and the failure of a call to a socket nobody listens on. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "containerd.h"

#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void client_freep(rpc_client **c) { if (*c) rpc_client_free(*c); }

/* The contract, written out independently of status.c. */
static const struct {
        grpc_status_code code;
        const char *name;
        int err;
} expected_table[] = {
        { GRPC_STATUS_OK, "OK", 0 },
        { GRPC_STATUS_CANCELLED, "CANCELLED", ECANCELED },
        { GRPC_STATUS_UNKNOWN, "UNKNOWN", EIO },
        { GRPC_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT", EINVAL },
        { GRPC_STATUS_DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED", ETIMEDOUT },
        { GRPC_STATUS_NOT_FOUND, "NOT_FOUND", ENOENT },
        { GRPC_STATUS_ALREADY_EXISTS, "ALREADY_EXISTS", EEXIST },
        { GRPC_STATUS_PERMISSION_DENIED, "PERMISSION_DENIED", EACCES },
        { GRPC_STATUS_RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED", EMSGSIZE },
        { GRPC_STATUS_FAILED_PRECONDITION, "FAILED_PRECONDITION", EBUSY },
        { GRPC_STATUS_ABORTED, "ABORTED", EAGAIN },
        { GRPC_STATUS_OUT_OF_RANGE, "OUT_OF_RANGE", ERANGE },
        { GRPC_STATUS_UNIMPLEMENTED, "UNIMPLEMENTED", EOPNOTSUPP },
        { GRPC_STATUS_INTERNAL, "INTERNAL", EIO },
        { GRPC_STATUS_UNAVAILABLE, "UNAVAILABLE", ENOTCONN },
        { GRPC_STATUS_DATA_LOSS, "DATA_LOSS", EIO },
        { GRPC_STATUS_UNAUTHENTICATED, "UNAUTHENTICATED", EACCES },
};
#define N_EXPECTED (sizeof(expected_table) / sizeof(expected_table[0]))

static void test_status_every_code(void **state) {
        (void) state;
        /* gRPC defines exactly the codes 0..16: the table above covers them all. */
        assert_int_equal(N_EXPECTED, GRPC_STATUS_UNAUTHENTICATED + 1);
        for (size_t i = 0; i < N_EXPECTED; i++) {
                assert_int_equal(expected_table[i].code, (grpc_status_code) i);
                assert_int_equal(rpc_status_to_errno(expected_table[i].code), expected_table[i].err);
                assert_string_equal(rpc_status_name(expected_table[i].code), expected_table[i].name);
                /* Every failure maps to a real (positive) errno. */
                if (expected_table[i].code != GRPC_STATUS_OK)
                        assert_true(rpc_status_to_errno(expected_table[i].code) > 0);
        }
}

static void test_status_names_unique(void **state) {
        (void) state;
        for (int a = 0; a <= GRPC_STATUS_UNAUTHENTICATED; a++)
                for (int b = a + 1; b <= GRPC_STATUS_UNAUTHENTICATED; b++)
                        assert_string_not_equal(rpc_status_name((grpc_status_code) a),
                                                rpc_status_name((grpc_status_code) b));
}

static void test_status_unknown_codes(void **state) {
        (void) state;
        const int unknown[] = { GRPC_STATUS_UNAUTHENTICATED + 1, 17, 100, 1000, -1, -17, INT_MIN, INT_MAX,
                                GRPC_STATUS__DO_NOT_USE };
        for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
                assert_int_equal(rpc_status_to_errno((grpc_status_code) unknown[i]), EIO);
                assert_string_equal(rpc_status_name((grpc_status_code) unknown[i]), "UNKNOWN_STATUS");
        }
}

/* A message with strings, bytes, a nested message, a map and a timestamp. */
static void test_msg_roundtrip(void **state) {
        (void) state;
        rpc_container ct = CONTAINERD__SERVICES__CONTAINERS__V1__CONTAINER__INIT;
        ct.id = "roundtrip-1";
        ct.image = "docker.io/library/busybox:latest";
        ct.snapshotter = "overlayfs";
        ct.snapshot_key = "roundtrip-1-snap";
        Containerd__Services__Containers__V1__Container__Runtime rt =
                CONTAINERD__SERVICES__CONTAINERS__V1__CONTAINER__RUNTIME__INIT;
        rt.name = "io.containerd.runc.v2";
        ct.runtime = &rt;
        Containerd__Services__Containers__V1__Container__LabelsEntry l1 =
                CONTAINERD__SERVICES__CONTAINERS__V1__CONTAINER__LABELS_ENTRY__INIT;
        Containerd__Services__Containers__V1__Container__LabelsEntry l2 =
                CONTAINERD__SERVICES__CONTAINERS__V1__CONTAINER__LABELS_ENTRY__INIT;
        l1.key = "a";
        l1.value = "1";
        l2.key = "b/c";
        l2.value = "";
        Containerd__Services__Containers__V1__Container__LabelsEntry *labels[] = { &l1, &l2 };
        ct.n_labels = 2;
        ct.labels = labels;
        Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
        uint8_t blob[300];
        for (size_t i = 0; i < sizeof(blob); i++)
                blob[i] = (uint8_t) (i * 7);   /* includes 0x00 and 0xff */
        spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
        spec.value.data = blob;
        spec.value.len = sizeof(blob);
        ct.spec = &spec;
        Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        ts.seconds = 1700000000;
        ts.nanos = 123456789;
        ct.created_at = &ts;

        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(pb_msg_pack(&ct.base, &buf, &len), 0);
        assert_non_null(buf);
        assert_int_equal(len, protobuf_c_message_get_packed_size(&ct.base));

        rpc_container *back = NULL;
        assert_int_equal(pb_msg_unpack(&containerd__services__containers__v1__container__descriptor, buf, len,
                                        (ProtobufCMessage **) &back),
                         0);
        assert_non_null(back);
        assert_ptr_equal(back->base.descriptor, &containerd__services__containers__v1__container__descriptor);
        assert_string_equal(back->id, ct.id);
        assert_string_equal(back->image, ct.image);
        assert_string_equal(back->snapshotter, ct.snapshotter);
        assert_string_equal(back->snapshot_key, ct.snapshot_key);
        assert_non_null(back->runtime);
        assert_string_equal(back->runtime->name, rt.name);
        assert_int_equal(back->n_labels, 2);
        assert_string_equal(back->labels[0]->key, "a");
        assert_string_equal(back->labels[0]->value, "1");
        assert_string_equal(back->labels[1]->key, "b/c");
        assert_string_equal(back->labels[1]->value, "");
        assert_non_null(back->spec);
        assert_string_equal(back->spec->type_url, spec.type_url);
        assert_int_equal(back->spec->value.len, sizeof(blob));
        assert_memory_equal(back->spec->value.data, blob, sizeof(blob));
        assert_non_null(back->created_at);
        assert_int_equal(back->created_at->seconds, ts.seconds);
        assert_int_equal(back->created_at->nanos, ts.nanos);
        assert_null(back->updated_at);

        /* Packing the decoded copy gives the same bytes. */
        uint8_t *buf2 = NULL;
        size_t len2 = 0;
        assert_int_equal(pb_msg_pack(&back->base, &buf2, &len2), 0);
        assert_int_equal(len2, len);
        assert_memory_equal(buf2, buf, len);

        free(buf2);
        free(buf);
        pb_msg_free(back);
}

/* An empty message packs to zero bytes, and zero bytes are a valid message. */
static void test_msg_empty(void **state) {
        (void) state;
        Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
        uint8_t *buf = NULL;
        size_t len = 99;
        assert_int_equal(pb_msg_pack(&e.base, &buf, &len), 0);
        assert_non_null(buf);
        assert_int_equal(len, 0);
        rpc_version *v = NULL;
        assert_int_equal(pb_msg_unpack(&containerd__services__version__v1__version_response__descriptor, buf, 0,
                                        (ProtobufCMessage **) &v),
                         0);
        assert_non_null(v);
        assert_string_equal(v->version, "");
        pb_msg_free(v);
        free(buf);
}

static void test_msg_garbage(void **state) {
        (void) state;
        static const struct {
                const char *what;
                uint8_t bytes[16];
                size_t len;
        } bad[] = {
                /* field 1, length 5, but only 1 byte follows */
                { "truncated length-delimited", { 0x0a, 0x05, 'a' }, 3 },
                /* wire type 7 does not exist */
                { "invalid wire type", { 0x0f, 0x00 }, 2 },
                /* field 1 of Container is a string: a varint there is a type error */
                { "wrong wire type for a known field", { 0x08, 0x01 }, 2 },
                /* a varint longer than 10 bytes */
                { "overlong varint", { 0x50, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 12 },
                /* field number 0 is invalid */
                { "field number zero", { 0x02, 0x00 }, 2 },
                /* a tag cut in the middle */
                { "truncated tag", { 0x80 }, 1 },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ProtobufCMessage *sentinel = (ProtobufCMessage *) (uintptr_t) 0x1;
                ProtobufCMessage *m = sentinel;
                int r = pb_msg_unpack(&containerd__services__containers__v1__container__descriptor, bad[i].bytes,
                                       bad[i].len, &m);
                if (r != -EBADMSG)
                        fail_msg("%s: expected -EBADMSG, got %d", bad[i].what, r);
                /* Output parameters are set only on success. */
                assert_ptr_equal(m, sentinel);
        }
}

static void test_msg_free_null(void **state) {
        (void) state;
        pb_msg_free(NULL);
        _cleanup_pb_msg_ rpc_version *v = NULL;   /* cleanup of NULL is a no-op */
        (void) v;
}

static void test_error_set(void **state) {
        (void) state;
        rpc_error e = { .status = 42 };
        assert_int_equal(rpc_error_set(&e, ENOENT, "no %s here (%d)", "blob", 7), -ENOENT);
        assert_int_equal(e.status, -1);
        assert_string_equal(e.message, "no blob here (7)");
        /* Either sign in, always -errno out. */
        assert_int_equal(rpc_error_set(&e, -EIO, "x"), -EIO);
        assert_string_equal(e.message, "x");
        assert_int_equal(rpc_error_set(NULL, EINVAL, "ignored"), -EINVAL);

        /* Long messages are cut, NUL-terminated. */
        char big[3000];
        memset(big, 'm', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(rpc_error_set(&e, EMSGSIZE, "%s", big), -EMSGSIZE);
        assert_int_equal(strlen(e.message), sizeof(e.message) - 1);
}

static void test_client_new_bad_args(void **state) {
        (void) state;
        rpc_client *sentinel = (rpc_client *) (uintptr_t) 0x1;
        rpc_client *c = sentinel;
        assert_int_equal(rpc_client_new(NULL, 0, &c), -EINVAL);
        assert_ptr_equal(c, sentinel);
        assert_int_equal(rpc_client_new("", 0, &c), -EINVAL);
        assert_ptr_equal(c, sentinel);
        assert_int_equal(rpc_client_new("unix://", 0, &c), -EINVAL);
        assert_ptr_equal(c, sentinel);
        assert_int_equal(rpc_client_new("/run/x.sock", 0, NULL), -EINVAL);
        assert_null(rpc_client_free(NULL));
}

static void test_client_new_addresses(void **state) {
        (void) state;
        static const struct {
                const char *in, *path;
                int64_t timeout;
        } cases[] = {
                { "/run/containerd/containerd.sock", "/run/containerd/containerd.sock", 0 },
                { "unix:///run/containerd/containerd.sock", "/run/containerd/containerd.sock", -5 },
                { "unix:///tmp/a b/c.sock", "/tmp/a b/c.sock", 1234 },
                { "relative.sock", "relative.sock", 1 },
                { "unix://rel/x.sock", "rel/x.sock", 0 },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_(client_freep) rpc_client *c = NULL;
                assert_int_equal(rpc_client_new(cases[i].in, cases[i].timeout, &c), 0);
                assert_non_null(c);
                assert_string_equal(rpc_client_address(c), cases[i].path);
        }
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* No daemon at all: fails fast with -ENOTCONN and a message that names the
 * socket, well before the deadline. */
static void test_call_no_daemon(void **state) {
        (void) state;
        char dir[] = "/tmp/ckptfs-test-status.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/missing.sock", dir);

        _cleanup_(client_freep) rpc_client *c = NULL;
        assert_int_equal(rpc_client_new(path, 5000, &c), 0);
        rpc_error err = { 0 };
        rpc_version *v = (rpc_version *) (uintptr_t) 0x1;
        int64_t t0 = now_ms();
        int r = rpc_version_get(c, &(rpc_opts) { .ns = "default" }, &v, &err);
        int64_t dt = now_ms() - t0;
        assert_int_equal(r, -ENOTCONN);
        assert_ptr_equal(v, (rpc_version *) (uintptr_t) 0x1);
        assert_int_equal(err.status, GRPC_STATUS_UNAVAILABLE);
        assert_non_null(strstr(err.message, path));
        assert_true(dt < 2000);

        /* A socket file with no listener behind it (a daemon that died). */
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        assert_true(strlen(path) < sizeof(sa.sun_path));
        memcpy(sa.sun_path, path, strlen(path) + 1);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        close(fd);   /* bound, never listened: connect() is refused */
        memset(&err, 0, sizeof(err));
        t0 = now_ms();
        r = rpc_version_get(c, NULL, &v, &err);
        dt = now_ms() - t0;
        assert_int_equal(r, -ENOTCONN);
        assert_non_null(strstr(err.message, path));
        assert_true(dt < 2000);

        unlink(path);

        /* The same through a relative path: a valid target, so the same
         * -ENOTCONN naming the socket (not a channel that cannot exist). */
        char cwd[PATH_MAX];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(dir), 0);
        _cleanup_(client_freep) rpc_client *rel = NULL;
        assert_int_equal(rpc_client_new("missing.sock", 5000, &rel), 0);
        memset(&err, 0, sizeof(err));
        t0 = now_ms();
        r = rpc_version_get(rel, NULL, &v, &err);
        dt = now_ms() - t0;
        assert_int_equal(chdir(cwd), 0);
        assert_int_equal(r, -ENOTCONN);
        assert_int_equal(err.status, GRPC_STATUS_UNAVAILABLE);
        assert_non_null(strstr(err.message, "missing.sock"));
        assert_true(dt < 2000);

        rmdir(dir);
}

/* A stream call's API misuse is reported, not crashed on. */
static void test_call_misuse(void **state) {
        (void) state;
        _cleanup_(client_freep) rpc_client *c = NULL;
        assert_int_equal(rpc_client_new("/nonexistent/ckptfs.sock", 1000, &c), 0);
        rpc_call *sentinel = (rpc_call *) (uintptr_t) 0x1;
        rpc_call *call = sentinel;
        assert_int_equal(rpc_call_open(NULL, NULL, "/x.Y/Z", &call), -EINVAL);
        assert_int_equal(rpc_call_open(c, NULL, NULL, &call), -EINVAL);
        assert_ptr_equal(call, sentinel);
        call = NULL;
        assert_int_equal(rpc_call_open(c, NULL, "/containerd.services.version.v1.Version/Version", &call), 0);
        assert_non_null(call);
        rpc_error err = { 0 };
        ProtobufCMessage *m = NULL;
        assert_int_equal(rpc_call_recv(call, &containerd__services__version__v1__version_response__descriptor, &m,
                                       &err),
                         -EINVAL);
        assert_null(m);
        assert_true(err.message[0] != '\0');
        /* Cancel twice, then free: nothing hangs. */
        rpc_call_cancel(call);
        rpc_call_cancel(call);
        assert_null(rpc_call_free(call));
        rpc_call_cancel(NULL);
        assert_null(rpc_call_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_every_code),
                cmocka_unit_test(test_status_names_unique),
                cmocka_unit_test(test_status_unknown_codes),
                cmocka_unit_test(test_msg_roundtrip),
                cmocka_unit_test(test_msg_empty),
                cmocka_unit_test(test_msg_garbage),
                cmocka_unit_test(test_msg_free_null),
                cmocka_unit_test(test_error_set),
                cmocka_unit_test(test_client_new_bad_args),
                cmocka_unit_test(test_client_new_addresses),
                cmocka_unit_test(test_call_no_daemon),
                cmocka_unit_test(test_call_misuse),
        };
        return cmocka_run_group_tests_name("rpc-status", tests, NULL, NULL);
}
