#!/bin/sh
# Runs protoc-c over the installed containerd API files and writes the results
# under flat names (meson outputs cannot contain '/'): the proto path
# "github.com/containerd/containerd/api/services/tasks/v1/tasks.proto" becomes
# "api_services_tasks_v1_tasks.pb-c.{c,h}". Includes between generated files
# are rewritten to match; the weak gogo/fieldpath option imports are dropped,
# since they carry no messages we use.
# usage: gen-protobuf-c.sh OUTDIR PROTO...
set -eu
out=$1; shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoc-c -I/usr/share/gocode/src -I/usr/share/gocode/src/github.com/gogo/protobuf \
  -I/usr/share/gocode/src/github.com/gogo/googleapis -I/usr/include --c_out="$tmp" "$@" 2>"$tmp/protoc.log" || { cat "$tmp/protoc.log" >&2; exit 1; }
flat() {
  printf '%s\n' "$1" | sed -e 's|^github.com/containerd/containerd/||' -e 's|^github.com/containerd/cgroups/|cgroups_|' -e 's|^google/protobuf/|google_|' -e 's|/|_|g'
}
for p in "$@"; do
  base=${p%.proto}
  f=$(flat "$base")
  for ext in c h; do
    sed -e '/#include "gogoproto\/gogo.pb-c.h"/d' \
        -e '/#include "github.com\/containerd\/containerd\/protobuf\/plugin\/fieldpath.pb-c.h"/d' \
        -e 's|#include "github.com/containerd/containerd/\([^"]*\)"|#include "\1"|' \
        -e 's|#include "github.com/containerd/cgroups/\([^"]*\)"|#include "cgroups_\1"|' \
        -e 's|#include "google/protobuf/\([^"]*\)"|#include "google_\1"|' \
        "$tmp/$base.pb-c.$ext" > "$out/$f.pb-c.$ext.tmp"
    # now flatten the remaining path separators inside include names
    sed -e '/^#include "[^"]*\.pb-c\.h"/{s|/|_|g;s|#include "|#include "|}' "$out/$f.pb-c.$ext.tmp" > "$out/$f.pb-c.$ext"
    rm -f "$out/$f.pb-c.$ext.tmp"
  done
done
