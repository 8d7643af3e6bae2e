#!/usr/bin/env bash
# Every read-only command's text and --json output on every fixture, one file
# each, so that two builds can be compared with `diff -r` (a refactor must
# leave them byte-identical).
#
#   scripts/outputs-snapshot.sh LOLA_BINARY OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/.."
lola=$1
out=$2
mkdir -p "$out"
for f in fixtures/*.pcap fixtures/*.pcapng; do
    name=$(basename "$f")
    for variant in "check" "check --json" "check --any-payload --allow-tcp" \
        "check --emit -" "flow" "flow --json" "flow --draw svg" "flow --draw mermaid" \
        "expect record" "diff fixtures/seed-ipv4.pcap" "diff --json fixtures/seed-ipv4.pcap"; do
        set -- $variant
        cmd=$1; shift
        key=$(echo "$variant" | tr ' /' '__')
        # shellcheck disable=SC2086
        NO_COLOR=1 "$lola" "$cmd" "$@" "$f" >"$out/$name.$key.out" 2>"$out/$name.$key.err"
        echo "exit $?" >>"$out/$name.$key.out"
    done
done
for toml in $(git ls-files '*.toml' | grep -v Cargo.toml); do
    key=$(echo "$toml" | tr '/' '_')
    for f in fixtures/*.pcap fixtures/*.pcapng; do
        NO_COLOR=1 "$lola" check --json --expect "$toml" "$f" >"$out/$key.$(basename "$f").out" 2>&1
        echo "exit $?" >>"$out/$key.$(basename "$f").out"
    done
done
NO_COLOR=1 "$lola" expect show-default >"$out/show-default.out" 2>&1
ends="--src 127.0.0.1:40000 --dst 127.0.0.1:7456"
# shellcheck disable=SC2086
NO_COLOR=1 "$lola" build $ends -o - --format pcap 2>&1 | od -c >"$out/build.out"
# shellcheck disable=SC2086
NO_COLOR=1 "$lola" build $ends --json -o - --format pcapng 2>&1 | od -c >"$out/build-json.out"
