#!/usr/bin/env bash
# Checkpoints through the mount: the control file
# MOUNT/<ns>/containers/<id>/checkpoint, mkdir/rmdir of checkpoints/<tag>,
# status; against the real daemon, `ctr` as the peer that restores and
# compares.
. "$(dirname "$0")/lib.sh"
require_ckptfs

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
export CKPTFS_WORK_DIR=$TENV_DIR/work   # the daemon inherits it: dump dirs we can watch
mkdir -p "$CKPTFS_WORK_DIR"


id=$(tenv_uid ckm)
run_ok "memhog 32 MiB started" start_memhog "$id" 32
ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
c=$mnt/$ns/containers

# ------------------------------------------------------------ echo > checkpoint, restore by ctr
ok '[ -f "$c/$id/checkpoint" ]' "the control file exists"
ok '[ -d "$c/$id/checkpoints" ]' "the checkpoints dir exists"
c_before=$(count_of "$id")
echo > "$c/$id/checkpoint"
ok $? "echo > checkpoint succeeds"
rep=$(cat "$c/$id/checkpoint")
is "$(field result "$rep")" ok "cat checkpoint: result ok"
name=$(field name "$rep")
like "$name" "^containerd.io/checkpoint/$id:[0-9]{2}-[0-9]{2}-[0-9]{4}-[0-9]{2}:[0-9]{2}:[0-9]{2}$" "default name ($name)"
idx=$(image_digest "$name")
is "$(field index "$rep")" "$idx" "cat checkpoint: the index digest"
like "$rep" $'stage dump: [0-9]+ ms' "cat checkpoint: durations of the stages"
like "$(cat "$c/$id/status")" "last_checkpoint: ok $name" "status: the last checkpoint"
is "$(media_types "$idx")" "$want_types" "index: the six descriptors"
is "$(tenv_task_status "$id")" RUNNING "task RUNNING"
is "$(freezer "$id")" THAWED "freezer THAWED"
tag=${name#containerd.io/checkpoint/$id:}
ok "wait_for 5 test -d '$c/$id/checkpoints/$tag'" "the checkpoint shows in checkpoints/ ($tag)"

remove_container "$id"
run_ok "ctr c restore --live --rw" tenv_ctr containers restore --live --rw "$id" "$name"
is "$(tenv_task_status "$id")" RUNNING "restored task RUNNING"
c_rest=$(count_of "$id")
ok "[ '${c_rest:-0}' -ge '$c_before' ]" "restored counter continues ($c_before -> $c_rest)"
wait_for 10 count_at_least "$id" $((c_rest + 1))
ok $? "restored counter keeps counting"
is "$(tenv_cat "$id" /rw-marker)" "rw-of-$id" "rw-layer file is back"

# ------------------------------------------------------------ same as ctr; ctr's show up
id2=$(tenv_uid ckm2)
run_ok "second memhog" start_memhog "$id2" 8
run_ok "ctr c checkpoint --task --rw --image" \
  tenv_ctr containers checkpoint --task --rw --image "$id2" "containerd.io/checkpoint/$id2:byctr"
ok "wait_for 5 test -d '$c/$id2/checkpoints/byctr'" "a checkpoint made by ctr shows up in the mount"
echo "task rw image runtime name=containerd.io/checkpoint/$id2:bymount" > "$c/$id2/checkpoint"
ok $? "checkpoint of the same container through the mount"
is "$(media_types "$(image_digest "containerd.io/checkpoint/$id2:bymount")")" \
  "$(media_types "$(image_digest "containerd.io/checkpoint/$id2:byctr")")" "same descriptors as ctr"
printf 'name=containerd.io/checkpoint/%s:again' "$id2" > "$c/$id2/checkpoint"
ok $? "again, without a trailing newline, while earlier images exist"
d=$(image_digest "containerd.io/checkpoint/$id2:again")
ok "[ \"\$(memhog_records $d)\" -ge $((8 * 256 * 256)) ]" "... and it holds its CRIU dump"

# ------------------------------------------------------------ mkdir / rmdir
mkdir "$c/$id2/checkpoints/v1"
ok $? "mkdir checkpoints/v1 takes a checkpoint"
d=$(image_digest "containerd.io/checkpoint/$id2:v1")
like "$d" '^sha256:' "image containerd.io/checkpoint/$id2:v1 exists"
is "$(media_types "$d")" "$want_types" "... a full one"
ok "[ -d '$c/$id2/checkpoints/v1' ]" "the directory is there"
fails_with EEXIST mkdir "$c/$id2/checkpoints/v1"
fails_with EINVAL mkdir "$c/$id2/checkpoints/.bad"
fails_with EINVAL mkdir "$c/$id2/checkpoints/bad:tag"
rmdir "$c/$id2/checkpoints/v1"
ok $? "rmdir checkpoints/v1"
is "$(image_digest "containerd.io/checkpoint/$id2:v1")" "" "the image is deleted"
ok "wait_for 5 test ! -e '$c/$id2/checkpoints/v1'" "the directory is gone"
fails_with ENOENT rmdir "$c/$id2/checkpoints/v1"

# ------------------------------------------------------------ bad commands
f=$c/$id2/checkpoint
fails_with EINVAL "$FSOP" write "$f" "bogus"
like "$(cat "$f")" 'unknown word "bogus"' "cat checkpoint says why"
like "$(cat "$c/$id2/status")" 'last_checkpoint: failed' "status: the failure"
fails_with EINVAL "$FSOP" write "$f" "cgroups=never"
fails_with EINVAL "$FSOP" write "$f" "rw exit"
fails_with EINVAL "$FSOP" write "$f" "name=Not/Valid"
fails_with EINVAL bash -c "printf 'task\\0rw' > '$f'"
fails_with EINVAL python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY); os.write(fd, b"task " * 13108)' "$f"
fuzz_ok=0
for i in $(seq 1 40); do
  out=$(python3 - "$f" "$i" <<'EOF' 2>&1
import os, random, sys, errno
random.seed(int(sys.argv[2]))
n = random.choice([1, 7, 100, 1000, 4097, 65536])
data = bytes(random.getrandbits(8) for _ in range(n))
if b"\0" not in data and n < 4096 and all(w in (b"task", b"rw", b"image", b"runtime") for w in data.split()):
    data += b"\0"
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.write(fd, data)
    print("accepted")
except OSError as e:
    print(errno.errorcode[e.errno])
EOF
)
  [ "$out" = EINVAL ] && fuzz_ok=$((fuzz_ok + 1)) || diag "fuzz $i: $out"
done
is "$fuzz_ok" 40 "40 random writes (bytes, NULs, up to 64 KiB): EINVAL each"
ok "kill -0 $CKPTFS_PID" "the daemon is alive"
is "$(tenv_task_status "$id2")" RUNNING "and the task untouched"

# ------------------------------------------------------------ a failing dump
id3=$(tenv_uid ckmtcp)
run_ok "container with an established TCP connection" tenv_run "$id3" sh -c \
  'httpd -f -p 8080 -h /www & sleep 0.5; (sleep 100000 | nc 127.0.0.1 8080 >/dev/null) & exec memhog 8 /tmp/count'
wait_for 30 count_at_least "$id3" 2
blobs_before=$(tenv_ctr content ls -q | sort)
fails_with EIO "$FSOP" write "$c/$id3/checkpoint" "name=containerd.io/checkpoint/$id3:fail"
rep=$(cat "$c/$id3/checkpoint")
like "$rep" 'tcp-established' "cat checkpoint: CRIU's reason"
is "$(tenv_task_status "$id3")" RUNNING "task RUNNING after the failed dump"
is "$(freezer "$id3")" THAWED "freezer THAWED after the failed dump"
is "$(image_digest "containerd.io/checkpoint/$id3:fail")" "" "no image"
is "$(comm -13 <(echo "$blobs_before") <(tenv_ctr content ls -q | sort))" "" "no new blob"
is "$(find "$CKPTFS_WORK_DIR" -mindepth 1 | wc -l)" 0 "no dump dir left"
echo tcp > "$c/$id3/checkpoint"
ok $? "with tcp it succeeds"

# ------------------------------------------------------------ EBUSY, status while running
# Two writers of one container: a write to the control file while a mkdir
# of checkpoints/<tag> runs -> EBUSY from the checkpoint registry. Two
# writers of the same control file: the kernel holds the file's inode lock
# for a FUSE write, so a second write() would queue silently behind the
# first; ckptfs lets one writer open the control file at a time, and the
# second open gets EBUSY.
id4=$(tenv_uid ckmbig)
run_ok "memhog 256 MiB" start_memhog "$id4" 256
"$FSOP" mkdir "$c/$id4/checkpoints/first" >"$TENV_DIR/first.out" 2>&1 &
first=$!
wait_for 20 grep -q '^checkpoint: running' "$c/$id4/status"
ok $? "status shows a running checkpoint"
like "$(cat "$c/$id4/status")" 'checkpoint: running \(stage: [a-z]+\)' "... with its stage"
fails_with EBUSY "$FSOP" write "$c/$id4/checkpoint" "name=containerd.io/checkpoint/$id4:second"
wait "$first"
is "$?" 0 "the first (mkdir) succeeds"
is "$(image_digest "containerd.io/checkpoint/$id4:second")" "" "the second made nothing"
is "$(tenv_task_status "$id4")" RUNNING "task RUNNING"
"$FSOP" write "$c/$id4/checkpoint" "name=containerd.io/checkpoint/$id4:w1" >/dev/null 2>&1 &
w1=$!
wait_for 20 grep -q '^checkpoint: running' "$c/$id4/status"
fails_with EBUSY "$FSOP" write "$c/$id4/checkpoint" "name=containerd.io/checkpoint/$id4:w2"
wait "$w1"
is "$?" 0 "the first writer of the control file succeeds"
isnt "$(image_digest "containerd.io/checkpoint/$id4:w1")" "" "... and made its image"
is "$(image_digest "containerd.io/checkpoint/$id4:w2")" "" "the second writer made nothing"
echo "name=containerd.io/checkpoint/$id4:w3" > "$c/$id4/checkpoint"
ok $? "once the first is done, the control file takes the next writer"

# ------------------------------------------------------------ 4 in parallel
pids=() ids=()
for i in 1 2 3 4; do
  p=$(tenv_uid ckmpar$i)
  ids+=("$p")
  tenv_run "$p" memhog 16 || bail_out "cannot start $p"
done
for p in "${ids[@]}"; do wait_for 30 test -d "$c/$p"; done
for p in "${ids[@]}"; do
  (echo "name=containerd.io/checkpoint/$p:par" > "$c/$p/checkpoint") &
  pids+=($!)
done
good=0
for k in 0 1 2 3; do
  wait "${pids[$k]}" && [ -n "$(image_digest "containerd.io/checkpoint/${ids[$k]}:par")" ] &&
    [ "$(tenv_task_status "${ids[$k]}")" = RUNNING ] && good=$((good + 1))
done
is "$good" 4 "4 checkpoints in parallel through the mount all succeed"

# rmdir takes the image the directory shows, also when it has another name
# than containerd.io/checkpoint/<id>:<tag> (listed by its config blob).
p=${ids[0]}
run_ok "ctr images tag: the name backup/$p:kept for a checkpoint of $p" \
  tenv_ctr images tag "containerd.io/checkpoint/$p:par" "backup/$p:kept"
ok "wait_for 3 test -d '$c/$p/checkpoints/$p:kept'" "it shows as containers/$p/checkpoints/$p:kept"
run_ok "rmdir of it" rmdir "$c/$p/checkpoints/$p:kept"
is "$(image_digest "backup/$p:kept")" "" "... removes backup/$p:kept"
ok "[ -n '$(image_digest "containerd.io/checkpoint/$p:par")' ]" "... and not the standard name of the same checkpoint"

ckptfs_umount "$mnt"
done_testing
