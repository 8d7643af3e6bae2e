#!/usr/bin/env bash
# Benchmark: `lola check` on many files at once, one file per core (the
# default), against the same files one after the other (-j1), in the same
# run, as a ratio of medians (issue 15). Two sets: 100 small captures (a
# CI job's worth of runs) and 4 large ones.
#
#   bench/check-many.sh [LARGE_FRAMES]   (default 1000000 frames each; needs hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
large_frames=${1:-1000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/small" "$dir/large"

cargo build --release --quiet --bin lola --example gen-capture
for i in $(seq -w 1 100); do
    target/release/examples/gen-capture 200 "$dir/small/run-$i.pcap"
done
for i in 1 2 3 4; do
    target/release/examples/gen-capture "$large_frames" "$dir/large/big-$i.pcap"
done
echo "cores: $(nproc)"
echo "small: 100 captures of 200 frames, $(du -sb "$dir/small" | cut -f1) bytes in all"
echo "large: 4 captures of $large_frames frames, $(du -sb "$dir/large" | cut -f1) bytes in all"
cat "$dir"/small/* "$dir"/large/* > /dev/null   # from the page cache, both ways

# Same verdicts both ways first.
for set in small large; do
    cmp <(target/release/lola check --json "$dir/$set") <(target/release/lola check -j1 --json "$dir/$set")
done

hyperfine --style basic --warmup 2 --runs 10 --export-json "$dir/times.json" \
    -n small-parallel "target/release/lola check -q $dir/small" \
    -n small-j1 "target/release/lola check -q -j1 $dir/small" \
    -n large-parallel "target/release/lola check -q $dir/large" \
    -n large-j1 "target/release/lola check -q -j1 $dir/large"

python3 - "$dir/times.json" <<'PY'
import json, statistics, sys
runs = {r["command"]: statistics.median(r["times"]) for r in json.load(open(sys.argv[1]))["results"]}
for s in ("small", "large"):
    par, seq = runs[f"{s}-parallel"], runs[f"{s}-j1"]
    print(f"{s}: parallel {par*1000:.1f} ms, -j1 {seq*1000:.1f} ms, ratio {par/seq:.2f} (median wall time)")
PY
