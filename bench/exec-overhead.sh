#!/usr/bin/env bash
# Benchmark: what `lola exec` adds to a program's own time (issue 24, item 9):
# `lola exec -o X -- true` against `true`, in the same hyperfine run, as the
# difference and the ratio of medians. With `--linger 0` (the capture ends
# when the program does: the overhead itself; goal at most 10 ms more than
# `true`) and with the default 100 ms linger (what a plain `lola exec` costs).
#
#   bench/exec-overhead.sh [RUNS]   (default 50; needs hyperfine, and root or
#                                    user namespaces for the private lo)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cargo build --release --quiet --bin lola
lola=$PWD/target/release/lola
# A private lo must be possible here; say why not before timing anything.
"$lola" exec -q --count 0 --linger 0 -o "$dir/x.pcap" -- true

echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --style basic --warmup 5 --runs "$runs" --export-json "$dir/times.json" \
    -n true "true" \
    -n exec-linger-0 "$lola exec -q --count 0 --linger 0 -o $dir/x.pcap -- true" \
    -n exec "$lola exec -q --count 0 -o $dir/x.pcap -- true"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$dir/times.json" <<'PY'
import json, statistics, sys
runs = {r["command"]: statistics.median(r["times"]) for r in json.load(open(sys.argv[1]))["results"]}
base = runs["true"]
for name in ("exec-linger-0", "exec"):
    t = runs[name]
    print(f"{name}: {t*1000:.1f} ms against {base*1000:.1f} ms for true: "
          f"+{(t-base)*1000:.1f} ms, ratio {t/base:.1f} (medians)")
PY
