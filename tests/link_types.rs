//! Captures of the link types libpcap reads beyond Ethernet, loopback, raw
//! IP and Linux cooked capture (PPP, Cisco HDLC, Frame Relay, 802.11 bare,
//! behind radiotap or PPI, ARCnet, IPoIB, NFLOG, PKTAP, Solaris ipnet, and
//! MPLS label stacks): `lola check` reads the IP packets in them as tshark
//! does, frame by frame. Captures whose timestamps hold a second or more in
//! their fraction are read with a note, as libpcap reads them; a link type
//! lola cannot decode is named as libpcap names it. The fixtures are real
//! captures from tcpdump's and libpcap's tests (`fixtures/corpus/`, origins
//! in `fixtures/README.md`).

mod common;

use std::path::Path;
use std::process::Command as StdCommand;

use common::{fixture, have, lola};

/// Each fixture, its link type, how many frames it has and how many of
/// them carry IP (as tshark 4.0 decodes them).
const LINK_TYPES: &[(&str, u32, usize, usize)] = &[
    ("tests_bgp_vpn_attrset.pcap", 9, 1, 1),
    // PPP carrying MPLS (a label stack, then IPv4) and IPv4.
    ("tests_lspping-fec-rsvp.pcap", 9, 10, 10),
    // Cisco HDLC: ICMP echoes among SLARP and CDP.
    ("tests_HDLC.pcap", 104, 38, 10),
    // Frame Relay, RFC 2427 and Cisco encapsulations, IPv4 and IPv6.
    ("tests_vrrp-vrrp_print-oobr.pcap", 107, 3, 3),
    ("tests_OSPFv3_multipoint_adjacencies.pcap", 107, 73, 73),
    (
        "tests_filter_arcnet-rfc1051-arp-icmp-http.pcap",
        129,
        15,
        13,
    ),
    (
        "tests_filter_arcnet-rfc1201-arp-icmp-http.pcap",
        129,
        15,
        11,
    ),
    ("tests_ipoib.pcap", 242, 30, 26),
    ("tests_nflog.pcap", 239, 4, 4),
    ("tests_e1000g.pcap", 226, 20, 20),
    ("tests_LINKTYPE_PKTAP.pcap", 258, 1, 1),
    // PKTAP where Apple first put it, USER2, which tshark reads as PKTAP.
    ("tests_LINKTYPE_USER2_PKTAP.pcap", 149, 1, 1),
    // 802.11 data frames behind PPI, and beacons.
    ("tests_filter_http_PPI.pcap", 192, 5, 3),
    ("tests_ieee802.11_htc.pcap", 127, 1, 1),
    ("tests_ieee802.11_tim_ie_oobr.pcap", 105, 4, 0),
    // Ethernet carrying MPLS.
    ("tests_tok2str-oobr-2.pcap", 1, 1, 1),
];

/// The fields compared with tshark's, in this order.
const FIELDS: [&str; 8] = [
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "udp.srcport",
    "udp.dstport",
    "tcp.srcport",
    "tcp.dstport",
];

/// `lola check FILE --emit -`: one JSON object per frame.
fn emitted(path: &Path) -> Vec<serde_json::Value> {
    let out = lola()
        .arg("check")
        .arg(path)
        .args(["--emit", "-"])
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// An ICMP or ICMPv6 frame: tshark shows the ports of an error's quoted
/// datagram as the frame's, which is the work of multi-occurrence fields,
/// not of the link layer; only addresses are compared there.
fn is_icmp(frame: &serde_json::Value) -> bool {
    matches!(frame["ip.proto"].as_u64(), Some(1 | 58)) || frame["ipv6.nxt"].as_u64() == Some(58)
}

/// A frame's [`FIELDS`] as text, empty where the frame has none.
fn row_of(frame: &serde_json::Value) -> Vec<String> {
    FIELDS
        .iter()
        .map(|f| match &frame[*f] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => String::new(),
        })
        .collect()
}

/// Asserts that lola's frames of `path` are tshark's, field by field.
fn assert_same_as_tshark(path: &Path, frames: &[serde_json::Value]) {
    let theirs = tshark_rows(path);
    assert_eq!(frames.len(), theirs.len(), "{}: frames", path.display());
    for (i, (frame, theirs)) in frames.iter().zip(&theirs).enumerate() {
        let n = if is_icmp(frame) { 4 } else { FIELDS.len() };
        assert_eq!(
            row_of(frame)[..n],
            theirs[..n],
            "{}: frame {}",
            path.display(),
            i + 1
        );
    }
}

/// `tshark -T fields` of [`FIELDS`], first occurrence of each.
fn tshark_rows(path: &Path) -> Vec<Vec<String>> {
    let mut command = StdCommand::new("tshark");
    command
        .arg("-r")
        .arg(path)
        .args(["-T", "fields", "-E", "occurrence=f"]);
    for f in FIELDS {
        command.args(["-e", f]);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "tshark -r {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut row: Vec<String> = l.split('\t').map(str::to_string).collect();
            row.resize(FIELDS.len(), String::new());
            row
        })
        .collect()
}

#[test]
fn each_link_type_carries_the_ip_packets_it_holds() {
    for &(name, link_type, frames, with_ip) in LINK_TYPES {
        let rows = emitted(&fixture(&format!("corpus/{name}")));
        assert_eq!(rows.len(), frames, "{name}: frames");
        for row in &rows {
            assert_eq!(row["link_type"].as_u64(), Some(link_type.into()), "{name}");
        }
        let ip = rows
            .iter()
            .filter(|r| r["ip.version"].is_number() || r["ipv6.src"].is_string())
            .count();
        assert_eq!(ip, with_ip, "{name}: frames carrying IP");
    }
}

#[test]
fn each_link_type_decodes_to_the_frames_tshark_decodes() {
    if !have("tshark") {
        return;
    }
    let mut compared = 0;
    for &(name, ..) in LINK_TYPES {
        let path = fixture(&format!("corpus/{name}"));
        let frames = emitted(&path);
        assert_same_as_tshark(&path, &frames);
        compared += frames.len();
    }
    assert!(compared > 200, "{compared} frames compared");
}

/// LLC/SNAP behind the "jumbo LLC" EtherType 0x8870, which tshark decodes
/// as it decodes 802.3's: `llc-snap.pcap`'s frame with its length field
/// turned into that EtherType.
#[test]
fn jumbo_llc_carries_ip_as_802_3_llc_snap_does() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("llc-snap.pcap")).unwrap();
    let mut jumbo = bytes.clone();
    // File header (24) and record header (16), then the MAC addresses.
    jumbo[24 + 16 + 12..24 + 16 + 14].copy_from_slice(&[0x88, 0x70]);
    let path = dir.path().join("jumbo-llc.pcap");
    std::fs::write(&path, &jumbo).unwrap();
    lola()
        .arg("check")
        .arg(&path)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("PASS"));
    let rows = emitted(&path);
    assert_eq!(row_of(&rows[0])[5], "7456");
    if have("tshark") {
        assert_same_as_tshark(&path, &rows);
    }
}

#[test]
fn a_timestamp_fraction_of_a_second_or_more_is_read_with_a_note() {
    for (name, unit, frac) in [
        ("tests_timestamp_invalid_micro.pcap", "micro", "1000000"),
        ("tests_timestamp_invalid_nano.pcap", "nano", "1000000000"),
    ] {
        lola()
            .arg("check")
            .arg(fixture(&format!("corpus/{name}")))
            .assert()
            .code(1)
            .stdout(predicates::str::contains(format!(
                "note: frame 2 (byte 116): timestamp has {frac} {unit}seconds, a second or more (tcpdump prints it as invalid); read as 1418145371.000000000 seconds, the whole seconds carried over"
            )))
            .stdout(predicates::str::contains("in 3 frames"));
        // The frames are judged as any others: three TCP segments.
        assert_eq!(emitted(&fixture(&format!("corpus/{name}"))).len(), 3);
    }
    // A record whose lengths are 0 comes between the others.
    lola()
        .arg("check")
        .arg(fixture("corpus/tests_rx_serviceid_oobr.pcap"))
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "note: frame 2 (byte 111): timestamp has 3841916976 microseconds",
        ));
}

/// A pcap of one 4-byte frame of `link_type`.
fn capture_of_link_type(dir: &Path, link_type: u32) -> std::path::PathBuf {
    let mut file = Vec::new();
    file.extend(0xa1b2_c3d4u32.to_le_bytes());
    file.extend(2u16.to_le_bytes());
    file.extend(4u16.to_le_bytes());
    file.extend([0; 8]);
    file.extend(65535u32.to_le_bytes());
    file.extend(link_type.to_le_bytes());
    file.extend([0; 8]);
    file.extend(4u32.to_le_bytes());
    file.extend(4u32.to_le_bytes());
    file.extend([0; 4]);
    let path = dir.join(format!("link-{link_type}.pcap"));
    std::fs::write(&path, file).unwrap();
    path
}

#[test]
fn an_unsupported_link_type_says_libpcaps_name() {
    let dir = tempfile::tempdir().unwrap();
    for (link_type, name) in [
        (195, "IEEE802_15_4"),
        (8, "SLIP"),
        (123, "SUNATM"),
        (147, "USER0"),
        (281, "DSA_TAG_BRCM"),
        (9999, "unknown"),
    ] {
        let path = capture_of_link_type(dir.path(), link_type);
        let out = lola().arg("check").arg(&path).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            stderr.contains(&format!(
                "unsupported link type {link_type} ({name}); lola reads "
            )),
            "{stderr}"
        );
        // tcpdump names it the same way (its libpcap's table), but the
        // libpcap installed here (1.10.3) predates the USERn names.
        if have("tcpdump") && name != "unknown" && name != "USER0" {
            let dump = StdCommand::new("tcpdump")
                .arg("-r")
                .arg(&path)
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&dump.stderr);
            assert!(
                said.contains(&format!("link-type {name} ")),
                "{link_type}: tcpdump says {said}"
            );
        }
    }
}

/// With `LOLA_CORPUS` set (say to `/work/corpus`, the tcpdump and libpcap
/// test captures; not in CI): every capture there of a link type this file
/// is about decodes to the frames tshark decodes.
#[test]
fn every_corpus_capture_of_these_link_types_decodes_as_tshark_decodes() {
    let Ok(corpus) = std::env::var("LOLA_CORPUS") else {
        return;
    };
    if !have("tshark") {
        return;
    }
    let link_types: Vec<u32> = LINK_TYPES.iter().map(|t| t.1).filter(|t| *t != 1).collect();
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in std::fs::read_dir(&corpus).unwrap() {
        for entry in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    let mut compared = 0;
    for path in &files {
        let out = lola()
            .arg("check")
            .arg(path)
            .args(["--emit", "-"])
            .output()
            .unwrap();
        let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let Some(first) = rows.first() else {
            continue;
        };
        if out.status.code() == Some(2)
            || !link_types.contains(&(first["link_type"].as_u64().unwrap() as u32))
        {
            continue;
        }
        assert_same_as_tshark(path, &rows);
        compared += 1;
    }
    assert!(compared >= 200, "{compared} captures compared");
}
