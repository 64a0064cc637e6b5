#!/usr/bin/python3
"""criu-compare.py CRIT DECODER DIR: for every file of DIR that DECODER
accepts as a CRIU record image (exit 3: not one), compares its JSON with
`CRIT decode --pretty -i FILE` as JSON values. DECODER may also be a
directory (a checkpoint's decoded/ in the mount): its NAME.json files are
the decoder's output for DIR/NAME.img, and it must hold one for every
record image, no more. Prints one line per image
("same NAME", "DIFF NAME: ..." or "FAIL NAME: ...") and exits 1 if any
differs or fails. crit's output is the oracle (lib/pycriu of CRIU 4.2.1)."""
import json
import os
import subprocess
import sys

crit, decoder, d = sys.argv[1:4]


def first_diff(a, b, path=''):
    # jansson cannot hold integers above INT64_MAX: the decoder writes them
    # as decimal strings (store/criu/criu-json.c).
    if type(a) is int and a > 2**63 - 1 and b == str(a):
        return None
    if type(a) is not type(b):
        return f'{path}: {a!r} vs {b!r}'
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f'{path}/{k}: only in {"crit" if k in a else "ours"}'
            r = first_diff(a[k], b[k], f'{path}/{k}')
            if r:
                return r
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f'{path}: {len(a)} vs {len(b)} elements'
        for i, (x, y) in enumerate(zip(a, b)):
            r = first_diff(x, y, f'{path}[{i}]')
            if r:
                return r
        return None
    return None if a == b else f'{path}: {a!r} vs {b!r}'


class Output:
    def __init__(self, returncode, stdout=b'', stderr=b''):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def json_name(name):
    return (name[:-4] if name.endswith('.img') else name) + '.json'


def decode(path):
    if not os.path.isdir(decoder):
        return subprocess.run([decoder, path], capture_output=True, timeout=60)
    shown = os.path.join(decoder, json_name(os.path.basename(path)))
    if not os.path.exists(shown):
        # missing is right only for what crit cannot decode either
        ref = subprocess.run([crit, 'decode', '-i', path], capture_output=True, timeout=60)
        return Output(3 if ref.returncode else 1, stderr=b'missing in ' + decoder.encode())
    with open(shown, 'rb') as f:
        return Output(0, f.read())


bad = 0
n = 0
seen = set()
for name in sorted(os.listdir(d)):
    path = os.path.join(d, name)
    if not os.path.isfile(path):
        continue
    ours = decode(path)
    if ours.returncode == 3:
        continue
    n += 1
    seen.add(json_name(name))
    ref = subprocess.run([crit, 'decode', '--pretty', '-i', path], capture_output=True, timeout=60)
    if ours.returncode != 0 or ref.returncode != 0:
        print(f'FAIL {name}: ours {ours.returncode} {ours.stderr.decode()[-200:]!r}, '
              f'crit {ref.returncode} {ref.stderr.decode()[-200:]!r}')
        bad += 1
        continue
    a, b = json.loads(ref.stdout), json.loads(ours.stdout)
    diff = first_diff(a, b)
    if diff:
        print(f'DIFF {name}: {diff}')
        bad += 1
    else:
        print(f'same {name}')
if os.path.isdir(decoder):
    for extra in sorted(set(os.listdir(decoder)) - seen):
        print(f'FAIL {extra}: in {decoder} but no record image')
        bad += 1
print(f'{n} record images, {bad} differ or fail')
sys.exit(1 if bad or n == 0 else 0)
