#!/usr/bin/env bash
# Benchmark: what `lola exec` adds to a program's own time (issue 24, item 9):
# `lola exec -o X -- true` against `true`, in the same hyperfine run, as the
# difference and the ratio of medians. With `--linger 0` (the capture ends
# when the program does: the overhead itself; goal at most 10 ms more than
# `true`) and with the default 100 ms linger (what a plain `lola exec` costs).
#
#   bench/exec-overhead.sh [RUNS]   (default 50; needs hyperfine, and root or
#                                    user namespaces for the private lo)
#
# OLD=path/to/an/older/lola also times that binary against this tree's, the
# two interleaved run by run (true, old, new, in a new random order each
# round), so that a shared, noisy machine slows both alike.
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

[ -n "${OLD:-}" ] || exit 0
echo "interleaved, $runs rounds; load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$runs" "$OLD" "$lola" "$dir" <<'PY'
import os, random, statistics, sys, time
runs, old, new, d = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
null = os.open(os.devnull, os.O_RDWR)
def args(lola, out):
    return [lola, "exec", "-q", "--exactly", "0", "--linger", "0", "-o", f"{d}/{out}", "--", "true"]
commands = {"true": ["/usr/bin/true"], "old": args(old, "old.pcap"), "new": args(new, "new.pcap")}
def once(argv):
    t = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, argv
    return (time.perf_counter_ns() - t) / 1e6
for name, argv in commands.items():
    for _ in range(3):
        once(argv)
times = {name: [] for name in commands}
for _ in range(runs):
    order = list(commands)
    random.shuffle(order)
    for name in order:
        times[name].append(once(commands[name]))
base = statistics.median(times["true"])
for name, ts in times.items():
    m = statistics.median(ts)
    print(f"{name:>4}: median {m:6.1f} ms (+{m - base:5.1f} over true), "
          f"min {min(ts):6.1f}, max {max(ts):6.1f}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
