#!/usr/bin/env bash
# Benchmark: `lola check --expect` with a 10-expectation file against today's
# single-expectation `lola check`, on the same generated capture, in the same
# run, as a ratio of medians. Goal (issue 13): ratio <= 2.0, memory bounded.
#
#   bench/check-expect.sh [FRAMES]      (default 5000000; needs hyperfine)
#
# OLD=path/to/an/older/lola (one or several, space-separated) also times
# those binaries against this tree's, both commands, interleaved round by
# round in a new random order (ROUNDS, default 31), medians of wall and CPU
# time against the first OLD: how issue 20's "within 5%" is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${1:-5000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
capture="$dir/bench.pcap"
expect="$dir/ten.toml"

cargo build --release --quiet --bin lola --example gen-capture
target/release/examples/gen-capture "$frames" "$capture"
echo "capture: $frames frames, $(stat -c %s "$capture") bytes"
cat "$capture" > /dev/null

{
    printf '[[expect]]\nname = "hello"\nmatch = %s\ncount = 1\nwhere = [%s, "ip.ttl == 64", "ip.flags.df == 1"]\n' \
        "'udp.dstport == 7456'" "'data.text == \"Hello Lola\"'"
    for i in 1 2 3 4 5 6 7 8 9; do
        printf '[[expect]]\nname = "absent-%d"\nmatch = %s\ncount = 0\n' "$i" "'udp.dstport == $((7456 + i)) && ip.dst == 127.0.0.0/8'"
    done
    printf '[settings]\nforbid = ["tcp.flags.syn == 1"]\n'
} > "$expect"

# Same verdict first.
target/release/lola check -q "$capture"
target/release/lola check -q --expect "$expect" "$capture"

hyperfine --style basic --warmup 2 --runs 15 --export-json "$dir/times.json" \
    -n builtin "target/release/lola check -q $capture" \
    -n expect10 "target/release/lola check -q --expect $expect $capture"

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
builtin_rss=$(rss target/release/lola check -q "$capture")
expect_rss=$(rss target/release/lola check -q --expect "$expect" "$capture")

python3 - "$dir/times.json" "$builtin_rss" "$expect_rss" <<'PY'
import json, statistics, sys
runs = {r["command"]: r["times"] for r in json.load(open(sys.argv[1]))["results"]}
a, b = statistics.median(runs["builtin"]), statistics.median(runs["expect10"])
print(f"median wall time: builtin {a*1000:.0f} ms, 10 expectations {b*1000:.0f} ms, ratio {b/a:.2f} (goal <= 2.00)")
print(f"peak RSS: builtin {int(sys.argv[2])/1024:.1f} MiB, 10 expectations {int(sys.argv[3])/1024:.1f} MiB")
PY

[ -n "${OLD:-}" ] || exit 0
echo "interleaved, ${ROUNDS:-31} rounds; load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "${ROUNDS:-31}" "$capture" "$expect" "$PWD/target/release/lola" $OLD <<'PY'
import os, random, resource, statistics, subprocess, sys, time
rounds, capture, expect, new = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
binaries = {f"old{i + 1}": b for i, b in enumerate(sys.argv[5:])}
binaries["new"] = new
for name, extra in (("builtin", []), ("expect10", ["--expect", expect])):
    wall = {k: [] for k in binaries}
    cpu = {k: [] for k in binaries}
    for _ in range(rounds):
        order = list(binaries)
        random.shuffle(order)
        for k in order:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            p = subprocess.run([binaries[k], "check", "-q", *extra, capture],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall[k].append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[k].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if p.returncode != 0:
                sys.exit(f"{binaries[k]} check {' '.join(extra)}: exit {p.returncode}")
    w0, c0 = statistics.median(wall["old1"]), statistics.median(cpu["old1"])
    for k in binaries:
        w, c = statistics.median(wall[k]), statistics.median(cpu[k])
        print(f"{name:9} {k:5} wall {w * 1000:7.1f} ms ({(w / w0 - 1) * 100:+5.1f}%)  "
              f"cpu {c * 1000:7.1f} ms ({(c / c0 - 1) * 100:+5.1f}%)")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
