#!/usr/bin/env bash
# Redraws the pictures under docs/ with this version of lola: docs/compare.svg,
# the TCP and UDP ladders of the seed's captures (fixtures/seed-tcp.pcap and
# fixtures/seed-ipv4.pcap) as `lola compare --svg` draws them. The test
# `the_readme_picture_is_current` (tests/pictures.rs) fails until this is run
# after a change to the drawing; commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
LOLA_BLESS=1 cargo test --quiet --test pictures the_readme_picture_is_current
git status --short docs/
