#!/usr/bin/env bash
# proc/<pid>/{cmdline,environ,maps,mem,vmas/} of a checkpoint taken through
# the mount (echo > containers/ID/checkpoint), against the live process
# before the checkpoint (its /proc/PID/{cmdline,environ,stat}) and crit of
# CRIU 4.2.1 on the extracted CRIU tar (tests/integration/proc-mem-check.py):
# the environment marker at its address in mem (dd, os.pread) and in vmas/,
# maps vs `crit x DIR mems`, SEEK_DATA/SEEK_HOLE vs the pagemap, modes and
# exact sizes.
. "$(dirname "$0")/lib.sh"
require_ckptfs
crit=${CRIT:-/opt/ckptfs/criu-4.2.1/crit.sh}
[ -n "${CRIU_DECODE:-}" ] || skip_all "built without the CRIU image decoder: no proc/"
[ -x "$crit" ] || skip_all "no crit at $crit (scripts/install-deps.sh)"

W=$TENV_DIR/work
mkdir -p "$W"
mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
check() { timeout 600 /usr/bin/python3 "$LIB_DIR/proc-mem-check.py" "$crit" "$W/criu" "$P" "$pid" "$1" 2>&1; }

# ---------------------------------------------------------------- a process with a marker in its environment
id=$(tenv_uid pmem)
marker=ckptfs-env-marker-$id
script='i=0; while true; do i=$((i+1)); echo $i >/tmp/count; sleep 1; done'
run_ok "a busybox sh with CKPTFS_WL_ENV=$marker" tenv_run --env="CKPTFS_WL_ENV=$marker" "$id" sh -c "$script"
ok "wait_for 30 count_at_least '$id' 2" "it counts"
hpid=$(tenv_task_pid "$id")
cp "/proc/$hpid/cmdline" "$W/cmdline.live"
cp "/proc/$hpid/environ" "$W/environ.live"
# env_start is field 50 of /proc/PID/stat (counted after the comm's ')')
env_start=$(sed 's/.*) //' "/proc/$hpid/stat" | awk '{ print $(50 - 2) }')
like "$env_start" '^[1-9][0-9]+$' "the live env_start ($env_start)"
env_off=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().index(b"CKPTFS_WL_ENV="))' "$W/environ.live")
addr=$((env_start + env_off))
want="CKPTFS_WL_ENV=$marker"

cache=$TENV_DIR/cache.db
ckptfs_mount "$mnt" --namespace "$ns" --cache "$cache" || bail_out "mount failed"
c=$mnt/$ns/containers/$id
echo > "$c/checkpoint"
ok $? "echo > checkpoint succeeds"
rep=$(cat "$c/checkpoint")
is "$(field result "$rep")" ok "the checkpoint report says ok"
name=$(field name "$rep")
tag=${name#containerd.io/checkpoint/$id:}
ok "wait_for 10 test -d '$c/checkpoints/$tag/proc'" "the checkpoint has proc/"
blob=$(criu_blob "$(image_digest "$name")")
mkdir -p "$W/criu"
run_ok "its CRIU tar extracts" tar -C "$W/criu" -xf "$BLOBS/${blob#sha256:}"

pid=1
P=$c/checkpoints/$tag/proc/$pid
bb_blob=$blob bb_name=$name bb_addr=$addr
is "$(ls "$P" | grep -xE 'cmdline|environ|maps|mem|vmas' | tr '\n' ' ')" "cmdline environ maps mem vmas " \
  "proc/1 lists the memory views"

# ---------------------------------------------------------------- cmdline, environ
run_ok "cmdline equals the live /proc/PID/cmdline" cmp "$W/cmdline.live" "$P/cmdline"
is "$(tr '\0' ' ' <"$P/cmdline")" "sh -c $script " "cmdline is sh -c SCRIPT, NUL-separated"
run_ok "environ equals the live /proc/PID/environ" cmp "$W/environ.live" "$P/environ"
ok "tr '\\0' '\\n' <'$P/environ' | grep -qxF '$want'" "environ holds $want"
for f in cmdline environ maps; do
  is "$(stat -c %s "$P/$f")" "$(wc -c <"$P/$f")" "$f: st_size is exact"
done

# ---------------------------------------------------------------- modes
is "$(stat -c %a "$P/environ")" 400 "environ is for the owner only"
is "$(stat -c %a "$P/mem")" 400 "mem is for the owner only"
is "$(stat -c %a "$P/vmas")" 500 "vmas/ is for the owner only"
is "$(stat -c %a "$P/cmdline") $(stat -c %a "$P/maps")" "444 444" "cmdline and maps are readable"

# ---------------------------------------------------------------- mem
n=${#want}
is "$(dd if="$P/mem" bs=1 skip=$addr count=$n status=none)" "$want" \
  "dd bs=1 skip=ADDR of mem gives the marker at the live address $(printf %#x $addr)"
is "$(python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); sys.stdout.write(os.pread(fd, int(sys.argv[3]), int(sys.argv[2])).decode())' \
  "$P/mem" "$addr" "$n")" "$want" "os.pread of mem at the address gives it too"
is "$(python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); sys.stdout.write(str(os.pread(fd, 4096, 4096).count(0)))' \
  "$P/mem")" 4096 "an unmapped page reads as zeros"
out=$(check size); ok $? "$out"
out=$(check seek); ok $? "$out"
# cp follows SEEK_DATA/SEEK_HOLE: it copies the stored ranges only (a
# 128 TiB sparse file; tmpfs takes it), and the copy holds the marker.
sp=$(mktemp /dev/shm/ckptfs-mem.XXXXXX)
run_ok "cp --sparse=always of mem (within 120 s)" timeout 120 cp --sparse=always "$P/mem" "$sp"
is "$(stat -c %s "$sp")" "$(stat -c %s "$P/mem")" "the copy has mem's size"
ok "[ $(du -k "$sp" | cut -f1) -lt 65536 ]" "... and only the stored pages' blocks ($(du -k "$sp" | cut -f1) KiB)"
is "$(dd if="$sp" bs=1 skip=$addr count=$n status=none)" "$want" "... with the marker at its address"
rm -f "$sp"

# ---------------------------------------------------------------- vmas/
hits=$(grep -a -l -r -F "$marker" "$P/vmas/" | xargs -n1 basename 2>/dev/null)
like "$hits" '^[0-9a-f]+-[0-9a-f]+' "grep -a -l -r MARKER vmas/ names a file ($(echo $hits))"
inside=0
for h in $hits; do
  s=$((16#${h%-*})) e=$((16#${h#*-}))
  [ "$addr" -ge "$s" ] && [ "$addr" -lt "$e" ] && inside=1
done
ok "[ $inside = 1 ]" "... whose range holds the marker's address"
first=$(ls "$P/vmas" | head -n1)
is "$(stat -c %a "$P/vmas/$first")" 400 "a vmas file is for the owner only"
run_ok "cp --sparse=always of a vmas file" cp --sparse=always "$P/vmas/$first" "$W/vma"
run_ok "... equals the original" cmp "$W/vma" "$P/vmas/$first"
out=$(check vmas); ok $? "$out"

# ---------------------------------------------------------------- maps
out=$(check maps); ok $? "$out"
like "$(cat "$P/maps")" '\[stack\]' "maps names the stack"

remove_container "$id"

# ---------------------------------------------------------------- a zombie (no mm: no memory views)
zid=$(tenv_uid pmz)
run_ok "sleep with an unreaped child" tenv_run "$zid" sh -c '(exit 7) & exec sleep 100000'
c=$mnt/$ns/containers/$zid
ok "wait_for 10 test -n \"\$(tenv_task_pid $zid)\"" "it runs"
sleep 1
echo > "$c/checkpoint"
ok $? "echo > checkpoint succeeds"
name=$(field name "$(cat "$c/checkpoint")")
tag=${name#containerd.io/checkpoint/$zid:}
ok "wait_for 10 test -d '$c/checkpoints/$tag/proc'" "the checkpoint has proc/"
rm -rf "$W/criu" && mkdir -p "$W/criu"
blob=$(criu_blob "$(image_digest "$name")")
run_ok "its CRIU tar extracts" tar -C "$W/criu" -xf "$BLOBS/${blob#sha256:}"
zp=$(ls "$c/checkpoints/$tag/proc" | grep -vx 1 | grep '^[0-9]' | head -n1)
like "$(grep State "$c/checkpoints/$tag/proc/$zp/status")" zombie "proc/$zp is the zombie"
is "$(ls "$c/checkpoints/$tag/proc/$zp" | grep -xE 'cmdline|environ|maps|mem|vmas')" "" "... without memory views"
pid=1 P=$c/checkpoints/$tag/proc/1
is "$(tr '\0' ' ' <"$P/cmdline")" "sleep 100000 " "pid 1's cmdline is the exec'd sleep"
out=$(check maps); ok $? "with a zombie in the dump: $out"
remove_container "$zid"

# ---------------------------------------------------------------- the workload (tests/fixtures/workload.c)
# Its established TCP connection needs `echo tcp > checkpoint`; should that
# fail, these checks are skipped with the report as the reason.
wid=$(tenv_uid pmwl)
# Without its stopped child (CKPTFS_WL_STOPPED=0): CRIU cannot seize a
# stopped task in a cgroup v1 freezer (ckptfs refuses with EDEADLK).
run_ok "the workload with CKPTFS_WL_ENV=wl-$wid" \
  tenv_run --env="CKPTFS_WL_ENV=wl-$wid" --env=CKPTFS_WL_STOPPED=0 "$wid" /bin/workload
ok "wait_for 30 tenv_cat '$wid' /tmp/workload.info" "it wrote /tmp/workload.info"
info=$(tenv_cat "$wid" /tmp/workload.info)
val() { sed -n "s/^$1=//p" <<<"$info"; }
c=$mnt/$ns/containers/$wid
if echo tcp > "$c/checkpoint" 2>"$W/wl.err"; then
  rep=$(cat "$c/checkpoint")
  name=$(field name "$rep")
  tag=${name#containerd.io/checkpoint/$wid:}
  ok "wait_for 10 test -d '$c/checkpoints/$tag/proc'" "echo tcp > checkpoint: the checkpoint has proc/"
  rm -rf "$W/criu" && mkdir -p "$W/criu"
  blob=$(criu_blob "$(image_digest "$name")")
  run_ok "its CRIU tar extracts" tar -C "$W/criu" -xf "$BLOBS/${blob#sha256:}"
  pid=$(val pid)
  P=$c/checkpoints/$tag/proc/$pid
  marker=$(val marker)
  for a in marker_addr heap_marker_addr; do
    addr=$(($(val $a)))
    is "$(dd if="$P/mem" bs=1 skip=$addr count=${#marker} status=none)" "$marker" \
      "dd bs=1 skip=\$$a ($(val $a)) of mem gives the marker"
    inside=0
    for h in $(grep -a -l -r -F "$marker" "$P/vmas/" | xargs -n1 basename 2>/dev/null); do
      s=$((16#${h%-*})) e=$((16#${h#*-}))
      [ "$addr" -ge "$s" ] && [ "$addr" -lt "$e" ] && inside=1
    done
    ok "[ $inside = 1 ]" "grep -a -l -r MARKER vmas/ names the file holding \$$a"
  done
  ok "tr '\\0' '\\n' <'$P/environ' | grep -qxF '$(val env)'" "environ holds $(val env)"
  is "$(tr '\0' ' ' <"$P/cmdline")" "/bin/workload " "cmdline is the workload's argv"
  is "$(stat -c %a "$P/environ") $(stat -c %a "$P/mem")" "400 400" "environ and mem are the owner's"
  for what in maps seek size vmas; do
    out=$(check $what); ok $? "workload: $out"
  done
  zp=$(val zombie_pid)
  ok "[ -d '$c/checkpoints/$tag/proc/$zp' ] && [ ! -e '$c/checkpoints/$tag/proc/$zp/mem' ]" \
    "the zombie ($zp) has no mem"
else
  skip "echo tcp > checkpoint failed ($(head -c 200 "$W/wl.err" | tr '\n' ' ')): $(cat "$c/checkpoint" 2>/dev/null | tr '\n' ' ' | head -c 300)"
fi
remove_container "$wid"

# ---------------------------------------------------------------- damaged images (ckpt-variant.py)
# Copies of the busybox checkpoint whose CRIU tar has one image damaged:
# the views that need it fail with EIO, the others read as in the original.
good=$mnt/$ns/checkpoints/$bb_name
variant() { # TAG EDIT...: the copy ck/$id:TAG, listed in the mount
  local tag=$1
  shift
  /usr/bin/python3 "$LIB_DIR/ckpt-variant.py" "$good/layout" "ck/$id:$tag" "$TENV_DIR/$tag.tar" "$@" >/dev/null &&
    tenv_ctr images import --no-unpack "$TENV_DIR/$tag.tar" >/dev/null &&
    wait_for 10 test -d "$mnt/$ns/checkpoints/ck/$id:$tag/proc/1"
}
run_ok "a copy with pagemap-1.img cut short" variant cut-pagemap pagemap-1.img=truncate:20
d=$mnt/$ns/checkpoints/ck/$id:cut-pagemap/proc/1
fails_with EIO head -c1 "$d/mem"
fails_with EIO cat "$d/cmdline"
fails_with EIO ls "$d/vmas"
run_ok "maps reads as in the original (it needs no pagemap)" cmp "$good/proc/1/maps" "$d/maps"
run_ok "a copy with mm-1.img cut short" variant cut-mm mm-1.img=truncate:50
d=$mnt/$ns/checkpoints/ck/$id:cut-mm/proc/1
fails_with EIO cat "$d/maps"
fails_with EIO head -c1 "$d/mem"
run_ok "status reads as in the original" cmp "$good/proc/1/status" "$d/status"
pages=$(ls "$good/task" | grep '^pages-' | head -n1)
half=$(($(stat -c %s "$good/task/$pages") / 2))
run_ok "a copy with $pages cut to half" variant cut-pages "$pages=truncate:$half"
d=$mnt/$ns/checkpoints/ck/$id:cut-pages/proc/1
fails_with EIO dd if="$d/mem" bs=1 skip=$bb_addr count=8 status=none
is "$(python3 -c 'import os,sys; print(os.lseek(os.open(sys.argv[1], os.O_RDONLY), 0, os.SEEK_DATA))' "$d/mem")" \
  "$(python3 -c 'import os,sys; print(os.lseek(os.open(sys.argv[1], os.O_RDONLY), 0, os.SEEK_DATA))' "$good/proc/1/mem")" \
  "SEEK_DATA still answers (the index is whole)"
ok "kill -0 $CKPTFS_PID" "the daemon is alive"
ckptfs_umount "$mnt"

# ---------------------------------------------------------------- the pagemap index in the sqlite cache
extra() { # DIGEST NAME: the length of the cached bytes, or "none"
  python3 -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("SELECT length(data) FROM blob_extras WHERE blob_digest = ? AND name = ?",
                                         sys.argv[2:4]).fetchone()
print(r[0] if r else "none")' "$cache" "$1" "$2"
}
n=$(extra "$bb_blob" criu-mem/1)
like "$n" '^[1-9][0-9]*$' "the cache keeps pid 1's pagemap index under the CRIU blob's digest ($n bytes)"
python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE blob_extras SET data = ? WHERE blob_digest = ? AND name = ?", [b"\x01\x02"] + sys.argv[2:4])
c.commit()' "$cache" "$bb_blob" criu-mem/1
ckptfs_mount "$mnt" --namespace "$ns" --cache "$cache" || bail_out "mount failed"
bb_P=$mnt/$ns/checkpoints/$bb_name/proc/1
ok "wait_for 10 test -e '$bb_P/mem'" "after a remount, checkpoints/$bb_name/proc/1/mem"
is "$(dd if="$bb_P/mem" bs=1 skip=$bb_addr count=${#want} status=none)" "$want" \
  "with damaged cached bytes, mem still gives the marker (the index is rebuilt)"
ckptfs_umount "$mnt"
is "$(extra "$bb_blob" criu-mem/1)" "$n" "... and the rebuilt index replaced them"
done_testing
