/* Checkpoint and image names: the OCI/distribution reference grammar and
 * containerd's checkpoint naming (containerd.io/checkpoint/<id>:<tag>).
 * Pure functions, thread-safe. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The longest name of a directory entry (the kernel's NAME_MAX). */
#define CKPT_COMPONENT_MAX 255


/* A reference tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool ckpt_tag_valid(const char *tag);
/* An image reference per the OCI/distribution grammar
 * ([domain[:port]/]path[/path...][:tag][@digest], lowercase path
 * components, name <= 255 chars), with one extension: the tag may contain
 * ':' as containerd's own default checkpoint names do. On failure returns
 * false and, if why != NULL, a static explanation. */
bool ckpt_ref_valid(const char *ref, const char **why);
/* containerd.io/checkpoint/<id>:<tag>: the standard checkpoint name
 * (malloc'd into *ret). */
int ckpt_standard_name(const char *container_id, const char *tag, char **ret);
/* ckpt_standard_name() with the tag <MM-DD-YYYY-HH:MM:SS> of local time t
 * (containerd's default checkpoint tag). */
int ckpt_default_name(const char *container_id, time_t t, char **ret);
/* For a standard name, the length of <id> (which starts right after
 * CKPT_NAME_PREFIX) and *ret_tag (the rest after the first colon: ids have
 * none, default tags do); 0 for other names. */
size_t ckpt_name_container(const char *name, const char **ret_tag);
/* Whether tag has the shape of containerd's default checkpoint tag,
 * MM-DD-YYYY-HH:MM:SS. */
bool ckpt_tag_is_default(const char *tag);

/* Whether s[0..n) may be the name of an entry of the tree: not empty, not
 * "." or "..", no '/' or NUL, at most CKPT_COMPONENT_MAX bytes. */
bool ckpt_component_valid(const char *s, size_t n);
/* Whether image name `name` can be shown under <ns>/checkpoints/: each of
 * its '/'-separated parts (directories, the last one with its :tag) passes
 * ckpt_component_valid(). On false, *why (if not NULL) is a static
 * explanation. containerd takes any non-empty string as an image name, so
 * this is checked where names are shown, not where they are made. */
bool ckpt_name_showable(const char *name, const char **why);
