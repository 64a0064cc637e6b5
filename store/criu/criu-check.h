/* Whether the files of a CRIU dump decode, for summary: every record of a
 * record image read through (framing, magics, messages, payloads). Pure. */
#pragma once

#include <stdbool.h>

#include "reader.h"

/* Whether member `name` of a dump is a record image by its name: *.img
 * (but pages-N.img, tmpfs-*.tar.gz.img and the raw network images),
 * stats-dump and irmap-cache. A bad magic on one of these is damage, not a
 * raw image. */
bool criu_image_name_is_record(const char *name);

/* 0 when the image in r decodes whole; -EBADMSG when it does not (a
 * record image without its magic included), -EOPNOTSUPP for payloads this
 * decoder does not read; the reader's errors. */
int criu_image_check(struct store_reader *r);
