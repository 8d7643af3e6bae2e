//! Every field lola compares with tshark has tshark's values, every
//! occurrence in frame order: `Field::tshark_text` of each frame the
//! expectation engine hands its emitters equals `tshark -T fields -E
//! occurrence=a -e FIELD`, on every fixture tshark reads: the outer and inner
//! headers of a tunnel, the datagram an ICMP error quotes, `data` only where
//! no dissector claims the payload.
//!
//! With `LOLA_CORPUS=DIR` (not in CI), the captures under DIR are compared
//! too and a table of agreement per field is printed; only the fixtures'
//! disagreements fail the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{have, in_ci};
use lola::check::expect::{ExpectationSet, check_reader_with_set};
use lola::packet::fields::{FIELDS, Field, FrameView};

/// Agreement of one field over many frames.
#[derive(Default)]
struct Tally {
    compared: u64,
    agreed: u64,
    /// A few disagreements: capture, frame, lola's text, tshark's.
    examples: Vec<String>,
}

/// Why a field's value in a frame is left out of the comparison (another
/// part of issue 20 owns these), or None to compare it.
fn left_out(f: &Field, v: &FrameView<'_, '_>) -> Option<&'static str> {
    let p = v.packet;
    let ip = p.ip.as_ref();
    // A fragment, or the datagram the last fragment completes (its header
    // says less than the reassembled length).
    let fragmented = ip.is_some_and(|ip| ip.frag.is_some() || ip.total_len > p.ip_bytes.len());
    if fragmented && matches!(f.name, "ip.len" | "ip.frag_offset" | "ip.flags.mf") {
        return Some("the last fragment's own header (the single-value meanings' part)");
    }
    let extensions =
        ip.is_some_and(|ip| ip.version == 6 && p.ip_bytes.get(6) != Some(&ip.protocol));
    if extensions && f.name == "ipv6.nxt" {
        return Some("the fixed header's next header (the single-value meanings' part)");
    }
    let refused = |port: u16| matches!(&p.transport, lola::packet::decode::Transport::Udp(u) if u.src_port == port || u.dst_port == port);
    if f.name.starts_with("data") && refused(9999) {
        return Some(
            "tshark's dissector for the port refuses a payload not its own (tplink-smarthome on UDP 9999): data there, not in lola",
        );
    }
    if f.name == "eth.type" && p.link.as_ref().is_some_and(|l| !l.vlans.is_empty()) {
        return Some("a tagged frame's eth.type (the link types' part)");
    }
    None
}

/// lola's text of every compared field, per frame, as the engine sees the
/// frames (reassembly included).
fn lola_rows(capture: &Path, fields: &[&'static Field]) -> Option<Vec<Vec<Option<String>>>> {
    let reader = lola::capture::CaptureReader::open(capture).ok()?;
    let set = ExpectationSet::from_expectation(&lola::Expectation::seed());
    let mut rows = Vec::new();
    let mut sink = |v: &FrameView<'_, '_>, _: &[&str]| {
        rows.push(
            fields
                .iter()
                .map(|f| left_out(f, v).is_none().then(|| f.tshark_text(v)))
                .collect(),
        );
    };
    check_reader_with_set(reader, "capture", &set, true, &mut sink).ok()?;
    Some(rows)
}

fn tshark_rows(capture: &Path, fields: &[&'static Field]) -> Option<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"]).arg(capture).args([
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "separator=/t",
    ]);
    for f in fields {
        cmd.args(["-e", f.name]);
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

/// Compares one capture into `tally`; false when the two disagree on how
/// many frames it holds (then nothing is compared).
fn compare(capture: &Path, fields: &[&'static Field], tally: &mut BTreeMap<&str, Tally>) -> bool {
    let (Some(ours), Some(theirs)) = (lola_rows(capture, fields), tshark_rows(capture, fields))
    else {
        return true;
    };
    if ours.len() != theirs.len() {
        return false;
    }
    for (n, (ours, line)) in ours.iter().zip(&theirs).enumerate() {
        for ((f, ours), theirs) in fields.iter().zip(ours).zip(line.split('\t')) {
            let Some(ours) = ours else { continue };
            let t = tally.entry(f.name).or_default();
            t.compared += 1;
            if ours == theirs {
                t.agreed += 1;
            } else if t.examples.len() < 3 {
                t.examples.push(format!(
                    "{} frame {}: lola {ours:?}, tshark {theirs:?}",
                    capture.display(),
                    n + 1
                ));
            }
        }
    }
    true
}

fn report(title: &str, tally: &BTreeMap<&str, Tally>) -> String {
    let mut out = format!("{title}\n");
    for (name, t) in tally {
        out += &format!(
            "{name:22} {:>8} of {:>8} agree ({:.2}%)\n",
            t.agreed,
            t.compared,
            100.0 * t.agreed as f64 / t.compared.max(1) as f64
        );
        for e in &t.examples {
            out += &format!("    {e}\n");
        }
    }
    out
}

fn compared_fields() -> Vec<&'static Field> {
    FIELDS.iter().filter(|f| f.tshark).collect()
}

#[test]
fn every_occurrence_of_every_field_agrees_with_tshark_on_the_fixtures() {
    if !have("tshark") {
        assert!(!in_ci(), "CI needs tshark");
        return;
    }
    let fields = compared_fields();
    let mut tally = BTreeMap::new();
    for capture in common::capture_fixtures(false) {
        if capture.ends_with("read-epb-origlen-small.pcapng") || capture.ends_with("read-fcs.pcap")
        {
            continue; // lola's reader normalises these lengths (FCS stripped, short original length raised)
        }
        assert!(
            compare(&capture, &fields, &mut tally),
            "{}",
            capture.display()
        );
    }
    let compared: u64 = tally.values().map(|t| t.compared).sum();
    let text = report("fixtures", &tally);
    assert!(tally.values().all(|t| t.agreed == t.compared), "{text}");
    assert!(compared > 3000, "{compared}");
    for name in [
        "udp.dstport",
        "ip.src",
        "data.len",
        "udp.payload",
        "vxlan.vni",
        "geneve.vni",
    ] {
        assert!(
            tally.get(name).is_some_and(|t| t.compared > 0),
            "{name}: {text}"
        );
    }
}

/// With `LOLA_CORPUS=DIR`, the agreement per field over every capture under
/// DIR, printed (`cargo test --test occurrences corpus -- --nocapture`).
#[test]
fn agreement_per_field_over_the_corpus() {
    let Some(dir) = std::env::var_os("LOLA_CORPUS") else {
        return;
    };
    let fields = compared_fields();
    let mut tally = BTreeMap::new();
    let mut captures: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![PathBuf::from(dir)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                captures.push(path);
            }
        }
    }
    captures.sort();
    let mut frame_counts_differ = Vec::new();
    for capture in &captures {
        if !compare(capture, &fields, &mut tally) {
            frame_counts_differ.push(capture.display().to_string());
        }
    }
    println!(
        "{}",
        report(&format!("{} captures", captures.len()), &tally)
    );
    println!("frame counts differ: {}", frame_counts_differ.len());
}
