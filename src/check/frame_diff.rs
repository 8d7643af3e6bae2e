//! Field-by-field comparison of two Ethernet frames, with tshark's field
//! names: the synthesized frame against the one the kernel really sent.
//!
//! Some fields legitimately differ between the frame lola builds and the one
//! Linux puts on `lo`; those are named as expected differences, with the
//! reason, rather than hidden.

use std::fmt;

use crate::check::quote_bytes;
use crate::packet::decode::{Checksum, ChecksumState, Transport, decode};

/// A field's value: words, or a port or checksum that rules look into.
///
/// ```
/// use lola::check::frame_diff::Value;
/// use lola::packet::decode::{Checksum, ChecksumState};
/// let c = Value::Checksum(Checksum { value: 0xfe25, state: ChecksumState::Partial { expected: 0x4943 } });
/// assert_eq!(c.to_string(), "0xfe25 partial");
/// assert_eq!(Value::Port(7456).to_string(), "7456");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Any other field, in tshark's words.
    Text(String),
    /// A UDP or TCP port.
    Port(u16),
    /// A checksum with its state.
    Checksum(Checksum),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(t) => f.write_str(t),
            Value::Port(p) => write!(f, "{p}"),
            Value::Checksum(c) => write!(f, "0x{:04x} {}", c.value, c.state.word()),
        }
    }
}

impl Value {
    fn port(value: Option<&Value>) -> Option<u16> {
        match value {
            Some(Value::Port(p)) => Some(*p),
            _ => None,
        }
    }

    fn checksum(value: Option<&Value>) -> Option<ChecksumState> {
        match value {
            Some(Value::Checksum(c)) => Some(c.state),
            _ => None,
        }
    }
}

/// True when the value is a checksum that verifies.
fn correct(value: Option<&Value>) -> bool {
    Value::checksum(value) == Some(ChecksumState::Correct)
}

/// True when the value is a partial (offload) checksum.
fn partial(value: Option<&Value>) -> bool {
    matches!(Value::checksum(value), Some(ChecksumState::Partial { .. }))
}

/// How a field compares.
///
/// ```
/// use lola::check::frame_diff::{compare_frames, Status};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// // lola's frame for the datagram tcpdump recorded in seed-ipv4.pcap, against that frame.
/// let d = lola::Datagram::new(
///     "127.0.0.1:48801".parse().unwrap(),
///     "127.0.0.1:7456".parse().unwrap(),
///     b"Hello Lola".to_vec(),
/// );
/// let c = compare_frames(&lola::build_frame(&d).unwrap(), frame.data);
/// let status = |name: &str| c.fields.iter().find(|f| f.field == name).unwrap().status.clone();
/// assert_eq!(status("udp.dstport"), Status::Same);
/// assert!(matches!(status("ip.id"), Status::Expected(_)));
/// assert!(c.equivalent(), "{c}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase", tag = "status", content = "why")]
pub enum Status {
    /// Equal.
    Same,
    /// Different, as it should be; the reason says why.
    Expected(&'static str),
    /// Different, and it should not be.
    Different,
}

/// One field of both frames.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::check::frame_diff::{compare_frames, Status};
/// let a = lola::build_frame(&d).unwrap();
/// let mut b = a.clone();
/// b[22] = 63; // the TTL
/// let ttl = compare_frames(&a, &b).fields.into_iter().find(|f| f.field == "ip.ttl").unwrap();
/// assert_eq!((ttl.left.as_str(), ttl.right.as_str()), ("64", "63"));
/// assert_eq!(ttl.status, Status::Different);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct FieldDiff {
    /// tshark's name for the field (`ip.ttl`, `udp.srcport`).
    pub field: &'static str,
    /// Its value in the first frame (the synthesized one).
    pub left: String,
    /// Its value in the second frame (the observed one).
    pub right: String,
    /// How they compare.
    #[serde(flatten)]
    pub status: Status,
}

/// The comparison of two frames.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// let frame = lola::build_frame(&d).unwrap();
/// let c = lola::check::frame_diff::compare_frames(&frame, &frame);
/// assert_eq!(c.fields[0].field, "frame.len");
/// assert_eq!(c.fields.last().unwrap().left, r#""Hello Lola""#);
/// assert!(c.equivalent());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Comparison {
    /// Every field, in header order.
    pub fields: Vec<FieldDiff>,
}

impl Comparison {
    /// True when no field differs unexpectedly.
    ///
    /// ```
    /// # let d = lola::Datagram::new(
    /// #     "127.0.0.1:40000".parse().unwrap(),
    /// #     "127.0.0.1:7456".parse().unwrap(),
    /// #     b"Hello Lola".to_vec(),
    /// # );
    /// use lola::check::frame_diff::compare_frames;
    /// let a = lola::build_frame(&d).unwrap();
    /// let mut b = a.clone();
    /// b[35] ^= 1; // source port 40000 → 40001
    /// assert!(compare_frames(&a, &a).equivalent());
    /// assert!(!compare_frames(&a, &b).equivalent());
    /// ```
    pub fn equivalent(&self) -> bool {
        self.fields.iter().all(|f| f.status != Status::Different)
    }

    /// The fields that differ unexpectedly.
    ///
    /// ```
    /// # let d = lola::Datagram::new(
    /// #     "127.0.0.1:40000".parse().unwrap(),
    /// #     "127.0.0.1:7456".parse().unwrap(),
    /// #     b"Hello Lola".to_vec(),
    /// # );
    /// let a = lola::build_frame(&d).unwrap();
    /// let mut b = a.clone();
    /// b[22] = 63; // the TTL, which also spoils the IPv4 header checksum
    /// let c = lola::check::frame_diff::compare_frames(&a, &b);
    /// let names: Vec<&str> = c.unexpected().map(|f| f.field).collect();
    /// assert_eq!(names, ["ip.ttl", "ip.checksum"]);
    /// ```
    pub fn unexpected(&self) -> impl Iterator<Item = &FieldDiff> {
        self.fields.iter().filter(|f| f.status == Status::Different)
    }
}

const WHY_ID: &str =
    "Linux picks the IPv4 identification from a hashed per-destination counter; lola writes 0";
const WHY_IP_CHECKSUM: &str = "follows from ip.id; both are good";
const WHY_UDP_CHECKSUM: &str = "Linux leaves the UDP checksum partial on lo (pseudo-header only, checksum offload); lola writes it whole";
const WHY_FLOW: &str = "Linux sets a hashed flow label (net.ipv6.auto_flowlabels); lola writes 0";

/// The fields comparisons look at, in header order, with tshark's names;
/// checksums carry their state (`0x3cc5 correct`). Timestamps are not fields:
/// they always differ.
///
/// ```
/// use lola::{build_frame, Datagram};
/// let d = Datagram::new("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:7456".parse().unwrap(), b"Hi".to_vec());
/// let fields = lola::check::frame_diff::frame_fields(1, &build_frame(&d).unwrap());
/// assert!(fields.contains(&("udp.dstport", lola::check::frame_diff::Value::Port(7456))));
/// ```
pub fn frame_fields(link_type: u32, frame: &[u8]) -> Vec<(&'static str, Value)> {
    let p = decode(link_type, frame, frame.len());
    let mut f = Fields(Vec::new());
    f.push_text(("frame.len", frame.len().to_string()));
    if let Some(link) = &p.link {
        let mac = |m: [u8; 6]| {
            m.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        };
        if let (Some(d), Some(s)) = (link.dst_mac, link.src_mac) {
            f.push_text(("eth.dst", mac(d)));
            f.push_text(("eth.src", mac(s)));
        }
        if let Some(t) = link.ether_type {
            f.push_text(("eth.type", format!("0x{t:04x}")));
        }
        if !link.vlans.is_empty() {
            f.push_text(("vlan.id", format!("{:?}", link.vlans)));
        }
    }
    if let Some(ip) = &p.ip {
        f.push_text(("ip.version", ip.version.to_string()));
        if ip.version == 6 {
            f.push_text(("ipv6.tclass", format!("0x{:02x}", ip.tos)));
            f.push_text((
                "ipv6.flow",
                flow_label(frame, p.link.as_ref().map_or(0, |l| l.header_len)),
            ));
            f.push_text(("ipv6.plen", ip.total_len.saturating_sub(40).to_string()));
            f.push_text(("ipv6.nxt", ip.next_header.to_string()));
            f.push_text(("ipv6.hlim", ip.ttl.to_string()));
            f.push_text(("ipv6.src", ip.src.to_string()));
            f.push_text(("ipv6.dst", ip.dst.to_string()));
        } else {
            f.push_text(("ip.hdr_len", ip.header_len.to_string()));
            f.push_text(("ip.dsfield", format!("0x{:02x}", ip.tos)));
            f.push_text(("ip.len", ip.total_len.to_string()));
            f.push_text((
                "ip.id",
                ip.identification
                    .map(|v| format!("0x{v:04x}"))
                    .unwrap_or_default(),
            ));
            f.push_text((
                "ip.flags",
                if ip.dont_fragment { "DF" } else { "-" }.to_string(),
            ));
            f.push_text(("ip.ttl", ip.ttl.to_string()));
            f.push_text(("ip.proto", ip.protocol.to_string()));
            match ip.header_checksum {
                Some(c) => f.0.push(("ip.checksum", Value::Checksum(c))),
                None => f.push_text(("ip.checksum", String::new())),
            }
            f.push_text(("ip.src", ip.src.to_string()));
            f.push_text(("ip.dst", ip.dst.to_string()));
        }
    }
    match &p.transport {
        Transport::Udp(u) => {
            f.0.push(("udp.srcport", Value::Port(u.src_port)));
            f.0.push(("udp.dstport", Value::Port(u.dst_port)));
            f.push_text(("udp.length", u.length.to_string()));
            f.0.push(("udp.checksum", Value::Checksum(u.checksum)));
            f.push_text(("data", quote_bytes(u.payload)));
        }
        Transport::Tcp(t) => {
            f.0.push(("tcp.srcport", Value::Port(t.src_port)));
            f.0.push(("tcp.dstport", Value::Port(t.dst_port)));
            f.push_text(("tcp.flags", t.flags.to_string()));
            f.push_text(("tcp.len", t.payload_len.to_string()));
        }
        Transport::Icmp(i) => {
            f.push_text(("icmp.type", i.icmp_type.to_string()));
            f.push_text(("icmp.code", i.code.to_string()));
        }
        t => f.push_text(("transport", describe(t))),
    }
    f.0
}

/// Field values being collected.
struct Fields(Vec<(&'static str, Value)>);

impl Fields {
    fn push_text(&mut self, (name, text): (&'static str, String)) {
        self.0.push((name, Value::Text(text)));
    }
}

/// Both sides of one field (`None` where a frame lacks it).
type Pair = (&'static str, Option<Value>, Option<Value>);

/// Pairs two field lists by name, in the order of the first (fields only one
/// side has come last, with an empty value on the other side).
fn pair_fields(left: Vec<(&'static str, Value)>, right: Vec<(&'static str, Value)>) -> Vec<Pair> {
    let mut out: Vec<Pair> = Vec::new();
    for (name, value) in &left {
        let other = right
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone());
        out.push((name, Some(value.clone()), other));
    }
    for (name, value) in right {
        if !left.iter().any(|(n, _)| *n == name) {
            out.push((name, None, Some(value)));
        }
    }
    out
}

/// Fields are the same when their words are; `expected` says why a
/// difference is allowed, looking at the typed values.
fn classify(
    pairs: Vec<Pair>,
    expected: impl Fn(&str, Option<&Value>, Option<&Value>) -> Option<&'static str>,
) -> Comparison {
    let words = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    let fields = pairs
        .into_iter()
        .map(|(field, l, r)| {
            let (left, right) = (words(&l), words(&r));
            let status = if left == right {
                Status::Same
            } else if let Some(why) = expected(field, l.as_ref(), r.as_ref()) {
                Status::Expected(why)
            } else {
                Status::Different
            };
            FieldDiff {
                field,
                left,
                right,
                status,
            }
        })
        .collect();
    Comparison { fields }
}

/// Compares `left` (synthesized) and `right` (observed), both Ethernet frames.
///
/// ```
/// use lola::{build_frame, Datagram};
/// let d = Datagram::new("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:7456".parse().unwrap(), b"Hello Lola".to_vec());
/// let a = build_frame(&d).unwrap();
/// let mut b = a.clone();
/// b[18] = 0x12; // the IPv4 identification Linux would pick...
/// b[24] = 0; b[25] = 0; // ...and a header checksum that no longer verifies
/// let c = lola::check::frame_diff::compare_frames(&a, &b);
/// assert!(!c.equivalent(), "a bad ip.checksum is not an expected difference");
/// ```
pub fn compare_frames(left: &[u8], right: &[u8]) -> Comparison {
    let eth = crate::capture::LINKTYPE_ETHERNET;
    let pairs = pair_fields(frame_fields(eth, left), frame_fields(eth, right));
    classify(pairs, |field, l, r| match field {
        "ip.id" => Some(WHY_ID),
        "ip.checksum" if correct(l) && correct(r) => Some(WHY_IP_CHECKSUM),
        "udp.checksum" if correct(l) && partial(r) => Some(WHY_UDP_CHECKSUM),
        "ipv6.flow" => Some(WHY_FLOW),
        _ => None,
    })
}

const WHY_FRAGMENTED: &str = "the kernel fragmented the datagram on lo, and fragments never carry DF; compared after reassembly";

/// Like [`compare_frames`], for an observed datagram that crossed `lo` in
/// IP fragments: `right` is one frame rebuilt from them (see
/// [`crate::harness::DatagramWatch`]). The DF flag, which fragments never
/// carry, may differ too.
///
/// ```
/// use lola::{build_frame, Datagram};
/// let d = Datagram::new("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:7456".parse().unwrap(), vec![b'x'; 3000]);
/// let a = build_frame(&d).unwrap();
/// let mut b = a.clone();
/// b[20] = 0; // DF clear, as in a reassembled datagram...
/// let header = etherparse::Ipv4HeaderSlice::from_slice(&b[14..34]).unwrap().to_header();
/// b[24..26].copy_from_slice(&header.calc_header_checksum().to_be_bytes()); // ...its checksum recomputed
/// assert!(!lola::check::frame_diff::compare_frames(&a, &b).equivalent());
/// assert!(lola::check::frame_diff::compare_reassembled(&a, &b).equivalent());
/// ```
pub fn compare_reassembled(left: &[u8], right: &[u8]) -> Comparison {
    let eth = crate::capture::LINKTYPE_ETHERNET;
    let pairs = pair_fields(frame_fields(eth, left), frame_fields(eth, right));
    classify(pairs, |field, l, r| match field {
        "ip.id" => Some(WHY_ID),
        "ip.flags" => Some(WHY_FRAGMENTED),
        "ip.checksum" if correct(l) && correct(r) => Some(WHY_IP_CHECKSUM),
        "udp.checksum" if correct(l) && partial(r) => Some(WHY_UDP_CHECKSUM),
        "ipv6.flow" => Some(WHY_FLOW),
        _ => None,
    })
}

/// The field names `lola diff` compares that the field registry spells
/// differently or does not hold (the diff's own rows).
pub const DIFF_ONLY: &[&str] = &["data", "transport", "vlan.id", "ip.flags", "tcp.flags"];

/// True when `name` is a field `lola diff` can ignore: one of the registry
/// or a row of its own.
pub fn is_diff_field(name: &str) -> bool {
    crate::packet::fields::lookup(name).is_some() || DIFF_ONLY.contains(&name)
}

/// What `lola diff` lets differ between a golden capture and a new one.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::check::frame_diff::{diff_frames, DiffRules};
/// let golden = lola::build_frame(&d).unwrap();
/// let mut new = golden.clone();
/// new[22] = 63; // TTL 63, and so a stale header checksum
/// let same = |rules: &DiffRules| diff_frames(rules, (1, &golden), (1, &new), [None, None]).equivalent();
/// assert!(!same(&DiffRules::default()));
/// let ignore = vec!["ip.ttl".to_string(), "ip.checksum".to_string()];
/// assert!(same(&DiffRules { ignore, ..DiffRules::default() }));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffRules {
    /// Compare every field (except timestamps).
    pub exact: bool,
    /// More fields to leave out (tshark names).
    pub ignore: Vec<String>,
    /// The server's port varies too (a run with `--port 0`).
    pub ephemeral_server: bool,
}

const WHY_EPHEMERAL: &str = "the client's ephemeral port varies between runs";
const WHY_RUN_ID: &str = "the IPv4 identification varies between runs";
const WHY_RUN_UDP_CHECKSUM: &str = "good or partial (offload) on both sides";
const WHY_RUN_FLOW: &str = "the IPv6 flow label varies between runs";
const WHY_IGNORED: &str = "ignored (--ignore)";
const WHY_SERVER: &str = "the server's port is ephemeral (--port 0)";

/// Compares two frames of two captures for `lola diff`: the same fields as
/// the live comparison, with what legitimately varies between runs allowed
/// to vary. `first` holds, for each file, the source and destination ports
/// of its first frame: the client's port (ephemeral) and the server's.
///
/// ```
/// use lola::check::frame_diff::{diff_frames, DiffRules};
/// use lola::{build_frame, Datagram};
/// let from = |port: u16| {
///     let d = Datagram::new(([127, 0, 0, 1], port).into(), ([127, 0, 0, 1], 7456).into(), b"Hi".to_vec());
///     build_frame(&d).unwrap()
/// };
/// let (golden, new) = (from(40000), from(51000));
/// // The first frames' ports say 40000 and 51000 are the client's ephemeral ports.
/// let first = [Some((40000, 7456)), Some((51000, 7456))];
/// assert!(diff_frames(&DiffRules::default(), (1, &golden), (1, &new), first).equivalent());
/// let exact = DiffRules { exact: true, ..DiffRules::default() };
/// assert!(!diff_frames(&exact, (1, &golden), (1, &new), first).equivalent());
/// ```
pub fn diff_frames(
    rules: &DiffRules,
    (left_link, left): (u32, &[u8]),
    (right_link, right): (u32, &[u8]),
    first: [Option<(u16, u16)>; 2],
) -> Comparison {
    let is =
        |port: Option<u16>, value: Option<&Value>| port.is_some() && port == Value::port(value);
    let client = |l: Option<&Value>, r: Option<&Value>| {
        is(first[0].map(|p| p.0), l) && is(first[1].map(|p| p.0), r)
    };
    let server = |l: Option<&Value>, r: Option<&Value>| {
        is(first[0].map(|p| p.1), l) && is(first[1].map(|p| p.1), r)
    };
    let pairs = pair_fields(
        frame_fields(left_link, left),
        frame_fields(right_link, right),
    );
    classify(pairs, |field, l, r| {
        if rules.ignore.iter().any(|i| i == field) {
            return Some(WHY_IGNORED);
        }
        if rules.exact {
            return None;
        }
        let ok = |v| correct(v) || partial(v);
        match field {
            "ip.id" => Some(WHY_RUN_ID),
            "ip.checksum" if correct(l) && correct(r) => Some(WHY_IP_CHECKSUM),
            "udp.checksum" if ok(l) && ok(r) => Some(WHY_RUN_UDP_CHECKSUM),
            "ipv6.flow" => Some(WHY_RUN_FLOW),
            "udp.srcport" | "udp.dstport" | "tcp.srcport" | "tcp.dstport" if client(l, r) => {
                Some(WHY_EPHEMERAL)
            }
            "udp.srcport" | "udp.dstport" | "tcp.srcport" | "tcp.dstport"
                if rules.ephemeral_server && server(l, r) =>
            {
                Some(WHY_SERVER)
            }
            _ => None,
        }
    })
}

fn flow_label(frame: &[u8], ip_offset: usize) -> String {
    match frame.get(ip_offset..ip_offset + 4) {
        Some(b) => format!("0x{:05x}", u32::from_be_bytes([0, b[1] & 0x0f, b[2], b[3]])),
        None => String::new(),
    }
}

fn describe(t: &Transport<'_>) -> String {
    match t {
        Transport::Udp(_) => "UDP".into(),
        Transport::Tcp(_) => "TCP".into(),
        Transport::Icmp(_) => "ICMP".into(),
        Transport::Fragment(_) => "fragment".into(),
        Transport::Other => "other".into(),
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w0 = self
            .fields
            .iter()
            .map(|x| x.field.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let w1 = self
            .fields
            .iter()
            .map(|x| x.left.chars().count())
            .max()
            .unwrap_or(11)
            .max(11);
        let w2 = self
            .fields
            .iter()
            .map(|x| x.right.chars().count())
            .max()
            .unwrap_or(8)
            .max(8);
        writeln!(
            f,
            "  {:w0$}  {:w1$}  {:w2$}",
            "field", "synthesized", "observed"
        )?;
        for x in &self.fields {
            let status = match &x.status {
                Status::Same => "same".to_string(),
                Status::Expected(why) => format!("expected: {why}"),
                Status::Different => "DIFFERENT".to_string(),
            };
            let (left, right) = (pad(&x.left, w1), pad(&x.right, w2));
            writeln!(f, "  {:w0$}  {left}  {right}  {status}", x.field)?;
        }
        Ok(())
    }
}

/// Pads by characters, not bytes (quoted payloads may hold `…`).
fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Datagram, build_frame};

    fn frame() -> Vec<u8> {
        build_frame(&Datagram::new(
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:7456".parse().unwrap(),
            b"Hello Lola".to_vec(),
        ))
        .unwrap()
    }

    /// Frame 1 of fixtures/seed-ipv4.pcap (tcpdump -i lo), source port 48801.
    const TCPDUMP: [u8; 52] = [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, 0x45, 0x00, 0x00, 0x26, 0x46, 0xce, 0x40,
        0x00, 0x40, 0x11, 0xf5, 0xf6, 0x7f, 0, 0, 1, 0x7f, 0, 0, 1, 0xbe, 0xa1, 0x1d, 0x20, 0x00,
        0x12, 0xfe, 0x25, b'H', b'e', b'l', b'l', b'o', b' ', b'L', b'o', b'l', b'a',
    ];

    #[test]
    fn linux_frame_differs_only_where_expected() {
        let synthesized = build_frame(&Datagram::new(
            "127.0.0.1:48801".parse().unwrap(),
            "127.0.0.1:7456".parse().unwrap(),
            b"Hello Lola".to_vec(),
        ))
        .unwrap();
        let c = compare_frames(&synthesized, &TCPDUMP);
        assert!(c.equivalent(), "{c}");
        let expected: Vec<_> = c
            .fields
            .iter()
            .filter(|f| matches!(f.status, Status::Expected(_)))
            .map(|f| f.field)
            .collect();
        assert_eq!(expected, ["ip.id", "ip.checksum", "udp.checksum"]);
    }

    #[test]
    fn a_different_port_or_ttl_is_unexpected() {
        let c = compare_frames(&frame(), &TCPDUMP);
        let bad: Vec<_> = c.unexpected().map(|f| f.field).collect();
        assert_eq!(bad, ["udp.srcport"]);
        let mut ttl = frame();
        ttl[22] = 63;
        let c = compare_frames(&frame(), &ttl);
        assert!(c.unexpected().any(|f| f.field == "ip.ttl"), "{c}");
    }
}
