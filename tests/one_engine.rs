//! One engine, not two: `lola check` with flags holds the expectation set
//! those flags describe (`lola expect show-default FLAGS`) against the
//! capture with the same engine as `lola check --expect`, so the two agree
//! on every capture, and what the built-in check knows about captures
//! (frames the file admits it lost, a cut at its end, checksums the writer
//! flagged as left to offload) holds for expectation files too.

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod common;

use common::{capture_fixtures, fixture, lola};
use lola::capture::{CaptureFrame, CaptureStatistics, EPB_CHECKSUM_NOT_READY, Format};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

/// The set `lola expect show-default FLAGS` prints, written to `dir`.
fn default_set(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    let out = lola()
        .args(["expect", "show-default"])
        .args(flags)
        .output()
        .unwrap();
    assert!(out.status.success(), "show-default {flags:?}");
    let path = dir.join(name);
    fs::write(&path, out.stdout).unwrap();
    path
}

/// Exit code and `--json` document of `lola check ARGS CAPTURE`.
fn check_json(args: &[&str], set: Option<&Path>, capture: &Path) -> (i32, serde_json::Value) {
    let mut cmd = lola();
    cmd.arg("check").arg("--json").args(args);
    if let Some(set) = set {
        cmd.arg("--expect").arg(set);
    }
    let out = cmd.arg(capture).output().unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap(), doc)
}

#[test]
fn the_builtin_check_and_its_expectation_set_agree_on_every_capture() {
    let dir = tempfile::tempdir().unwrap();
    let flag_sets: [&[&str]; 6] = [
        &[],
        &["--dst-port", "9999"],
        &["--any-payload", "--at-least", "1"],
        &["--allow-tcp", "--at-most", "1"],
        &["--checksums", "strict"],
        &["--src", "127.0.0.1", "--exactly", "2"],
    ];
    let mut compared = 0;
    for (i, flags) in flag_sets.iter().enumerate() {
        let set = default_set(dir.path(), &format!("set{i}.toml"), flags);
        for capture in capture_fixtures(true) {
            let (code, builtin) = check_json(flags, None, &capture);
            let (set_code, judged) = check_json(&[], Some(&set), &capture);
            let what = format!("{} with {flags:?}", capture.display());
            assert_eq!(code, set_code, "{what}: exit codes differ");
            if code == 2 {
                continue;
            }
            let datagram = &judged["expectations"][0];
            assert_eq!(builtin["matched_count"], datagram["held"], "{what}");
            assert_eq!(builtin["offending_count"], datagram["missed"], "{what}");
            compared += 1;
        }
    }
    assert!(compared > 300, "only {compared} documents compared");
}

/// A one-frame pcapng of the seed datagram, its UDP checksum broken when
/// `bad_checksum`, with `flags` on its EPB and `dropped` in its ISB.
fn pcapng(dir: &Path, name: &str, bad_checksum: bool, flags: Option<u32>, dropped: u64) -> PathBuf {
    let d = lola::Datagram::new(
        "127.0.0.1:40000".parse().unwrap(),
        "127.0.0.1:7456".parse().unwrap(),
        b"Hello Lola".to_vec(),
    );
    let mut frame = lola::build_frame(&d).unwrap();
    if bad_checksum {
        frame[40] ^= 0xff;
    }
    let frames = [CaptureFrame {
        timestamp: Duration::from_secs(1),
        data: Cow::Borrowed(&frame[..]),
        comment: None,
        flags,
    }];
    let stats = CaptureStatistics {
        received: 1,
        dropped,
        at: Duration::from_secs(2),
    };
    let mut bytes = Vec::new();
    lola::capture::encode_capture_with(&mut bytes, Format::PcapNg, &frames, Some(stats)).unwrap();
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn an_expectation_file_cannot_pass_a_capture_that_admits_lost_frames() {
    let dir = tempfile::tempdir().unwrap();
    let set = default_set(dir.path(), "lola.toml", &[]);
    let whole = pcapng(dir.path(), "whole.pcapng", false, None, 0);
    let lossy = pcapng(dir.path(), "lossy.pcapng", false, None, 2);
    lola()
        .args(["check", "--expect"])
        .arg(&set)
        .arg(&whole)
        .assert()
        .code(0);
    let why = "the capture admits 2 lost frames (isb_ifdrop 2, isb_osdrop 0, epb_dropcount 0)";
    lola()
        .args(["check", "--expect"])
        .arg(&set)
        .arg(&lossy)
        .assert()
        .code(1)
        .stdout(contains(format!(
            "{why}: the missing frames could break count 1"
        )))
        .stdout(contains("FAIL  forbid: tcp.port == 7456: 0 frames"))
        .stdout(contains(format!(
            "{why}: the missing frames could break it"
        )));
    // "At least one" and no forbid rule: lost frames cannot contradict it.
    let at_least = default_set(
        dir.path(),
        "at-least.toml",
        &["--at-least", "1", "--allow-tcp"],
    );
    lola()
        .args(["check", "--expect"])
        .arg(&at_least)
        .arg(&lossy)
        .assert()
        .code(0);
    let (_, doc) = check_json(&[], Some(&set), &lossy);
    assert_eq!(doc["lost"]["interface"], 2);
    assert_eq!(doc["expectations"][0]["unprovable"], true);
}

#[test]
fn a_checksum_the_writer_flagged_not_ready_is_partial_in_expectation_files_too() {
    let dir = tempfile::tempdir().unwrap();
    let set = default_set(dir.path(), "lola.toml", &[]);
    let bad = pcapng(dir.path(), "bad.pcapng", true, None, 0);
    let flagged = pcapng(
        dir.path(),
        "flagged.pcapng",
        true,
        Some(EPB_CHECKSUM_NOT_READY | 1),
        0,
    );
    lola()
        .args(["check", "--expect"])
        .arg(&set)
        .arg(&bad)
        .assert()
        .code(1)
        .stdout(contains("udp.checksum 0x94a4 bad (should be 0x6ba4)"));
    lola()
        .args(["check", "--expect"])
        .arg(&set)
        .arg(&flagged)
        .assert()
        .code(0);
    let strict = default_set(dir.path(), "strict.toml", &["--checksums", "strict"]);
    lola()
        .args(["check", "--expect"])
        .arg(&strict)
        .arg(&flagged)
        .assert()
        .code(1)
        .stdout(contains("udp.checksum 0x94a4 partial"));
}

#[test]
fn an_expectation_file_judges_a_capture_cut_short_like_the_builtin_check() {
    let dir = tempfile::tempdir().unwrap();
    // Two Hello Lola datagrams, then half of a third record.
    let good = fs::read(fixture("hello-lola.pcap")).unwrap();
    let record = &good[24..];
    let mut bytes = good.clone();
    bytes.extend_from_slice(record);
    bytes.extend_from_slice(&record[..20]);
    let cut = dir.path().join("killed.pcap");
    fs::write(&cut, &bytes).unwrap();
    let at = format!(
        "the capture is cut short at byte {}",
        good.len() + record.len()
    );

    let strict = default_set(dir.path(), "two.toml", &["--exactly", "2"]);
    lola()
        .args(["check", "--expect"])
        .arg(&strict)
        .arg(&cut)
        .assert()
        .code(1)
        .stdout(contains("ok    datagram").not())
        .stdout(contains(format!("{at} (record cut short")))
        .stdout(contains("the missing frames could break count 2"));
    // --truncated overrides the file; the file may say so itself.
    lola()
        .args(["check", "--truncated", "judge-complete-frames", "--expect"])
        .arg(&strict)
        .arg(&cut)
        .assert()
        .code(0)
        .stdout(contains(format!("note: {at}")))
        .stdout(contains("only the frames before the cut were judged"));
    let text = fs::read_to_string(&strict).unwrap() + "truncated = \"judge-complete-frames\"\n";
    let lenient = dir.path().join("lenient.toml");
    fs::write(&lenient, text).unwrap();
    lola()
        .args(["check", "--expect"])
        .arg(&lenient)
        .arg(&cut)
        .assert()
        .code(0);
    lola()
        .args(["check", "--truncated", "fail", "--expect"])
        .arg(&lenient)
        .arg(&cut)
        .assert()
        .code(1);
}

#[test]
fn a_match_on_both_ports_of_a_flow_is_not_skipped_by_the_fast_path() {
    // `udp.srcport == A && udp.dstport == B` needs a port of each side,
    // not one in both: the prefilter once skipped every such frame.
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("flow.toml");
    fs::write(
        &set,
        "[[expect]]\nname = \"flow\"\nmatch = 'udp.srcport == 48801 && udp.dstport == 7456'\n",
    )
    .unwrap();
    lola()
        .args(["check", "--expect"])
        .arg(&set)
        .arg(fixture("seed-ipv4.pcap"))
        .assert()
        .code(0)
        .stdout(contains("ok    flow: 1 frame held"));
}
