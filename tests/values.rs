//! Field values mean what Wireshark's mean, frame by frame: a fragment's own
//! IP header, lengths of 0 taken from the frame (TSO, BIG TCP, jumbograms),
//! `ipv6.nxt` of the fixed header, `tcp.flags`' 12 bits and relative TCP
//! numbers counted as Wireshark counts them. Each test states lola's values
//! (`lola check --emit -`) and, where tshark is installed (always in CI),
//! holds them to `tshark -T fields -E occurrence=f` too.

use std::path::Path;
use std::process::Command as StdCommand;

mod common;

use common::{fixture, have, in_ci, lola};
use serde_json::Value;

/// The rows `lola check --emit -` writes for `capture`.
fn rows(capture: &Path) -> Vec<Value> {
    let out = lola()
        .args(["check", "--emit", "-"])
        .arg(capture)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `field` of every row, as tshark's `-T fields` writes it (empty when absent).
fn column(rows: &[Value], field: &str) -> Vec<String> {
    rows.iter()
        .map(|r| match &r[field] {
            Value::Null => String::new(),
            Value::Bool(b) => u8::from(*b).to_string(),
            Value::Number(n) if field == "tcp.flags" => format!("0x{:04x}", n.as_u64().unwrap()),
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// tshark's values of `field`, one per frame (first occurrence), or None
/// where tshark is not installed (outside CI).
fn tshark(capture: &Path, field: &str) -> Option<Vec<String>> {
    if !have("tshark") {
        assert!(!in_ci(), "CI needs tshark");
        return None;
    }
    let out = StdCommand::new("tshark")
        .args(["-n", "-r"])
        .arg(capture)
        .args(["-T", "fields", "-E", "occurrence=f", "-e", field])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

/// lola's values of each field in `want` are the ones given, and tshark's.
fn assert_fields(capture: &Path, want: &[(&str, &[&str])]) {
    let rows = rows(capture);
    for (field, values) in want {
        let ours = column(&rows, field);
        assert_eq!(ours, *values, "{} {field}", capture.display());
        if let Some(theirs) = tshark(capture, field) {
            assert_eq!(
                ours,
                theirs,
                "{} {field}: lola vs tshark",
                capture.display()
            );
        }
    }
}

#[test]
fn each_fragment_shows_its_own_ip_header_and_the_last_one_the_datagram() {
    assert_fields(
        &fixture("frag-ipv4.pcap"),
        &[
            ("ip.len", &["1500", "1500", "68"]),
            // 8-byte units, as the header holds them (bytes 0, 1480, 2960).
            ("ip.frag_offset", &["0", "185", "370"]),
            ("ip.flags.mf", &["1", "1", "0"]),
            ("udp.srcport", &["", "", "48404"]),
            ("udp.length", &["", "", "3008"]),
        ],
    );
    assert_fields(
        &fixture("frag-ipv6.pcap"),
        &[
            // The fixed header names the fragment header, not UDP.
            ("ipv6.nxt", &["44", "44", "44"]),
            ("udp.dstport", &["", "", "7456"]),
            ("udp.length", &["", "", "3008"]),
        ],
    );
}

#[test]
fn a_length_of_zero_is_taken_from_the_frame_as_tso_records_it() {
    let len0 = fixture("len0-ipv4.pcap");
    assert_fields(
        &len0,
        &[
            ("ip.len", &["70040", "140", "38"]),
            ("tcp.len", &["70000", "100", ""]),
            ("udp.length", &["", "", "18"]),
        ],
    );
    lola().arg("check").arg(&len0).assert().success();
    assert_fields(
        &fixture("jumbo-ipv6.pcap"),
        &[
            ("ipv6.nxt", &["0", "0", "6", "17"]),
            ("tcp.len", &["70000", "", "", ""]),
            // A UDP jumbogram's length field is 0 (RFC 2675 section 4).
            ("udp.length", &["", "0", "", "18"]),
            ("udp.dstport", &["", "7457", "", "7456"]),
        ],
    );
}

/// `capture` without its first `skip` records, written to `to`, with `patch`
/// applied to each remaining frame's bytes.
fn rewrite(capture: &Path, skip: usize, to: &Path, patch: impl Fn(&mut Vec<u8>)) {
    let bytes = std::fs::read(capture).unwrap();
    let mut out = bytes[..24].to_vec();
    let mut at = 24;
    let mut n = 0;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        let mut frame = bytes[at + 16..at + 16 + caplen].to_vec();
        if n >= skip {
            patch(&mut frame);
            out.extend_from_slice(&bytes[at..at + 16]);
            out.extend_from_slice(&frame);
        }
        at += 16 + caplen;
        n += 1;
    }
    std::fs::write(to, out).unwrap();
}

#[test]
fn tcp_numbers_start_at_one_when_the_capture_begins_after_the_handshake() {
    assert_fields(
        &fixture("seed-tcp.pcap"),
        &[
            ("tcp.seq", &["0", "0", "1", "1", "1", "11", "1", "12"]),
            ("tcp.ack", &["0", "1", "1", "1", "11", "1", "12", "2"]),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let late = dir.path().join("late.pcap");
    rewrite(&fixture("seed-tcp.pcap"), 2, &late, |_| {});
    assert_fields(
        &late,
        &[
            // The client's first segment seen reads 1, and so does the
            // number it acknowledges: the server's base is that less one.
            ("tcp.seq", &["1", "1", "1", "11", "1", "12"]),
            ("tcp.ack", &["1", "1", "11", "1", "12", "2"]),
            (
                "tcp.seq_raw",
                &[
                    "2053414660",
                    "2053414660",
                    "3880426461",
                    "2053414670",
                    "3880426461",
                    "2053414671",
                ],
            ),
        ],
    );
}

#[test]
fn tcp_ack_without_the_ack_flag_is_the_number_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("syn-with-ack.pcap");
    // The SYN carries 12345 in its acknowledgement field, ACK not set.
    rewrite(&fixture("seed-tcp.pcap"), 0, &odd, |frame| {
        if frame[0x2f] == 0x02 {
            frame[0x2a..0x2e].copy_from_slice(&12345u32.to_be_bytes());
        }
    });
    assert_fields(
        &odd,
        &[
            ("tcp.ack", &["12345", "1", "1", "1", "11", "1", "12", "2"]),
            (
                "tcp.ack_raw",
                &[
                    "12345",
                    "2053414660",
                    "3880426461",
                    "3880426461",
                    "2053414670",
                    "3880426461",
                    "2053414671",
                    "3880426462",
                ],
            ),
        ],
    );
}

#[test]
fn tcp_flags_hold_all_twelve_bits() {
    let dir = tempfile::tempdir().unwrap();
    let accecn = dir.path().join("accecn.pcap");
    // Set AE (Accurate ECN, 0x100: the low bit of the data offset byte)
    // and CWR, ECE on the SYN: what an AccECN client sends.
    rewrite(&fixture("seed-tcp.pcap"), 0, &accecn, |frame| {
        if frame[0x2f] == 0x02 {
            frame[0x2e] |= 0x01;
            frame[0x2f] |= 0xc0;
        }
    });
    assert_fields(
        &accecn,
        &[(
            "tcp.flags",
            &[
                "0x01c2", "0x0012", "0x0010", "0x0018", "0x0010", "0x0011", "0x0011", "0x0010",
            ],
        )],
    );
}

#[test]
fn a_tftp_transfer_s_data_is_each_block_after_its_header() {
    // The read request goes to port 69; the transfer runs between the
    // client's port and one the server picked, which no port table names:
    // tshark follows it from the request, and shows a DATA block's bytes
    // after its 4-byte header as `data`, nothing of an ACK.
    let capture = fixture("corpus/tests_tftp.pcap");
    assert_fields(
        &capture,
        &[
            (
                "udp.srcport",
                &[
                    "44935", "59557", "44935", "59557", "44935", "59557", "44935",
                ],
            ),
            ("data.len", &["", "512", "", "512", "", "105", ""]),
        ],
    );
    // The same with the request left out: nothing sets the transfer up,
    // and the whole payload is `data`.
    let dir = tempfile::tempdir().unwrap();
    let headless = dir.path().join("headless.pcap");
    rewrite(&capture, 1, &headless, |_| {});
    assert_fields(
        &headless,
        &[("data.len", &["516", "4", "516", "4", "109", "4"])],
    );
}

#[test]
fn quic_is_found_by_its_long_header_then_by_its_conversation() {
    // tshark 4.0's QUIC heuristic takes the client's Initial (a long header
    // of version 1), then every datagram between the same two endpoints.
    let capture = fixture("corpus/tests_quic_handshake.pcap");
    assert_fields(&capture, &[("data.len", &[""; 18])]);
    // Without the eight long headers of the handshake, short headers alone
    // are no QUIC (tshark would take one only for a connection ID it knows).
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.pcap");
    rewrite(&capture, 8, &short, |_| {});
    assert_fields(
        &short,
        &[(
            "data.len",
            &["21", "242", "34", "29", "26", "36", "79", "21", "31", "31"],
        )],
    );
    assert_fields(
        &capture,
        &[(
            "udp.dstport",
            &[
                "443", "50606", "50606", "50606", "443", "443", "443", "50606", "50606", "50606",
                "443", "443", "50606", "443", "50606", "50606", "443", "443",
            ],
        )],
    );
}

#[test]
fn a_frame_the_fast_path_skips_still_sets_up_the_transfer() {
    // The request (from 44935 to 69) cannot match `match`, so the checker
    // skips it undecoded; the server's blocks still read as TFTP's.
    let dir = tempfile::tempdir().unwrap();
    let expect = dir.path().join("blocks.toml");
    std::fs::write(
        &expect,
        "[[expect]]\nname = \"full blocks\"\nmatch = 'udp.srcport == 59557 && data.len == 512'\ncount = 2\n",
    )
    .unwrap();
    let out = lola()
        .args(["check", "-q", "--expect"])
        .arg(&expect)
        .arg(fixture("corpus/tests_tftp.pcap"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
