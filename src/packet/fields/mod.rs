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
//!
//! The table itself is in `table` (one line per field, in the README's
//! order); what a field reads from and yields ([`FrameView`], [`Value`],
//! [`FieldType`]) in `value`; and how each field's values are read from a
//! decoded frame in `extract`. This file names a field ([`Field`], [`Id`])
//! and finds it ([`lookup`]).

mod conversation;
mod extract;
pub mod suggest;
mod table;
mod value;

pub use conversation::Conversations;
pub use table::FIELDS;
pub use value::{FieldType, FrameView, TcpNumbers, Value};

use value::{hex, mac};

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
    Frame,
    FrameNumber,
    FrameLen,
    FrameCapLen,
    Eth,
    EthSrc,
    EthDst,
    EthAddr,
    EthType,
    VlanId,
    Ip,
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
    Ipv6,
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
    UdpPayload,
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
    TcpPayload,
    Icmp,
    IcmpType,
    IcmpCode,
    Icmpv6,
    Icmpv6Type,
    Icmpv6Code,
    Vxlan,
    VxlanVni,
    Geneve,
    GeneveVni,
    Gre,
    Data,
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

/// The field named `name`.
pub fn lookup(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.name == name)
}

impl Field {
    /// True when the value needs the checksums verified (a full decode).
    pub fn needs_verify(&self) -> bool {
        matches!(self.id, Id::IpChecksumStatus | Id::UdpChecksumStatus)
    }

    /// The width in bits of an integer field as Wireshark types it
    /// (`FT_UINT8` is 8: `ip.ttl == 300` is refused); 0 for the others.
    pub fn bits(&self) -> u32 {
        match self.id {
            Id::IpVersion
            | Id::IpHdrLen
            | Id::IpDsfield
            | Id::IpTtl
            | Id::IpProto
            | Id::IpChecksumStatus
            | Id::Ipv6Hlim
            | Id::Ipv6Nxt
            | Id::UdpChecksumStatus
            | Id::IcmpType
            | Id::IcmpCode
            | Id::Icmpv6Type
            | Id::Icmpv6Code => 8,
            Id::EthType
            | Id::VlanId
            | Id::IpLen
            | Id::IpId
            | Id::IpFragOffset
            | Id::IpChecksum
            | Id::UdpSrcport
            | Id::UdpDstport
            | Id::UdpPort
            | Id::UdpLength
            | Id::UdpChecksum
            | Id::TcpSrcport
            | Id::TcpDstport
            | Id::TcpPort
            | Id::TcpFlags => 16,
            Id::FrameNumber
            | Id::FrameLen
            | Id::FrameCapLen
            | Id::TcpSeq
            | Id::TcpAck
            | Id::TcpSeqRaw
            | Id::TcpAckRaw
            | Id::TcpLen
            | Id::DataLen => 32,
            Id::EthSrc
            | Id::EthDst
            | Id::EthAddr
            | Id::IpFlagsDf
            | Id::IpFlagsMf
            | Id::IpSrc
            | Id::IpDst
            | Id::IpAddr
            | Id::Ipv6Src
            | Id::Ipv6Dst
            | Id::Ipv6Addr
            | Id::Udp
            | Id::Tcp
            | Id::TcpFlagsFin
            | Id::TcpFlagsSyn
            | Id::TcpFlagsReset
            | Id::TcpFlagsPush
            | Id::TcpFlagsAck
            | Id::TcpFlagsUrg
            | Id::DataData
            | Id::DataText
            | Id::Frame
            | Id::Eth
            | Id::Ip
            | Id::Ipv6
            | Id::UdpPayload
            | Id::TcpPayload
            | Id::Icmp
            | Id::Icmpv6
            | Id::Vxlan
            | Id::Geneve
            | Id::Gre
            | Id::Data => 0,
            Id::VxlanVni | Id::GeneveVni => 24,
        }
    }

    /// True when the value needs the relative TCP numbers.
    pub fn needs_tcp_state(&self) -> bool {
        matches!(self.id, Id::TcpSeq | Id::TcpAck)
    }

    /// True when the value needs the capture's UDP conversations
    /// ([`Conversations`]): `data` and its fields, whose bytes are what no
    /// dissector took, and QUIC and TFTP take datagrams by conversation.
    pub fn needs_conversations(&self) -> bool {
        matches!(
            self.id,
            Id::Data | Id::DataData | Id::DataLen | Id::DataText
        )
    }

    /// Value `i` of the field in the frame, in frame order: one value per
    /// header of the field's protocol (`*.addr` and `*.port` two, the source
    /// then the destination), outer headers first. A VXLAN frame's `ip.src`
    /// has the tunnel's source at 0 and the inner packet's at 1; an ICMP
    /// error's, the error's at 0 and the quoted datagram's at 1.
    ///
    /// ```
    /// use lola::packet::fields::{self, FrameView, Value};
    /// # let mut reader = lola::capture::CaptureReader::open("fixtures/tunnel-vxlan.pcap".as_ref()).unwrap();
    /// # let frame = reader.next_frame().unwrap().unwrap();
    /// let packet = lola::packet::decode::decode(frame.link_type, frame.data, frame.orig_len as usize);
    /// let view = FrameView::new(&frame, &packet);
    /// let dstport = fields::lookup("udp.dstport").unwrap();
    /// let values: Vec<_> = (0..).map_while(|i| dstport.get(&view, i)).collect();
    /// assert_eq!(values, [Value::Uint(4789), Value::Uint(7456)]);
    /// assert_eq!((dstport.layer(&view, 0), dstport.layer(&view, 1)), (1, 2));
    /// ```
    pub fn get<'a>(&self, v: &FrameView<'_, 'a>, i: usize) -> Option<Value<'a>> {
        extract::nth(self.id, v, i).map(|(_, x)| x)
    }

    /// Every value of each of `fields` in the frame, read in one pass over
    /// its headers: `out(k, value)` for each value of `fields[k]`, a
    /// field's values in the order [`Field::get`] numbers them. What a row
    /// of every field costs once, where `get` walks the frame per value.
    ///
    /// ```
    /// use lola::packet::fields::{self, Field, FrameView, Value};
    /// # let mut reader = lola::capture::CaptureReader::open("fixtures/tunnel-vxlan.pcap".as_ref()).unwrap();
    /// # let frame = reader.next_frame().unwrap().unwrap();
    /// let packet = lola::packet::decode::decode(frame.link_type, frame.data, frame.orig_len as usize);
    /// let view = FrameView::new(&frame, &packet);
    /// let fields = [fields::lookup("udp.dstport").unwrap(), fields::lookup("vxlan.vni").unwrap()];
    /// let mut got = Vec::new();
    /// Field::each(&fields, &view, |k, x| got.push((k, x)));
    /// assert_eq!(got, [(0, Value::Uint(4789)), (1, Value::Uint(42)), (0, Value::Uint(7456))]);
    /// ```
    pub fn each<'a>(fields: &[&Field], v: &FrameView<'_, 'a>, out: impl FnMut(usize, Value<'a>)) {
        extract::each(fields, v, out);
    }

    /// The layer value `i` comes from: 1 for the outermost header of the
    /// field's protocol in the frame, 2 for the next (the packet inside a
    /// tunnel, the header an ICMP error quotes), as Wireshark's `ip.src#2`
    /// counts them; for `udp.port`, values 0 and 1 are layer 1's. 1 when the
    /// frame has no value `i`.
    pub fn layer(&self, v: &FrameView<'_, '_>, i: usize) -> usize {
        extract::nth(self.id, v, i).map_or(1, |(layer, _)| layer)
    }

    /// For a protocol field ([`FieldType::Protocol`]), how many bytes at the
    /// start of value `i` are the protocol's own in Wireshark: what its
    /// `len()`, slices and `==` see (`udp`: the 8-byte header; `ip`: the
    /// header; `icmp`, `gre`, `data`, `frame`: all), while `contains` searches
    /// the whole value (the header and what it carries). None for other
    /// fields or when there is no value `i`.
    ///
    /// ```
    /// use lola::packet::fields::{self, FrameView, Value};
    /// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
    /// # let frame = reader.next_frame().unwrap().unwrap();
    /// let packet = lola::packet::decode::decode(frame.link_type, frame.data, frame.orig_len as usize);
    /// let view = FrameView::new(&frame, &packet);
    /// let udp = fields::lookup("udp").unwrap();
    /// assert!(matches!(udp.get(&view, 0), Some(Value::Bytes(b)) if b.len() == 8 + 10));
    /// assert_eq!(udp.own_len(&view, 0), Some(8));
    /// ```
    pub fn own_len(&self, v: &FrameView<'_, '_>, i: usize) -> Option<usize> {
        if self.ty != FieldType::Protocol {
            return None;
        }
        extract::own_len(self.id, v, i)
    }

    /// The field's values in the frame, as tshark prints them (comma-separated).
    pub fn tshark_text(&self, v: &FrameView<'_, '_>) -> String {
        let mut out = Vec::new();
        for i in 0.. {
            let Some(value) = self.get(v, i) else { break };
            out.push(match (self.display, value) {
                (Display::Hex(w), Value::Uint(n)) => format!("0x{n:0w$x}"),
                (Display::HexBytes, Value::Bytes(b)) => hex(b),
                (_, Value::Bool(b)) => u8::from(b).to_string(),
                (_, Value::Mac(m)) => mac(&m),
                (_, Value::Text(t)) => t.into_owned(),
                (_, value) => value.to_string(),
            });
        }
        out.join(",")
    }
}
