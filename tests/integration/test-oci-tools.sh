#!/usr/bin/env bash
# OCI tools on the layouts ckptfs serves, in place: <ns>/by-digest/<hex>/ (a
# path without ':', which skopeo, umoci and oci-image-tool split PATH:TAG
# at) with `skopeo inspect --raw` and `umoci ls`; its files are the named
# directory's (one inode); the canonical name of a digest with two names;
# the entry gone within 2 s of the last name; the path in `cat checkpoint`
# and status; image names that give no valid file name are not shown and
# are logged once.
. "$(dirname "$0")/lib.sh"
require_ckptfs
command -v skopeo >/dev/null && command -v umoci >/dev/null ||
  skip_all "skopeo and umoci are needed (scripts/install-deps.sh installs them)"

ms() { _tenv_now_ms; }
MNT=$TENV_DIR/mnt
NS=$CKPTFS_TEST_NS
W=$TENV_DIR/work
mkdir -p "$W"

id=$(tenv_uid oci)
run_ok "a container counting in /tmp/count" tenv_run "$id" memhog 8 /tmp/count
wait_for 15 count_at_least "$id" 2
ckptfs_mount "$MNT" --namespace "$NS" --cache "$TENV_DIR/cache.db" --timeout 5000 || bail_out "cannot mount"
ok "test -d '$MNT/$NS/by-digest'" "the namespace has by-digest/"

# ---------------------------------------------------------------- a checkpoint through the mount
ref=ckpt/$id:v1
run_ok "a checkpoint named $ref" sh -c "echo 'task rw name=$ref' > '$MNT/$NS/containers/$id/checkpoint'"
report=$(cat "$MNT/$NS/containers/$id/checkpoint")
digest=$(field index "$report")
hex=${digest#sha256:}
B=$MNT/$NS/by-digest/$hex
C=$MNT/$NS/checkpoints/$ref
is "$(field path "$report")" "$B" "cat checkpoint: path: is the by-digest directory"
is "$(field last_checkpoint_path "$(cat "$MNT/$NS/containers/$id/status")")" "$B" \
  "status: last_checkpoint_path: too"
is "$(grep -c '^path: ' <<<"$report")" 1 "... one path line, after the report's own lines"
ok "test -d '$B'" "by-digest/<hex> is a directory"
is "$(ls "$MNT/$NS/by-digest")" "$hex" "by-digest/ lists the digest"
is "$(ls "$B" | tr '\n' ' ')" "$(ls "$C" | tr '\n' ' ')" "same entries as under the name"
run_ok "by-digest index.json is the target blob" cmp "$C/index.json" "$B/index.json"
run_ok "the same layout/index.json (the name's)" cmp "$C/layout/index.json" "$B/layout/index.json"
run_ok "the same config.json" cmp "$C/config.json" "$B/config.json"

# ---------------------------------------------------------------- the tools, in place
skopeo inspect --raw "oci:$B/layout:v1" >"$W/raw" 2>"$W/raw.err"
ok $? "skopeo inspect --raw oci:<by-digest>/layout:v1 $(head -c 300 "$W/raw.err")"
run_ok "... prints index.json byte for byte" cmp "$W/raw" "$B/index.json"
is "$(umoci ls --layout "$B/layout" 2>&1)" v1 "umoci ls --layout <by-digest>/layout lists the tag"
skopeo inspect --raw "oci:$C/layout:v1" >/dev/null 2>&1
isnt $? 0 "(the named path, holding ':', is what skopeo cannot address)"

# containerd's default name: its tag holds ':' too (skopeo splits at the first one)
run_ok "a checkpoint with the default name" sh -c "echo > '$MNT/$NS/containers/$id/checkpoint'"
report2=$(cat "$MNT/$NS/containers/$id/checkpoint")
name2=$(field name "$report2")
tag2=${name2#containerd.io/checkpoint/$id:}
B2=$(field path "$report2")
like "$tag2" '^[0-9]{2}-[0-9]{2}-[0-9]{4}-[0-9]{2}:[0-9]{2}:[0-9]{2}$' "the default tag holds a time ($tag2)"
skopeo inspect --raw "oci:$B2/layout:$tag2" >"$W/raw2" 2>"$W/raw2.err"
ok $? "skopeo inspect --raw oci:<by-digest>/layout:$tag2 $(head -c 300 "$W/raw2.err")"
run_ok "... prints its index.json" cmp "$W/raw2" "$B2/index.json"
is "$(umoci ls --layout "$B2/layout" 2>&1)" "$tag2" "umoci ls lists the default tag"
run_ok "ctr images rm of the default-named checkpoint" tenv_ctr images rm "$name2"

# ---------------------------------------------------------------- one node, two names
is "$(stat -c %i "$B/index.json")" "$(stat -c %i "$C/index.json")" "index.json: the same inode number"
criu=$(ls "$C/layout/blobs/sha256" | head -n1)
is "$(stat -c %i "$B/layout/blobs/sha256/$criu")" "$(stat -c %i "$C/layout/blobs/sha256/$criu")" \
  "a layout blob: the same inode number"
is "$(stat -c %i "$B/task/pstree.img")" "$(stat -c %i "$C/task/pstree.img")" "task/pstree.img: the same inode number"
is "$(stat -c %h "$C/index.json")" 2 "st_nlink 2 for the files under both names"
isnt "$(stat -c %i "$B")" "$(stat -c %i "$C")" "directories have inode numbers of their own"
is "$(find "$MNT/$NS" -samefile "$C/index.json" | sort)" "$(printf '%s\n' "$B/index.json" "$C/index.json" | sort)" \
  "find -samefile finds the two names"
find "$B" "$C" >"$W/find" 2>"$W/find.err"
ok $? "find over both trees $(head -c 300 "$W/find.err")"
is "$(grep -c . "$W/find")" "$(( $(find "$C" | wc -l) * 2 ))" "... each tree seen whole"
ls -R "$B" "$C" >/dev/null 2>"$W/ls.err"
ok $? "ls -R over both trees $(head -c 300 "$W/ls.err")"
tar -C "$MNT/$NS" -cf "$W/both.tar" "checkpoints/$ref/layout" "by-digest/$hex/layout" 2>"$W/tar.err"
ok $? "tar -c over both trees $(head -c 300 "$W/tar.err")"
n_links=$(tar -tvf "$W/both.tar" | grep -c '^h')
is "$n_links" "$(find "$C/layout" -type f | wc -l)" "... the second tree's files are hard links in the archive"
( cd "$B/layout" && ls "$C/layout" >/dev/null && [ "$(pwd -P)" = "$B/layout" ] )
ok $? "a shell in by-digest/<hex>/layout stays there while the named tree is walked"

# ---------------------------------------------------------------- two names, one digest
ref0=ckpt/$id:a0   # sorts before $ref: the canonical name from now on
run_ok "ctr images tag $ref $ref0" tenv_ctr images tag "$ref" "$ref0"
wait_for 2 test -d "$MNT/$NS/checkpoints/$ref0"
canon() { jq -r '.manifests[0].annotations["io.containerd.image.name"]' "$B/layout/index.json" 2>/dev/null; }
t0=$(ms)
wait_for 2 test "$(canon)" = "$ref0"
ok $? "the first name in sort order is the canonical one: by-digest's layout/index.json is $ref0's ($(($(ms) - t0)) ms)"
is "$(ls "$MNT/$NS/by-digest")" "$hex" "by-digest/ lists the digest once"
is "$(stat -c %i "$B/index.json")" "$(stat -c %i "$MNT/$NS/checkpoints/$ref0/index.json")" \
  "... and shares the inodes of that name"
is "$(stat -c %h "$MNT/$NS/checkpoints/$ref0/index.json") $(stat -c %h "$C/index.json")" "2 1" \
  "st_nlink: 2 under the canonical name, 1 under the other"
run_ok "ctr images rm $ref0" tenv_ctr images rm "$ref0"
t0=$(ms)
wait_for 2 test "$(canon)" = "$ref"
ok $? "... then the other name is canonical again ($(($(ms) - t0)) ms)"

# ---------------------------------------------------------------- names that make no file name
long=$(printf 'x%.0s' $(seq 256))
bad1=ckpt/$long:v
bad2=ckpt/../up-$id:v
run_ok "a name with a 256-byte part" tenv_ctr images tag "$ref" "$bad1"
if tenv_ctr images tag "$ref" "$bad2" >/dev/null 2>&1; then has_bad2=1; else has_bad2=0; fi
note "containerd takes '$bad2' as an image name: $has_bad2"
wait_for 2 grep -q "is not shown under checkpoints/" "$CKPTFS_LOG"
ls -R "$MNT/$NS/checkpoints" >/dev/null 2>"$W/ls2.err"
ok $? "listing checkpoints/ works with those names around $(head -c 300 "$W/ls2.err")"
ls "$MNT/$NS/checkpoints/ckpt" >/dev/null
is "$(ls "$MNT/$NS/checkpoints/ckpt" | awk 'length > 255' | wc -l)" 0 "no entry longer than 255 bytes"
is "$(ls -a "$MNT/$NS/checkpoints" | grep -c '^\.\.$')" 1 "no second '..' entry"
is "$(grep -c "\"$bad1\" in $NS is not shown under checkpoints/" "$CKPTFS_LOG")" 1 \
  "the 256-byte name is logged once, after several listings"
if [ "$has_bad2" = 1 ]; then
  is "$(grep -c "\"$bad2\" in $NS is not shown" "$CKPTFS_LOG")" 1 "the name with '..' is logged once"
  ok "! test -e '$MNT/$NS/checkpoints/ckpt/up-$id:v'" "... and not shown (not even one level up)"
  tenv_ctr images rm "$bad2" >/dev/null
fi
tenv_ctr images rm "$bad1" >/dev/null

# ---------------------------------------------------------------- the last name goes
exec 3<"$B/index.json"   # the kernel holds the node
cd "$B/layout" || bail_out "cd"
cd / || bail_out "cd /"
exec 3<&-
run_ok "ctr images rm $ref" tenv_ctr images rm "$ref"
t0=$(ms)
wait_for 2 test ! -e "$B"
ok $? "by-digest/<hex> is gone within 2 s of the last name ($(($(ms) - t0)) ms)"
is "$(ls "$MNT/$NS/by-digest" | wc -l)" 0 "by-digest/ is empty"

ckptfs_umount "$MNT"
done_testing
