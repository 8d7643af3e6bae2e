//! The display-filter grammar against Wireshark's: every filter here is
//! run through lola's parser and `tshark -Y` on a fixture; lola accepts what
//! tshark accepts (and selects the same frames), and refuses what it
//! refuses. Skipped where tshark is missing, except under `CI=true`.

mod common;

use std::path::Path;
use std::process::Command;

use lola::capture::CaptureReader;
use lola::check::expect::Filter;
use lola::packet::decode::decode;
use lola::packet::fields::FrameView;

/// Accepted by both, selecting the same frames: (fixture, filter).
const AGREE: &[(&str, &str)] = &[
    ("hello-lola.pcap", "udp.port != 7456"),
    ("hello-lola.pcap", "udp.port !== 7456"),
    ("hello-lola.pcap", "udp.port ~= 7456"),
    ("hello-lola.pcap", "udp.port === 7456"),
    ("hello-lola.pcap", "udp.port any_ne 7456"),
    ("hello-lola.pcap", "udp.port all_eq 7456"),
    (
        "hello-lola.pcap",
        "udp.port any_eq 7456 && udp.port all_ne 1",
    ),
    ("hello-lola.pcap", "all udp.port > 1"),
    ("hello-lola.pcap", "all udp.port > 7456"),
    ("hello-lola.pcap", "any udp.port == 7456"),
    ("hello-lola.pcap", "not udp.port in {7456}"),
    ("hello-lola.pcap", "udp.port not in {53}"),
    ("hello-lola.pcap", "udp.port in {7450..7460}"),
    ("hello-lola.pcap", "udp.port in {7450 .. 7455, 1}"),
    ("hello-lola.pcap", "udp.port in{7456}"),
    ("hello-lola.pcap", "udp.port & 0x02"),
    ("hello-lola.pcap", "udp.port & 0x100"),
    ("hello-lola.pcap", "udp.port & 2 == 0"),
    ("hello-lola.pcap", "ip.src < 127.0.0.2"),
    ("hello-lola.pcap", "ip.src >= 127.0.0.2"),
    ("hello-lola.pcap", "eth.src < 00:00:00:00:00:01"),
    ("hello-lola.pcap", "data.data < \"I\""),
    ("hello-lola.pcap", "data.data < \"Hello Lola!\""),
    ("hello-lola.pcap", "data.data > \"A\""),
    ("hello-lola.pcap", "data.data[0:2] > 48:00"),
    ("hello-lola.pcap", "ip.flags.df < 2"),
    ("hello-lola.pcap", "ip.flags.df == 2"),
    ("hello-lola.pcap", "ip.flags.df == True"),
    ("hello-lola.pcap", "ip.flags.df == FALSE"),
    ("hello-lola.pcap", "data.data[0:2] == \"He\""),
    ("hello-lola.pcap", "data.data[1-3] == \"ell\""),
    ("hello-lola.pcap", "data.data[-1] == \"a\""),
    ("hello-lola.pcap", "data.data[:2] == 48:65"),
    ("hello-lola.pcap", "data.data[1:] contains \"ola\""),
    ("hello-lola.pcap", "data.data[0,2:3] == \"Hllo\""),
    ("hello-lola.pcap", "data.data[-3--1] == \"ola\""),
    ("hello-lola.pcap", "data.data[-3:3] == \"ola\""),
    ("hello-lola.pcap", "data.data[ 0 : 2 ] == \"He\""),
    ("hello-lola.pcap", "data.data[0][0] == 48"),
    ("hello-lola.pcap", "data.data[0] == 72"),
    ("hello-lola.pcap", "data.data[100]"),
    ("hello-lola.pcap", "data.data[0]"),
    ("hello-lola.pcap", "data.data[0] == 0x48"),
    ("hello-lola.pcap", "data.data[0:2] & 40:00"),
    ("hello-lola.pcap", "udp.srcport == udp.dstport"),
    ("hello-lola.pcap", "udp.srcport > udp.dstport"),
    ("hello-lola.pcap", "ip.ttl == udp.port"),
    ("hello-lola.pcap", "{udp.srcport + 1} == 40001"),
    ("hello-lola.pcap", "udp.srcport + 1 == 40001"),
    ("hello-lola.pcap", "udp.srcport - 1 == 39999"),
    ("hello-lola.pcap", "-udp.srcport == -40000"),
    ("hello-lola.pcap", "udp.srcport / 3 == 13333"),
    ("hello-lola.pcap", "udp.srcport % 7 == 2"),
    ("hello-lola.pcap", "udp.srcport / 0 == 1"),
    ("hello-lola.pcap", "udp.srcport + 1"),
    ("hello-lola.pcap", "udp.srcport - 40000"),
    ("hello-lola.pcap", "udp.dstport >= 4 * {udp.srcport + 3}"),
    ("hello-lola.pcap", "udp.dstport < udp.srcport <= 40000"),
    ("hello-lola.pcap", "data.data ~ \"Lo.a\""),
    ("hello-lola.pcap", "data.data matches \"hello\""),
    ("hello-lola.pcap", "data.data matches \"(?-i)hello\""),
    ("hello-lola.pcap", "data.data matches \"^H.*a$\""),
    ("hello-lola.pcap", "data.data == \"\\x48ello Lola\""),
    ("hello-lola.pcap", "data.data == \"\\110ello Lola\""),
    ("hello-lola.pcap", "data.data == \"Hello\\x20Lola\""),
    ("hello-lola.pcap", "data.data contains \"\\a\""),
    (
        "hello-lola.pcap",
        "data.data == 48.65.6c.6c.6f.20.4c.6f.6c.61",
    ),
    ("hello-lola.pcap", "data.data == 4865.6c6c.6f20.4c6f.6c61"),
    ("hello-lola.pcap", "data.data == 48656c6c6f204c6f6c61"),
    (
        "hello-lola.pcap",
        "data.data == 48-65-6c-6c-6f-20-4c-6f-6c-61",
    ),
    ("hello-lola.pcap", "data.data contains 0x48"),
    ("hello-lola.pcap", "data.data contains 4c:6f"),
    ("hello-lola.pcap", "data.data in {\"Hello Lola\"}"),
    ("hello-lola.pcap", "ip.ttl == '@'"),
    ("hello-lola.pcap", "ip.ttl == '\\x40'"),
    ("hello-lola.pcap", "ip.ttl == '\\100'"),
    ("hello-lola.pcap", "ip.ttl == '\\''"),
    ("hello-lola.pcap", "ip.ttl == 0100"),
    ("hello-lola.pcap", "ip.ttl == 100"),
    ("hello-lola.pcap", "ip.ttl == 0b1000000"),
    ("hello-lola.pcap", "ip.ttl == 0B1000000"),
    ("hello-lola.pcap", "ip.ttl == 0X40"),
    ("hello-lola.pcap", "ip.ttl == +64"),
    ("hello-lola.pcap", "frame.len == 0x34"),
    ("hello-lola.pcap", "eth.src == 0000.0000.0000"),
    ("hello-lola.pcap", "eth.src == 000000000000"),
    ("hello-lola.pcap", "eth.src == 00-00-00-00-00-00"),
    ("hello-lola.pcap", "eth.src contains 00"),
    ("hello-lola.pcap", "eth.src[0:3] == 00:00:00"),
    ("hello-lola.pcap", "eth.src in {00:00:00:00:00:00}"),
    ("hello-lola.pcap", "len(data.data) == 10"),
    ("hello-lola.pcap", "len(udp.port) == 2"),
    ("hello-lola.pcap", "len(ip.src) == 4"),
    ("hello-lola.pcap", "len(eth.src) == 6"),
    ("hello-lola.pcap", "eth.src[0] == 0"),
    ("hello-lola.pcap", "data.data[0] == \"H\""),
    ("hello-lola.pcap", "data.data[0] == 'H'"),
    ("hello-lola.pcap", "ip.src == ip.dst"),
    ("hello-lola.pcap", "ip.flags.df == ip.flags.mf"),
    ("hello-lola.pcap", "ip.src > 127.0.0.0/8"),
    ("hello-lola.pcap", "ip.src != 127.0.0.2/8"),
    ("hello-lola.pcap", "data.data contains data.data"),
    (
        "hello-lola.pcap",
        "udp.port in {7456, udp.srcport..udp.dstport}",
    ),
    ("hello-lola.pcap", "max(udp.srcport, 1) == 40000"),
    ("hello-lola.pcap", "all ip.flags.df == 1"),
    ("hello-lola.pcap", "count(udp.port) == 2"),
    ("hello-lola.pcap", "count(tcp.port) == 0"),
    ("hello-lola.pcap", "string(ip.ttl) == \"64\""),
    ("hello-lola.pcap", "string(ip.src) contains \"127\""),
    ("hello-lola.pcap", "max(udp.srcport, udp.dstport) == 40000"),
    ("hello-lola.pcap", "min(udp.srcport, udp.dstport) == 7456"),
    ("hello-lola.pcap", "abs(udp.srcport) == 40000"),
    ("hello-lola.pcap", "ip.src == 127.0.0.0/8"),
    ("hello-lola.pcap", "ip.src == 127.0.0.1/32"),
    ("hello-lola.pcap", "ip.src in {127.0.0.1..127.0.0.5}"),
    ("hello-lola.pcap", "ip.addr in {127.0.0.1/8}"),
    ("hello-lola.pcap", "data.len > -5"),
    ("hello-lola.pcap", "data.len == 10"),
    ("hello-lola.pcap", "udp.port in {udp.srcport}"),
    ("hello-lola.pcap", "ip.src#1 == 127.0.0.1"),
    ("hello-lola.pcap", "ip.src#2 == 127.0.0.1"),
    ("hello-lola.pcap", "ip.src#[1-2] == 127.0.0.1"),
    ("hello-lola.pcap", "ip.src#[1:2] == 127.0.0.1"),
    ("hello-lola.pcap", "ip.src#[1,2] == 127.0.0.1"),
    ("hello-lola.pcap", "ip.src#[-1] == 127.0.0.1"),
    ("hello-lola.pcap", "udp.srcport#1"),
    ("hello-lola.pcap", "udp.srcport#2"),
    ("hello-lola.pcap", "udp.srcport#0 == 40000"),
    ("hello-lola.pcap", "ip.ttl eq 64 && ip.ttl ne 1"),
    (
        "hello-lola.pcap",
        "ip.ttl gt 63 and ip.ttl ge 64 and ip.ttl lt 65 and ip.ttl le 64",
    ),
    ("hello-lola.pcap", "ip.ttl==64&&udp"),
    ("hello-lola.pcap", "ip.ttl == 64 and(udp)"),
    ("hello-lola.pcap", "data.data contains\"Lola\""),
    ("hello-lola.pcap", "tcp.flags & 0x02 || udp"),
    ("hello-lola.pcap", "frame.len == 52 and ip.ttl == 1 or udp"),
    ("hello-lola.pcap", "udp or ip.ttl == 1 and ip.ttl == 2"),
    ("hello-lola.pcap", "!udp or !udp and udp"),
    ("hello-lola.pcap", "!!udp"),
    ("hello-lola.pcap", "!!!udp"),
    ("hello-lola.pcap", "!ip.addr == 127.0.0.1"),
    ("hello-lola.pcap", "ip.ttl bitwise_and 64"),
    ("hello-lola.pcap", "ip.ttl & 64 == 64"),
    ("seed-tcp.pcap", "tcp.flags & 0x02"),
    ("seed-tcp.pcap", "tcp.flags & 0x12 == 0x12"),
    ("seed-tcp.pcap", "tcp.flags > 0x10"),
    ("seed-tcp.pcap", "tcp.flags.syn < tcp.flags.ack"),
    ("seed-tcp.pcap", "tcp.flags.syn == 1 && !tcp.flags.ack"),
    ("seed-tcp.pcap", "tcp.port in {1..1024}"),
    ("seed-tcp.pcap", "all tcp.port in {1..65535}"),
    ("seed-ipv6.pcap", "ipv6.addr == ::1"),
    ("seed-ipv6.pcap", "ipv6.src == ::/0"),
    ("seed-ipv6.pcap", "ipv6.src > ::"),
    ("seed-ipv6.pcap", "ipv6.dst in {::1, ::2}"),
    ("seed-ipv6.pcap", "ipv6.hlim == 0100"),
    ("seed-ipv6.pcap", "string(ipv6.src) == \"::1\""),
];

/// Accepted by both; the frames differ for a reason of the field's value,
/// not the grammar: lola verifies checksums where tshark (by default) does
/// not, so tshark's status is 2 "Unverified" where lola's may be 1 "Good".
const ACCEPT: &[&str] = &[
    "udp.checksum.status == \"Good\"",
    "udp.checksum.status == \"good\"",
    "udp.checksum.status == unverified",
    "udp.checksum.status == \"Not present\"",
    "udp.checksum.status == 2",
    "ip.checksum.status < 3",
    "udp.checksum.status > \"Good\"",
];

/// Refused by both.
const REFUSE: &[&str] = &[
    "udp AND udp",
    "udp && NOT udp",
    "ip.ttl EQ 64",
    "ip.ttl = 64",
    "udp.port In {7456}",
    "ip.flags.df & 1",
    "ip.ttl == 300",
    "ip.ttl in {1..300}",
    "ip.ttl == 08",
    "ip.ttl == 1_0",
    "ip.ttl == 1e2",
    "ip.ttl == 64.0",
    "ip.ttl == 0x",
    "ip.ttl == \"64\"",
    "ip.ttl == 'ab'",
    "udp.port in {1 2}",
    "udp.port in {1, 2,}",
    "udp.port in {}",
    "ip.addr == ::1",
    "ipv6.addr == 1.2.3.4",
    "ip.addr == localhost",
    "ip.src == 127.1",
    "ip.src == 0x7f000001",
    "ip.src == 127.0.0.1/33",
    // Not here: `udp.checksum.status == "partial"` and `== "absent"`, which
    // tshark refuses but lola reads, being the words its reports print
    // (docs/glossary.md: Wireshark's 2 and 3).
    "udp.srcport-1 == 39999",
    "udp.srcport * 2 == 80000",
    "upper(data.data) == \"X\"",
    "lower(\"ABC\") == \"abc\"",
    "string(data.data) == \"x\"",
    "len(data.data)",
    "count(udp.port)",
    "count(data.data[0]) == 1",
    "len(data.data[1:]) == 9",
    "lower(data.data) == \"x\"",
    "ip.src == \"127.0.0.1\"",
    "eth.src == \"00:00:00:00:00:00\"",
    "ip.flags.df == 1 == 1",
    "data.data contains \"ola\" == 1",
    "data.data[0] == 0x148",
    "data.data[0:-1]",
    "data.data[1-] == 48",
    "data.data[0] in {48..49}",
    "data.data == \"\\q\"",
    "data.data == \"\\u0048ello\"",
    "udp.srcport # 1",
    "ip.src#[2-] == 127.0.0.1",
    "ip.src == ipv6.src",
    "eth.src == ip.src",
    "eth.src == 0:0:0:0:0:0",
    "eth.src == 00:00:00:00:00",
    "ip.ttl ~ \"6\"",
    "\"x\"",
    "64",
    "64 == ip.ttl",
    "\"Hello Lola\" == data.data",
    "1 == 1",
    "udp.port == 7456 == 7456",
    "ip.ttl == 64 && ip.ttl == 64 || 0",
    "any_ne",
    "udp.port == 7456.",
    "(udp",
    "udp)",
    "udp &&",
    "&& udp",
    "udp.nonsense",
    "ip.ttl == ip",
];

/// Accepted by lola as today's Wireshark accepts them; Wireshark 4.0 (the
/// version CI installs) refuses them.
const TODAY: &[&str] = &[
    // `true`/`false` in any case (ftype-integer.c: g_ascii_strcasecmp since 4.2).
    "ip.flags.df == true",
    // `xor`/`^^` (grammar.lemon: TEST_XOR since 4.2).
    "udp ^^ tcp",
    "udp xor tcp",
    // `bitand` (scanner.l since 4.2; 4.0 has `bitwise_and` and `&`).
    "ip.ttl bitand 64",
];

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The numbers of the frames of `capture` that `filter` selects in lola.
fn lola_frames(filter: &Filter, capture: &Path) -> Vec<u64> {
    let mut reader = CaptureReader::open(capture).unwrap();
    let mut out = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
        if filter.matches(&FrameView::new(&frame, &packet)) {
            out.push(frame.number);
        }
    }
    out
}

/// The frames tshark selects, or its error.
fn tshark_frames(filter: &str, capture: &Path) -> Result<Vec<u64>, String> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(capture)
        .args(["-T", "fields", "-e", "frame.number", "-Y", filter])
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect())
}

/// Runs `check` over `items` on four threads (tshark starts slowly).
fn each<T: Sync>(items: &[T], check: impl Fn(&T) -> Option<String> + Sync) -> Vec<String> {
    let half = items.len().div_ceil(4);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(half.max(1))
            .map(|chunk| s.spawn(|| chunk.iter().filter_map(&check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

#[test]
fn lola_accepts_and_selects_as_tshark_does() {
    if !common::have("tshark") {
        return;
    }
    let failures = each(AGREE, |(capture, text)| {
        let capture = fixture(capture);
        let filter = match Filter::parse(text) {
            Ok(f) => f,
            Err(e) => return Some(format!("{text}: lola refuses ({e})")),
        };
        let ours = lola_frames(&filter, &capture);
        match tshark_frames(text, &capture) {
            Err(e) => Some(format!("{text}: tshark refuses ({e})")),
            Ok(theirs) if theirs != ours => {
                Some(format!("{text}: lola selects {ours:?}, tshark {theirs:?}"))
            }
            Ok(_) => None,
        }
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lola_accepts_what_tshark_accepts_where_the_values_differ() {
    if !common::have("tshark") {
        return;
    }
    let capture = fixture("hello-lola.pcap");
    let failures = each(ACCEPT, |text| {
        if let Err(e) = Filter::parse(text) {
            return Some(format!("{text}: lola refuses ({e})"));
        }
        tshark_frames(text, &capture)
            .err()
            .map(|e| format!("{text}: tshark refuses ({e})"))
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lola_refuses_what_tshark_refuses() {
    if !common::have("tshark") {
        return;
    }
    let capture = fixture("hello-lola.pcap");
    let failures = each(REFUSE, |text| {
        if let Ok(f) = Filter::parse(text) {
            return Some(format!("{text}: lola accepts ({:?})", f.node()));
        }
        tshark_frames(text, &capture)
            .ok()
            .map(|_| format!("{text}: tshark accepts"))
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn todays_wireshark_forms_are_accepted_and_listed() {
    for text in TODAY {
        assert!(Filter::parse(text).is_ok(), "{text}");
    }
    if !common::have("tshark") {
        return;
    }
    // Listed because 4.0 refuses them: a tshark that accepts one shows
    // the entry can move to AGREE.
    let capture = fixture("hello-lola.pcap");
    let accepted = each(TODAY, |text| {
        tshark_frames(text, &capture)
            .ok()
            .map(|_| format!("{text}: this tshark accepts it; move it to AGREE"))
    });
    let version = Command::new("tshark").arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    if version.contains("TShark (Wireshark) 4.0.") {
        assert!(accepted.is_empty(), "{}", accepted.join("\n"));
    }
}
