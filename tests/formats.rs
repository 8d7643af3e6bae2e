//! `lola check` on every capture format, link type and damage named in the
//! README, each made by a real tool (see fixtures/README.md): the verdict,
//! the exit code and the message.

mod common;

use common::{fixture, lola};
use predicates::prelude::*;
use predicates::str::contains;

/// `lola check FILE ARGS...` exits `code` and prints each of `words` (stdout
/// for verdicts, stderr for errors).
fn check(file: &str, args: &[&str], code: i32, words: &[&str]) {
    let assert = lola()
        .arg("check")
        .arg(fixture(file))
        .args(args)
        .assert()
        .code(code);
    let output = assert.get_output();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for word in words {
        assert!(text.contains(word), "{file}: expected {word:?} in:\n{text}");
    }
    if code == 2 {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            stderr.lines().count(),
            1,
            "{file}: one line on stderr: {stderr}"
        );
        assert!(stderr.starts_with("lola: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

const PASS: &[&str] = &["PASS ", "127.0.0.1"];

#[test]
fn pcap_in_both_byte_orders_and_both_timestamp_resolutions() {
    check(
        "fmt-pcap-be.pcap",
        &[],
        0,
        &["PASS ", "2026-11-25T10:05:30.494285Z"],
    );
    check(
        "fmt-pcap-be-nsec.pcap",
        &[],
        0,
        &["PASS ", "2026-11-25T10:05:30.494285Z"],
    );
    check("fmt-pcap-nsec.pcap", &[], 0, PASS);
    check("seed-ipv4.pcap", &[], 0, PASS);
}

#[test]
fn pcapng_from_dumpcap_with_several_sections_and_interfaces() {
    check("fmt-dumpcap.pcapng", &[], 0, PASS);
    check("fmt-multi-section.pcapng", &[], 0, &["PASS ", "frame 2 "]);
    check(
        "fmt-multi-section-mixed-endian.pcapng",
        &[],
        0,
        &["PASS ", "frame 2 "],
    );
    // One Ethernet interface and one Linux SLL2 interface in the same file.
    check(
        "fmt-multi-interface.pcapng",
        &[],
        0,
        &["PASS ", "other frames: 1 UDP"],
    );
}

#[test]
fn every_supported_link_type() {
    for file in [
        "link-any-sll2.pcap",
        "link-any-sll.pcap",
        "link-raw.pcap",
        "link-ipv4.pcap",
        "link-null.pcap",
        "link-loop.pcap",
        "link-vlan.pcap",
        "link-qinq.pcap",
    ] {
        check(file, &[], 0, PASS);
    }
    for file in [
        "link-raw-ipv6.pcap",
        "link-ipv6.pcap",
        "link-null-ipv6.pcap",
        "seed-ipv6.pcap",
    ] {
        check(file, &[], 0, &["PASS ", "[::1]:"]);
    }
}

#[test]
fn an_unsupported_link_type_is_named() {
    check(
        "link-unsupported.pcap",
        &[],
        2,
        &["link-unsupported.pcap: unsupported link type 147 (USER)"],
    );
}

#[test]
fn fragmented_datagrams_are_reassembled_and_fragments_never_counted() {
    let payload = format!("Hello Lola{}", ".".repeat(2990));
    for file in ["frag-ipv4.pcap", "frag-ipv6.pcap"] {
        check(
            file,
            &["--message", &payload],
            0,
            &[
                "PASS ",
                "(1 matched in 3 frames)",
                "reassembled from the fragments in frames 1, 2, 3",
                "3 fragments",
            ],
        );
        // The seed's expectation does not match a 3000-byte payload, and says so.
        check(
            file,
            &[],
            1,
            &["found 0 matching datagrams in 3 frames", "Len=3000"],
        );
    }
}

#[test]
fn a_payload_cut_by_the_snaplen_cannot_pass() {
    check(
        "snaplen-50.pcap",
        &[],
        1,
        &[
            "payload cut short by the capture's snaplen (8 of 10 bytes captured); it could not be compared",
        ],
    );
}

#[test]
fn other_flows_are_counted_not_failed() {
    check(
        "other-flows.pcap",
        &[],
        0,
        &[
            "PASS ",
            "other frames: 1 UDP, 8 TCP",
            "TCP segments of other flows",
        ],
    );
    check(
        "reply.pcap",
        &[],
        0,
        &["PASS ", "frame 2: a reply datagram 127.0.0.1:7456 →"],
    );
}

#[test]
fn libpcap_leniency_is_matched_and_said() {
    check(
        "lenient-caplen-over-snaplen.pcap",
        &[],
        0,
        &[
            "PASS ",
            "frame 1 (byte 24): 52 captured bytes exceed the file's snaplen 40; read anyway, as libpcap does",
        ],
    );
}

#[test]
fn hostile_pcap_files_exit_2_naming_file_offset_and_problem() {
    let cases: &[(&str, &str)] = &[
        (
            "bad-empty.pcap",
            "bad-empty.pcap: empty file: not a pcap or pcapng capture (at byte 0)",
        ),
        (
            "bad-text.pcap",
            "bad-text.pcap: not a capture file: it starts with text",
        ),
        (
            "bad-magic.pcap",
            "bad-magic.pcap: not a capture file: bad magic number 0xdeadbeef (at byte 0)",
        ),
        (
            "bad-header-short.pcap",
            "pcap file header cut short: 10 of 24 bytes (at byte 0)",
        ),
        (
            "bad-record-short.pcap",
            "record cut short: claims 52 captured bytes, only 47 left in the file (at byte 24)",
        ),
        (
            "bad-caplen-huge.pcap",
            "invalid packet capture length 300000, bigger than maximum of 262144 (at byte 24)",
        ),
    ];
    for (file, message) in cases {
        check(file, &[], 2, &[message]);
    }
}

#[test]
fn hostile_pcapng_files_exit_2_naming_file_offset_and_problem() {
    let cases: &[(&str, &str)] = &[
        (
            "bad-block-len-small.pcapng",
            "block length 8 is less than the minimum of 12 (at byte 280)",
        ),
        (
            "bad-block-len-unaligned.pcapng",
            "block length 86 is not a multiple of 4 (at byte 280)",
        ),
        (
            "bad-block-len-past-eof.pcapng",
            "block claims 196 bytes, only 192 left in the file (at byte 280)",
        ),
        (
            "bad-no-idb.pcapng",
            "packet block before any Interface Description Block (at byte 180)",
        ),
        (
            "bad-trailing-len.pcapng",
            "block length 84 at its start and 88 at its end differ (at byte 280)",
        ),
    ];
    for (file, message) in cases {
        check(file, &[], 2, &[message]);
    }
}

#[test]
fn damage_inside_a_frame_is_reported_and_the_rest_is_still_checked() {
    // A frame whose IP total length lies, followed by the good datagram.
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("hello-lola.pcap")).unwrap();
    let mut file = good.clone();
    let mut bad = good[24..].to_vec();
    bad[16 + 14 + 2] = 0x0f; // ip.len 0x0f26: more than the frame holds
    file.extend_from_slice(&bad);
    let path = dir.path().join("lie.pcap");
    std::fs::write(&path, file).unwrap();
    lola()
        .arg("check")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(contains(
            "1 datagram on the expected endpoints does not match",
        ))
        .stdout(contains(
            "ip.len 3878 claims more than the 38 bytes the frame carries",
        ))
        .stdout(predicate::str::is_match(r"frame 1 .* udp.checksum correct\n").unwrap())
        .stdout(predicate::str::contains("frame 2 "));
}
