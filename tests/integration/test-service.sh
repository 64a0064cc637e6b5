#!/usr/bin/env bash
# ckptfs as a service: `meson install` puts the binary, ckptfs(8) and the
# systemd unit in place; the unit passes `systemd-analyze verify`; an
# /etc/fstab-style line mounts through mount(8) and mount.fuse3 and unmounts
# cleanly.
. "$(dirname "$0")/lib.sh"
require_ckptfs

build=$(dirname "$(dirname "$CKPTFS")")
dest=$TENV_DIR/destdir
ns=$CKPTFS_TEST_NS

# ------------------------------------------------------------ meson install
run_ok "meson install --destdir" meson install -C "$build" --destdir "$dest" --no-rebuild --quiet
prefix=$(meson introspect "$build" --buildoptions | python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
sbin=$dest$prefix/sbin/ckptfs
man=$dest$prefix/share/man/man8/ckptfs.8
unit=$dest$prefix/lib/systemd/system/ckptfs.service
ok '[ -x "$sbin" ]' "the binary is installed in sbin"
ok '[ -f "$man" ]' "ckptfs(8) is installed"
ok '[ -f "$unit" ]' "the systemd unit is installed"
like "$("$sbin" --version)" '^ckptfs [0-9.]+ \(libfuse' "the installed binary runs"
page=$(MANWIDTH=100 man -l "$man" 2>/dev/null)
like "$page" 'ckptfs - containerd container checkpoints as files' "the man page renders (NAME)"
like "$page" 'mount -t fuse.ckptfs' "the man page shows the mount form"
like "$page" '--log-level' "the man page documents --log-level"

# ------------------------------------------------------------ the unit
like "$(cat "$unit")" "ExecStart=$prefix/sbin/ckptfs -f" "the unit runs the installed binary in the foreground"
like "$(cat "$unit")" 'After=containerd.service' "the unit is ordered after containerd"
like "$(cat "$unit")" 'Restart=on-failure' "the unit restarts ckptfs on failure"
# verify checks the ExecStart binary: point it at the one in the destdir
sed "s|$prefix/sbin/ckptfs|$sbin|g" "$unit" > "$TENV_DIR/ckptfs.service"
run_ok "systemd-analyze verify" systemd-analyze verify --man=no "$TENV_DIR/ckptfs.service"
printf '[Service]\nExecStart=%s.missing\n' "$sbin" > "$TENV_DIR/broken.service"
ok '! systemd-analyze verify --man=no "$TENV_DIR/broken.service" >/dev/null 2>&1' \
  "systemd-analyze verify fails a broken unit (the check can fail)"

# ------------------------------------------------------------ mount -t fuse.ckptfs from an fstab line
# mount(8) clears PATH before it runs mount.fuse3, which runs `ckptfs` from
# the shell's default PATH: in a mount namespace of its own, the built
# binary stands in /usr/local/sbin.
id=$(tenv_uid svc)
run_ok "a container to see" tenv_run "$id"
mnt=$TENV_DIR/fstab-mnt
mkdir -p "$mnt" "$TENV_DIR/sbin"
ln -sf "$CKPTFS" "$TENV_DIR/sbin/ckptfs"
fstab=$TENV_DIR/fstab
printf 'none %s fuse.ckptfs address=%s,namespace=%s,cache=%s,log_level=debug 0 0\n' \
  "$mnt" "$CKPTFS_TEST_ADDR" "$ns" "$TENV_DIR/fstab-cache.db" > "$fstab"
out=$TENV_DIR/fstab-out
# The daemon detaches: its sanitizer reports go to files.
ASAN_OPTIONS="$CKPTFS_ASAN_OPTIONS:log_path=$TENV_DIR/fstab-asan" \
UBSAN_OPTIONS="$CKPTFS_UBSAN_OPTIONS:log_path=$TENV_DIR/fstab-ubsan" \
timeout 60 unshare -m --propagation private bash -c '
  mnt=$1 fstab=$2 out=$3 sbin=$4 dir=$5
  mount --bind "$sbin" /usr/local/sbin || exit 1
  mount -T "$fstab" "$mnt"; echo "mount $?" > "$out"
  awk -v m="$mnt" "\$5 == m { for (i = 7; \$i != \"-\"; i++); print \"type\", \$(i + 1), \$(i + 2) }" \
    /proc/self/mountinfo >> "$out"
  [ -d "$mnt/$dir" ]; echo "dir $?" >> "$out"
  pid=$(pgrep -f "ckptfs none $mnt" | head -n1); echo "pid ${pid:-none}" >> "$out"
  umount "$mnt"; echo "umount $?" >> "$out"
  for i in $(seq 150); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "${pid:-0}" 2>/dev/null; echo "alive $?" >> "$out"
' _ "$mnt" "$fstab" "$out" "$TENV_DIR/sbin" "$ns/containers/$id"
res=$(cat "$out" 2>/dev/null)
is "$(field mount "${res// /: }")" 0 "mount -T FSTAB MOUNTPOINT (type fuse.ckptfs) succeeds"
is "$(field type "${res// /: }")" "fuse.ckptfs: ckptfs" "mountinfo: type fuse.ckptfs, source ckptfs"
is "$(field dir "${res// /: }")" 0 "the container shows through the fstab mount"
like "$(field pid "${res// /: }")" '^[0-9]+$' "a daemon served it"
is "$(field umount "${res// /: }")" 0 "umount succeeds"
is "$(field alive "${res// /: }")" 1 "the daemon exited after umount"
ok '! cat "$TENV_DIR"/fstab-asan* "$TENV_DIR"/fstab-ubsan* 2>/dev/null | grep -Eq "$LIB_SANITIZER_RE"' \
  "no sanitizer report from the detached daemon"
done_testing
