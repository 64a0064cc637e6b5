#!/usr/bin/env python3
"""proc/<pid>/ memory views against crit (CRIU 4.2.1's lib/pycriu) on the
extracted CRIU dump DIR.

  proc-mem-check.py CRIT DIR PROCDIR PID maps     maps vs `crit x DIR mems`
  proc-mem-check.py CRIT DIR PROCDIR PID seek     SEEK_DATA/SEEK_HOLE of mem vs the pagemap
  proc-mem-check.py CRIT DIR PROCDIR PID size     mem's size (end of the highest VMA below 2^63), blocks
  proc-mem-check.py CRIT DIR PROCDIR PID vmas     vmas/ names, sizes, bytes (= mem's at the address)

Prints what differs and exits 1, or prints a summary and exits 0. crit x
mems stops at a process without mm (a zombie), so it runs on a copy of DIR
whose pstree.img (re-encoded by crit) lists only processes with mm."""
import json, os, shutil, subprocess, sys, tempfile

crit, d, procdir, pid, what = sys.argv[1:6]
pid = int(pid)
PE_PARENT, PE_PRESENT = 1, 4


def decode(name):
    out = subprocess.run([crit, 'decode', '-i', os.path.join(d, name)], capture_output=True, check=True,
                         timeout=120).stdout
    return json.loads(out)


def num(v):
    return int(v, 16) if isinstance(v, str) else v


def crit_mems():
    """{pid: [(start, end, prot, name)]} from crit x mems on a copy without zombies."""
    tmp = tempfile.mkdtemp()
    try:
        for f in os.listdir(d):
            os.symlink(os.path.join(d, f), os.path.join(tmp, f))
        ps = decode('pstree.img')
        ps['entries'] = [e for e in ps['entries'] if os.path.exists(os.path.join(d, 'mm-%d.img' % e['pid']))]
        os.unlink(os.path.join(tmp, 'pstree.img'))
        subprocess.run([crit, 'encode', '-o', os.path.join(tmp, 'pstree.img')], input=json.dumps(ps).encode(),
                       check=True, timeout=60)
        out = subprocess.run([crit, 'x', tmp, 'mems'], capture_output=True, check=True, timeout=120).stdout
    finally:
        shutil.rmtree(tmp)
    res, cur = {}, None
    for line in out.decode().splitlines():
        if not line.startswith('\t'):
            cur = res.setdefault(int(line), [])
            continue
        rng, rest = line[1:37].strip(), line[37:]
        if rng == 'exe':
            continue
        s, e = (int(x, 16) for x in rng.split('-'))
        name = rest[3:].strip()
        for suffix in (' *', ' (s)'):
            name = name[:-len(suffix)] if name.endswith(suffix) else name
        name = name.split(' + 0x')[0]
        cur.append((s, e, rest[:3], name))
    return res


def our_maps():
    res = []
    for line in open(os.path.join(procdir, 'maps')).read().splitlines():
        f = line.split(None, 5)
        s, e = (int(x, 16) for x in f[0].split('-'))
        res.append((s, e, f[1], f[5] if len(f) > 5 else '', f[2], f[3], f[4]))
    return res


def check_maps():
    want, ours, bad = crit_mems()[pid], our_maps(), []
    if len(want) != len(ours):
        bad.append('crit has %d VMAs, maps %d' % (len(want), len(ours)))
    for w, o in zip(want, ours):
        if (w[0], w[1], w[2]) != (o[0], o[1], o[2][:3]):
            bad.append('crit %x-%x %s, maps %x-%x %s' % (w[0], w[1], w[2], o[0], o[1], o[2]))
        # crit names files, [stack], [vdso], [vsyscall]; it leaves the heap and vvar unnamed
        elif w[3] and not w[3].startswith(('shmem[', 'ips[', 'packet[', '[stack?]')) and w[3] != o[3]:
            bad.append('%x-%x: crit names %r, maps %r' % (w[0], w[1], w[3], o[3]))
        elif o[5:] != ('00:00', '0'):
            bad.append('%x-%x: dev/inode %s %s' % (w[0], w[1], o[5], o[6]))
    named = sum(1 for w in want if w[3].startswith('/'))
    return bad, '%d VMAs agree with crit x mems (%d file mappings by path)' % (len(want), named)


def present_runs():
    """Runs of present pages (touching entries merged) from pagemap-PID.img."""
    runs = []
    for e in decode('pagemap-%d.img' % pid)['entries'][1:]:
        flags = e.get('flags', PE_PARENT if e.get('in_parent') else PE_PRESENT)
        if not flags & PE_PRESENT:
            continue
        s = num(e['vaddr'])
        n = e.get('nr_pages') or e['compat_nr_pages']
        if runs and runs[-1][1] == s:
            runs[-1][1] = s + n * 4096
        else:
            runs.append([s, s + n * 4096])
    return runs


def check_seek():
    runs, bad = present_runs(), []
    fd = os.open(os.path.join(procdir, 'mem'), os.O_RDONLY)
    try:
        pos, got = 0, []
        while True:
            try:
                s = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError as err:
                if err.errno != 6:  # ENXIO: no more data
                    raise
                break
            e = os.lseek(fd, s, os.SEEK_HOLE)
            got.append([s, e])
            pos = e
    finally:
        os.close(fd)
    if got != runs:
        bad.append('SEEK_DATA/SEEK_HOLE runs %s, pagemap runs %s' % (
            [(hex(a), hex(b)) for a, b in got[:5]], [(hex(a), hex(b)) for a, b in runs[:5]]))
    return bad, '%d data runs by SEEK_DATA/SEEK_HOLE equal the present pagemap runs (first at %#x)' % (
        len(got), got[0][0] if got else 0)


def check_size():
    vmas = decode('mm-%d.img' % pid)['entries'][0]['vmas']
    want = max(num(v['end']) for v in vmas if num(v['end']) < 2**63)
    st = os.stat(os.path.join(procdir, 'mem'))
    stored = sum(b - a for a, b in present_runs())
    bad = [] if st.st_size == want else ['mem size %#x, want %#x' % (st.st_size, want)]
    if st.st_blocks * 512 != stored:
        bad.append('mem has %d blocks, the pagemap %d stored bytes' % (st.st_blocks, stored))
    return bad, 'mem size %#x, %d blocks: the %d stored bytes' % (st.st_size, st.st_blocks, stored)


def check_vmas():
    runs, bad = present_runs(), []
    vmas = [(num(v['start']), num(v['end'])) for v in decode('mm-%d.img' % pid)['entries'][0]['vmas']]
    want = ['%08x-%08x' % (s, e) for s, e in vmas if any(a < e and b > s for a, b in runs)]
    got = sorted(os.listdir(os.path.join(procdir, 'vmas')), key=lambda n: int(n.split('-')[0], 16))
    if got != want:
        bad.append('vmas/ %s, want %s' % (got, want))
    fd = os.open(os.path.join(procdir, 'mem'), os.O_RDONLY)
    total = 0
    try:
        for n in got:
            s, e = (int(x, 16) for x in n.split('-'))
            p = os.path.join(procdir, 'vmas', n)
            if os.stat(p).st_size != e - s:
                bad.append('%s: size %d' % (n, os.stat(p).st_size))
            with open(p, 'rb') as f:
                for off in range(0, e - s, 1 << 20):
                    k = min(1 << 20, e - s - off)
                    if f.read(k) != os.pread(fd, k, s + off):
                        bad.append('%s differs from mem at %#x' % (n, s + off))
                        break
            total += e - s
    finally:
        os.close(fd)
    return bad, '%d vmas files, %d bytes, equal to mem at their addresses' % (len(got), total)


bad, summary = {'maps': check_maps, 'seek': check_seek, 'size': check_size, 'vmas': check_vmas}[what]()
for b in bad[:20]:
    print(b)
print(summary)
sys.exit(1 if bad else 0)
