#!/usr/bin/env bash
# Browsable checkpoint images, against a real containerd with
# `ctr` as the peer: <ns>/checkpoints/<name>/ and
# containers/<id>/checkpoints/<tag>/ with index.json, layout/, manifests/,
# task/, rw/, config.json, options.json; the backup -> import into a second
# containerd -> restore round trip; names appearing and going within 2 s;
# the cached tree while containerd is frozen.
. "$(dirname "$0")/lib.sh"
require_ckptfs

ms() { _tenv_now_ms; }
xattr() { python3 -c 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())' "$1" "$2"; }
has_criu() { tenv_ctr content get "$(image_digest "$1")" | grep -q 'criu.checkpoint.criu.tar'; }

W=$TENV_DIR/work
mkdir -p "$W"
MNT=$TENV_DIR/mnt
NS=$CKPTFS_TEST_NS

# ---------------------------------------------------------------- a ctr-made checkpoint
# (one `ctr c checkpoint --task` per container: containerd 1.6 leaves the
# CRIU dump out of a second one of the same container)
id=$(tenv_uid web)
run_ok "a container counting in /tmp/count" tenv_run "$id" memhog 8 /tmp/count
wait_for 15 count_at_least "$id" 3
# A rw layer with a tree to browse: 1,000 files in 20 nested directories, a
# hard link, a symlink to a directory, empty nested directories.
run_ok "1,000 files in nested directories in the container" tenv_exec "$id" /bin/sh -c '
  a=0; while [ $a -lt 5 ]; do b=0; while [ $b -lt 4 ]; do d=/srv/tree/a$a/b$b; mkdir -p $d; f=0
    while [ $f -lt 50 ]; do echo "$a $b $f" > $d/f$f; f=$((f + 1)); done; b=$((b + 1)); done; a=$((a + 1)); done
  ln /srv/tree/a0/b0/f1 /srv/tree/hard; ln -s a1/b1 /srv/tree/sym; mkdir -p /srv/tree/empty/deeper/deepest'
ref=ckpt/$id:one
run_ok "ctr c checkpoint --task --rw --image" tenv_ctr containers checkpoint --task --rw --image "$id" "$ref"
at_ckpt=$(count_of "$id")
ok "has_criu '$ref'" "the checkpoint index holds a CRIU dump"
digest=$(image_digest "$ref")

ckptfs_mount "$MNT" --cache "$TENV_DIR/cache.db" --timeout 2000 || bail_out "cannot mount"
C=$MNT/$NS/checkpoints/$ref
ok "wait_for 5 test -d '$C'" "checkpoints/$ref is a directory (nested name parts)"
is "$(ls "$MNT/$NS")" "$(printf 'by-digest\ncheckpoints\ncontainers\nimport\npull')" \
  "the namespace lists by-digest/, checkpoints/, containers/, import and pull"
CC=$MNT/$NS/containers/$id/checkpoints/$id:one
ok "test -d '$CC'" "containers/$id/checkpoints/$id:one is the same checkpoint (named by its config blob)"
# decoded/ and proc/ come with the CRIU image decoder (meson sets CRIU_DECODE when it is built);
# cri.tar (test-cri-tar.sh) with every CRIU tar
entries="config.json cri.tar index.json layout manifests options.json push restore rw summary task "
[ -z "${CRIU_DECODE:-}" ] || entries="config.json cri.tar decoded index.json inspect.json layout manifests options.json proc push restore rw summary task "
is "$(ls "$C" | tr '\n' ' ')" "$entries" "checkpoint dir entries"
is "$(ls "$CC" | tr '\n' ' ')" "$entries" "same entries under containers/"

# ---------------------------------------------------------------- index.json, layout/
tenv_ctr content get "$digest" >"$W/index.want"
run_ok "index.json equals ctr content get of the target" cmp "$W/index.want" "$C/index.json"
is "$(stat -c %s "$C/index.json")" "$(stat -c %s "$W/index.want")" "index.json st_size is exact"
is "sha256:$(sha256sum <"$C/index.json" | cut -d' ' -f1)" "$digest" "index.json hashes to the image target"
is "$(cat "$C/layout/oci-layout")" '{"imageLayoutVersion":"1.0.0"}' "layout/oci-layout"
is "$(jq -r '.manifests | length' "$C/layout/index.json")" 1 "layout/index.json has one descriptor"
is "$(jq -r '.manifests[0].digest' "$C/layout/index.json")" "$digest" "... the checkpoint index"
is "$(jq -r '.manifests[0].annotations["io.containerd.image.name"]' "$C/layout/index.json")" "$ref" \
  "... annotated io.containerd.image.name"
is "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$C/layout/index.json")" one \
  "... and org.opencontainers.image.ref.name (the tag, as containerd's exporter writes it)"
bad=0 n=0
for f in "$C"/layout/blobs/sha256/*; do
  h=$(basename "$f")
  n=$((n + 1))
  [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$h" ] || { diag "sha256 of $h differs"; bad=1; }
  tenv_ctr content get "sha256:$h" | cmp -s - "$f" || { diag "$h differs from ctr content get"; bad=1; }
  [ "$(stat -c %s "$f")" = "$(tenv_ctr content get "sha256:$h" | wc -c)" ] || { diag "st_size of $h"; bad=1; }
done
ok $bad "all $n layout blobs equal ctr content get, hash to their names, exact st_size"
# Everything the index reaches: its descriptors, the image manifest's config and layers.
want=$( { echo "$digest"; jq -r '.manifests[].digest' "$W/index.want"
  for m in $(jq -r '.manifests[] | select(.mediaType | test("manifest")) | .digest' "$W/index.want"); do
    tenv_ctr content get "$m" | jq -r '.config.digest, .layers[].digest'; done; } | sed 's/^sha256://' | sort -u)
is "$(ls "$C/layout/blobs/sha256" | sort)" "$want" "layout/blobs holds every blob the index reaches"

# ---------------------------------------------------------------- manifests/, xattrs
is "$(ls "$C/manifests" | tr '\n' ' ')" \
  "CACHEDIR.TAG config.pb criu.tar image-manifest.json options.pb runtime-options.pb rw.tar.gz " "manifests/ names"
criu_d=$(jq -r '.manifests[] | select(.mediaType | endswith("criu.tar")) | .digest' "$W/index.want")
rw_d=$(jq -r '.manifests[] | select(.mediaType | endswith("tar+gzip")) | .digest' "$W/index.want")
tenv_ctr content get "$criu_d" >"$W/criu.tar"
tenv_ctr content get "$rw_d" >"$W/rw.tar.gz"
run_ok "manifests/criu.tar equals the CRIU blob" cmp "$W/criu.tar" "$C/manifests/criu.tar"
run_ok "manifests/rw.tar.gz equals the rw blob" cmp "$W/rw.tar.gz" "$C/manifests/rw.tar.gz"
is "$(xattr "$C/manifests/criu.tar" user.ckptfs.digest)" "$criu_d" "user.ckptfs.digest"
is "$(xattr "$C/manifests/criu.tar" user.ckptfs.mediatype)" \
  application/vnd.containerd.container.criu.checkpoint.criu.tar "user.ckptfs.mediatype"
is "$(xattr "$C/index.json" user.ckptfs.digest)" "$digest" "index.json carries the xattrs too"
is "$(head -c 43 "$C/manifests/CACHEDIR.TAG")" "Signature: 8a477f597d28d172789f06886806bc55" "CACHEDIR.TAG signature"

# ---------------------------------------------------------------- task/, rw/
mkdir -p "$W/task" "$W/rw"
tar -C "$W/task" -xf "$W/criu.tar"
tar -C "$W/rw" -xzf "$W/rw.tar.gz"
is "$(ls "$C/task" | grep -v '^CACHEDIR.TAG$')" "$(ls "$W/task")" "task/ lists the members of the CRIU tar"
run_ok "task/ members equal the tar's members" diff -r --exclude=CACHEDIR.TAG "$W/task" "$C/task"
ok "test -f '$C/task/pstree.img' && test -s '$C/task/pages-1.img'" "pstree.img, pages-1.img are there"
run_ok "rw/ has the files of tar -xzf of the layer" diff -r --no-dereference --exclude=CACHEDIR.TAG "$W/rw" "$C/rw"
# (directory sizes are the file system's own business: not compared)
meta() { (cd "$1" && find . -mindepth 1 -path ./CACHEDIR.TAG -prune -o \
  \( -type d -printf '%p %y %m %U %G - %T@\n' \) -o -printf '%p %y %m %U %G %s %T@ %l\n' | sort); }
is "$(meta "$C/rw")" "$(meta "$W/rw")" "rw/ modes, owners, sizes, mtimes, link targets equal tar -xzf"
T=$C/rw/srv/tree
is "$(ls "$T" | tr '\n' ' ')" "a0 a1 a2 a3 a4 empty hard sym " "rw/srv/tree lists its entries"
is "$(ls "$T/a3/b2" | wc -l)" 50 "... a nested directory lists its 50 files"
is "$(find "$T" -type f | wc -l)" 1001 "... find sees the 1,001 files of the tree"
is "$(cat "$T/a3/b2/f49")" "3 2 49" "... a nested file reads"
is "$(cat "$T/hard")" "0 0 1" "... the hard link reads as its target"
is "$(ls "$T/sym/" | wc -l)" 50 "... the symlink leads to a directory of the tree"
is "$(find "$T/empty" | wc -l)" 3 "... empty nested directories"
fails_with ENOENT stat "$T/a3/b2/f50"
fails_with ENOENT stat "$T/a5"
is "$(cat "$C/rw/tmp/count" | tr -d '\n')" "$(tar -xzOf "$W/rw.tar.gz" tmp/count | tr -d '\n')" "rw/tmp/count"
# The walks above came with attributes (READDIRPLUS, a lookup reference per
# entry); the kernel forgets them all when its caches are dropped: a walk
# after that must see the same tree (a miscounted node would be ESTALE).
walk1=$(meta "$C")
sync
echo 2 >/proc/sys/vm/drop_caches
is "$(meta "$C" 2>&1)" "$walk1" "after the kernel forgot every node, a new walk of the checkpoint sees the same tree"

# ---------------------------------------------------------------- config.json, options.json
# config.json is the container record the checkpoint keeps: as `ctr c info` shows the container.
record() { jq -c '[.id, .image, .runtime.name, .snapshotter, .runtime.options.typeUrl, .spec.process.args]' "$1"; }
ctr_record() { tenv_ctr containers info "$1" | jq -c '[.ID, .Image, .Runtime.Name, .Snapshotter,
  (.Runtime.Options.type_url // .Runtime.Options["@type"] // null), .Spec.process.args]'; }
is "$(jq -r .spec.linux.cgroupsPath "$C/config.json")" "/$NS/$id" "config.json: the spec, decoded"
is "$(jq -c keys "$C/config.json")" '["id","image","runtime","snapshotter","spec"]' "config.json: the record's keys"
is "$(record "$C/config.json")" "$(ctr_record "$id")" \
  "config.json: id, image, runtime name and options, snapshotter, spec equal ctr c info"
note "config.json record: $(record "$C/config.json")"
is "$(jq -r '[.image, .runtime.name, .snapshotter, .runtime.options.typeUrl] | join(" ")' "$C/config.json")" \
  "$CKPTFS_TEST_IMAGE io.containerd.runc.v2 overlayfs containerd.runc.v1.Options" "config.json: none of them null"
is "$(jq -r '.runtime.options.binary_name' "$C/config.json")" "$(jq -r '.runtime.binary_name' "$C/options.json")" \
  "config.json: the runtime options, decoded as in options.json"
is "$(stat -c %s "$C/config.json")" "$(wc -c <"$C/config.json")" "config.json st_size is exact"
is "$(jq -r '.checkpoint.typeUrl' "$C/options.json")" containerd.runc.v1.CheckpointOptions \
  "options.json: the checkpoint options"
is "$(jq -r '.runtime | has("binary_name")' "$C/options.json")" true "options.json: the runtime options"

# ---------------------------------------------------------------- read-only, stable inodes
fails_with EROFS touch "$C/index.json"
fails_with EROFS mkdir "$C/new"
fails_with EROFS rm -f "$C/layout/oci-layout"
ino1=$(stat -c %i "$C/layout/blobs/sha256/${criu_d#sha256:}")
mt=$(stat -c %Y "$C/index.json")
ok "[ '$mt' -gt 1700000000 ]" "mtime from the image's creation time ($mt)"

# ---------------------------------------------------------------- backup -> second containerd -> restore
run_ok "tar -C layout -cf backup.tar ." tar -C "$C/layout" -cf "$W/backup.tar" .
D2=$(mktemp -d "${CKPTFS_TEST_TMP:-/tmp}/ckt2.XXXXXX")
trap '_st=$?; tenv_stop "$D2" >/dev/null 2>&1; (exit $_st); _lib_on_exit' EXIT
(TENV_OWNER_PID=$$ CKPTFS_TEST_NS= tenv_start "$D2" >"$W/env2.log" 2>&1) || { diag "$(cat "$W/env2.log")"; bail_out "second containerd"; }
ctr2() { _tenv_ctr_at "$D2/c.sock" "$1" "${@:2}"; }
# Its test namespace holds the base image (ctr c restore needs the image the
# checkpoint index names); the checkpoint itself comes only from the backup.
NS2=$(sed -n 's/^CKPTFS_TEST_NS=//p' "$D2/env")
ok "! ctr2 '$NS2' images ls -q | grep -qxF '$ref'" "the second containerd does not have the checkpoint"
run_ok "ctr images import --no-unpack of the backup (second containerd)" ctr2 "$NS2" images import --no-unpack "$W/backup.tar"
is "$(ctr2 "$NS2" images ls | awk -v n="$ref" '$1 == n { print $3 }')" "$digest" "imported under the same name and digest"
rid=$(tenv_uid restored)
echo "$NS2 $rid" >>"$D2/ids"
run_ok "ctr containers restore --live --rw" ctr2 "$NS2" containers restore --live --rw "$rid" "$ref"
pid2=$(ctr2 "$NS2" tasks ls | awk -v id="$rid" '$1 == id { print $2 }')
rc() { cat "/proc/$pid2/root/tmp/count" 2>/dev/null | tr -d '\n'; }
c1=$(rc); sleep 1.2; c2=$(rc)
ok "[[ '$c1' =~ ^[0-9]+$ ]] && [ '$c1' -ge '$at_ckpt' ] && [ '$c2' -gt '$c1' ]" \
  "the restored process continues counting (checkpoint at $at_ckpt, then $c1 -> $c2)"

run_ok "rsync -a of the layout to local disk" rsync -a "$C/layout/" "$W/copy/"
run_ok "tar of the copy" tar -C "$W/copy" -cf "$W/backup2.tar" .
NS3=$NS2
run_ok "ctr images rm of the first import" ctr2 "$NS3" images rm "$ref"
run_ok "import of the rsync'd copy" ctr2 "$NS3" images import --no-unpack "$W/backup2.tar"
is "$(ctr2 "$NS3" images ls | awk -v n="$ref" '$1 == n { print $3 }')" "$digest" "... same name and digest"
rid3=$(tenv_uid restored)
echo "$NS3 $rid3" >>"$D2/ids"
run_ok "restore from the rsync'd copy" ctr2 "$NS3" containers restore --live --rw "$rid3" "$ref"
is "$(ctr2 "$NS3" tasks ls | awk -v id="$rid3" '$1 == id { print $3 }')" RUNNING "... its task runs"

# ---------------------------------------------------------------- names come and go within 2 s
id2=$(tenv_uid web)
run_ok "a second container" tenv_run "$id2" memhog 8 /tmp/count
# Listings the kernel now holds: they must not hide the change.
ls "$MNT/$NS/checkpoints/ckpt" "$MNT/$NS/containers/$id2/checkpoints" >/dev/null
listed() { ls "$1" | grep -qxF "$2"; }
unlisted() { ! listed "$@"; }
ref2=ckpt/$id2:two
run_ok "ctr c checkpoint of it" tenv_ctr containers checkpoint --task --rw "$id2" "$ref2"
t0=$(ms)
wait_for 2 test -d "$MNT/$NS/checkpoints/$ref2"
ok $? "a new checkpoint appears within 2 s ($(($(ms) - t0)) ms)"
ok "test -d '$MNT/$NS/containers/$id2/checkpoints/$id2:two'" "... under containers/$id2/checkpoints too"
wait_for 2 listed "$MNT/$NS/checkpoints/ckpt" "$id2:two"
ok $? "... in the listing of checkpoints/ckpt, read before it came ($(($(ms) - t0)) ms)"
wait_for 2 listed "$MNT/$NS/containers/$id2/checkpoints" "$id2:two"
ok $? "... and in that of containers/$id2/checkpoints ($(($(ms) - t0)) ms)"
# Its tar indexes go into the cache when task/ and rw/ are read ...
criu2=$(tenv_ctr content get "$(image_digest "$ref2")" | jq -r '.manifests[] | select(.mediaType | endswith("criu.tar")) | .digest')
rw2=$(tenv_ctr content get "$(image_digest "$ref2")" | jq -r '.manifests[] | select(.mediaType | endswith("tar+gzip")) | .digest')
target2=$(image_digest "$ref2")
cached() { sqlite3 "$TENV_DIR/cache.db" "SELECT (SELECT count(*) FROM tar_members WHERE blob_digest IN ('$criu2', '$rw2'))
  + (SELECT count(*) FROM tar_indexes WHERE blob_digest IN ('$criu2', '$rw2'))
  + (SELECT count(*) FROM gz_indexes WHERE blob_digest = '$rw2')
  + (SELECT count(*) FROM gz_windows WHERE blob_digest = '$rw2')
  + (SELECT count(*) FROM descriptors WHERE parent_digest = '$target2')
  + (SELECT count(*) FROM blobs WHERE digest IN ('$criu2', '$rw2', '$target2'))"; }
find "$MNT/$NS/checkpoints/$ref2/task" "$MNT/$NS/checkpoints/$ref2/rw" >/dev/null
ok "[ \"\$(cached)\" -gt 0 ]" "the cache holds the tar indexes of $ref2 ($(cached) rows)"
run_ok "ctr images rm" tenv_ctr images rm "$ref2"
t0=$(ms)
wait_for 2 test ! -e "$MNT/$NS/checkpoints/$ref2"
ok $? "a removed checkpoint disappears within 2 s ($(($(ms) - t0)) ms)"
wait_for 2 test ! -e "$MNT/$NS/containers/$id2/checkpoints/$id2:two"
ok $? "... from containers/ too ($(($(ms) - t0)) ms)"
wait_for 2 unlisted "$MNT/$NS/checkpoints/ckpt" "$id2:two"
ok $? "... and from the listings: checkpoints/ckpt ($(($(ms) - t0)) ms)"
wait_for 2 unlisted "$MNT/$NS/containers/$id2/checkpoints" "$id2:two"
ok $? "... and containers/$id2/checkpoints ($(($(ms) - t0)) ms)"
# ... and leave it with the last image that reached them.
gc_done() { [ "$(cached)" = 0 ]; }
wait_for 2 gc_done
ok $? "... and the cache no longer holds its tar members, indexes, descriptors ($(cached) rows left)"
is "$(sqlite3 "$TENV_DIR/cache.db" "SELECT count(*) FROM tar_indexes WHERE blob_digest = '$criu_d'")" 1 \
  "... while those of $ref stay"

# ---------------------------------------------------------------- config.json of a checkpoint ckptfs took
run_ok "a checkpoint taken through the mount" mkdir "$MNT/$NS/containers/$id2/checkpoints/rec"
R=$MNT/$NS/checkpoints/containerd.io/checkpoint/$id2:rec
is "$(jq -c keys "$R/config.json")" '["id","image","runtime","snapshotter","spec"]' "ckptfs-made config.json: the same keys"
is "$(record "$R/config.json")" "$(ctr_record "$id2")" "ckptfs-made config.json: the record equals ctr c info"
is "$(stat -c %s "$R/config.json")" "$(wc -c <"$R/config.json")" "ckptfs-made config.json st_size is exact"

# ---------------------------------------------------------------- a re-pointed name
# The kernel keeps a checkpoint dir's entries and pages for a day: a name
# that points to another index must get new inodes (salted with the target)
# and its old entry dropped.
d_ino() { python3 -c 'import os,sys; print([e.inode() for e in os.scandir(sys.argv[1]) if e.name == sys.argv[2]][0])' "$1" "$2"; }
rp=ckpt/repoint-$id:x
P=$MNT/$NS/checkpoints/$rp
run_ok "ctr images tag of $ref" tenv_ctr images tag "$ref" "$rp"
ok "wait_for 2 test -d '$P'" "the new name shows"
run_ok "its index.json is the target of $ref (and now in the kernel's cache)" cmp "$W/index.want" "$P/index.json"
ino_a=$(stat -c %i "$P" "$P/index.json")
is "$(d_ino "$(dirname "$P")" "$(basename "$P")")" "$(stat -c %i "$P")" "readdir's d_ino equals stat's for a checkpoint dir"
new_target=$(image_digest "containerd.io/checkpoint/$id2:rec")
tenv_ctr content get "$new_target" >"$W/index.new"
run_ok "ctr images tag --force: the name points to another checkpoint" \
  tenv_ctr images tag --force "containerd.io/checkpoint/$id2:rec" "$rp"
t0=$(ms)
wait_for 2 cmp -s "$W/index.new" "$P/index.json"
ok $? "index.json equals the new target within 2 s ($(($(ms) - t0)) ms)"
ino_b=$(stat -c %i "$P" "$P/index.json")
isnt "$ino_b" "$ino_a" "the dir and its files have new inode numbers"
is "$(d_ino "$(dirname "$P")" "$(basename "$P")")" "$(stat -c %i "$P")" "... which readdir announces too"
is "$(jq -r .id "$P/config.json")" "$id2" "... and config.json is the new checkpoint's"
run_ok "ctr images rm of the re-pointed name" tenv_ctr images rm "$rp"

# ---------------------------------------------------------------- containerd frozen: the cached tree
find "$MNT/$NS/checkpoints" >/dev/null
kill -STOP "$CKPTFS_TEST_CONTAINERD_PID"
t0=$(ms)
n_files=$(find "$MNT/$NS/checkpoints/$ref" -type f | wc -l)
ok "[ '$n_files' -gt 20 ]" "with containerd frozen, the checkpoint tree still lists ($n_files files)"
run_ok "... stat works" stat "$C/index.json" "$C/layout/blobs/sha256/${criu_d#sha256:}"
run_ok "... and reads from the local content store work" cmp "$W/criu.tar" "$C/manifests/criu.tar"
kill -CONT "$CKPTFS_TEST_CONTAINERD_PID"
ok "[ $(($(ms) - t0)) -lt 10000 ]" "nothing waited for the frozen daemon"

ckptfs_umount "$MNT"

# ---------------------------------------------------------------- remount: stable inodes, the cache
ckptfs_mount "$MNT" --cache "$TENV_DIR/cache.db" || bail_out "cannot remount"
is "$(stat -c %i "$C/layout/blobs/sha256/${criu_d#sha256:}")" "$ino1" "inode numbers are stable across remounts"
ckptfs_umount "$MNT"
done_testing
