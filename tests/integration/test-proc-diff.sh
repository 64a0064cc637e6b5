#!/usr/bin/env bash
# Two checkpoints of one running counter compared as trees: `diff -r
# A/proc B/proc` ends (mem and core are compared as binary files and differ
# early) and shows what changed: the loop's new `sleep` child, the dump
# statistics, the counter's memory.
. "$(dirname "$0")/lib.sh"
require_ckptfs
[ -n "${CRIU_DECODE:-}" ] || [ -d /opt/ckptfs/criu-4.2.1/images ] ||
  skip_all "ckptfs built without the CRIU image decoder"

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
id=$(tenv_uid pdiff)
tenv_run "$id" sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 1; done'
ok "wait_for 10 tenv_cat $id /tmp/count" "the counter runs"
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
echo "name=ck/$id:a" > "$mnt/$ns/containers/$id/checkpoint"
ok $? "checkpoint a"
sleep 2
echo "name=ck/$id:b" > "$mnt/$ns/containers/$id/checkpoint"
ok $? "checkpoint b, two seconds later"
A=$mnt/$ns/checkpoints/ck/$id:a
B=$mnt/$ns/checkpoints/ck/$id:b

out=$(timeout 120 diff -r "$A/proc" "$B/proc" 2>&1)
is "$?" 1 "diff -r A/proc B/proc ends and finds differences"
pa=$(awk '$2 == 1 && $1 != 1 { print $1 }' "$A/proc/ps") pb=$(awk '$2 == 1 && $1 != 1 { print $1 }' "$B/proc/ps")
isnt "$pa" "$pb" "the loop's sleep child is another process ($pa, $pb)"
like "$out" "Only in $A/proc: $pa" "diff: A's sleep only in A"
like "$out" "Only in $B/proc: $pb" "diff: B's sleep only in B"
like "$out" "diff -r $A/proc/stats $B/proc/stats" "diff: the dump statistics changed"
like "$out" "Binary files $A/proc/1/mem and $B/proc/1/mem differ" "diff: the counter's memory changed"
unlike "$out" "proc/1/maps" "diff: the counter's mappings did not change"
out=$(diff -r --exclude=mem --exclude=core --exclude=vmas "$A/proc" "$B/proc" 2>&1)
unlike "$out" "Binary files" "diff without mem, core and vmas/: text only"

ckptfs_umount "$mnt"
done_testing
