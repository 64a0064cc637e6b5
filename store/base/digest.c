#include "digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

bool digest_valid(const char *d) {
        if (!d || strncmp(d, DIGEST_PREFIX, 7) != 0 || strlen(d) != 7 + 64)
                return false;
        for (const char *p = d + 7; *p; p++)
                if (hex_value(*p) < 0)
                        return false;
        return true;
}

int digest_parse(const char *d, uint8_t ret_raw[32]) {
        uint8_t raw[32];
        if (!digest_valid(d))
                return -EINVAL;
        for (size_t i = 0; i < 32; i++)
                raw[i] = (uint8_t) (hex_value(d[7 + 2 * i]) << 4 | hex_value(d[8 + 2 * i]));
        memcpy(ret_raw, raw, sizeof(raw));
        return 0;
}

void digest_format(const uint8_t raw[32], char buf[DIGEST_MAX]) {
        static const char hex[] = "0123456789abcdef";
        memcpy(buf, DIGEST_PREFIX, 7);
        for (size_t i = 0; i < 32; i++) {
                buf[7 + 2 * i] = hex[raw[i] >> 4];
                buf[8 + 2 * i] = hex[raw[i] & 15];
        }
        buf[7 + 64] = '\0';
}

int digest_of(const void *buf, size_t len, char out[DIGEST_MAX]) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
                return -ENOMEM;
        digest_format(md, out);
        return 0;
}

int digest_from_hex(const char *hex, char out[DIGEST_MAX]) {
        size_t plen = strlen(DIGEST_PREFIX), n = strlen(hex);
        if (plen + n >= DIGEST_MAX)
                return -EINVAL;
        memcpy(out, DIGEST_PREFIX, plen);
        memcpy(out + plen, hex, n + 1);
        return digest_valid(out) ? 0 : -EINVAL;
}
