#!/usr/bin/env bash
# Benchmark of the Python package (issue 23), as medians:
#   1. lola.check on the 5M-frame benchmark capture against `lola check`, in
#      the same hyperfine run (goal: within 10 %; the Python side includes
#      the interpreter's start and `import lola`; then the call itself, timed
#      inside Python, against the CLI's whole process, interleaved);
#   2. lola.frames on a 1M-frame capture: wall time (goal <= 2 s) and the
#      memory it takes, peak RSS growth over `import lola, pyarrow`, against
#      the capture's size (goal <= 3x);
#   3. what the packets fixture adds to a test: a session of 200 empty tests
#      with and without it (goal <= 5 ms a test), on the host lo (root) and
#      under --lola-private.
#
#   bench/python.sh [PYTHON]   (a Python with lola, pyarrow, pytest installed;
#                               default: .ci/run's /var/tmp/lola-ci/python/bin/python;
#                               needs hyperfine; FRAMES=5000000 FRAMES_TABLE=1000000)
#
#   ONLY=frames bench/python.sh [PYTHON]   runs part 2 alone. With
#   LOLA_PATHS="DIR_A DIR_B" (directories each holding an unpacked wheel,
#   e.g. `python -m zipfile -e lola-*.whl DIR_A`), part 2 measures each of
#   them (first on PYTHONPATH) in turn, interleaved run by run, and prints
#   the medians of each: wall time, CPU time (user + sys) and peak RSS growth.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-/var/tmp/lola-ci/python/bin/python}
frames=${FRAMES:-5000000}
table_frames=${FRAMES_TABLE:-1000000}
runs=${RUNS:-10}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cargo build --release --quiet --bin lola --example gen-capture
if [ "${ONLY:-}" != frames ]; then
big="$dir/bench.pcap"
target/release/examples/gen-capture "$frames" "$big"
echo "capture: $frames frames, $(stat -c %s "$big") bytes"
cat "$big" > /dev/null

# 1. Same verdict first, then the times.
target/release/lola check -q "$big"
"$py" -c "import lola, sys; sys.exit(0 if lola.check('$big').passed else 1)"
hyperfine --style basic --warmup 2 --runs "$runs" --export-json "$dir/check.json" \
    -n cli "target/release/lola check -q $big" \
    -n python "$py -c \"import lola; lola.check('$big')\""
# The call itself, timed inside Python (no interpreter start, no import),
# against the CLI's whole process, interleaved run by run.
"$py" - "$big" "$runs" target/release/lola > "$dir/call.txt" <<'PY'
import statistics, subprocess, sys, time
path, runs, cli = sys.argv[1], int(sys.argv[2]), sys.argv[3]
probe = "import lola, sys, time\nt = time.perf_counter()\nlola.check(sys.argv[1])\nprint(time.perf_counter() - t)"
calls, clis = [], []
for _ in range(runs):
    out = subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True, check=True)
    calls.append(float(out.stdout))
    t = time.perf_counter()
    subprocess.run([cli, "check", "-q", path], check=True)
    clis.append(time.perf_counter() - t)
call, whole = statistics.median(calls), statistics.median(clis)
print(f"lola.check, the call timed inside Python: median {call*1000:.0f} ms, lola check's whole process {whole*1000:.0f} ms, ratio {call/whole:.3f} (goal <= 1.10)")
PY

fi

# 2. lola.frames on 1M frames, in a process of its own each run.
table="$dir/table.pcap"
target/release/examples/gen-capture "$table_frames" "$table"
cat "$table" > /dev/null
"$py" - "$table" "$runs" ${LOLA_PATHS:-} > "$dir/frames.txt" <<'PY'
import os, statistics, subprocess, sys
path, runs, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3:] or [""]
probe = r'''
import resource, sys, time
import lola, pyarrow
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t, c = time.perf_counter(), cpu()
table = lola.frames(sys.argv[1])
took, used = time.perf_counter() - t, cpu() - c
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(took, used, (after - before) * 1024, table.num_rows, table.nbytes, lola.__file__)
'''
results = {v: [] for v in variants}
for _ in range(runs):
    for v in variants:
        env = dict(os.environ)
        if v:
            env["PYTHONPATH"] = v + os.pathsep + env.get("PYTHONPATH", "")
        out = subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True, check=True, env=env)
        results[v].append(out.stdout.split())
size = os.path.getsize(path)
for v, rs in results.items():
    took = statistics.median(float(r[0]) for r in rs)
    used = statistics.median(float(r[1]) for r in rs)
    grew = statistics.median(int(r[2]) for r in rs)
    rows, nbytes, module = int(rs[0][3]), int(rs[0][4]), rs[0][5]
    print(f"lola.frames ({module}) on {rows} frames ({size / 2**20:.1f} MiB capture), median of {len(rs)}: "
          f"{took:.2f} s wall, {used:.2f} s CPU (goal <= 2 s); "
          f"peak RSS growth {grew / 2**20:.1f} MiB = {grew / size:.2f}x the capture (goal <= 3x); table {nbytes / 2**20:.1f} MiB")
PY
if [ "${ONLY:-}" = frames ]; then
    cat "$dir/frames.txt"
    exit 0
fi

# 3. The packets fixture's cost per test.
tests="$dir/tests"
mkdir -p "$tests"
"$py" - "$tests" <<'PY'
import sys, pathlib
d = pathlib.Path(sys.argv[1])
(d / "test_without.py").write_text("import pytest\n@pytest.mark.parametrize('i', range(200))\ndef test_plain(i):\n    pass\n")
(d / "test_with.py").write_text("import pytest\n@pytest.mark.parametrize('i', range(200))\ndef test_packets(packets, i):\n    pass\n")
PY
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$dir/fixture.json" \
    -n without "cd $tests && $py -m pytest -q -p no:cacheprovider test_without.py" \
    -n with "cd $tests && $py -m pytest -q -p no:cacheprovider test_with.py" \
    -n without-private "cd $tests && $py -m pytest -q -p no:cacheprovider --lola-private test_without.py" \
    -n with-private "cd $tests && $py -m pytest -q -p no:cacheprovider --lola-private test_with.py"

"$py" - "$dir/check.json" "$dir/fixture.json" <<'PY'
import json, statistics, sys
def medians(path):
    return {r["command"]: statistics.median(r["times"]) for r in json.load(open(path))["results"]}
c = medians(sys.argv[1])
print(f"lola.check on the 5M-frame capture: median {c['python']*1000:.0f} ms, lola check {c['cli']*1000:.0f} ms, "
      f"ratio {c['python']/c['cli']:.3f} (goal <= 1.10)")
f = medians(sys.argv[2])
for place, suffix in (("host lo", ""), ("--lola-private", "-private")):
    per = (f["with" + suffix] - f["without" + suffix]) / 200 * 1000
    print(f"packets fixture, {place}: {per:.2f} ms a test (goal <= 5 ms)")
PY
cat "$dir/frames.txt"
if [ -f "$dir/call.txt" ]; then cat "$dir/call.txt"; fi
