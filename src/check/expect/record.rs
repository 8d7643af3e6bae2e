//! Record mode: an expectation file written from a capture, one
//! expectation per flow and direction, that the same capture passes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::engine::Sink;
use super::evidence;
use super::filter::Filter;
use super::outcome::SetReport;
use super::reading::check_reader_with_set;
use super::{Bounds, Expect, ExpectationSet, Tolerance};
use crate::capture::CaptureReader;
use crate::check::{ChecksumPolicy, Truncation};
use crate::error::{Error, Result};
use crate::packet::decode::Transport;
use crate::packet::fields::{self, FrameView, Value};

/// What record mode writes.
#[derive(Clone, Debug, Default)]
pub struct RecordOptions {
    /// Only the flow directions of the frames matching this predicate.
    pub only: Option<Filter>,
    /// Keep ephemeral ports (32768 and up) in the `match` predicates.
    pub ephemeral_ports: bool,
}

/// At most this many expectations are recorded (narrow with `--flow`).
const MAX_GROUPS: usize = 1000;

/// The first ephemeral port: a `match` says `>= 32768` for a port from
/// here up rather than its number (unless `--ephemeral-ports`).
const EPHEMERAL: u16 = 32768;

/// One flow direction: its `match`, and what the checker's evaluation of
/// that `match` claimed.
struct Group {
    matches: String,
    /// The first frame claimed: its number and time.
    first: Option<(u64, Duration)>,
    /// Frames claimed, those left out not counted.
    count: u64,
    /// Stable fields: name and value, or `None` once two frames disagreed
    /// (empty until the first frame).
    stable: Vec<(&'static str, Option<String>)>,
    /// Frames the `match` covers that are not this direction's datagrams,
    /// left out by number: damaged ones (which hold no expectation), and
    /// others a field also matches in, such as an ICMP error quoting the
    /// flow's headers.
    left_out: Vec<u64>,
    /// Set when an ICMP error (`Some(true)`: ICMPv6) quotes the flow's
    /// headers, which Wireshark's fields see: the `match` then leaves ICMP
    /// out by name rather than by frame number.
    icmp_error: Option<bool>,
}

const STABLE: &[&str] = &[
    "ip.ttl",
    "ipv6.hlim",
    "ip.flags.df",
    "udp.length",
    "tcp.flags",
    "icmp.type",
    "icmp.code",
    "icmpv6.type",
    "icmpv6.code",
    "data.text",
];

fn is_ephemeral(port: u16) -> bool {
    port >= EPHEMERAL
}

fn addr_test(a: IpAddr, side: &str) -> String {
    let layer = if a.is_ipv4() { "ip" } else { "ipv6" };
    format!("{layer}.{side} == {a}")
}

/// The `match` predicate of a flow direction: both addresses and both
/// ports, an ephemeral port beside one that is not as `>= 32768` (unless
/// `keep`). Two directions' predicates share no frame: each port is its
/// number or "ephemeral", and "ephemeral" only beside a port that is not.
fn flow_match(proto: &str, src: SocketAddr, dst: SocketAddr, keep: bool) -> String {
    let (sp, dp) = (src.port(), dst.port());
    let port = |side: &str, p: u16, other: u16| {
        if keep || !is_ephemeral(p) || is_ephemeral(other) {
            format!("{proto}.{side}port == {p}")
        } else {
            format!("{proto}.{side}port >= {EPHEMERAL}")
        }
    };
    [
        addr_test(src.ip(), "src"),
        addr_test(dst.ip(), "dst"),
        port("src", sp, dp),
        port("dst", dp, sp),
    ]
    .join(" && ")
}

/// A `where` predicate giving `field` the value as rendered.
fn stable_test(name: &str, value: &str) -> Option<String> {
    fields::lookup(name).map(|f| format!("{} == {value}", f.name))
}

fn value_text(v: &Value<'_>) -> Option<String> {
    match v {
        Value::Text(t) if t.chars().any(char::is_control) || t.contains('\u{fffd}') => None,
        Value::Text(t) => Some(format!(
            "\"{}\"",
            t.replace('\\', "\\\\").replace('"', "\\\"")
        )),
        other => Some(other.to_string()),
    }
}

/// Writes an expectation set from the capture at `path` that the capture
/// passes.
///
/// Two passes, each through the checker itself ([`check_reader_with_set`],
/// which reassembles fragments as any check does): the first finds the
/// flow directions of the UDP and TCP frames (of those `options.only`
/// matches), the second counts what each direction's `match` claims when
/// the checker evaluates it. So `count`, `where`, `after` and `exclusive`
/// are those of the frames the check holds them against. A frame a `match`
/// claims that is not one of its direction's datagrams (a damaged frame,
/// or one a field matches in another layer) is left out by number.
pub fn record_file(path: &Path, options: &RecordOptions) -> Result<ExpectationSet> {
    let mut groups = flows(path, options)?;
    if groups.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: no UDP or TCP frame to record",
            path.display()
        )));
    }
    let mut probe = ExpectationSet::empty();
    for (i, g) in groups.iter().enumerate() {
        probe.expects.push(Expect {
            name: i.to_string(),
            matches: parse(&g.matches)?,
            count: Bounds { min: 0, max: None },
            wheres: Vec::new(),
            after: None,
            within: None,
        });
    }
    let mut checksums = ChecksumPolicy::Lenient;
    let mut all_claimed = true;
    let report = view_frames(path, &probe, &mut |view, names| {
        let own = flow_of(view, options.ephemeral_ports);
        let mut counted = false;
        for name in names {
            let Ok(i) = name.parse::<usize>() else {
                continue;
            };
            let g = &mut groups[i];
            if !view.packet.quoted.is_empty() {
                g.icmp_error = Some(view.packet.ip.as_ref().is_some_and(|ip| ip.version == 6));
                continue;
            }
            if own.as_deref() != Some(g.matches.as_str()) {
                g.left_out.push(view.number);
                continue;
            }
            counted = true;
            // The probe has no `where` and the frame is not damaged: only a
            // checksum can miss the lenient policy.
            if !evidence::misses(&probe, &probe.expects[i], view).is_empty() {
                checksums = ChecksumPolicy::Ignore;
            }
            g.count += 1;
            let values = stable_values(view);
            if g.first.is_none() {
                g.first = Some((view.number, view.time));
                g.stable = values;
            } else {
                forget_changed(&mut g.stable, &values);
            }
        }
        all_claimed &= counted;
    })?;
    // A direction whose `match` claimed only frames left out expects nothing.
    groups.retain(|g| g.count > 0);
    groups.sort_by_key(|g| g.first.map(|(n, _)| n));
    let mut set = ExpectationSet::empty();
    set.checksums = checksums;
    set.tolerance = Tolerance::Percent(50);
    // Frames the capture admits it lost could have been anything.
    set.exclusive = all_claimed && report.lost.is_none();
    if report.cut.is_some() {
        set.truncated = Truncation::JudgeCompleteFrames;
    }
    for (i, g) in groups.iter().enumerate() {
        // After the latest direction that began before this one (a frame is
        // not after itself).
        let previous = (0..i)
            .rev()
            .find(|&p| first_number(&groups[p]) < first_number(g))
            .map(|p| (p, &groups[p]));
        let mut e = group_expect(i, g, previous)?;
        if report.lost.is_some() {
            // The lost frames could have been any direction's: counts are
            // minimums.
            e.count.max = None;
        }
        set.expects.push(e);
    }
    Ok(set)
}

fn first_number(g: &Group) -> u64 {
    g.first.map_or(0, |(n, _)| n)
}

/// Holds `set` against the capture at `path` as the checker does, handing
/// `sink` every frame as the checker sees it.
fn view_frames(path: &Path, set: &ExpectationSet, sink: &mut Sink<'_>) -> Result<SetReport> {
    let reader = CaptureReader::open(path)?;
    let name = path.display().to_string();
    check_reader_with_set(reader, &name, set, true, sink)
}

/// A predicate the recorder wrote, parsed.
fn parse(text: &str) -> Result<Filter> {
    Filter::parse(text).map_err(|e| Error::Invalid(format!("recording {text:?}: {e}")))
}

/// The flow directions of the capture at `path`, in order of their first
/// frame, nothing counted yet.
fn flows(path: &Path, options: &RecordOptions) -> Result<Vec<Group>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    view_frames(path, &ExpectationSet::empty(), &mut |view, _| {
        if let Some(only) = &options.only
            && !only.matches(view)
        {
            return;
        }
        let Some(matches) = flow_of(view, options.ephemeral_ports) else {
            return;
        };
        if groups.len() <= MAX_GROUPS && !seen.contains_key(&matches) {
            seen.insert(matches.clone(), groups.len());
            groups.push(Group {
                matches,
                first: None,
                count: 0,
                stable: Vec::new(),
                left_out: Vec::new(),
                icmp_error: None,
            });
        }
    })?;
    if groups.len() > MAX_GROUPS {
        return Err(Error::Invalid(format!(
            "{}: more than {MAX_GROUPS} flow directions; choose some with --flow",
            path.display()
        )));
    }
    Ok(groups)
}

/// The `match` predicate of the frame's flow direction (`keep`: with
/// ephemeral port numbers), or `None` when the frame is neither UDP nor
/// TCP, or damaged.
fn flow_of(view: &FrameView<'_, '_>, keep: bool) -> Option<String> {
    let packet = view.packet;
    let matches = match (&packet.transport, packet.endpoints()) {
        (Transport::Udp(_), Some((s, d))) => flow_match("udp", s, d, keep),
        (Transport::Tcp(_), Some((s, d))) => flow_match("tcp", s, d, keep),
        _ => return None,
    };
    // A damaged frame is not something to expect again.
    packet
        .problems
        .iter()
        .all(|p| p.is_checksum())
        .then_some(matches)
}

/// The frame's [`STABLE`] fields that it has, with their values as
/// predicate literals (`None` when a value cannot be written as one).
fn stable_values(view: &FrameView<'_, '_>) -> Vec<(&'static str, Option<String>)> {
    STABLE
        .iter()
        .filter_map(|name| {
            let f = fields::lookup(name)?;
            let v = f.get(view, 0)?;
            Some((f.name, value_text(&v)))
        })
        .collect()
}

/// Forgets the stable values a frame's `values` disagree with.
fn forget_changed(
    stable: &mut [(&'static str, Option<String>)],
    values: &[(&'static str, Option<String>)],
) {
    for (name, value) in stable {
        let now = values
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_ref());
        if value.as_ref() != now {
            *value = None;
        }
    }
}

/// The least `within` a recorded rule gets, in ms.
const MIN_WITHIN_MS: u128 = 100;

/// The expectation `flow-{i+1}` for group `g`, ordered after the group
/// before it (`previous`, with its index) when there is one.
fn group_expect(i: usize, g: &Group, previous: Option<(usize, &Group)>) -> Result<Expect> {
    let wheres: Vec<String> = g
        .stable
        .iter()
        .filter_map(|(name, v)| v.as_deref().and_then(|v| stable_test(name, v)))
        .collect();
    let (after, within) = match (previous, g.first) {
        (Some((p, prev)), Some((_, at))) => {
            let gap = at.saturating_sub(prev.first.map_or(at, |(_, t)| t));
            // Headroom: twice the observed gap, in whole ms, and at least
            // 100 ms: the rule is checked against later runs, and a loaded
            // CI machine schedules a program's answer tens of ms late
            // (a 31 µs echo recorded as "1ms" failed its own re-run).
            let ms = (gap.as_nanos() * 2).div_ceil(1_000_000).max(MIN_WITHIN_MS);
            (Some(p), Some(Duration::from_millis(ms as u64)))
        }
        _ => (None, None),
    };
    let mut matches = match g.left_out.as_slice() {
        [] => g.matches.clone(),
        left_out => {
            let numbers: Vec<String> = left_out.iter().map(u64::to_string).collect();
            format!(
                "{} && !(frame.number in {{{}}})",
                g.matches,
                numbers.join(", ")
            )
        }
    };
    match g.icmp_error {
        Some(true) => matches.push_str(" && !icmpv6"),
        Some(false) => matches.push_str(" && !icmp"),
        None => {}
    }
    Ok(Expect {
        name: format!("flow-{}", i + 1),
        matches: parse(&matches)?,
        count: Bounds::exactly(g.count),
        wheres: wheres.iter().map(|w| parse(w)).collect::<Result<_>>()?,
        after,
        within,
    })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::capture::{CaptureFrame, Format, write_capture};
    use crate::check::expect::check_file_with_set;
    use crate::packet::frame::{Datagram, build_frame};

    /// Records the capture at `path` and checks it against what was
    /// recorded: the report must pass.
    fn record_then_check(path: &Path, options: &RecordOptions) -> ExpectationSet {
        let set = record_file(path, options).unwrap();
        let report = check_file_with_set(path, &set).unwrap();
        assert!(report.passed(), "{report:?}\n{}", set.to_toml(""));
        set
    }

    fn counts(set: &ExpectationSet) -> Vec<(&str, u64)> {
        set.expects
            .iter()
            .map(|e| (e.matches.text(), e.count.min))
            .collect()
    }

    #[test]
    fn a_recorded_answer_may_come_a_loaded_machines_delay_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("echo.pcap");
        // A request and its answer 31 µs later, as a quiet machine records
        // an echo; then one 80 ms later, as a slow service answers.
        datagrams_at(
            &path,
            b"ping",
            &[
                ("127.0.0.1:40000", "127.0.0.1:9999", 0),
                ("127.0.0.1:9999", "127.0.0.1:40000", 31_000),
                ("127.0.0.1:40001", "127.0.0.1:9998", 1_000_000),
                ("127.0.0.1:9998", "127.0.0.1:40001", 81_000_000),
            ],
        );
        let set = record_then_check(&path, &RecordOptions::default());
        let within: Vec<Option<Duration>> = set.expects.iter().map(|e| e.within).collect();
        assert_eq!(
            within,
            [
                None,
                Some(Duration::from_millis(100)),
                Some(Duration::from_millis(100)),
                Some(Duration::from_millis(160)),
            ]
        );
    }

    #[test]
    fn a_port_left_out_as_ephemeral_is_still_told_apart_from_a_fixed_one() {
        let m = |s: &str, d: &str| flow_match("udp", s.parse().unwrap(), d.parse().unwrap(), false);
        assert_eq!(
            m("10.0.0.2:40000", "10.0.0.1:123"),
            "ip.src == 10.0.0.2 && ip.dst == 10.0.0.1 && udp.srcport >= 32768 && udp.dstport == 123"
        );
        assert_eq!(
            m("10.0.0.2:123", "10.0.0.1:123"),
            "ip.src == 10.0.0.2 && ip.dst == 10.0.0.1 && udp.srcport == 123 && udp.dstport == 123"
        );
        // Both ephemeral: both kept, as neither names the service.
        assert_eq!(
            m("[::1]:40000", "[::1]:50000"),
            "ipv6.src == ::1 && ipv6.dst == ::1 && udp.srcport == 40000 && udp.dstport == 50000"
        );
        let kept = flow_match(
            "tcp",
            "10.0.0.2:40000".parse().unwrap(),
            "10.0.0.1:22".parse().unwrap(),
            true,
        );
        assert!(
            kept.ends_with("tcp.srcport == 40000 && tcp.dstport == 22"),
            "{kept}"
        );
    }

    /// A pcap at `path` of one UDP datagram carrying `payload` per
    /// (source, destination, nanoseconds since the first) triple.
    fn datagrams_at(path: &Path, payload: &[u8], each: &[(&str, &str, u64)]) {
        let frames: Vec<CaptureFrame<'_>> = each
            .iter()
            .map(|(s, d, ns)| {
                let d = Datagram::new(s.parse().unwrap(), d.parse().unwrap(), payload.to_vec())
                    .at(Duration::from_nanos(*ns));
                CaptureFrame {
                    timestamp: d.timestamp,
                    data: Cow::Owned(build_frame(&d).unwrap()),
                    comment: None,
                    flags: None,
                }
            })
            .collect();
        write_capture(path, Format::Pcap, &frames).unwrap();
    }

    /// As in tcpdump's `ntp.pcap`: a client on an ephemeral port and a peer
    /// on port 123 both talk to the server's port 123, from one address.
    fn ntp_capture(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("ntp.pcap");
        datagrams_at(
            &path,
            b"ntp",
            &[
                ("10.0.0.2:40000", "10.0.0.1:123", 0),
                ("10.0.0.1:123", "10.0.0.2:40000", 1_000_000),
                ("10.0.0.2:123", "10.0.0.1:123", 2_000_000),
                ("10.0.0.2:40001", "10.0.0.1:123", 3_000_000),
            ],
        );
        path
    }

    #[test]
    fn flows_to_one_server_port_are_counted_apart_by_their_source_port() {
        let dir = tempfile::tempdir().unwrap();
        let set = record_then_check(&ntp_capture(dir.path()), &RecordOptions::default());
        assert_eq!(
            counts(&set),
            [
                (
                    "ip.src == 10.0.0.2 && ip.dst == 10.0.0.1 && udp.srcport >= 32768 && udp.dstport == 123",
                    2
                ),
                (
                    "ip.src == 10.0.0.1 && ip.dst == 10.0.0.2 && udp.srcport == 123 && udp.dstport >= 32768",
                    1
                ),
                (
                    "ip.src == 10.0.0.2 && ip.dst == 10.0.0.1 && udp.srcport == 123 && udp.dstport == 123",
                    1
                ),
            ]
        );
        assert!(set.exclusive);
    }

    /// `--flow` chooses flows by their frames; each is recorded whole.
    #[test]
    fn flow_chooses_the_flows_of_the_frames_it_matches() {
        let dir = tempfile::tempdir().unwrap();
        let options = RecordOptions {
            only: Some(Filter::parse("frame.number == 1").unwrap()),
            ephemeral_ports: false,
        };
        let set = record_then_check(&ntp_capture(dir.path()), &options);
        assert_eq!(
            counts(&set),
            [(
                "ip.src == 10.0.0.2 && ip.dst == 10.0.0.1 && udp.srcport >= 32768 && udp.dstport == 123",
                2
            )]
        );
        assert!(!set.exclusive);
    }

    /// A datagram whole in one frame and one in three IPv4 fragments, of
    /// the same flow: the checker holds the fragmented one at its last
    /// fragment, and so does the recorder.
    #[test]
    fn a_fragmented_datagram_is_counted_as_the_checker_counts_it() {
        let seed = std::fs::read("fixtures/seed-ipv4.pcap").unwrap();
        let frag = std::fs::read("fixtures/frag-ipv4.pcap").unwrap();
        let mut bytes = frag.clone();
        bytes.extend_from_slice(&seed[24..]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.pcap");
        std::fs::write(&path, bytes).unwrap();
        let set = record_then_check(&path, &RecordOptions::default());
        assert_eq!(
            counts(&set),
            [(
                "ip.src == 127.0.0.1 && ip.dst == 127.0.0.1 && udp.srcport >= 32768 && udp.dstport == 7456",
                2
            )]
        );
        // The first two fragments match no `match` (the checker holds the
        // datagram at the fragment that completes it), so `exclusive` would
        // not hold and is not written.
        assert!(!set.exclusive);
    }

    /// A frame of a recorded flow that claims more bytes than it carries
    /// holds no expectation: the recorded `match` leaves it out by number
    /// (and `exclusive`, which it would break, is not written).
    #[test]
    fn a_damaged_frame_of_a_flow_is_left_out_of_its_match() {
        let seed = std::fs::read("fixtures/seed-ipv4.pcap").unwrap();
        let mut bytes = seed.clone();
        let mut damaged = seed[24..].to_vec();
        // IPv4 total length (record header 16, Ethernet 14, then offset 2): 256.
        damaged[16 + 14 + 2..16 + 14 + 4].copy_from_slice(&256u16.to_be_bytes());
        bytes.extend_from_slice(&damaged);
        bytes.extend_from_slice(&seed[24..]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.pcap");
        std::fs::write(&path, bytes).unwrap();
        let set = record_then_check(&path, &RecordOptions::default());
        assert_eq!(
            counts(&set),
            [(
                "ip.src == 127.0.0.1 && ip.dst == 127.0.0.1 && udp.srcport >= 32768 && udp.dstport == 7456 && !(frame.number in {2})",
                2
            )]
        );
        assert!(!set.exclusive);
    }
}
