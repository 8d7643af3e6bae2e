#!/usr/bin/env bash
# Benchmark: does `lola capture` keep up with a flood as well as tcpdump does?
# In a private network namespace (only its own lo), the example sender
# (examples/flood.rs, sendmmsg) floods lo with UDP datagrams to one port while
# `lola capture` and `tcpdump -w` record the same traffic in the same run.
# For each case it prints the datagrams sent, and for each tool the frames
# captured and the drops the kernel reported (lola's from the pcapng
# Interface Statistics Block it writes, tcpdump's from its exit summary).
# Goal (issue 24): lola's captured fraction >= tcpdump's on the unpaced
# flood, and 0 lost when the sender is paced at 200,000 datagrams/s.
#
#   bench/capture-vs-tcpdump.sh [COUNT:SIZE:RATE ...]   (needs root or user namespaces, tcpdump, ip)
#
# Default cases: 1000000:64:0 1000000:64:200000 200000:1400:0 (RATE 0 = unpaced).
# LOLA=path/to/lola picks another binary (default: a release build of this
# tree); LOLA_ARGS adds options to `lola capture` (e.g. "-B 8192").
set -euo pipefail
cd "$(dirname "$0")/.."
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(1000000:64:0 1000000:64:200000 200000:1400:0)
port=9999

if [ -z "${LOLA:-}" ]; then
    cargo build --release --quiet --bin lola
    LOLA=$PWD/target/release/lola
fi
cargo build --release --quiet --example flood
FLOOD=$PWD/target/release/examples/flood
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Root needs only a network namespace; anyone else also a user namespace.
if [ "$(id -u)" = 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi

# Frames (Enhanced Packet Blocks) in a pcapng and the isb_ifdrop of its
# last Interface Statistics Block.
pcapng_counts() {
    python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
at, frames, dropped = 0, 0, "-"
while at + 12 <= len(data):
    kind, length = struct.unpack_from("<II", data, at)
    if length < 12:
        break
    if kind == 6:
        frames += 1
    elif kind == 5:
        o = at + 20
        while o + 4 <= at + length - 4:
            code, olen = struct.unpack_from("<HH", data, o)
            if code == 0:
                break
            if code == 5:
                dropped = struct.unpack_from("<Q", data, o + 4)[0]
            o += 4 + (olen + 3) // 4 * 4
    at += length
print(frames, dropped)
PY
}

# One case inside the namespace: prints "sent captured dropped captured dropped".
one_case() {
    local count=$1 size=$2 rate=$3
    "${ns[@]}" bash -s -- "$LOLA" "$FLOOD" "$dir" "$count" "$size" "$port" "$rate" "${LOLA_ARGS:-}" <<'SH'
set -eu
lola=$1 flood=$2 dir=$3 count=$4 size=$5 port=$6 rate=$7 lola_args=$8
ip link set lo up
rm -f "$dir"/td.pcap "$dir"/lola.pcapng "$dir"/td.err "$dir"/lola.err
tcpdump -Z root -i lo -nn -w "$dir/td.pcap" "udp port $port" 2>"$dir/td.err" &
td=$!
# shellcheck disable=SC2086
"$lola" capture -i lo --filter-port "$port" -o "$dir/lola.pcapng" $lola_args 2>"$dir/lola.err" >/dev/null &
lo=$!
for _ in $(seq 100); do
    grep -q "listening on" "$dir/td.err" && grep -q "capturing on" "$dir/lola.err" && break
    sleep 0.1
done
sent=$("$flood" "$count" "$size" "$port" "$rate" | awk '/^sent/ {print $2}')
sleep 1
kill -INT "$td" "$lo"
wait "$td" "$lo" || true
echo "$sent"
SH
}

printf '%-22s %9s | %-26s | %-26s\n' "case" "sent" "lola captured / dropped" "tcpdump captured / dropped"
for c in "${cases[@]}"; do
    IFS=: read -r count size rate <<<"$c"
    sent=$(one_case "$count" "$size" "$rate" | tail -1)
    read -r lola_frames lola_dropped < <(pcapng_counts "$dir/lola.pcapng")
    td_frames=$(awk '/packets captured/ {print $1}' "$dir/td.err")
    td_dropped=$(awk '/dropped by kernel/ {print $1}' "$dir/td.err")
    pace=$([ "$rate" = 0 ] && echo unpaced || echo "$rate/s")
    printf '%-22s %9s | %9s (%5.1f%%) / %-7s | %9s (%5.1f%%) / %-7s\n' \
        "$count x ${size} B $pace" "$sent" \
        "$lola_frames" "$(echo "100*$lola_frames/$sent" | bc -l)" "$lola_dropped" \
        "$td_frames" "$(echo "100*$td_frames/$sent" | bc -l)" "$td_dropped"
done
echo "lola: $LOLA ${LOLA_ARGS:-}; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); tcpdump $(tcpdump --version 2>&1 | head -1 | awk '{print $3}')"
