/* store/base/digest: validity, parsing and formatting of sha256 digests,
 * checked against OpenSSL's SHA256 as the oracle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "digest.h"

/* sha256("abc"), FIPS 180-2 */
static const char abc[] = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void test_valid(void **state) {
        (void) state;
        assert_true(digest_valid(abc));
        assert_false(digest_valid(NULL));
        assert_false(digest_valid(""));
        assert_false(digest_valid("sha256:0123"));
        assert_false(digest_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        /* uppercase hex is not what containerd writes */
        assert_false(digest_valid("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assert_false(digest_valid("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015adX"));
        assert_false(digest_valid("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"));
        assert_false(digest_valid("sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

static void test_from_hex(void **state) {
        (void) state;
        char out[DIGEST_MAX];
        assert_int_equal(digest_from_hex(abc + 7, out), 0);
        assert_string_equal(out, abc);
        assert_int_equal(digest_from_hex("ba78", out), -EINVAL);
        assert_int_equal(digest_from_hex("", out), -EINVAL);
        assert_int_equal(digest_from_hex(abc, out), -EINVAL);   /* the prefix is not hex */
        char longer[200];
        memset(longer, 'a', sizeof(longer) - 1);
        longer[sizeof(longer) - 1] = '\0';
        assert_int_equal(digest_from_hex(longer, out), -EINVAL);
}

static void test_parse_format(void **state) {
        (void) state;
        uint8_t raw[32], want[32];
        char out[DIGEST_MAX];
        SHA256((const unsigned char *) "abc", 3, want);
        assert_int_equal(digest_parse(abc, raw), 0);
        assert_memory_equal(raw, want, 32);
        digest_format(raw, out);
        assert_string_equal(out, abc);
        memset(raw, 0x5a, sizeof(raw));
        assert_int_equal(digest_parse("sha256:xyz", raw), -EINVAL);
        assert_int_equal(raw[0], 0x5a);   /* untouched on failure */
}

static void test_of(void **state) {
        (void) state;
        char out[DIGEST_MAX];
        assert_int_equal(digest_of("abc", 3, out), 0);
        assert_string_equal(out, abc);
        /* the empty blob */
        assert_int_equal(digest_of("", 0, out), 0);
        assert_string_equal(out, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        /* a larger buffer against the oracle */
        static uint8_t big[1 << 20];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (uint8_t) (i * 2654435761u >> 13);
        uint8_t md[32];
        char want[DIGEST_MAX];
        SHA256(big, sizeof(big), md);
        digest_format(md, want);
        assert_int_equal(digest_of(big, sizeof(big), out), 0);
        assert_string_equal(out, want);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_from_hex),
                cmocka_unit_test(test_parse_format),
                cmocka_unit_test(test_of),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
