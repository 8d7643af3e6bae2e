#!/usr/bin/env python3
"""Per-field agreement of `lola check --emit -` with `tshark -T fields -E
occurrence=f` (the first occurrence), for every field the registry marks
`tshark: true` (the either-side `*.addr`/`*.port` left out, as the rows leave
them out), over the captures given. Prints one line per field (agreeing
frames, differing frames, percent) and writes the counts and up to 400
differing examples per field to OUT.json.

    scripts/field-agreement.py target/debug/lola OUT.json /work/corpus/*/*

Captures lola or tshark cannot read, or where they count frames differently,
are listed under "skipped" in OUT.json.
"""
import collections
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

LOLA, OUT, FILES = sys.argv[1], sys.argv[2], sys.argv[3:]
TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "packet", "fields", "table.rs")
src = open(TABLE).read()
fields = []
for m in re.finditer(r'field!\(\s*"([^"]+)",\s*(\w+),\s*(\w+),\s*([^,]+(?:\(\d+\))?),\s*(true|false)', src):
    name, ty, id_, disp, tsh = m.groups()
    if tsh != 'true':
        continue
    fields.append((name, ty, disp.strip()))
EITHER = {"eth.addr", "ip.addr", "ipv6.addr", "udp.port", "tcp.port"}
fields = [f for f in fields if f[0] not in EITHER]

def fmt(v, ty, disp):
    if isinstance(v, list):
        return ",".join(fmt(x, ty, disp) for x in v[:1])
    if isinstance(v, bool):
        return "1" if v else "0"
    m = re.match(r'Hex\((\d+)\)', disp)
    if m and isinstance(v, int):
        return "0x%0*x" % (int(m.group(1)), v)
    return str(v)

def one(path):
    res = []
    try:
        p = subprocess.run([LOLA, "check", "--emit", "-", path], capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        return path, None, "lola timeout"
    rows = []
    for line in p.stdout.decode(errors="replace").split("\n"):
        if line.startswith("{"):
            try:
                r = json.loads(line)
            except Exception:
                continue
            if r.get("schema") == "lola.frame.v1":
                rows.append(r)
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f[0]]
    t = subprocess.run(cmd, capture_output=True, timeout=600)
    if t.returncode != 0:
        return path, None, "tshark failed"
    lines = t.stdout.decode(errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not rows:
        return path, None, "lola no rows"
    if len(lines) != len(rows):
        return path, None, "frame count %d vs %d" % (len(rows), len(lines))
    for row, line in zip(rows, lines):
        cols = line.split("\t")
        for (name, ty, disp), theirs in zip(fields, cols):
            ours = fmt(row[name], ty, disp) if name in row else ""
            res.append((name, ours == theirs, row["frame"], ours, theirs))
    return path, res, None

stats = collections.defaultdict(lambda: [0, 0])
examples = collections.defaultdict(list)
skipped = []
with ThreadPoolExecutor(2) as ex:
    for path, res, err in ex.map(one, FILES):
        if err:
            skipped.append((path, err)); continue
        for name, ok, frame, ours, theirs in res:
            stats[name][0 if ok else 1] += 1
            if not ok and len(examples[name]) < 400:
                examples[name].append((os.path.basename(path), frame, ours[:60], theirs[:60]))
json.dump({"stats": stats, "examples": examples, "skipped": skipped}, open(OUT, "w"))
for name, _, _ in fields:
    a, d = stats[name]
    tot = a + d
    print("%-16s %8d %8d %7.3f%%" % (name, a, d, 100.0 * a / tot if tot else 100))
print("skipped", len(skipped))
