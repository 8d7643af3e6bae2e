//! `lola check` on every capture format, link type and damage named in the
//! README, each made by a real tool (see fixtures/README.md): the verdict,
//! the exit code and the message.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use common::{fixture, have, lola};
use lola::capture::CaptureReader;
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
        &["link-unsupported.pcap: unsupported link type 147 (USER0)"],
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

/// A capture cut short at its end (a writer killed mid-write) is not
/// refused: the frames before the cut are listed and judged, the cut is
/// named with its byte offset, and "exactly N" and "no TCP" cannot pass.
#[test]
fn captures_cut_short_are_judged_up_to_the_cut_and_cannot_pass() {
    check(
        "bad-record-short.pcap",
        &[],
        1,
        &[
            "the capture is cut short at byte 24 (record cut short: claims 52 captured bytes, only 47 left in the file)",
        ],
    );
    check(
        "bad-block-len-past-eof.pcapng",
        &[],
        1,
        &["cut short at byte 280 (block claims 196 bytes, only 192 left in the file)"],
    );
}

#[test]
fn a_capture_cut_short_shows_what_was_read_and_cannot_pass() {
    // Two Hello Lola datagrams, then half of a third record: killed mid-write.
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("hello-lola.pcap")).unwrap();
    let record = &good[24..];
    let mut file = good.clone();
    file.extend_from_slice(record);
    file.extend_from_slice(&record[..20]);
    let path = dir.path().join("killed.pcap");
    std::fs::write(&path, &file).unwrap();
    let cut_at = good.len() + record.len();
    let cut = format!("the capture is cut short at byte {cut_at}");

    // Strict (the default): the frames before the cut are listed, and
    // "exactly 2" fails because of the cut alone.
    let out = lola()
        .args(["check", "--exactly", "2"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&cut), "{text}");
    assert!(
        text.contains("frame 1 ") && text.contains("frame 2 "),
        "{text}"
    );
    assert!(
        !text.contains("found 2 matching"),
        "the count itself holds: {text}"
    );

    // At least 2 with TCP allowed: nothing the missing bytes hold can
    // contradict it, so the cut is a note.
    lola()
        .args(["check", "--at-least", "2", "--allow-tcp"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout(contains(&cut));

    // Lenient: the complete frames are judged as if the file ended there.
    lola()
        .args(["check", "--exactly", "2", "--truncated", "judge-complete-frames"])
        .arg(&path)
        .assert()
        .code(0)
        .stdout(contains("PASS"))
        .stdout(contains(format!(
            "{cut} (record cut short: claims 52 captured bytes, only 4 left in the file); only the frames before the cut were judged"
        )));

    // Other commands still refuse the file, naming the offset.
    lola()
        .arg("flow")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(contains(format!("(at byte {cut_at})")));

    // JSON and JUnit carry the cut too.
    let junit = dir.path().join("r.xml");
    let out = lola()
        .args(["check", "--exactly", "2", "--json", "--junit"])
        .arg(&junit)
        .arg(&path)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["verdict"], "fail");
    assert!(doc["failures"][0].as_str().unwrap().contains(&cut), "{doc}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(&cut), "{xml}");
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
        .stdout(predicate::str::is_match(r"frame 1 .* udp.checksum.status good\n").unwrap())
        .stdout(predicate::str::contains("frame 2 "));
}

// ---- issue 10: files libpcap and tshark read are read; files both refuse are refused ----

/// Every frame of `file` read by lola's library: (time as `s.nnnnnnnnn`,
/// captured bytes, original length, comment).
fn frames_of(file: &str) -> Vec<(String, usize, u32, Option<String>)> {
    let mut reader = CaptureReader::open(&fixture(file)).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = reader.next_frame().unwrap() {
        frames.push((
            nanos(f.timestamp),
            f.data.len(),
            f.orig_len,
            f.comment.clone(),
        ));
    }
    frames
}

fn nanos(t: Duration) -> String {
    format!("{}.{:09}", t.as_secs(), t.subsec_nanos())
}

#[test]
fn an_fcs_announced_in_the_link_type_field_is_stripped() {
    // 0x24000001: Ethernet, FCS length present, 2 × 16 bits. Every frame of
    // other-flows.pcap with its CRC-32 appended reads as the original.
    let with_fcs = frames_of("read-fcs.pcap");
    let without = frames_of("other-flows.pcap");
    assert_eq!(with_fcs, without);
    let reader = CaptureReader::open(&fixture("read-fcs.pcap")).unwrap();
    assert_eq!(reader.link_type(), Some(1));
    check(
        "read-fcs.pcap",
        &[],
        0,
        &[
            "PASS ",
            "(1 matched in 10 frames)",
            "frame 8 ",
            "UDP 52 ",
            "link-type field 0x24000001: link type 1 with a 4-byte FCS ending every frame",
        ],
    );
}

#[test]
fn the_modified_kuznetsov_format_is_read() {
    assert_eq!(
        frames_of("read-kuznetsov.pcap"),
        frames_of("other-flows.pcap")
    );
    check(
        "read-kuznetsov.pcap",
        &[],
        0,
        &["PASS ", "(1 matched in 10 frames)"],
    );
}

#[test]
fn timestamps_finer_than_a_nanosecond_are_cut_like_tcpdump() {
    // dumpcap's frame at 1795602791.857780697 s, rewritten in picoseconds
    // past if_tsoffset (+ 999 ps) and in 2^-32 s units (rounded up).
    for file in ["read-tsresol-pico.pcapng", "read-tsresol-bin32.pcapng"] {
        let frames = frames_of(file);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].0, "1795602791.857780697", "{file}");
        check(file, &[], 0, PASS);
    }
}

#[test]
fn option_text_that_is_not_utf8_is_kept_escaped() {
    let frames = frames_of("read-latin1-options.pcapng");
    assert_eq!(frames[0].3.as_deref(), Some("caf\\xe9 au lait (Latin-1)"));
    let reader = CaptureReader::open(&fixture("read-latin1-options.pcapng")).unwrap();
    let hardware = reader.section().unwrap().hardware.as_deref().unwrap();
    assert!(hardware.starts_with("Intel(R) X\\xe9on(R)"), "{hardware}");
    check("read-latin1-options.pcapng", &[], 0, PASS);
}

#[test]
fn an_interface_reserved_field_that_is_not_zero_is_ignored() {
    assert_eq!(
        frames_of("read-idb-reserved.pcapng"),
        frames_of("fmt-dumpcap.pcapng")
    );
    check("read-idb-reserved.pcapng", &[], 0, PASS);
}

#[test]
fn an_original_length_below_the_captured_length_is_a_note_in_pcapng_too() {
    check(
        "read-epb-origlen-small.pcapng",
        &[],
        0,
        &[
            "PASS ",
            "frame 1 (byte 280): original length 40 is less than the 52 captured bytes",
        ],
    );
}

#[test]
fn pcap_versions_are_read_and_refused_like_libpcap() {
    // snaplen-50.pcap's record holds 50 of 52 bytes. Before 2.3 the record
    // header had the two lengths the other way round; 2.3 files exist in
    // both orders, and libpcap swaps them when "captured" > "original".
    let cut = frames_of("snaplen-50.pcap");
    assert_eq!((cut[0].1, cut[0].2), (50, 52));
    for file in [
        "read-pcap-v2.2.pcap",
        "read-pcap-v2.3-swapped.pcap",
        "read-pcap-v2.3.pcap",
    ] {
        assert_eq!(frames_of(file), cut, "{file}");
        check(file, &[], 1, &["8 of 10 bytes captured"]);
    }
    check(
        "read-pcap-v2.3-swapped.pcap",
        &[],
        1,
        &[
            "frame 1 (byte 24): lengths in the order before pcap 2.3 (captured 52 > original 50); swapped, as libpcap does",
        ],
    );
    for (file, version) in [
        ("bad-pcap-v1.0.pcap", "1.0"),
        ("bad-pcap-v2.5.pcap", "2.5"),
        ("bad-pcap-v3.0.pcap", "3.0"),
    ] {
        check(
            file,
            &[],
            2,
            &[&format!(
                "{file}: unsupported pcap version {version} (libpcap reads 2.0 to 2.4) (at byte 0)"
            )],
        );
    }
}

#[test]
fn pcapng_versions_are_read_and_refused_like_libpcap_and_tshark() {
    check("read-pcapng-v1.2.pcapng", &[], 0, PASS);
    for (file, version) in [
        ("bad-pcapng-v1.1.pcapng", "1.1"),
        ("bad-pcapng-v2.0.pcapng", "2.0"),
    ] {
        check(
            file,
            &[],
            2,
            &[&format!(
                "{file}: unsupported pcapng version {version} (libpcap and tshark read 1.0 and 1.2) (at byte 0)"
            )],
        );
    }
}

/// What a tool made of a capture: the times of its frames, or its error.
type Reading = Result<Vec<String>, String>;

/// `tcpdump -r FILE -nn -tt --nano`: the leading timestamp of each packet
/// line (tcpdump may print more lines per packet for unknown link types).
fn tcpdump_reading(path: &Path) -> Reading {
    let out = StdCommand::new("tcpdump")
        .arg("-r")
        .arg(path)
        .args(["-nn", "-tt", "--nano"])
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let is_time = |t: &str| {
        t.split_once('.').is_some_and(|(s, f)| {
            !s.is_empty() && f.len() == 9 && s.bytes().chain(f.bytes()).all(|b| b.is_ascii_digit())
        })
    };
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| match l.split(' ').next() {
            Some(t) if is_time(t) => Some(t.to_string()),
            // tcpdump prints a packet whose lengths it doubts without its time.
            _ if l.starts_with("[Invalid header: ") => Some("?".to_string()),
            _ => None,
        })
        .collect())
}

/// `tshark -r FILE`: the number of frames, or its error.
fn tshark_reading(path: &Path) -> Result<usize, String> {
    let out = StdCommand::new("tshark")
        .arg("-r")
        .arg(path)
        .args(["-T", "fields", "-e", "frame.number"])
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .count())
}

/// lola's reader over the whole file: the frames' times, or its error.
fn lola_reading(path: &Path) -> Reading {
    // Reading, not decoding: lola check refuses a link type it cannot decode.
    let mut reader = CaptureReader::open_any_link_type(path).map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    while let Some(f) = reader.next_frame().map_err(|e| e.to_string())? {
        times.push(nanos(f.timestamp));
    }
    Ok(times)
}

/// Where libpcap (tcpdump 4.99.3, libpcap 1.10.3) and tshark 4.0 disagree,
/// the rule says nothing; what lola does instead, and why.
const DISAGREEMENTS: &[(&str, bool, &str)] = &[
    // (file, lola reads it, why)
    (
        "bad-empty.pcap",
        false,
        "tshark opens 0 bytes as an empty ERF file",
    ),
    (
        "bad-pcap-v2.5.pcap",
        false,
        "tshark reads any major version >= 2; lola refuses versions libpcap does not know",
    ),
    (
        "bad-pcap-v3.0.pcap",
        false,
        "tshark reads any major version >= 2; lola refuses versions libpcap does not know",
    ),
    (
        "fmt-multi-interface.pcapng",
        true,
        "libpcap refuses a second interface with another link type; tshark and lola read both",
    ),
    (
        "fmt-multi-section-mixed-endian.pcapng",
        true,
        "libpcap stops at the byte-order change; tshark and lola read both sections",
    ),
];

#[test]
fn every_fixture_is_read_where_tcpdump_and_tshark_read_it_and_refused_where_both_refuse() {
    if !have("tcpdump") || !have("tshark") {
        return;
    }
    let dir = fixture("");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    // tshark takes half a second to start: ask it about all files at once.
    let readings: Vec<(String, Reading, Result<usize, String>, Reading)> =
        std::thread::scope(|s| {
            let handles: Vec<_> = files
                .iter()
                .map(|p| {
                    s.spawn(move || {
                        let name = p.file_name().unwrap().to_string_lossy().into_owned();
                        (name, tcpdump_reading(p), tshark_reading(p), lola_reading(p))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
    let mut both_read = 0;
    let mut both_refuse = 0;
    for (name, tcpdump, tshark, lola) in &readings {
        let disagreement = DISAGREEMENTS.iter().find(|d| d.0 == name);
        match (tcpdump, tshark, disagreement) {
            (Ok(times), Ok(count), None) => {
                both_read += 1;
                assert_eq!(
                    times.len(),
                    *count,
                    "{name}: tcpdump and tshark count differently"
                );
                let ours = lola
                    .as_ref()
                    .unwrap_or_else(|e| panic!("{name}: both read it, lola: {e}"));
                assert_eq!(ours.len(), times.len(), "{name}: lola counts differently");
                for (i, (ours, theirs)) in ours.iter().zip(times).enumerate() {
                    assert!(
                        theirs == "?" || ours == theirs,
                        "{name}: frame {}: lola's time {ours}, tcpdump -tt --nano {theirs}",
                        i + 1
                    );
                }
            }
            (Err(tcpdump), Err(tshark), None) => {
                both_refuse += 1;
                let ours = lola.as_ref().err().unwrap_or_else(|| {
                    panic!(
                        "{name}: tcpdump ({tcpdump}) and tshark ({tshark}) refuse it, lola reads it"
                    )
                });
                assert!(
                    ours.starts_with(&format!("{}: ", dir.join(name).display()))
                        && ours.contains(" (at byte "),
                    "{name}: lola's error names neither the file nor the place: {ours}"
                );
            }
            (_, _, Some((_, reads, why))) => {
                assert!(
                    tcpdump.is_ok() != tshark.is_ok(),
                    "{name}: listed as a disagreement ({why}), but now tcpdump {tcpdump:?} and tshark {tshark:?} agree"
                );
                assert_eq!(lola.is_ok(), *reads, "{name}: {why}; lola: {lola:?}");
            }
            _ => panic!(
                "{name}: tcpdump ({tcpdump:?}) and tshark ({tshark:?}) disagree; say what lola does in DISAGREEMENTS"
            ),
        }
    }
    assert!(
        both_read >= 40 && both_refuse >= 10,
        "{both_read} read, {both_refuse} refused"
    );
}
