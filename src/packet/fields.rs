//! The field registry: every packet field lola can name, under Wireshark's
//! field name, with its type and how to read it from a decoded frame.
//!
//! The names are lola's contract. Expectation-file predicates
//! ([`crate::check::expect`]), record mode and the NDJSON rows
//! ([`crate::report::emit`]) all read fields through this one table, and a test
//! compares every field marked [`Field::tshark`] with `tshark -T fields -e
//! NAME` on the fixtures, so the names mean what they mean in Wireshark.
//!
//! ```
//! use lola::packet::fields::{self, FrameView, Value};
//! let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
//! let frame = reader.next_frame().unwrap().unwrap();
//! let packet = lola::packet::decode::decode(frame.link_type, frame.data, frame.orig_len as usize);
//! let view = FrameView::new(&frame, &packet);
//! let ttl = fields::lookup("ip.ttl").unwrap();
//! assert_eq!(ttl.get(&view, 0), Some(Value::Uint(64)));
//! let port = fields::lookup("udp.port").unwrap(); // either port: two values
//! assert_eq!(port.get(&view, 1), Some(Value::Uint(7456)));
//! assert!(fields::lookup("udp.nonsense").is_none());
//! ```

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::capture::RawFrame;
use crate::packet::decode::{ChecksumState, Packet, Transport};

/// The type of a field's values, which decides the literals and operators
/// a predicate may use on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// An unsigned integer: `== != < <= > >=`, `in {…}`.
    Uint,
    /// A flag, 0 or 1: `== !=`.
    Bool,
    /// An IPv4 or IPv6 address: `== !=` against an address or CIDR block, `in {…}`.
    Addr,
    /// An Ethernet address: `== !=`.
    Mac,
    /// Bytes: `== !=` against hex bytes (`48:65:6c`) or a string, `contains`.
    Bytes,
    /// Text: `== !=` against a string, `contains`.
    Text,
    /// A checksum status: `"good"`, `"bad"`, `"partial"`, `"absent"` or `"unverified"`.
    Status,
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldType::Uint => "an unsigned integer",
            FieldType::Bool => "a flag (0 or 1)",
            FieldType::Addr => "an IP address",
            FieldType::Mac => "an Ethernet address",
            FieldType::Bytes => "bytes",
            FieldType::Text => "text",
            FieldType::Status => "a checksum status",
        })
    }
}

/// One value of a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// An unsigned integer.
    Uint(u64),
    /// A flag.
    Bool(bool),
    /// An address.
    Addr(IpAddr),
    /// An Ethernet address.
    Mac([u8; 6]),
    /// Bytes.
    Bytes(&'a [u8]),
    /// Text.
    Text(Cow<'a, str>),
    /// A checksum status word.
    Status(&'static str),
}

impl Value<'_> {
    /// As a JSON value: numbers, booleans, strings; bytes as lowercase hex.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Uint(n) => (*n).into(),
            Value::Bool(b) => (*b).into(),
            Value::Addr(a) => a.to_string().into(),
            Value::Mac(m) => mac(m).into(),
            Value::Bytes(b) => hex(b).into(),
            Value::Text(t) => t.to_string().into(),
            Value::Status(s) => (*s).into(),
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Uint(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{}", u8::from(*b)),
            Value::Addr(a) => write!(f, "{a}"),
            Value::Mac(m) => f.write_str(&mac(m)),
            Value::Bytes(b) => f.write_str(&crate::packet::summary::quote_bytes(b)),
            Value::Text(t) => write!(f, "{t:?}"),
            Value::Status(s) => write!(f, "{s:?}"),
        }
    }
}

fn mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// A frame as the fields see it: its record and its decoded packet, plus
/// the TCP sequence numbers relative to each direction's first one, which
/// only a reader of the whole capture can know.
pub struct FrameView<'p, 'a> {
    /// 1-based frame number.
    pub number: u64,
    /// Time since the Unix epoch.
    pub time: Duration,
    /// LINKTYPE_ of the frame's interface.
    pub link_type: u32,
    /// Length on the wire.
    pub orig_len: u32,
    /// Bytes captured.
    pub cap_len: usize,
    /// The decoded frame.
    pub packet: &'p Packet<'a>,
    /// `tcp.seq` and `tcp.ack` relative to the initial sequence numbers.
    pub tcp_relative: Option<(u32, u32)>,
}

impl<'p, 'a> FrameView<'p, 'a> {
    /// The view of `frame`, decoded as `packet` (no relative TCP numbers).
    pub fn new(frame: &RawFrame<'_>, packet: &'p Packet<'a>) -> FrameView<'p, 'a> {
        FrameView {
            number: frame.number,
            time: frame.timestamp,
            link_type: frame.link_type,
            orig_len: frame.orig_len,
            cap_len: frame.data.len(),
            packet,
            tcp_relative: None,
        }
    }
}

/// How a field's value is written by `tshark -T fields`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// Decimal (or the address, or `1`/`0`).
    Plain,
    /// `0x` and this many hex digits.
    Hex(usize),
    /// Bytes as hex without separators.
    HexBytes,
}

/// Which field (the extractor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Id {
    FrameNumber,
    FrameLen,
    FrameCapLen,
    EthSrc,
    EthDst,
    EthAddr,
    EthType,
    VlanId,
    IpVersion,
    IpHdrLen,
    IpDsfield,
    IpLen,
    IpId,
    IpFlagsDf,
    IpFlagsMf,
    IpFragOffset,
    IpTtl,
    IpProto,
    IpChecksum,
    IpChecksumStatus,
    IpSrc,
    IpDst,
    IpAddr,
    Ipv6Hlim,
    Ipv6Nxt,
    Ipv6Src,
    Ipv6Dst,
    Ipv6Addr,
    Udp,
    UdpSrcport,
    UdpDstport,
    UdpPort,
    UdpLength,
    UdpChecksum,
    UdpChecksumStatus,
    Tcp,
    TcpSrcport,
    TcpDstport,
    TcpPort,
    TcpSeq,
    TcpAck,
    TcpSeqRaw,
    TcpAckRaw,
    TcpLen,
    TcpFlags,
    TcpFlagsFin,
    TcpFlagsSyn,
    TcpFlagsReset,
    TcpFlagsPush,
    TcpFlagsAck,
    TcpFlagsUrg,
    IcmpType,
    IcmpCode,
    Icmpv6Type,
    Icmpv6Code,
    DataData,
    DataLen,
    DataText,
}

/// One field of the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// Wireshark's name for it (`data.text` and the `.status` words are lola's).
    pub name: &'static str,
    /// The type of its values.
    pub ty: FieldType,
    /// Which extractor reads it.
    pub id: Id,
    /// How tshark prints it.
    pub display: Display,
    /// True when tshark knows the field with the same values (the agreement
    /// test compares these); false for lola's extensions.
    pub tshark: bool,
    /// One line for the README's field reference.
    pub about: &'static str,
}

macro_rules! field {
    ($name:literal, $ty:ident, $id:ident, $display:expr, $tshark:literal, $about:literal) => {
        Field {
            name: $name,
            ty: FieldType::$ty,
            id: Id::$id,
            display: $display,
            tshark: $tshark,
            about: $about,
        }
    };
}

use Display::{Hex, HexBytes, Plain};

/// Every field lola supports, in the order of the README's reference table.
pub const FIELDS: &[Field] = &[
    field!(
        "frame.number",
        Uint,
        FrameNumber,
        Plain,
        true,
        "1-based frame number"
    ),
    field!(
        "frame.len",
        Uint,
        FrameLen,
        Plain,
        true,
        "length on the wire"
    ),
    field!(
        "frame.cap_len",
        Uint,
        FrameCapLen,
        Plain,
        true,
        "bytes captured"
    ),
    field!("eth.src", Mac, EthSrc, Plain, true, "Ethernet source"),
    field!("eth.dst", Mac, EthDst, Plain, true, "Ethernet destination"),
    field!(
        "eth.addr",
        Mac,
        EthAddr,
        Plain,
        true,
        "either Ethernet address"
    ),
    field!(
        "eth.type",
        Uint,
        EthType,
        Hex(4),
        true,
        "EtherType of an untagged Ethernet II frame (absent on VLAN-tagged and 802.3 ones)"
    ),
    field!(
        "vlan.id",
        Uint,
        VlanId,
        Plain,
        true,
        "802.1Q VLAN ID (the inner, customer tag of QinQ)"
    ),
    field!(
        "ip.version",
        Uint,
        IpVersion,
        Plain,
        true,
        "IP version (4 or 6)"
    ),
    field!(
        "ip.hdr_len",
        Uint,
        IpHdrLen,
        Plain,
        true,
        "IPv4 header length in bytes"
    ),
    field!(
        "ip.dsfield",
        Uint,
        IpDsfield,
        Hex(2),
        true,
        "IPv4 DS field (DSCP and ECN)"
    ),
    field!("ip.len", Uint, IpLen, Plain, true, "IPv4 total length"),
    field!("ip.id", Uint, IpId, Hex(4), true, "IPv4 identification"),
    field!(
        "ip.flags.df",
        Bool,
        IpFlagsDf,
        Plain,
        true,
        "IPv4 don't fragment"
    ),
    field!(
        "ip.flags.mf",
        Bool,
        IpFlagsMf,
        Plain,
        true,
        "IPv4 more fragments"
    ),
    field!(
        "ip.frag_offset",
        Uint,
        IpFragOffset,
        Plain,
        true,
        "IPv4 fragment offset in bytes"
    ),
    field!("ip.ttl", Uint, IpTtl, Plain, true, "IPv4 time to live"),
    field!("ip.proto", Uint, IpProto, Plain, true, "IPv4 protocol"),
    field!(
        "ip.checksum",
        Uint,
        IpChecksum,
        Hex(4),
        true,
        "IPv4 header checksum"
    ),
    field!(
        "ip.checksum.status",
        Status,
        IpChecksumStatus,
        Plain,
        false,
        "lola's verdict on ip.checksum"
    ),
    field!("ip.src", Addr, IpSrc, Plain, true, "IPv4 source"),
    field!("ip.dst", Addr, IpDst, Plain, true, "IPv4 destination"),
    field!("ip.addr", Addr, IpAddr, Plain, true, "either IPv4 address"),
    field!("ipv6.hlim", Uint, Ipv6Hlim, Plain, true, "IPv6 hop limit"),
    field!("ipv6.nxt", Uint, Ipv6Nxt, Plain, true, "IPv6 next header"),
    field!("ipv6.src", Addr, Ipv6Src, Plain, true, "IPv6 source"),
    field!("ipv6.dst", Addr, Ipv6Dst, Plain, true, "IPv6 destination"),
    field!(
        "ipv6.addr",
        Addr,
        Ipv6Addr,
        Plain,
        true,
        "either IPv6 address"
    ),
    field!(
        "udp",
        Bool,
        Udp,
        Plain,
        false,
        "present on UDP datagrams (use as `udp`)"
    ),
    field!(
        "udp.srcport",
        Uint,
        UdpSrcport,
        Plain,
        true,
        "UDP source port"
    ),
    field!(
        "udp.dstport",
        Uint,
        UdpDstport,
        Plain,
        true,
        "UDP destination port"
    ),
    field!("udp.port", Uint, UdpPort, Plain, true, "either UDP port"),
    field!(
        "udp.length",
        Uint,
        UdpLength,
        Plain,
        true,
        "UDP length (header and payload)"
    ),
    field!(
        "udp.checksum",
        Uint,
        UdpChecksum,
        Hex(4),
        true,
        "UDP checksum"
    ),
    field!(
        "udp.checksum.status",
        Status,
        UdpChecksumStatus,
        Plain,
        false,
        "lola's verdict on udp.checksum"
    ),
    field!(
        "tcp",
        Bool,
        Tcp,
        Plain,
        false,
        "present on TCP segments (use as `tcp`)"
    ),
    field!(
        "tcp.srcport",
        Uint,
        TcpSrcport,
        Plain,
        true,
        "TCP source port"
    ),
    field!(
        "tcp.dstport",
        Uint,
        TcpDstport,
        Plain,
        true,
        "TCP destination port"
    ),
    field!("tcp.port", Uint, TcpPort, Plain, true, "either TCP port"),
    field!(
        "tcp.seq",
        Uint,
        TcpSeq,
        Plain,
        true,
        "sequence number relative to the direction's first"
    ),
    field!(
        "tcp.ack",
        Uint,
        TcpAck,
        Plain,
        true,
        "acknowledgement number, relative"
    ),
    field!(
        "tcp.seq_raw",
        Uint,
        TcpSeqRaw,
        Plain,
        true,
        "sequence number as sent"
    ),
    field!(
        "tcp.ack_raw",
        Uint,
        TcpAckRaw,
        Plain,
        true,
        "acknowledgement number as sent"
    ),
    field!("tcp.len", Uint, TcpLen, Plain, true, "bytes of TCP payload"),
    field!("tcp.flags", Uint, TcpFlags, Hex(4), true, "all TCP flags"),
    field!("tcp.flags.fin", Bool, TcpFlagsFin, Plain, true, "FIN"),
    field!("tcp.flags.syn", Bool, TcpFlagsSyn, Plain, true, "SYN"),
    field!("tcp.flags.reset", Bool, TcpFlagsReset, Plain, true, "RST"),
    field!("tcp.flags.push", Bool, TcpFlagsPush, Plain, true, "PSH"),
    field!("tcp.flags.ack", Bool, TcpFlagsAck, Plain, true, "ACK"),
    field!("tcp.flags.urg", Bool, TcpFlagsUrg, Plain, true, "URG"),
    field!("icmp.type", Uint, IcmpType, Plain, true, "ICMP type"),
    field!("icmp.code", Uint, IcmpCode, Plain, true, "ICMP code"),
    field!("icmpv6.type", Uint, Icmpv6Type, Plain, true, "ICMPv6 type"),
    field!("icmpv6.code", Uint, Icmpv6Code, Plain, true, "ICMPv6 code"),
    field!(
        "data.data",
        Bytes,
        DataData,
        HexBytes,
        true,
        "UDP payload bytes (absent when empty; not yet for TCP)"
    ),
    field!(
        "data.len",
        Uint,
        DataLen,
        Plain,
        true,
        "payload length (absent when empty)"
    ),
    field!(
        "data.text",
        Text,
        DataText,
        Plain,
        false,
        "payload as text (invalid UTF-8 replaced)"
    ),
];

/// The field named `name`.
pub fn lookup(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.name == name)
}

impl Field {
    /// True when the value needs the checksums verified (a full decode).
    pub fn needs_verify(&self) -> bool {
        matches!(self.id, Id::IpChecksumStatus | Id::UdpChecksumStatus)
    }

    /// True when the value needs the relative TCP numbers.
    pub fn needs_tcp_state(&self) -> bool {
        matches!(self.id, Id::TcpSeq | Id::TcpAck)
    }

    /// Value `i` of the field in the frame (most fields have one value, at
    /// 0; `*.addr` and `*.port` have the source at 0 and destination at 1).
    pub fn get<'a>(&self, v: &FrameView<'_, 'a>, i: usize) -> Option<Value<'a>> {
        get(self.id, v, i)
    }

    /// The field's values in the frame, as tshark prints them (comma-separated).
    pub fn tshark_text(&self, v: &FrameView<'_, '_>) -> String {
        let mut out = Vec::new();
        for i in 0..8 {
            let Some(value) = self.get(v, i) else { break };
            out.push(match (self.display, value) {
                (Hex(w), Value::Uint(n)) => format!("0x{n:0w$x}"),
                (HexBytes, Value::Bytes(b)) => hex(b),
                (_, Value::Bool(b)) => u8::from(b).to_string(),
                (_, Value::Mac(m)) => mac(&m),
                (_, Value::Text(t)) => t.into_owned(),
                (_, value) => value.to_string(),
            });
        }
        out.join(",")
    }
}

fn one<T>(i: usize, x: Option<T>) -> Option<T> {
    if i == 0 { x } else { None }
}

fn status(state: ChecksumState) -> &'static str {
    match state {
        ChecksumState::Correct => "good",
        ChecksumState::Bad { .. } => "bad",
        ChecksumState::Partial { .. } => "partial",
        ChecksumState::Absent => "absent",
        ChecksumState::Unverified => "unverified",
    }
}

fn get<'a>(id: Id, v: &FrameView<'_, 'a>, i: usize) -> Option<Value<'a>> {
    let p = v.packet;
    match id {
        Id::FrameNumber | Id::FrameLen | Id::FrameCapLen => frame_field(id, v, i),
        Id::EthSrc | Id::EthDst | Id::EthAddr | Id::EthType | Id::VlanId => link_field(id, p, i),
        Id::IpVersion
        | Id::IpHdrLen
        | Id::IpDsfield
        | Id::IpLen
        | Id::IpId
        | Id::IpFlagsDf
        | Id::IpFlagsMf
        | Id::IpFragOffset
        | Id::IpTtl
        | Id::IpProto
        | Id::IpChecksum
        | Id::IpChecksumStatus
        | Id::IpSrc
        | Id::IpDst
        | Id::IpAddr => ipv4_field(id, p, i),
        Id::Ipv6Hlim | Id::Ipv6Nxt | Id::Ipv6Src | Id::Ipv6Dst | Id::Ipv6Addr => {
            ipv6_field(id, p, i)
        }
        Id::Udp
        | Id::UdpSrcport
        | Id::UdpDstport
        | Id::UdpPort
        | Id::UdpLength
        | Id::UdpChecksum
        | Id::UdpChecksumStatus => udp_field(id, p, i),
        Id::Tcp
        | Id::TcpSrcport
        | Id::TcpDstport
        | Id::TcpPort
        | Id::TcpSeq
        | Id::TcpAck
        | Id::TcpSeqRaw
        | Id::TcpAckRaw
        | Id::TcpLen
        | Id::TcpFlags
        | Id::TcpFlagsFin
        | Id::TcpFlagsSyn
        | Id::TcpFlagsReset
        | Id::TcpFlagsPush
        | Id::TcpFlagsAck
        | Id::TcpFlagsUrg => tcp_field(id, v, i),
        Id::IcmpType | Id::IcmpCode | Id::Icmpv6Type | Id::Icmpv6Code => icmp_field(id, p, i),
        Id::DataData | Id::DataLen | Id::DataText => data_field(id, p, i),
    }
}

/// Value `i` of a two-valued field (`*.addr`, `*.port`): `a` at 0, `b` at 1.
fn pair<T>(i: usize, a: Option<T>, b: Option<T>) -> Option<T> {
    match i {
        0 => a,
        1 => b,
        _ => None,
    }
}

/// The `frame.*` fields.
fn frame_field<'a>(id: Id, v: &FrameView<'_, 'a>, i: usize) -> Option<Value<'a>> {
    use Value::Uint;
    match id {
        Id::FrameNumber => one(i, Some(Uint(v.number))),
        Id::FrameLen => one(i, Some(Uint(u64::from(v.orig_len)))),
        Id::FrameCapLen => one(i, Some(Uint(v.cap_len as u64))),
        _ => None,
    }
}

/// The `eth.*` and `vlan.*` fields.
fn link_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    use Value::Uint;
    let link = p.link.as_ref();
    match id {
        Id::EthSrc => one(i, link.and_then(|l| l.src_mac).map(Value::Mac)),
        Id::EthDst => one(i, link.and_then(|l| l.dst_mac).map(Value::Mac)),
        Id::EthAddr => pair(
            i,
            link.and_then(|l| l.dst_mac).map(Value::Mac),
            link.and_then(|l| l.src_mac).map(Value::Mac),
        ),
        Id::EthType => one(
            i,
            // An 802.3 frame carries a length there, not a type (LLC/SNAP
            // names the protocol): no eth.type, as tshark shows it.
            link.filter(|l| l.src_mac.is_some() && l.vlans.is_empty())
                .filter(|_| p.encapsulation != Some(crate::packet::decode::Encapsulation::LlcSnap))
                .and_then(|l| l.ether_type)
                .map(|t| Uint(t.into())),
        ),
        Id::VlanId => one(
            i,
            link.and_then(|l| l.vlans.last()).map(|&id| Uint(id.into())),
        ),
        _ => None,
    }
}

/// The `ip.*` fields (`ip.version` for either version, the rest IPv4 only).
fn ipv4_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    use Value::{Addr, Bool, Uint};
    let ip = p.ip.as_ref();
    let ip4 = ip.filter(|ip| ip.version == 4);
    match id {
        Id::IpVersion => one(i, ip.map(|ip| Uint(ip.version.into()))),
        Id::IpHdrLen => one(i, ip4.map(|ip| Uint(ip.header_len as u64))),
        Id::IpDsfield => one(i, ip4.map(|ip| Uint(ip.tos.into()))),
        Id::IpLen => one(i, ip4.map(|ip| Uint(ip.total_len as u64))),
        Id::IpId => one(
            i,
            ip4.and_then(|ip| ip.identification).map(|n| Uint(n.into())),
        ),
        Id::IpFlagsDf => one(i, ip4.map(|ip| Bool(ip.dont_fragment))),
        Id::IpFlagsMf => one(i, ip4.map(|ip| Bool(ip.frag.is_some_and(|f| f.more)))),
        Id::IpFragOffset => one(
            i,
            ip4.map(|ip| Uint(ip.frag.map_or(0, |f| u64::from(f.offset) * 8))),
        ),
        Id::IpTtl => one(i, ip4.map(|ip| Uint(ip.ttl.into()))),
        Id::IpProto => one(i, ip4.map(|ip| Uint(ip.protocol.into()))),
        Id::IpChecksum => one(
            i,
            ip4.and_then(|ip| ip.header_checksum)
                .map(|c| Uint(c.value.into())),
        ),
        Id::IpChecksumStatus => one(
            i,
            ip4.and_then(|ip| ip.header_checksum)
                .map(|c| Value::Status(status(c.state))),
        ),
        Id::IpSrc => one(i, ip4.map(|ip| Addr(ip.src))),
        Id::IpDst => one(i, ip4.map(|ip| Addr(ip.dst))),
        Id::IpAddr => pair(i, ip4.map(|ip| Addr(ip.src)), ip4.map(|ip| Addr(ip.dst))),
        _ => None,
    }
}

/// The `ipv6.*` fields.
fn ipv6_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    use Value::{Addr, Uint};
    let ip6 = p.ip.as_ref().filter(|ip| ip.version == 6);
    match id {
        Id::Ipv6Hlim => one(i, ip6.map(|ip| Uint(ip.ttl.into()))),
        Id::Ipv6Nxt => one(i, ip6.map(|ip| Uint(ip.protocol.into()))),
        Id::Ipv6Src => one(i, ip6.map(|ip| Addr(ip.src))),
        Id::Ipv6Dst => one(i, ip6.map(|ip| Addr(ip.dst))),
        Id::Ipv6Addr => pair(i, ip6.map(|ip| Addr(ip.src)), ip6.map(|ip| Addr(ip.dst))),
        _ => None,
    }
}

/// The `udp` and `udp.*` fields.
fn udp_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    use Value::{Bool, Uint};
    let udp = match &p.transport {
        Transport::Udp(u) => Some(u),
        _ => None,
    };
    match id {
        Id::Udp => one(i, udp.map(|_| Bool(true))),
        Id::UdpSrcport => one(i, udp.map(|u| Uint(u.src_port.into()))),
        Id::UdpDstport => one(i, udp.map(|u| Uint(u.dst_port.into()))),
        Id::UdpPort => pair(
            i,
            udp.map(|u| Uint(u.src_port.into())),
            udp.map(|u| Uint(u.dst_port.into())),
        ),
        Id::UdpLength => one(i, udp.map(|u| Uint(u.length.into()))),
        Id::UdpChecksum => one(i, udp.map(|u| Uint(u.checksum.value.into()))),
        Id::UdpChecksumStatus => one(i, udp.map(|u| Value::Status(status(u.checksum.state)))),
        _ => None,
    }
}

/// The `tcp` and `tcp.*` fields (`tcp.seq`/`tcp.ack` from the view's
/// relative numbers).
fn tcp_field<'a>(id: Id, v: &FrameView<'_, 'a>, i: usize) -> Option<Value<'a>> {
    use crate::packet::wire::TcpFlags;
    use Value::{Bool, Uint};
    let tcp = match &v.packet.transport {
        Transport::Tcp(t) => Some(t),
        _ => None,
    };
    let flag = |bit: TcpFlags| one(i, tcp.map(|t| Bool(t.flags.contains(bit))));
    match id {
        Id::Tcp => one(i, tcp.map(|_| Bool(true))),
        Id::TcpSrcport => one(i, tcp.map(|t| Uint(t.src_port.into()))),
        Id::TcpDstport => one(i, tcp.map(|t| Uint(t.dst_port.into()))),
        Id::TcpPort => pair(
            i,
            tcp.map(|t| Uint(t.src_port.into())),
            tcp.map(|t| Uint(t.dst_port.into())),
        ),
        Id::TcpSeq => one(i, v.tcp_relative.map(|(s, _)| Uint(s.into()))),
        Id::TcpAck => one(i, v.tcp_relative.map(|(_, a)| Uint(a.into()))),
        Id::TcpSeqRaw => one(i, tcp.map(|t| Uint(t.seq.into()))),
        Id::TcpAckRaw => one(i, tcp.map(|t| Uint(t.ack.into()))),
        Id::TcpLen => one(i, tcp.map(|t| Uint(t.payload_len as u64))),
        Id::TcpFlags => one(i, tcp.map(|t| Uint(t.flags.0.into()))),
        Id::TcpFlagsFin => flag(TcpFlags::FIN),
        Id::TcpFlagsSyn => flag(TcpFlags::SYN),
        Id::TcpFlagsReset => flag(TcpFlags::RST),
        Id::TcpFlagsPush => flag(TcpFlags::PSH),
        Id::TcpFlagsAck => flag(TcpFlags::ACK),
        Id::TcpFlagsUrg => flag(TcpFlags::URG),
        _ => None,
    }
}

/// The `icmp.*` and `icmpv6.*` fields.
fn icmp_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    use Value::Uint;
    let icmp = match &p.transport {
        Transport::Icmp(c) => Some(c),
        _ => None,
    };
    let version = p.ip.as_ref().map(|ip| ip.version);
    let icmp4 = icmp.filter(|_| version == Some(4));
    let icmp6 = icmp.filter(|_| version == Some(6));
    match id {
        Id::IcmpType => one(i, icmp4.map(|c| Uint(c.icmp_type.into()))),
        Id::IcmpCode => one(i, icmp4.map(|c| Uint(c.code.into()))),
        Id::Icmpv6Type => one(i, icmp6.map(|c| Uint(c.icmp_type.into()))),
        Id::Icmpv6Code => one(i, icmp6.map(|c| Uint(c.code.into()))),
        _ => None,
    }
}

/// The `data.*` fields: a UDP datagram's payload, when it has one.
fn data_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    let payload: Option<&'a [u8]> = match &p.transport {
        Transport::Udp(u) if !u.payload.is_empty() => Some(u.payload),
        _ => None,
    };
    match id {
        Id::DataData => one(i, payload.map(Value::Bytes)),
        Id::DataLen => one(i, payload.map(|b| Value::Uint(b.len() as u64))),
        Id::DataText => one(i, payload.map(|b| Value::Text(String::from_utf8_lossy(b)))),
        _ => None,
    }
}

/// Tracks each TCP direction's first sequence number, for relative
/// `tcp.seq`/`tcp.ack` as Wireshark shows them. Bounded: past
/// [`TcpNumbers::MAX_FLOWS`] directions, new ones read as raw numbers
/// relative to themselves (0).
#[derive(Default)]
pub struct TcpNumbers {
    first: std::collections::HashMap<(std::net::SocketAddr, std::net::SocketAddr), u32>,
}

impl TcpNumbers {
    /// Directions remembered at most.
    pub const MAX_FLOWS: usize = 1 << 16;

    /// The relative (seq, ack) of a segment of `packet`, if it is TCP.
    pub fn relative(&mut self, packet: &Packet<'_>) -> Option<(u32, u32)> {
        let Transport::Tcp(t) = &packet.transport else {
            return None;
        };
        let (src, dst) = packet.endpoints()?;
        let full = self.first.len() >= Self::MAX_FLOWS;
        let mine = match self.first.get(&(src, dst)) {
            Some(&isn) => isn,
            None if full => t.seq,
            None => *self.first.entry((src, dst)).or_insert(t.seq),
        };
        let seq = t.seq.wrapping_sub(mine);
        let ack = match self.first.get(&(dst, src)) {
            Some(&isn) if t.flags.contains(crate::packet::wire::TcpFlags::ACK) => {
                t.ack.wrapping_sub(isn)
            }
            _ if t.flags.contains(crate::packet::wire::TcpFlags::ACK) => {
                // The other side's first segment comes later (or never): its
                // SYN/ACK acknowledges our first number + 1, so its ISN is ack - 1
                // only when it answers; until then Wireshark shows 0.
                0
            }
            _ => 0,
        };
        Some((seq, ack))
    }
}
