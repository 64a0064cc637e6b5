/* The value names crit prints for CRIU's custom field options
 * (lib/pycriu/images/pb2dict.py): flags maps, dict maps, IP addresses and
 * unix socket names. Pure, thread-safe; each returns a new JSON value or
 * NULL on -ENOMEM. */
#pragma once

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* v by the flags map `map` ("mmap.prot"): "PROT_READ | PROT_WRITE", bits
 * without a name as a trailing "0x..", "" for 0; "0x.." for unknown maps. */
json_t *criu_flags_json(const char *map, uint64_t v);

/* The name of v for field `field` in the dict map `dict` ("sk", "gen"), NULL
 * when it has none (crit prints the number then). */
const char *criu_dict_name(const char *dict, const char *field, uint64_t v);

/* A repeated u32 address in network order (1 word: IPv4, else IPv6) as
 * crit's one-element list of Python's compressed notation. */
json_t *criu_ipadd_json(const uint32_t *words, size_t n);

/* Bytes as Python's quopri.encodestring() (unix socket names). */
json_t *criu_unix_name_json(const ProtobufCBinaryData *b);
