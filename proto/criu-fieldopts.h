/* CRIU's custom field options (images/opts.proto: `[(criu).hex = true]` and
 * the like), which only change how crit prints a value. protobuf-c's
 * descriptors do not carry field options, so gen-criu-opts.py writes them
 * as this table at build time from the same .proto files. Read-only data,
 * sorted by (message, field number). */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum {
        CRIU_OPT_HEX = 1 << 0,   /* integers as "0x..."; inherited by nested messages */
        CRIU_OPT_IPADD = 1 << 1, /* repeated u32 in network order: one IPv4/IPv6 string */
        CRIU_OPT_DEV = 1 << 2,   /* dev_t as "major:minor" */
        CRIU_OPT_ODEV = 1 << 3,  /* ... in the old (glibc) encoding */
};

struct criu_field_opts {
        const char *message; /* full message name, as ProtobufCMessageDescriptor.name */
        uint32_t field;      /* field number */
        unsigned bits;       /* CRIU_OPT_* */
        const char *flags;   /* flags map name ("mmap.prot"), or NULL */
        const char *dict;    /* value-name map ("sk", "gen"), or NULL */
        const char *conv;    /* bytes conversion ("unix_name"), or NULL */
};

extern const struct criu_field_opts criu_field_opts_table[];
extern const size_t criu_field_opts_count;
