//! What a field reads from (a [`FrameView`] of one frame, with the TCP
//! numbers only a reader of the whole capture knows) and what it yields (a
//! [`Value`] of a [`FieldType`]).

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::capture::RawFrame;
use crate::packet::decode::heuristics::Dissector;
use crate::packet::decode::{Packet, Transport};

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
    /// A protocol (Wireshark's `FT_PROTOCOL`, such as `udp` or `frame`): present
    /// or not, and its bytes (header and what it carries) for `contains`,
    /// `==`, slices and `len()`.
    Protocol,
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
            FieldType::Protocol => "a protocol",
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

impl Value<'_> {
    /// Appends the value as JSON, the bytes [`to_json`](Value::to_json)'s
    /// value serializes to, without making that value.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        // Writing to a Vec cannot fail.
        let _ = match self {
            Value::Uint(n) => write!(out, "{n}"),
            Value::Bool(b) => out.write_all(if *b { b"true" } else { b"false" }),
            // An address, a MAC and hex need no escape.
            Value::Addr(a) => write!(out, "\"{a}\""),
            Value::Mac(m) => {
                out.push(b'"');
                push_hex(out, m, Some(b':'));
                out.write_all(b"\"")
            }
            Value::Bytes(b) => {
                out.push(b'"');
                push_hex(out, b, None);
                out.write_all(b"\"")
            }
            Value::Text(t) => serde_json::to_writer(&mut *out, t).map_err(std::io::Error::from),
            Value::Status(s) => serde_json::to_writer(&mut *out, s).map_err(std::io::Error::from),
        };
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

pub(super) fn mac(m: &[u8; 6]) -> String {
    let mut out = Vec::with_capacity(17);
    push_hex(&mut out, m, Some(b':'));
    String::from_utf8(out).expect("hex digits are ASCII")
}

pub(super) fn hex(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(2 * b.len());
    push_hex(&mut out, b, None);
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// Appends `b` as lowercase hex, `sep` between bytes.
fn push_hex(out: &mut Vec<u8>, b: &[u8], sep: Option<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, &x) in b.iter().enumerate() {
        if i > 0
            && let Some(sep) = sep
        {
            out.push(sep);
        }
        out.extend_from_slice(&[DIGITS[usize::from(x >> 4)], DIGITS[usize::from(x & 15)]]);
    }
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
    /// Who takes the datagram's own UDP payload given the datagrams before
    /// it ([`Conversations`](super::Conversations)); None when the reader
    /// keeps no history, and then the datagram alone says
    /// ([`udp_claim`](crate::packet::decode::heuristics::udp_claim)).
    pub udp_dissector: Option<Dissector>,
    /// True when the fields see only the datagram's own headers: the frame's
    /// link layer, the innermost IP packet and its transport, not a tunnel's
    /// outer headers nor what an ICMP error quotes. The built-in check's
    /// view; false (every occurrence, as in Wireshark) otherwise.
    pub datagram_only: bool,
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
            udp_dissector: None,
            datagram_only: false,
        }
    }
}

/// Tracks each TCP direction's base sequence number, for relative
/// `tcp.seq`/`tcp.ack` as Wireshark numbers them (`packet-tcp.c`):
///
/// - a direction's base is set by its first segment: its SYN's number (the
///   SYN reads 0), or one less than the first number seen when the capture
///   missed the SYN (so the first segment reads 1);
/// - a direction not yet seen takes its base from the first segment the
///   other way with ACK set: the acknowledged number less one (it reads 1);
/// - a SYN (without ACK) whose number differs from its direction's base
///   starts a new connection on the same ports: both bases start again;
/// - `tcp.ack` is relative only with ACK set; without it, the number as
///   sent (a SYN's is usually 0).
///
/// Bounded: past [`TcpNumbers::MAX_FLOWS`] directions, a new direction's
/// numbers read relative to its own segment, as if it were the first.
///
/// ```
/// use lola::packet::fields::TcpNumbers;
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let mut numbers = TcpNumbers::default();
/// let mut seen = Vec::new();
/// while let Some(f) = reader.next_frame().unwrap() {
///     let packet = lola::packet::decode::decode(f.link_type, f.data, f.orig_len as usize);
///     seen.extend(numbers.relative(&packet));
/// }
/// // SYN, SYN/ACK, ACK: each side's SYN reads 0, what follows it 1.
/// assert_eq!(seen[..3], [(0, 0), (0, 1), (1, 1)]);
/// ```
#[derive(Default)]
pub struct TcpNumbers {
    base: std::collections::HashMap<(std::net::SocketAddr, std::net::SocketAddr), u32>,
}

impl TcpNumbers {
    /// Directions remembered at most.
    pub const MAX_FLOWS: usize = 1 << 16;

    /// The relative (seq, ack) of a segment of `packet`, if it is TCP.
    pub fn relative(&mut self, packet: &Packet<'_>) -> Option<(u32, u32)> {
        use crate::packet::wire::TcpFlags;
        let Transport::Tcp(t) = &packet.transport else {
            return None;
        };
        let (src, dst) = packet.endpoints()?;
        let syn = t.flags.contains(TcpFlags::SYN);
        let acks = t.flags.contains(TcpFlags::ACK);
        if syn && !acks && self.base.get(&(src, dst)).is_some_and(|&b| b != t.seq) {
            // Ports reused: Wireshark starts a new conversation here.
            self.base.remove(&(src, dst));
            self.base.remove(&(dst, src));
        }
        let first = if syn { t.seq } else { t.seq.wrapping_sub(1) };
        let mine = self.base_of((src, dst), first);
        let ack = if acks {
            t.ack
                .wrapping_sub(self.base_of((dst, src), t.ack.wrapping_sub(1)))
        } else {
            t.ack
        };
        Some((t.seq.wrapping_sub(mine), ack))
    }

    /// The base of a direction, set to `first` if it has none yet.
    fn base_of(&mut self, key: (std::net::SocketAddr, std::net::SocketAddr), first: u32) -> u32 {
        if let Some(&base) = self.base.get(&key) {
            return base;
        }
        if self.base.len() < Self::MAX_FLOWS {
            self.base.insert(key, first);
        }
        first
    }
}
