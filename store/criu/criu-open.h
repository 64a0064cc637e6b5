/* How the decoders of store/criu reach the images of one CRIU dump: by
 * name ("pstree.img", "core-1.img", "pages-2.img"), through a function the
 * caller gives (fs/ opens members of a checkpoint's CRIU tar; tests and the
 * fuzz targets serve memory).
 *
 * Contract: on success *ret_reader is a reader the caller of the opener owns
 * (and frees, or hands on where a header says so); -ENOENT when the dump has
 * no such image; other errors pass through the decoders unchanged. */
#pragma once

#include "reader.h"

typedef int (*criu_open_fn)(void *userdata, const char *name, struct store_reader **ret_reader);
