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
"$lola" exec -q --exactly 0 --linger 0 -o "$dir/x.pcap" -- true

# The kernel's own floor for any AF_PACKET capture (tcpdump's too): open a
# packet socket, bind it to lo, close it (the close waits for an RCU grace
# period, synchronize_net). Measured as python3 doing that minus python3 doing
# nothing, so that exec's overhead can be read against it.
cat >"$dir/packet.py" <<'PY'
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
s.bind(("lo", 3))
s.close()
PY

echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --style basic --warmup 5 --runs "$runs" --export-json "$dir/times.json" \
    -n true "true" \
    -n python "python3 -c pass" \
    -n python-packet-socket "python3 $dir/packet.py" \
    -n exec-linger-0 "$lola exec -q --exactly 0 --linger 0 -o $dir/x.pcap -- true" \
    -n exec "$lola exec -q --exactly 0 -o $dir/x.pcap -- true"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$dir/times.json" <<'PY'
import json, statistics, sys
runs = {r["command"]: statistics.median(r["times"]) for r in json.load(open(sys.argv[1]))["results"]}
base = runs["true"]
floor = runs["python-packet-socket"] - runs["python"]
print(f"kernel floor (open, bind, close an AF_PACKET socket on lo): {floor*1000:.1f} ms")
for name in ("exec-linger-0", "exec"):
    t = runs[name]
    print(f"{name}: {t*1000:.1f} ms against {base*1000:.1f} ms for true: "
          f"+{(t-base)*1000:.1f} ms, ratio {t/base:.1f}; "
          f"{(t-base-floor)*1000:.1f} ms over the kernel floor (medians)")
PY
