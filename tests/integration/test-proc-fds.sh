#!/usr/bin/env bash
# proc/<pid>/fds, fds.json, proc/sockets, sockets.json, mounts, mounts.json of
# a real checkpoint of /bin/workload (tests/fixtures/workload.c) taken with
# `echo tcp > .../checkpoint` through the mount: the values the workload
# wrote to /tmp/workload.info (file at pos 8, a pipe, a unix pair, a TCP
# listener and an established connection), and every fd against
# `crit x DIR fds` of the same CRIU tar (crit is the oracle).
. "$(dirname "$0")/lib.sh"
require_ckptfs
crit=${CRIT:-/opt/ckptfs/criu-4.2.1/crit.sh}

mnt=$TENV_DIR/mnt
ns=$CKPTFS_TEST_NS
id=$(tenv_uid fds)
# Without its stopped child (CKPTFS_WL_STOPPED=0): CRIU hangs seizing a
# stopped task inside the frozen cgroup-v1 freezer on this kernel.
run_ok "workload started" tenv_run --env=CKPTFS_WL_ENV=fds-test --env=CKPTFS_WL_STOPPED=0 "$id" /bin/workload
ok "wait_for 20 tenv_cat '$id' /tmp/workload.info" "the workload wrote workload.info"
info=$(tenv_cat "$id" /tmp/workload.info)
wl() { sed -n "s/^$1=//p" <<<"$info"; }
pid=$(wl pid)
is "$(wl stopped_pid)" 0 "the workload runs without a stopped child"

ckptfs_mount "$mnt" --namespace "$ns" || bail_out "mount failed"
ctl=$mnt/$ns/containers/$id/checkpoint
LIB_CMD_TIMEOUT=120 run_ok "echo tcp > checkpoint" sh -c 'echo tcp > "$1"' _ "$ctl"
report=$(cat "$ctl")
is "$(field result "$report")" ok "the checkpoint report says ok" || diag "$report"
name=$(field name "$report")
ck=$mnt/$ns/containers/$id/checkpoints/${name#*:}
proc=$ck/proc
ok "wait_for 10 test -d '$proc'" "the checkpoint has proc/"

# ------------------------------------------------------------ listings
like "$(ls "$proc" | tr '\n' ' ')" 'mounts mounts\.json .*sockets sockets\.json' "proc/ lists mounts and sockets (+ .json)"
like "$(ls "$proc/$pid" | tr '\n' ' ')" 'fds fds\.json' "proc/$pid/ lists fds and fds.json"
is "$(stat -c %a "$proc/$pid/fds") $(stat -c %a "$proc/sockets")" "444 444" "fds and sockets are 0444"
is "$(stat -c %s "$proc/$pid/fds")" "$(wc -c <"$proc/$pid/fds")" "fds: st_size is the exact size"
is "$(stat -c %s "$proc/mounts.json")" "$(wc -c <"$proc/mounts.json")" "mounts.json: st_size is the exact size"

# ------------------------------------------------------------ fds against workload.info
fds=$(cat "$proc/$pid/fds")
line() { awk -v fd="$1" '$1 == fd' <<<"$fds"; }
like "$(line "$(wl fd)")" "^$(wl fd) REG /tmp/wl-file pos=8 flags=O_RDWR" "fd $(wl fd) is /tmp/wl-file at pos 8, O_RDWR"
pr=$(line "$(wl pipe_r)")
pw=$(line "$(wl pipe_w)")
like "$pr" "^$(wl pipe_r) PIPE pipe:\[[0-9]+\] flags=O_RDONLY" "pipe_r is the read end of a pipe"
like "$pw" "^$(wl pipe_w) PIPE pipe:\[[0-9]+\] flags=O_WRONLY" "pipe_w is the write end of a pipe"
is "$(grep -o 'pipe:\[[0-9]*\]' <<<"$pr")" "$(grep -o 'pipe:\[[0-9]*\]' <<<"$pw")" "both ends have the same pipe id"
ua=$(line "$(wl unix_a)")
ub=$(line "$(wl unix_b)")
like "$ua" "^$(wl unix_a) UNIXSK unix stream ESTABLISHED ino=[0-9]+ peer=[0-9]+" "unix_a is a connected unix stream socket"
ino_a=$(sed -n 's/.* ino=\([0-9]*\).*/\1/p' <<<"$ua")
ino_b=$(sed -n 's/.* ino=\([0-9]*\).*/\1/p' <<<"$ub")
is "$(sed -n 's/.* peer=\([0-9]*\).*/\1/p' <<<"$ua") $(sed -n 's/.* peer=\([0-9]*\).*/\1/p' <<<"$ub")" \
  "$ino_b $ino_a" "unix_a and unix_b are each other's peer"
lp=$(wl listen_port)
cp=$(wl client_port)
is "$(line "$(wl listen_fd)")" "$(wl listen_fd) INETSK tcp 127.0.0.1:$lp LISTEN" "the listener LISTENs on its port"
is "$(line "$(wl client_fd)")" "$(wl client_fd) INETSK tcp 127.0.0.1:$cp -> 127.0.0.1:$lp ESTABLISHED" \
  "the client is ESTABLISHED from its port to the listener"
is "$(line "$(wl server_fd)")" "$(wl server_fd) INETSK tcp 127.0.0.1:$lp -> 127.0.0.1:$cp ESTABLISHED" \
  "the accepted end is ESTABLISHED the other way"
is "$(awk '$1 == "cwd" || $1 == "root"' <<<"$fds" | tr '\n' ' ')" "cwd / root / " "cwd and root are /"
is "$(cat "$proc/$(wl zombie_pid)/fds" | wc -c)" 0 "the zombie has no fds"

json_q() { # FILE PYTHON-EXPR over d
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
is "$(json_q "$proc/$pid/fds.json" '[(f["path"], f["pos"]) for f in d["fds"] if f["fd"] == '"$(wl fd)"']')" \
  "[('/tmp/wl-file', 8)]" "fds.json: the file and its pos"
is "$(json_q "$proc/$pid/fds.json" '[f["state"] for f in d["fds"] if f["fd"] == '"$(wl listen_fd)"']')" \
  "['LISTEN']" "fds.json: the listener's state"

# ------------------------------------------------------------ sockets
socks=$(cat "$proc/sockets")
sock() { awk -v p="$pid" -v fd="$1" '$1 == p && $2 == fd' <<<"$socks"; }
like "$(sock "$(wl listen_fd)")" "^$pid $(wl listen_fd) inet stream LISTEN [0-9]+ 127.0.0.1:$lp - -$" "sockets: the listener with pid and fd"
like "$(sock "$(wl client_fd)")" "^$pid $(wl client_fd) inet stream ESTABLISHED [0-9]+ 127.0.0.1:$cp 127.0.0.1:$lp $pid/$(wl server_fd)$" \
  "sockets: the client connection, its peer the accepted end"
like "$(sock "$(wl server_fd)")" "^$pid $(wl server_fd) inet stream ESTABLISHED [0-9]+ 127.0.0.1:$lp 127.0.0.1:$cp $pid/$(wl client_fd)$" \
  "sockets: the accepted connection, its peer the client"
is "$(sock "$(wl unix_a)")" "$pid $(wl unix_a) unix stream ESTABLISHED $ino_a - ino:$ino_b $pid/$(wl unix_b)" \
  "sockets: unix_a, its peer unix_b"
is "$(sock "$(wl unix_b)")" "$pid $(wl unix_b) unix stream ESTABLISHED $ino_b - ino:$ino_a $pid/$(wl unix_a)" \
  "sockets: unix_b, its peer unix_a"
is "$(json_q "$proc/sockets.json" '[(s["peer_pid"], s["peer_fd"]) for s in d if s["pid"] == '"$pid"' and s["fd"] == '"$(wl client_fd)"']')" \
  "[($pid, $(wl server_fd))]" "sockets.json: the client's peer is the accepted end"
is "$(json_q "$proc/sockets.json" 'sorted((s["fd"], s["family"]) for s in d if s["pid"] == '"$pid"')')" \
  "$(python3 -c "print(sorted([($(wl unix_a), 'unix'), ($(wl unix_b), 'unix'), ($(wl listen_fd), 'inet'), ($(wl client_fd), 'inet'), ($(wl server_fd), 'inet')]))")" \
  "sockets.json: the workload's five sockets"

# ------------------------------------------------------------ mounts
mounts=$(cat "$proc/mounts")
like "$(head -n1 <<<"$mounts")" '^MNT_ID PARENT MOUNTPOINT ROOT FSTYPE FLAGS SOURCE OPTIONS$' "mounts has its header"
like "$(awk '$3 == "/"' <<<"$mounts")" '^[0-9]+ [0-9]+ / / overlay r[ow][a-z,]* overlay ' "mounts holds / (overlay)"
like "$(awk '$3 == "/proc"' <<<"$mounts")" '^[0-9]+ [0-9]+ /proc / proc r[ow][a-z,]* proc ' "mounts holds /proc (proc)"
is "$(json_q "$proc/mounts.json" '[m["fstype"] for m in d if m["mountpoint"] == "/proc"]')" "['proc']" \
  "mounts.json: /proc is proc"
is "$(json_q "$proc/mounts.json" 'len(d)')" "$(($(wc -l <<<"$mounts") - 1))" "mounts.json has a mount per line of mounts"

# ------------------------------------------------------------ against crit x fds
if [ -x "$crit" ]; then
  blob=$(criu_blob "$(image_digest "$name")")
  dir=$TENV_DIR/criu
  mkdir -p "$dir"
  run_ok "the CRIU tar extracts" tar -C "$dir" -xf "$BLOBS/${blob#sha256:}"
  # crit stops with a traceback at the zombie (it has no ids image): compare
  # the processes it printed before.
  timeout 120 "$crit" x "$dir" fds >"$TENV_DIR/crit-fds.txt" 2>"$TENV_DIR/crit-fds.err"
  ours=$(python3 - "$proc" "$TENV_DIR/crit-fds.txt" <<'EOF'
import json, sys
proc, crit = sys.argv[1], sys.argv[2]
def desc(f):
    t = f["type"]
    if t == "REG": return f["path"]
    if t == "PIPE": return "pipe[%d]" % f["pipe_id"]
    if t == "UNIXSK":
        return "unix[%d (%d)%s]" % (f["ino"], f["peer"], " " + f["name"] if f["name"] else "")
    return "%s.%d" % (t, f["id"])
for l in open(crit):
    if not l.startswith("\t"):
        d = json.load(open("%s/%d/fds.json" % (proc, int(l))))
        print(d["pid"])
        for f in d["fds"]:
            print("\t%7d: %s" % (f["fd"], desc(f)))
        print("\t%7s: %s" % ("cwd", d["cwd"]))
        print("\t%7s: %s" % ("root", d["root"]))
EOF
)
  is "$ours" "$(cat "$TENV_DIR/crit-fds.txt")" "fds.json of every process crit lists, in crit's format, equal crit x fds"
  like "$(grep -c '^[0-9]' "$TENV_DIR/crit-fds.txt")" '^[1-9]' "crit listed at least one process"
  is "$(grep -cP "^\t *$(wl fd): /tmp/wl-file$" "$TENV_DIR/crit-fds.txt")" 1 "crit too has fd $(wl fd) /tmp/wl-file"
else
  skip "no crit at $crit (scripts/install-deps.sh)"
fi

ckptfs_umount "$mnt"
remove_container "$id"
done_testing
