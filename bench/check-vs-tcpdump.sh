#!/usr/bin/env bash
# Benchmark: `lola check` against `tcpdump -r ... -w /dev/null 'udp dst port 7456'`
# on the same generated capture, in the same hyperfine run, as a ratio of
# medians; `dd bs=1M` reading the same file is the floor (the cost of only
# getting the bytes from the page cache).
# Goal (issue 15): lola's median wall time <= 0.25 x tcpdump's; lola's peak RSS < 16 MiB.
#
#   [FORMAT=pcapng] bench/check-vs-tcpdump.sh [FRAMES]   (default 5000000; needs tcpdump, hyperfine, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${1:-5000000}
runs=${RUNS:-15}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# FORMAT=pcapng times a pcapng file (what dumpcap and Wireshark write)
# holding the same frames.
capture="$dir/bench.${FORMAT:-pcap}"

cargo build --release --quiet --bin lola --example gen-capture
target/release/examples/gen-capture "$frames" "$capture"
echo "capture: $frames frames, $(stat -c %s "$capture") bytes (one Hello Lola to 127.0.0.1:7456)"
cat "$capture" > /dev/null   # every command reads it from the page cache

# Same verdict first: lola passes, tcpdump finds the one packet.
target/release/lola check -q "$capture"
test "$(tcpdump -nn -r "$capture" 'udp dst port 7456' 2>/dev/null | wc -l)" = 1

hyperfine --style basic --warmup 2 --runs "$runs" --export-json "$dir/times.json" \
    -n lola "target/release/lola check -q $capture" \
    -n tcpdump "tcpdump -nn -r $capture -w /dev/null 'udp dst port 7456'" \
    -n dd "dd if=$capture of=/dev/null bs=1M status=none"

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
lola_rss=$(rss target/release/lola check -q "$capture")
tcpdump_rss=$(rss tcpdump -nn -r "$capture" -w /dev/null 'udp dst port 7456')

python3 - "$dir/times.json" "$lola_rss" "$tcpdump_rss" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, statistics, sys
runs = {r["command"]: r["times"] for r in json.load(open(sys.argv[1]))["results"]}
lola, tcpdump, dd = (statistics.median(runs[n]) for n in ("lola", "tcpdump", "dd"))
print(f"median wall time: lola {lola*1000:.0f} ms, tcpdump {tcpdump*1000:.0f} ms, dd bs=1M {dd*1000:.0f} ms")
print(f"ratio lola/tcpdump {lola/tcpdump:.2f} (goal <= 0.25); lola/dd {lola/dd:.2f} (dd is the floor)")
print(f"peak RSS: lola {int(sys.argv[2])/1024:.1f} MiB (goal < 16), tcpdump {int(sys.argv[3])/1024:.1f} MiB")
print(f"machine: {sys.argv[4]} cores, load average {sys.argv[5]} when done (other work skews wall times)")
PY
