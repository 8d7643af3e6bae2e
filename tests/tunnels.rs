//! The datagram wherever it is: inside VXLAN, GRE, IP-in-IP, 6in4 and IEEE
//! 802.3 + LLC/SNAP framing, `lola check` finds the inner Hello Lola, names
//! the encapsulation in the frame line, and never takes the outer datagram
//! for the expected one. Fixtures: fixtures/make-tunnel-fixtures.sh.

mod common;

use std::process::Command as StdCommand;

use common::{fixture, have, lola};
use lola::capture::CaptureReader;

/// Each fixture, the words lola's frame line starts its protocol column
/// with, and what tshark and tcpdump print for its inner datagram.
const TUNNELS: [(&str, &str, &str); 6] = [
    (
        "tunnel-vxlan.pcap",
        "10.9.0.1:40000 → 10.9.0.2:7456  VXLAN UDP 102  Len=10 \"Hello Lola\" (VXLAN VNI 42, 192.0.2.1 → 192.0.2.2)",
        "IP 10.9.0.1.40000 > 10.9.0.2.7456: UDP, length 10",
    ),
    (
        "tunnel-geneve.pcap",
        "127.0.0.1:48801 → 127.0.0.1:7456  Geneve UDP 110  Len=10 \"Hello Lola\" (Geneve VNI 42, 192.0.2.1 → 192.0.2.2)",
        "Geneve, Flags [none], vni 0x2a, options [8 bytes]: IP 127.0.0.1.48801 > 127.0.0.1.7456: UDP, length 10",
    ),
    (
        "tunnel-gre.pcap",
        "127.0.0.1:48801 → 127.0.0.1:7456  GRE UDP 80  Len=10 \"Hello Lola\" (GRE, 192.0.2.1 → 192.0.2.2)",
        "GREv0, key=0x2a, length 46: IP 127.0.0.1.48801 > 127.0.0.1.7456: UDP, length 10",
    ),
    (
        "tunnel-ipip.pcap",
        "127.0.0.1:48801 → 127.0.0.1:7456  IPIP UDP 72  Len=10 \"Hello Lola\" (IPIP, 192.0.2.1 → 192.0.2.2)",
        "IP 192.0.2.1 > 192.0.2.2: IP 127.0.0.1.48801 > 127.0.0.1.7456: UDP, length 10",
    ),
    (
        "tunnel-6in4.pcap",
        "[::1]:51444 → [::1]:7456  6in4 UDP 92  Len=10 \"Hello Lola\" (6in4, 192.0.2.1 → 192.0.2.2)",
        "IP 192.0.2.1 > 192.0.2.2: IP6 ::1.51444 > ::1.7456: UDP, length 10",
    ),
    (
        "llc-snap.pcap",
        "127.0.0.1:48801 → 127.0.0.1:7456  LLC/SNAP UDP 60  Len=10 \"Hello Lola\"",
        "IP 127.0.0.1.48801 > 127.0.0.1.7456: UDP, length 10",
    ),
];

fn stdout_of(command: &mut StdCommand) -> String {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{command:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn check_finds_the_inner_datagram_and_names_the_encapsulation() {
    for (file, line, _) in TUNNELS {
        let output = lola().arg("check").arg(fixture(file)).output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{file}:\n{text}");
        assert!(text.starts_with("PASS "), "{file}:\n{text}");
        assert!(text.contains(line), "{file}: expected {line:?} in:\n{text}");
        assert!(text.contains("(1 matched in 1 frame)"), "{file}:\n{text}");
    }
}

#[test]
fn tshark_and_tcpdump_see_the_inner_datagram_lola_matches() {
    if !have("tshark") || !have("tcpdump") {
        return;
    }
    for (file, _, tcpdump_line) in TUNNELS {
        let path = fixture(file);
        let tshark = stdout_of(StdCommand::new("tshark").arg("-r").arg(&path));
        assert!(
            tshark.contains("→ 7456 Len=10"),
            "{file}: tshark:\n{tshark}"
        );
        assert_eq!(tshark.lines().count(), 1, "{file}: tshark:\n{tshark}");
        let tcpdump = stdout_of(StdCommand::new("tcpdump").arg("-nr").arg(&path));
        assert!(
            tcpdump.contains(tcpdump_line),
            "{file}: tcpdump:\n{tcpdump}"
        );
        lola().arg("check").arg(&path).arg("-q").assert().code(0);
    }
}

#[test]
fn the_outer_datagram_is_never_the_expected_one() {
    // The VXLAN datagram itself goes to 192.0.2.2:4789 and carries a frame
    // that ends in "Hello Lola": it is not the datagram expected there.
    for (file, dst) in [
        ("tunnel-vxlan.pcap", "192.0.2.2:4789"),
        ("tunnel-geneve.pcap", "192.0.2.2:6081"),
        ("tunnel-gre.pcap", "192.0.2.2:7456"),
        ("tunnel-ipip.pcap", "192.0.2.2:7456"),
        ("tunnel-6in4.pcap", "192.0.2.2:7456"),
    ] {
        let output = lola()
            .arg("check")
            .arg(fixture(file))
            .args(["--dst", dst])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(1), "{file}:\n{text}");
        assert!(
            text.contains("found 0 matching datagrams in 1 frame"),
            "{file}:\n{text}"
        );
    }
}

/// A pcap (little-endian, microseconds, Ethernet) of these frames.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for word in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, 1] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    for (i, frame) in frames.iter().enumerate() {
        let len = frame.len() as u32;
        for word in [1_795_601_130, i as u32, len, len] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(frame);
    }
    out
}

fn first_frame(file: &str) -> Vec<u8> {
    let mut reader = CaptureReader::open(&fixture(file)).unwrap();
    reader.next_frame().unwrap().unwrap().data.to_vec()
}

/// Once the near-miss list is full the checker counts other flows from
/// fixed offsets; a VXLAN datagram must still be decoded, or its Hello Lola
/// would be counted as "other UDP" to port 4789.
#[test]
fn a_tunnel_after_many_other_datagrams_is_still_found() {
    let plain = first_frame("seed-ipv4.pcap");
    let mut frames = Vec::new();
    for port in 9000u16..9080 {
        let mut other = plain.clone();
        other[36..38].copy_from_slice(&port.to_be_bytes()); // udp.dstport
        frames.push(other);
    }
    frames.push(first_frame("tunnel-vxlan.pcap"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many-then-vxlan.pcap");
    std::fs::write(&path, pcap(&frames)).unwrap();
    let output = lola().arg("check").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("(1 matched in 81 frames)"), "{text}");
    assert!(text.contains("VXLAN UDP 102"), "{text}");
    assert!(text.contains("other frames: 80 UDP"), "{text}");
}

/// A VXLAN header cut short in a datagram captured whole is damage, named;
/// the datagram stays what it is, UDP to port 4789.
#[test]
fn a_cut_tunnel_header_is_named() {
    let mut frame = first_frame("tunnel-vxlan.pcap");
    // Outer IP total length and UDP length 8 + 4: half a VXLAN header.
    frame.truncate(14 + 20 + 8 + 4);
    frame[16..18].copy_from_slice(&32u16.to_be_bytes());
    frame[14 + 24..14 + 26].copy_from_slice(&12u16.to_be_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut-vxlan.pcap");
    std::fs::write(&path, pcap(&[frame])).unwrap();
    let output = lola()
        .arg("check")
        .arg(&path)
        .args([
            "--dst",
            "192.0.2.2:4789",
            "--any-payload",
            "--checksums",
            "ignore",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("VXLAN header and its Ethernet frame cut short: 4 of 22 bytes"),
        "{text}"
    );
}

/// Sets the IPv4 header checksum of the header at `at`.
fn fix_ipv4_checksum(frame: &mut [u8], at: usize) {
    frame[at + 10..at + 12].fill(0);
    let mut sum: u32 = frame[at..at + 20]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    frame[at + 10..at + 12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

/// The VXLAN fixture's frame carrying `inner` (an IP packet) instead, with
/// the outer lengths and checksum made to fit (outer UDP checksum 0: none).
fn vxlan_carrying(base: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut frame = base[..64].to_vec(); // Ethernet, IPv4, UDP, VXLAN, inner Ethernet
    frame.extend_from_slice(inner);
    let ip_len = (frame.len() - 14) as u16;
    frame[16..18].copy_from_slice(&ip_len.to_be_bytes());
    frame[38..40].copy_from_slice(&(ip_len - 20).to_be_bytes());
    frame[40..42].fill(0);
    fix_ipv4_checksum(&mut frame, 14);
    frame
}

/// An inner datagram in two IP fragments, each in its own VXLAN datagram:
/// reassembled, matched, and still named as what it came in.
#[test]
fn fragments_inside_a_tunnel_are_reassembled_and_named() {
    let base = first_frame("tunnel-vxlan.pcap");
    let (ip, udp) = (&base[64..84], &base[84..]); // inner IPv4 header, UDP datagram
    let fragment = |offset_units: u16, more: bool, bytes: &[u8]| {
        let mut inner = ip.to_vec();
        inner.extend_from_slice(bytes);
        let flags = offset_units | if more { 0x2000 } else { 0 };
        inner[2..4].copy_from_slice(&((20 + bytes.len()) as u16).to_be_bytes());
        inner[6..8].copy_from_slice(&flags.to_be_bytes());
        fix_ipv4_checksum(&mut inner, 0);
        vxlan_carrying(&base, &inner)
    };
    let frames = [fragment(0, true, &udp[..8]), fragment(1, false, &udp[8..])];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vxlan-fragments.pcap");
    std::fs::write(&path, pcap(&frames)).unwrap();
    let output = lola().arg("check").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("(1 matched in 2 frames)"), "{text}");
    assert!(
        text.contains("10.9.0.1:40000 → 10.9.0.2:7456  VXLAN UDP"),
        "{text}"
    );
    assert!(
        text.contains("(VXLAN VNI 42, 192.0.2.1 → 192.0.2.2)"),
        "{text}"
    );
}

/// `field` of each frame `lola check --emit -` writes for `capture`, every
/// occurrence, outer first, as `tshark -T fields -E occurrence=a` writes
/// them (comma-separated, empty when absent).
fn emitted(capture: &std::path::Path, field: &str) -> Vec<String> {
    use serde_json::Value;
    let out = lola()
        .args(["check", "--emit", "-"])
        .arg(capture)
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    out.lines()
        .filter(|l| l.starts_with('{'))
        .map(
            |l| match &serde_json::from_str::<Value>(l).unwrap()[field] {
                Value::Null => String::new(),
                Value::Array(all) => all.iter().map(text).collect::<Vec<_>>().join(","),
                one => text(one),
            },
        )
        .collect()
}

/// tshark's `-T fields -E occurrence=a` column of `field`, one per frame.
fn tshark_column(capture: &std::path::Path, field: &str) -> Vec<String> {
    stdout_of(
        StdCommand::new("tshark")
            .args(["-n", "-r"])
            .arg(capture)
            .args(["-T", "fields", "-E", "occurrence=a", "-e", field]),
    )
    .lines()
    .map(str::to_string)
    .collect()
}

/// A capture, fields with the values lola states for its first frames,
/// and more fields held to tshark's only.
type Case = (&'static str, &'static [Stated], &'static [&'static str]);
type Stated = (&'static str, &'static [&'static str]);

#[test]
fn the_packet_inside_ipcomp_mpls_over_udp_and_nsh_has_tshark_s_values() {
    // Real captures (tcpdump's tests). Each names a few fields' values,
    // outer occurrence first, and every listed field is held to tshark's.
    let cases: [Case; 3] = [
        // IPv6 + AH + IPComp (DEFLATE) around IPv6 + TCP (HTTP): frame 3
        // onwards; the compressed bytes are tshark's `data`.
        (
            "corpus/tests_filter_AH-IPcomp-IPv6.pcap",
            &[
                ("tcp.dstport", &["80", "12764", "80", "12764", "12764"]),
                ("data.len", &["", "", "234", "272", "56"]),
            ],
            &[
                "ipv6.src",
                "ipv6.dst",
                "ipv6.nxt",
                "ipv6.hlim",
                "tcp.srcport",
                "tcp.seq_raw",
                "tcp.len",
                "data.data",
            ],
        ),
        // MPLS over UDP (port 6635): ICMP echo inside.
        (
            "corpus/tests_mpls-over-udp.pcap",
            &[("ip.ttl", &["64,63", "64,63"]), ("icmp.type", &["8", "0"])],
            &["ip.src", "ip.dst", "udp.dstport", "ip.len", "icmp.code"],
        ),
        // VXLAN-GPE (UDP 4790) carrying NSH carrying IPv4 + UDP.
        (
            "corpus/tests_nsh-over-vxlan-gpe.pcap",
            &[
                ("vxlan.vni", &["16777215"]),
                ("udp.dstport", &["4790,20000"]),
            ],
            &["ip.src", "ip.dst", "ip.ttl", "udp.srcport", "udp.length"],
        ),
    ];
    for (file, stated, held) in cases {
        let capture = fixture(file);
        for (field, want) in stated {
            let ours = emitted(&capture, field);
            assert_eq!(&ours[..want.len()], *want, "{file} {field}");
        }
        if !have("tshark") {
            assert!(!common::in_ci(), "CI needs tshark");
            continue;
        }
        for field in stated.iter().map(|(f, _)| *f).chain(held.iter().copied()) {
            assert_eq!(
                emitted(&capture, field),
                tshark_column(&capture, field),
                "{file} {field}: lola vs tshark"
            );
        }
    }
}

#[test]
fn loopback_s_data_follows_its_header_as_in_tshark() {
    // Ethernet's Configuration Testing Protocol (EtherType 0x9000): skip
    // count, functions (forward, reply and its receipt number), then data.
    for (file, data_len) in [
        ("corpus/tests_loopback.pcap", "40"),
        ("corpus/tests_various_gre.pcap", "44"),
    ] {
        let capture = fixture(file);
        let ours = emitted(&capture, "data.len");
        let eth_type = emitted(&capture, "eth.type");
        let loops: Vec<usize> = (0..ours.len())
            .filter(|&i| eth_type[i] == "36864")
            .collect();
        assert!(!loops.is_empty(), "{file}");
        assert!(
            loops.iter().all(|&i| ours[i] == data_len),
            "{file}: {ours:?}"
        );
        if have("tshark") {
            assert_eq!(
                ours,
                tshark_column(&capture, "data.len"),
                "{file}: lola vs tshark"
            );
            assert_eq!(
                emitted(&capture, "data.data"),
                tshark_column(&capture, "data.data"),
                "{file}"
            );
        } else {
            assert!(!common::in_ci(), "CI needs tshark");
        }
    }
}

#[test]
fn a_tcp_payload_etch_s_heuristic_takes_is_not_data() {
    // Frame 13: a TCP Fast Open SYN carrying de:ad:be:ef, Etch's magic
    // number: tshark hands it to Etch (tcp.segment_data), not to data; a
    // SYN's payload is otherwise data like any other.
    let capture = fixture("corpus/tests_tfo-5c1fa7f9ae91.pcap");
    let ours = emitted(&capture, "data.len");
    assert_eq!(ours[12], "");
    assert_eq!(emitted(&capture, "tcp.payload")[12], "deadbeef");
    if have("tshark") {
        assert_eq!(ours, tshark_column(&capture, "data.len"));
    }
}
