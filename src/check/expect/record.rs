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
    /// Frames claimed, the damaged ones left out.
    count: u64,
    /// Stable fields: name and value, or `None` once two frames disagreed
    /// (empty until the first frame).
    stable: Vec<(&'static str, Option<String>)>,
    /// Damaged frames the `match` covers: they hold no expectation, so the
    /// recorded `match` leaves them out by number.
    damaged: Vec<u64>,
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
/// are those of the frames the check holds them against.
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
        let damaged = view.packet.problems.iter().any(|p| !p.is_checksum());
        all_claimed &= !names.is_empty() && !damaged;
        for name in names {
            let Ok(i) = name.parse::<usize>() else {
                continue;
            };
            let g = &mut groups[i];
            if damaged {
                g.damaged.push(view.number);
                continue;
            }
            // The probe has no `where` and is not damaged: only a checksum
            // can miss the lenient policy.
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
    })?;
    // A direction whose `match` claimed only damaged frames expects nothing.
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
        let Some(matches) = recordable_flow(view, options) else {
            return;
        };
        if groups.len() <= MAX_GROUPS && !seen.contains_key(&matches) {
            seen.insert(matches.clone(), groups.len());
            groups.push(Group {
                matches,
                first: None,
                count: 0,
                stable: Vec::new(),
                damaged: Vec::new(),
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

/// The `match` predicate of the frame's flow direction, or `None` when the
/// frame is not recorded: left out by `--flow`, neither UDP nor TCP, or
/// damaged.
fn recordable_flow(view: &FrameView<'_, '_>, options: &RecordOptions) -> Option<String> {
    if let Some(only) = &options.only
        && !only.matches(view)
    {
        return None;
    }
    let packet = view.packet;
    let matches = match (&packet.transport, packet.endpoints()) {
        (Transport::Udp(_), Some((s, d))) => flow_match("udp", s, d, options.ephemeral_ports),
        (Transport::Tcp(_), Some((s, d))) => flow_match("tcp", s, d, options.ephemeral_ports),
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
            // Headroom: twice the observed gap, at least a millisecond, in whole ms.
            let ms = (gap.as_nanos() * 2).div_ceil(1_000_000).max(1);
            (Some(p), Some(Duration::from_millis(ms as u64)))
        }
        _ => (None, None),
    };
    let matches = match g.damaged.as_slice() {
        [] => g.matches.clone(),
        damaged => {
            let numbers: Vec<String> = damaged.iter().map(u64::to_string).collect();
            format!(
                "{} && !(frame.number in {{{}}})",
                g.matches,
                numbers.join(", ")
            )
        }
    };
    Ok(Expect {
        name: format!("flow-{}", i + 1),
        matches: parse(&matches)?,
        count: Bounds::exactly(g.count),
        wheres: wheres.iter().map(|w| parse(w)).collect::<Result<_>>()?,
        after,
        within,
    })
}
