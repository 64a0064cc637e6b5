#!/usr/bin/env bash
# Retention: keep=N in the command line and -o keep=N on the mount keep the
# newest N checkpoints ckptfs made of a container; images ckptfs did not make
# stay, unless they carry the container's default name and keep-all-names
# asks for them. Against the real daemon, ctr as the other maker.
. "$(dirname "$0")/lib.sh"
require_ckptfs

ns=$CKPTFS_TEST_NS
mnt=$TENV_DIR/mnt
id=$(tenv_uid keep)
run_ok "memhog 8 MiB started" start_memhog "$id" 8
p=containerd.io/checkpoint/$id
run_ok "ctr makes a checkpoint (tag byctr)" tenv_ctr containers checkpoint --task --rw --image "$id" "$p:byctr"
run_ok "ctr makes a default-named one" tenv_ctr containers checkpoint --task --rw --image "$id" "$p:01-02-2026-03:04:05"
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
ctl=$mnt/$ns/containers/$id/checkpoint
has() { [ -n "$(image_digest "$1")" ]; }

for t in r1 r2 r3 r4; do
  echo "name=$p:$t keep=2" > "$ctl"
  ok $? "checkpoint $t with keep=2"
done
ok "has $p:r3 && has $p:r4" "the newest two (r3, r4) stay"
ok "! has $p:r1 && ! has $p:r2" "the older ones (r1, r2) are deleted"
ok "has $p:byctr && has $p:01-02-2026-03:04:05" "the images ctr made stay"
like "$(cat "$ctl")" "retention: keep=2, deleted: $p:r2" "cat checkpoint says what retention deleted"
ok "wait_for 5 test ! -e '$mnt/$ns/containers/$id/checkpoints/r2'" "the deleted one leaves the tree"

echo "name=$p:r5 keep=1 keep-all-names" > "$ctl"
ok $? "checkpoint r5 with keep=1 keep-all-names"
ok "has $p:r5 && ! has $p:r3 && ! has $p:r4" "only r5 of ckptfs's stays"
ok "! has $p:01-02-2026-03:04:05" "keep-all-names: the default-named image ctr made is deleted too"
ok "has $p:byctr" "an image ctr made under another name stays"
ckptfs_umount "$mnt"

ckptfs_mount "$mnt" --namespace "$ns" -o keep=1 || bail_out "mount -o keep=1 failed"
echo "name=$p:r6" > "$ctl"
ok $? "checkpoint r6 on a mount with -o keep=1"
ok "has $p:r6 && ! has $p:r5" "the mount's keep=1 applies"
echo "name=$p:r7 keep=3" > "$ctl"
ok "has $p:r6 && has $p:r7" "a command's keep=3 wins over the mount's"
ok "has $p:byctr" "ctr's image still stays"
fails_with EINVAL "$FSOP" write "$ctl" "keep=0"
like "$(cat "$ctl")" "keep must be a number of checkpoints from 1 to 1000" "a bad keep is explained"
ckptfs_umount "$mnt"
done_testing
