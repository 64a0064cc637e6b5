#include "criu-names.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

struct bit_name {
        const char *name;
        uint64_t bit;
};

static const struct bit_name mmap_prot[] = {
        { "PROT_READ", 0x1 }, { "PROT_WRITE", 0x2 }, { "PROT_EXEC", 0x4 }, { NULL, 0 },
};
static const struct bit_name mmap_flags[] = {
        { "MAP_SHARED", 0x1 }, { "MAP_PRIVATE", 0x2 }, { "MAP_DROPPABLE", 0x08 },
        { "MAP_ANON", 0x20 }, { "MAP_GROWSDOWN", 0x0100 }, { NULL, 0 },
};
static const struct bit_name mmap_status[] = {
        { "VMA_AREA_REGULAR", 1u << 0 }, { "VMA_AREA_STACK", 1u << 1 }, { "VMA_AREA_VSYSCALL", 1u << 2 },
        { "VMA_AREA_VDSO", 1u << 3 }, { "VMA_AREA_HEAP", 1u << 5 }, { "VMA_FILE_PRIVATE", 1u << 6 },
        { "VMA_FILE_SHARED", 1u << 7 }, { "VMA_ANON_SHARED", 1u << 8 }, { "VMA_ANON_PRIVATE", 1u << 9 },
        { "VMA_AREA_SYSVIPC", 1u << 10 }, { "VMA_AREA_SOCKET", 1u << 11 }, { "VMA_AREA_VVAR", 1u << 12 },
        { "VMA_AREA_AIORING", 1u << 13 }, { "VMA_AREA_MEMFD", 1u << 14 }, { "VMA_AREA_SHSTK", 1u << 15 },
        { "VMA_AREA_UPROBES", 1u << 17 }, { "VMA_UNSUPP", 1u << 31 }, { NULL, 0 },
};
static const struct bit_name rfile_flags[] = {
        { "O_WRONLY", 01 }, { "O_RDWR", 02 }, { "O_CREAT", 0100 }, { "O_EXCL", 0200 },
        { "O_NOCTTY", 0400 }, { "O_TRUNC", 01000 }, { "O_APPEND", 02000 }, { "O_NONBLOCK", 04000 },
        { "O_DSYNC", 010000 }, { "FASYNC", 020000 }, { "O_DIRECT", 040000 }, { "O_LARGEFILE", 0100000 },
        { "O_DIRECTORY", 0200000 }, { "O_NOFOLLOW", 0400000 }, { "O_NOATIME", 01000000 },
        { "O_CLOEXEC", 02000000 }, { NULL, 0 },
};
static const struct bit_name seals_flags[] = {
        { "F_SEAL_SEAL", 0x1 }, { "F_SEAL_SHRINK", 0x2 }, { "F_SEAL_GROW", 0x4 },
        { "F_SEAL_WRITE", 0x8 }, { "F_SEAL_FUTURE_WRITE", 0x10 }, { NULL, 0 },
};
static const struct bit_name pmap_flags[] = {
        { "PE_PARENT", 1 }, { "PE_LAZY", 2 }, { "PE_PRESENT", 4 }, { NULL, 0 },
};
static const struct {
        const char *name;
        const struct bit_name *bits;
} flag_maps[] = {
        { "mmap.prot", mmap_prot }, { "mmap.flags", mmap_flags }, { "mmap.status", mmap_status },
        { "rfile.flags", rfile_flags }, { "pmap.flags", pmap_flags }, { "seals.flags", seals_flags },
};

json_t *criu_flags_json(const char *map, uint64_t v) {
        const struct bit_name *bits = NULL;
        char out[512] = "", hex[24];
        size_t len = 0;
        for (size_t i = 0; i < sizeof(flag_maps) / sizeof(flag_maps[0]); i++)
                if (!strcmp(flag_maps[i].name, map))
                        bits = flag_maps[i].bits;
        if (!bits) {
                snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long) v);
                return json_string(hex);
        }
        uint64_t known = 0;
        for (const struct bit_name *b = bits; b->name; b++) {
                known |= b->bit;
                if (v & b->bit)
                        len += snprintf(out + len, sizeof(out) - len, "%s%s", len ? " | " : "", b->name);
        }
        if (v & ~known)
                snprintf(out + len, sizeof(out) - len, "%s0x%llx", len ? " | " : "",
                         (unsigned long long) (v & ~known));
        return json_string(out);
}

struct value_name {
        uint64_t v;
        const char *name;
};

static const struct value_name task_states[] = { { 1, "Alive" }, { 3, "Zombie" }, { 6, "Stopped" }, { 0, NULL } };
static const struct value_name sk_family[] = {
        { 1, "UNIX" }, { 2, "INET" }, { 10, "INET6" }, { 16, "NETLINK" }, { 17, "PACKET" }, { 0, NULL },
};
static const struct value_name sk_type[] = {
        { 1, "STREAM" }, { 2, "DGRAM" }, { 3, "RAW" }, { 5, "SEQPACKET" }, { 10, "PACKET" }, { 0, NULL },
};
static const struct value_name sk_state[] = {
        { 1, "ESTABLISHED" }, { 2, "SYN_SENT" }, { 3, "SYN_RECV" }, { 4, "FIN_WAIT1" }, { 5, "FIN_WAIT2" },
        { 6, "TIME_WAIT" }, { 7, "CLOSE" }, { 8, "CLOSE_WAIT" }, { 9, "LAST_ACK" }, { 10, "LISTEN" }, { 0, NULL },
};
static const struct value_name sk_proto[] = { { 0, "IP" }, { 6, "TCP" }, { 17, "UDP" }, { 136, "UDPLITE" }, { 0, NULL } };
static const struct {
        const char *dict, *field;
        const struct value_name *names;
} dict_maps[] = {
        { "gen", "task_state", task_states }, { "sk", "family", sk_family }, { "sk", "type", sk_type },
        { "sk", "state", sk_state }, { "sk", "proto", sk_proto },
};

const char *criu_dict_name(const char *dict, const char *field, uint64_t v) {
        for (size_t i = 0; i < sizeof(dict_maps) / sizeof(dict_maps[0]); i++) {
                if (strcmp(dict_maps[i].dict, dict) || strcmp(dict_maps[i].field, field))
                        continue;
                for (const struct value_name *n = dict_maps[i].names; n->name; n++)
                        if (n->v == v)
                                return n->name;
        }
        return NULL;
}

/* Python's IPv6Address.compressed: lower-case hextets without leading
 * zeros, the longest run (first of equals) of two or more zero hextets as
 * "::"; no dotted IPv4 tail, unlike inet_ntop. */
static void ipv6_compressed(const uint16_t h[8], char *out, size_t size) {
        int best = -1, best_len = 0;
        for (int i = 0; i < 8;) {
                int j = i;
                while (j < 8 && h[j] == 0)
                        j++;
                if (j - i > best_len && j - i > 1) {
                        best = i;
                        best_len = j - i;
                }
                i = j > i ? j : i + 1;
        }
        size_t len = 0;
        for (int i = 0; i < 8; i++) {
                if (i == best) {
                        len += snprintf(out + len, size - len, "::");
                        i += best_len - 1;
                        continue;
                }
                bool sep = len > 0 && out[len - 1] != ':';
                len += snprintf(out + len, size - len, "%s%x", sep ? ":" : "", h[i]);
        }
}

json_t *criu_ipadd_json(const uint32_t *words, size_t n) {
        char buf[64];
        if (n == 1) {
                /* The word holds the address bytes in memory order. */
                if (!inet_ntop(AF_INET, words, buf, sizeof(buf)))
                        return NULL;
        } else {
                uint8_t b[16] = { 0 };
                uint16_t h[8];
                memcpy(b, words, (n < 4 ? n : 4) * 4);
                for (int i = 0; i < 8; i++)
                        h[i] = (uint16_t) (b[2 * i] << 8 | b[2 * i + 1]);
                ipv6_compressed(h, buf, sizeof(buf));
        }
        return json_pack("[s]", buf);
}

json_t *criu_unix_name_json(const ProtobufCBinaryData *b) {
        /* binascii.b2a_qp in text mode: '=', non-printables and a space or
         * tab before a line end as "=XX"; soft line breaks at 76. */
        _cleanup_free_ char *out = malloc(b->len * 5 + 2);
        size_t len = 0, line = 0;
        if (!out)
                return NULL;
        for (size_t i = 0; i < b->len; i++) {
                uint8_t c = b->data[i];
                bool at_end = i + 1 == b->len || b->data[i + 1] == '\n';
                if (c == '\n') {
                        out[len++] = '\n';
                        line = 0;
                        continue;
                }
                bool enc = c > 126 || c == '=' || (c < 32 && c != '\t') || ((c == ' ' || c == '\t') && at_end) ||
                           (c == '.' && line == 0 && at_end);
                size_t need = enc ? 3 : 1;
                if (line + need >= 76 && !(!enc && at_end)) {
                        out[len++] = '=';
                        out[len++] = '\n';
                        line = 0;
                }
                len += enc ? (size_t) sprintf(out + len, "=%02X", c) : (size_t) (out[len] = (char) c, 1);
                line += need;
        }
        return json_stringn(out, len);
}
