#!/usr/bin/env bash
# Restores through the mount: the control file `restore` of a checkpoint
# dir (MOUNT/<ns>/checkpoints/<name>/restore and
# MOUNT/<ns>/containers/<id>/checkpoints/<tag>/restore), against the real
# daemon; `ctr` as the peer that looks at what it made.
. "$(dirname "$0")/lib.sh"
require_ckptfs

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
# containers this test makes without tenv_run: the env removes them at the end
own() { echo "$ns $1" >>"$CKPTFS_TEST_DIR/ids"; }
# containerd's own copies of CRIU tars (containerd#10166): in its TMPDIR
leaked() { find "$CKPTFS_TEST_DIR/tmp" -maxdepth 1 -name 'ctrd-checkpoint*' 2>/dev/null | wc -l; }
no_workdirs() { ! compgen -G '/var/tmp/ckptfs-restore-*' >/dev/null; }
leases() { tenv_ctr leases ls 2>/dev/null | awk 'NR > 1 && $1 ~ /^ckptfs-restore-/ { print $1 }'; }
snapshot_keys() { tenv_ctr snapshots ls 2>/dev/null | awk 'NR > 1 { print $1 }'; }

id=$(tenv_uid rst)
run_ok "memhog 16 MiB started" start_memhog "$id" 16
wait_for 30 count_at_least "$id" 4
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
c=$mnt/$ns/containers

# ------------------------------------------------------------ checkpoint, remove, restore
c_before=$(count_of "$id")   # before the checkpoint: the restored counter is at least this
echo > "$c/$id/checkpoint"
ok $? "checkpoint through the mount"
name=$(field name "$(cat "$c/$id/checkpoint")")
tag=${name#containerd.io/checkpoint/$id:}
R=$mnt/$ns/checkpoints/$name/restore
ok "wait_for 5 test -f '$R'" "checkpoints/$name/restore exists"
ok "wait_for 5 test -f '$c/$id/checkpoints/$tag/restore'" "containers/$id/checkpoints/$tag/restore exists"
is "$(stat -c %a "$R")" 600 "mode 0600"
is "$(cat "$R")" "" "empty before any restore"
remove_container "$id"
is "$(tenv_ctr containers ls -q | grep -cxF "$id")" 0 "the container is removed"

t0=$(date +%s%N)
out=$(echo > "$R" 2>&1)
ok $? "echo > restore succeeds $out"
ms=$((($(date +%s%N) - t0) / 1000000))
is "$(tenv_task_status "$id")" RUNNING "the restored task is RUNNING when the write returns ($ms ms)"
rep=$(cat "$R")
is "$(field result "$rep")" ok "cat restore: result ok"
is "$(field container "$rep")" "$id" "cat restore: the container id (the checkpointed one by default)"
is "$(field pid "$rep")" "$(tenv_task_pid "$id")" "cat restore: the task's pid"
like "$rep" $'stage start: [0-9]+ ms' "cat restore: the time of each stage"
is "$(field image "$rep")" "$CKPTFS_TEST_IMAGE" "cat restore: the base image"
c_rest=$(count_of "$id")
ok "[ '${c_rest:-0}' -ge '$c_before' ]" "the counter goes on from its value ($c_before -> $c_rest)"
wait_for 10 count_at_least "$id" $((c_rest + 1))
ok $? "... and keeps counting"
is "$(tenv_cat "$id" /rw-marker)" "rw-of-$id" "the rw file is back"
is "$(tenv_ctr containers info "$id" | jq -r .Image)" "$CKPTFS_TEST_IMAGE" "the container's image is the base image"
is "$(tenv_ctr containers info "$id" | jq -r .SnapshotKey)" "$id" "its snapshot key is its id"
is "$(leases)" "" "no lease left behind"

# ------------------------------------------------------------ a second copy beside the running one
id2=$(tenv_uid rst2)
own "$id2"
ls "$c" >/dev/null; stat "$c/$id2" >/dev/null 2>&1   # the kernel caches the list and the miss
printf 'id=%s live' "$id2" > "$c/$id/checkpoints/$tag/restore"
ok $? "id=$id2 through containers/$id/checkpoints/$tag/restore"
ok "[ -d '$c/$id2' ]" "containers/$id2 is there at once"
is "$(ls "$c" | grep -cxF "$id2")" 1 "... and listed in containers/ at once"
is "$(tenv_task_status "$id2")" RUNNING "the copy runs"
is "$(tenv_task_status "$id")" RUNNING "beside the original"
c2=$(count_of "$id2")
ok "[ '${c2:-0}' -ge '$c_before' ]" "the copy's counter starts from the checkpoint ($c2)"
is "$(tenv_cat "$id2" /rw-marker)" "rw-of-$id" "the copy has the rw file"
is "$(field container "$(cat "$c/$id/checkpoints/$tag/restore")")" "$id2" "cat restore (container tree): $id2"
is "$(cat "$R")" "$(cat "$c/$id/checkpoints/$tag/restore")" "one checkpoint, one last result under both names"

# ------------------------------------------------------------ refusals
fails_with EEXIST "$FSOP" write "$R" "live"
like "$(cat "$R")" "error: EEXIST" "cat restore: EEXIST"
like "$(cat "$R")" "a container $id exists" "... in plain words"
fails_with EEXIST "$FSOP" write "$R" "id=$id2"
fails_with EINVAL "$FSOP" write "$R" "bogus"
like "$(cat "$R")" 'unknown word "bogus"' "cat restore says why"
fails_with EINVAL "$FSOP" write "$R" "id=bad..id"
fails_with EINVAL "$FSOP" write "$R" "live no-start"
fails_with EINVAL "$FSOP" write "$R" "no-rw no-rw"
fails_with EINVAL bash -c "printf 'live\\0' > '$R'"
is "$(leases)" "" "no lease left behind by the refusals"

# ------------------------------------------------------------ no-start no-rw: the container only
id4=$(tenv_uid rst4)
own "$id4"
"$FSOP" write "$R" "id=$id4 no-start no-rw"
ok $? "no-start no-rw"
is "$(tenv_ctr containers ls -q | grep -cxF "$id4")" 1 "the container exists"
is "$(tenv_task_status "$id4")" "" "with no task"
tenv_ctr containers rm "$id4" >/dev/null 2>&1

# ------------------------------------------------------------ the base image absent: ENOENT, nothing left
base=ckptfs-test/alt-base:$(tenv_uid t)
run_ok "tag the test image as $base" tenv_ctr images tag "$CKPTFS_TEST_IMAGE" "$base"
id3=$(tenv_uid rst3)
own "$id3"
run_ok "memhog on $base" tenv_ctr run -d --null-io "$base" "$id3" sh -c \
  "echo rw-of-$id3 >/rw-marker; exec memhog 8 /tmp/count"
wait_for 30 count_at_least "$id3" 2
echo "name=ckpt/$id3:gone" > "$c/$id3/checkpoint"
ok $? "checkpoint of $id3"
remove_container "$id3"
run_ok "ctr images rm $base" tenv_ctr images rm "$base"
R3=$mnt/$ns/checkpoints/ckpt/$id3:gone/restore
ok "wait_for 5 test -f '$R3'" "its restore file"
fails_with ENOENT "$FSOP" write "$R3" "id=$id3"
like "$(cat "$R3")" "base image $base" "cat restore names the missing image"
is "$(tenv_ctr containers ls -q | grep -cxF "$id3")" 0 "no container left"
is "$(snapshot_keys | grep -cxF "$id3")" 0 "no snapshot left"
is "$(leases)" "" "no lease left"

# ------------------------------------------------------------ a failure after the snapshot: undone
# The snapshot key taken by a stray snapshot: EEXIST at Snapshots.Prepare,
# after the lease was made (the lease must go).
id5=$(tenv_uid rst5)
own "$id5"
run_ok "a stray snapshot named $id5" tenv_ctr snapshots prepare "$id5" ""
fails_with EEXIST "$FSOP" write "$R" "id=$id5"
like "$(cat "$R")" "stage: snapshot" "cat restore: failed in the snapshot stage"
is "$(tenv_ctr containers ls -q | grep -cxF "$id5")" 0 "no container"
is "$(leases)" "" "no lease"
tenv_ctr snapshots rm "$id5" >/dev/null 2>&1

# ------------------------------------------------------------ CRIU fails: EIO with its words, undone
# The process holds /rw-marker open: restored without the rw layer, CRIU
# cannot open it again.
id6=$(tenv_uid rst6)
own "$id6"
run_ok "memhog holding /rw-marker open" tenv_run "$id6" sh -c \
  "echo rw-of-$id6 >/rw-marker; exec 3</rw-marker; exec memhog 8 /tmp/count"
wait_for 30 count_at_least "$id6" 2
echo "name=ckpt/$id6:open" > "$c/$id6/checkpoint"
ok $? "checkpoint of $id6"
remove_container "$id6"
R6=$mnt/$ns/checkpoints/ckpt/$id6:open/restore
ok "wait_for 5 test -f '$R6'" "its restore file"
fails_with EIO "$FSOP" write "$R6" "no-rw"
rep=$(cat "$R6")
like "$rep" "stage: start" "cat restore: failed when the task started (CRIU)"
like "$(field message "$rep")" "criu failed.*; CRIU: .*Can't open file rw-marker" "... with runc's and CRIU's own words"
unlike "$rep" "log file: " "... without runc's pointer to a log that is gone"
diag "$(field message "$rep")"
is "$(tenv_ctr containers ls -q | grep -cxF "$id6")" 0 "no container left"
is "$(tenv_ctr tasks ls -q 2>/dev/null | grep -cxF "$id6")" 0 "no task left"
is "$(snapshot_keys | grep -cxF "$id6")" 0 "no snapshot left"
is "$(leases)" "" "no lease left"
echo > "$R6"
ok $? "with the rw layer the same checkpoint restores"
is "$(tenv_task_status "$id6")" RUNNING "... and runs"

ok "wait_for 5 no_workdirs" "no CRIU work dir left behind (removed after the write returned)"
is "$(leaked)" 0 "no copy of a CRIU tar left in containerd's temp dir (ckptfs unpacks the dump itself)"
remove_container "$id6"
run_ok "ctr c restore --live --rw of the same checkpoint" tenv_ctr containers restore --live --rw "$id6" "ckpt/$id6:open"
is "$(leaked)" 1 "... which leaves its copy behind (so the check above sees one)"
ok "kill -0 $CKPTFS_PID" "the daemon is alive"
is "$(tenv_task_status "$id")" RUNNING "the restored task still runs"

# ------------------------------------------------------------ a checkpoint made by ctr
id7=$(tenv_uid rst7)
run_ok "memhog for ctr" start_memhog "$id7" 8
c7=$(count_of "$id7")
run_ok "ctr c checkpoint --task --rw --image" tenv_ctr containers checkpoint --task --rw --image "$id7" "ckpt/$id7:ctr"
remove_container "$id7"
R7=$mnt/$ns/checkpoints/ckpt/$id7:ctr/restore
ok "wait_for 5 test -f '$R7'" "its restore file"
fails_with EINVAL "$FSOP" write "$R7" "live"
like "$(cat "$R7")" "name one with id=ID" "a name that does not say the container: EINVAL, id= asked for"
"$FSOP" write "$R7" "id=$id7"
ok $? "id=$id7: restored"
is "$(tenv_task_status "$id7")" RUNNING "... RUNNING"
c7r=$(count_of "$id7")
ok "[ '${c7r:-0}' -ge '$c7' ]" "... the counter goes on ($c7 -> $c7r)"
is "$(tenv_cat "$id7" /rw-marker)" "rw-of-$id7" "... the rw file is back"

# ------------------------------------------------------------ a backup: rsync -a, import, restore
# The layout/ of the first checkpoint copied out, imported into a new
# namespace through its import file, restored through its restore file.
ns2=$(tenv_new_ns rns)
scratch=$TENV_DIR/backup
mkdir -p "$scratch"
run_ok "rsync -a of layout/" rsync -a "$mnt/$ns/checkpoints/$name/layout/" "$scratch/lay/"
run_ok "the base image in $ns2" tenv_import_image "$ns2"
mnt2=$TENV_DIR/mnt2
ckptfs_mount "$mnt2" --namespace "$ns2" || bail_out "mount of $ns2 failed"
echo "$scratch/lay" > "$mnt2/$ns2/import"
ok $? "import of the copy into $ns2"
R2=$mnt2/$ns2/checkpoints/$name/restore
ok "wait_for 5 test -f '$R2'" "the imported checkpoint has its restore file"
echo "$ns2 $id" >>"$CKPTFS_TEST_DIR/ids"
echo > "$R2"
ok $? "echo > restore of the imported checkpoint"
n2ctr() { _tenv_ctr_at "$CKPTFS_TEST_ADDR" "$ns2" "$@"; }
pid2=$(n2ctr tasks ls | awk -v i="$id" '$1 == i { print $2 }')
is "$(field pid "$(cat "$R2")")" "$pid2" "cat restore: its pid"
c_imp=$(tr -d '\n' <"/proc/$pid2/root/tmp/count" 2>/dev/null)
ok "[ '${c_imp:-0}' -ge '$c_before' ]" "the counter goes on in $ns2 ($c_before -> $c_imp)"
is "$(cat "/proc/$pid2/root/rw-marker" 2>/dev/null)" "rw-of-$id" "the rw file is back in $ns2"
n2ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1
ckptfs_umount "$mnt2"
ckptfs_umount "$mnt"
done_testing
