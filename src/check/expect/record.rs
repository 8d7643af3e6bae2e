//! Record mode: an expectation file written from a capture, one
//! expectation per flow and direction, that the same capture passes.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::filter::Filter;
use super::{Bounds, Expect, ExpectationSet, Tolerance};
use crate::capture::CaptureReader;
use crate::check::{ChecksumPolicy, Judgement};
use crate::error::{Error, Result};
use crate::packet::decode::{Packet, Transport, decode};
use crate::packet::fields::{self, FrameView, Value};

/// What record mode writes.
#[derive(Clone, Debug, Default)]
pub struct RecordOptions {
    /// Only frames matching this predicate.
    pub only: Option<Filter>,
    /// Keep ephemeral ports (32768 and up) in the `match` predicates.
    pub ephemeral_ports: bool,
}

/// At most this many expectations are recorded (narrow with `--flow`).
const MAX_GROUPS: usize = 1000;

/// One flow direction as observed.
struct Group {
    matches: String,
    first: (u64, Duration),
    count: u64,
    /// Stable fields: name and value, or `None` once two frames disagreed.
    stable: Vec<(&'static str, Option<String>)>,
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
    port >= 32768
}

fn addr_test(a: IpAddr, side: &str) -> String {
    let layer = if a.is_ipv4() { "ip" } else { "ipv6" };
    format!("{layer}.{side} == {a}")
}

/// The `match` predicate of a flow direction.
fn flow_match(proto: &str, src: SocketAddr, dst: SocketAddr, keep: bool) -> String {
    let mut parts = vec![addr_test(src.ip(), "src"), addr_test(dst.ip(), "dst")];
    let (sp, dp) = (src.port(), dst.port());
    let keep_sp = keep || !is_ephemeral(sp);
    let keep_dp = keep || !is_ephemeral(dp);
    if keep_sp || !keep_dp {
        parts.push(format!("{proto}.srcport == {sp}"));
    }
    if keep_dp || !keep_sp {
        parts.push(format!("{proto}.dstport == {dp}"));
    }
    if parts.len() == 2 {
        parts.insert(0, proto.to_string());
    }
    parts.join(" && ")
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

/// Writes an expectation set from the capture at `path` that the capture passes.
pub fn record_file(path: &Path, options: &RecordOptions) -> Result<ExpectationSet> {
    let mut reader = CaptureReader::open(path)?;
    let mut groups: Vec<Group> = Vec::new();
    let mut tcp = fields::TcpNumbers::default();
    let mut checksums = ChecksumPolicy::Lenient;
    let mut all_claimed = true;
    let mut errors = Vec::new();
    while let Some(frame) = reader.next_frame()? {
        let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
        if !packet.quoted.is_empty() {
            errors.push(frame.number);
        }
        let mut view = FrameView::new(&frame, &packet);
        view.tcp_relative = tcp.relative(&packet);
        let Some(matches) = recordable_flow(&view, options) else {
            all_claimed = false;
            continue;
        };
        if fails_lenient_checksums(&packet) {
            checksums = ChecksumPolicy::Ignore;
        }
        let values = stable_values(&view);
        observe(
            path,
            &mut groups,
            matches,
            (frame.number, frame.timestamp),
            values,
        )?;
    }
    if groups.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: no UDP or TCP frame to record",
            path.display()
        )));
    }
    exclude_icmp_errors(path, &errors, &mut groups)?;
    let mut set = ExpectationSet::empty();
    set.checksums = checksums;
    set.tolerance = Tolerance::Percent(50);
    set.exclusive = all_claimed;
    for (i, g) in groups.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| (p, &groups[p]));
        set.expects.push(group_expect(i, g, previous)?);
    }
    Ok(set)
}

/// Adds `&& !icmp` (`!icmpv6`) to the match of a flow that an ICMP error
/// frame of the capture (frame numbers `errors`) would match too: the
/// headers it quotes are the flow's, and Wireshark's fields see them.
fn exclude_icmp_errors(path: &Path, errors: &[u64], groups: &mut [Group]) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let mut reader = CaptureReader::open(path)?;
    while let Some(frame) = reader.next_frame()? {
        if errors.binary_search(&frame.number).is_err() {
            continue;
        }
        let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
        let view = FrameView::new(&frame, &packet);
        let v6 = packet.ip.as_ref().is_some_and(|ip| ip.version == 6);
        let not = if v6 { " && !icmpv6" } else { " && !icmp" };
        for g in groups.iter_mut() {
            if Filter::parse(&g.matches).is_ok_and(|f| f.matches(&view)) {
                g.matches.push_str(not);
            }
        }
    }
    Ok(())
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

/// True when an IP or UDP checksum of the frame fails the lenient policy
/// (then the recorded set ignores checksums).
fn fails_lenient_checksums(packet: &Packet<'_>) -> bool {
    let ipv6 = packet.ip.as_ref().is_some_and(|ip| ip.version == 6);
    let ip_sum = packet.ip.as_ref().and_then(|ip| ip.header_checksum);
    let udp_sum = match &packet.transport {
        Transport::Udp(u) => Some(u.checksum),
        _ => None,
    };
    [ip_sum, udp_sum]
        .into_iter()
        .flatten()
        .any(|c| ChecksumPolicy::Lenient.judge(c.state, ipv6) == Judgement::Fail)
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

/// Counts a frame of the flow direction `matches` into its group (a new
/// one, first seen at `first`, if needed), forgetting stable values that
/// changed.
fn observe(
    path: &Path,
    groups: &mut Vec<Group>,
    matches: String,
    first: (u64, Duration),
    values: Vec<(&'static str, Option<String>)>,
) -> Result<()> {
    match groups.iter_mut().find(|g| g.matches == matches) {
        Some(g) => {
            g.count += 1;
            for (name, value) in &mut g.stable {
                let now = values
                    .iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, v)| v.clone());
                if *value != now {
                    *value = None;
                }
            }
        }
        None => {
            if groups.len() == MAX_GROUPS {
                return Err(Error::Invalid(format!(
                    "{}: more than {MAX_GROUPS} flow directions; choose some with --flow",
                    path.display()
                )));
            }
            groups.push(Group {
                matches,
                first,
                count: 1,
                stable: values,
            });
        }
    }
    Ok(())
}

/// The expectation `flow-{i+1}` for group `g`, ordered after the group
/// before it (`previous`, with its index) when there is one.
fn group_expect(i: usize, g: &Group, previous: Option<(usize, &Group)>) -> Result<Expect> {
    let wheres: Vec<String> = g
        .stable
        .iter()
        .filter_map(|(name, v)| v.as_deref().and_then(|v| stable_test(name, v)))
        .collect();
    let parse =
        |t: &str| Filter::parse(t).map_err(|e| Error::Invalid(format!("recording {t:?}: {e}")));
    let (after, within) = match previous {
        None => (None, None),
        Some((p, prev)) => {
            let gap = g.first.1.saturating_sub(prev.first.1);
            // Headroom: twice the observed gap, at least a millisecond, in whole ms.
            let ms = (gap.as_nanos() * 2).div_ceil(1_000_000).max(1);
            (Some(p), Some(Duration::from_millis(ms as u64)))
        }
    };
    Ok(Expect {
        name: format!("flow-{}", i + 1),
        matches: parse(&g.matches)?,
        count: Bounds::exactly(g.count),
        wheres: wheres.iter().map(|w| parse(w)).collect::<Result<_>>()?,
        after,
        within,
    })
}
