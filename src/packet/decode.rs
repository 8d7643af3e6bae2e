//! Decoding one captured frame: link layer, IP, and UDP/TCP/ICMP, with every
//! length checked against the bytes that were captured and every checksum
//! classified as tshark would (correct, bad, or partial from offload).
//!
//! etherparse's header slices read the fields; they never verify checksums or
//! cross-check lengths, so that is done here. Damage is reported per frame in
//! [`Packet::problems`]; decoding never fails and never panics.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use etherparse::checksum::Sum16BitWords;
use etherparse::{
    Ipv4HeaderSlice, Ipv6ExtensionsSlice, Ipv6HeaderSlice, TcpHeaderSlice, ip_number,
};

use crate::capture::{
    LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW,
};
use crate::packet::wire::field::{
    ethernet, gre, icmp as icmp_field, ipv4, ipv6, llc, null, sll, sll2, tcp as tcp_field, udp,
    vxlan,
};
use crate::packet::wire::{TcpFlags, be16};

pub use crate::capture::link_type_supported;

/// What a checksum field holds.
///
/// ```
/// use lola::packet::decode::{decode, ChecksumState, Transport};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// // tcpdump on lo: Linux left the UDP checksum to an offload that never ran.
/// let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
/// let Transport::Udp(udp) = packet.transport else { panic!() };
/// assert_eq!(udp.checksum.state, ChecksumState::Partial { expected: 0x4943 });
/// assert_eq!(packet.ip.unwrap().header_checksum.unwrap().state, ChecksumState::Correct);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "state")]
pub enum ChecksumState {
    /// It verifies.
    Correct,
    /// It does not verify; `expected` is what it should have been.
    Bad {
        /// The value a correct sender would have written.
        expected: u16,
    },
    /// It holds only the pseudo-header sum: the sender left the rest to
    /// checksum offload, which never ran (loopback, or captured before the NIC).
    Partial {
        /// The value a correct sender would have written.
        expected: u16,
    },
    /// Zero in a UDP-over-IPv4 header: "no checksum", which IPv4 allows.
    Absent,
    /// Not all of the datagram was captured, so it cannot be verified.
    Unverified,
}

impl ChecksumState {
    /// The one word reports use: `correct`, `bad`, `partial`, `none`, `unverified`.
    ///
    /// ```
    /// use lola::packet::decode::ChecksumState;
    /// assert_eq!(ChecksumState::Correct.word(), "correct");
    /// assert_eq!(ChecksumState::Partial { expected: 0x4943 }.word(), "partial");
    /// assert_eq!(ChecksumState::Absent.word(), "none");
    /// ```
    pub fn word(&self) -> &'static str {
        match self {
            ChecksumState::Correct => "correct",
            ChecksumState::Bad { .. } => "bad",
            ChecksumState::Partial { .. } => "partial",
            ChecksumState::Absent => "none",
            ChecksumState::Unverified => "unverified",
        }
    }
}

/// A checksum field and what it holds.
///
/// ```
/// use lola::packet::decode::{decode, Transport};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
/// let ip = packet.ip.as_ref().unwrap().header_checksum.unwrap();
/// assert_eq!(ip.to_string(), "0xf5f6 correct");
/// let Transport::Udp(udp) = &packet.transport else { panic!() };
/// assert_eq!(udp.checksum.value, 0xfe25);
/// assert_eq!(udp.checksum.to_string(), "0xfe25 partial (offload)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Checksum {
    /// The value in the header.
    pub value: u16,
    /// Its classification.
    #[serde(flatten)]
    pub state: ChecksumState,
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            ChecksumState::Bad { expected } => {
                write!(f, "0x{:04x} bad (should be 0x{expected:04x})", self.value)
            }
            ChecksumState::Partial { .. } => write!(f, "0x{:04x} partial (offload)", self.value),
            s => write!(f, "0x{:04x} {}", self.value, s.word()),
        }
    }
}

/// The link-layer header of a frame.
///
/// ```
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/link-qinq.pcap".as_ref()).unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// let link = lola::packet::decode::decode(frame.link_type, frame.data, frame.data.len()).link.unwrap();
/// // An 802.1ad S-tag (VLAN 200), an 802.1Q C-tag (VLAN 100), then IPv4.
/// assert_eq!(link.vlans, [200, 100]);
/// assert_eq!((link.ether_type, link.header_len), (Some(0x0800), 22));
/// assert_eq!((link.src_mac, link.dst_mac), (Some([0; 6]), Some([0; 6])));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Destination MAC (Ethernet only).
    pub dst_mac: Option<[u8; 6]>,
    /// Source MAC (Ethernet only).
    pub src_mac: Option<[u8; 6]>,
    /// EtherType of the network layer, where the link layer carries one.
    pub ether_type: Option<u16>,
    /// 802.1Q / 802.1ad VLAN IDs, outermost first.
    pub vlans: Vec<u16>,
    /// Bytes of link-layer header before the network layer.
    pub header_len: usize,
}

/// A decoded frame.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::packet::decode::decode;
/// let frame = lola::build_frame(&d).unwrap();
/// let whole = decode(1, &frame, frame.len());
/// assert!(whole.ip.is_some() && whole.problems.is_empty());
/// // Captured with a snaplen of 40: the UDP header is cut.
/// let cut = decode(1, &frame[..40], frame.len());
/// assert_eq!(cut.problems[0].to_string(), "UDP header cut short: 6 of 8 bytes");
/// assert_eq!(cut.problems.len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct Packet<'a> {
    /// The link layer, if the frame had one that could be read.
    pub link: Option<Link>,
    /// The IP layer, if the frame carried IPv4 or IPv6 (in a tunnel, the
    /// inner packet's).
    pub ip: Option<Ip>,
    /// What the IP packet carried.
    pub transport: Transport<'a>,
    /// Everything wrong with the frame.
    pub problems: Vec<Problem>,
    /// The tunnel or old framing the datagram came in, when it did: then
    /// [`ip`](Packet::ip) and [`transport`](Packet::transport) are the
    /// inner packet's, and [`outer`](Packet::outer) the tunnel's IP header.
    pub encapsulation: Option<Encapsulation>,
    /// The outer IP header of a tunnelled packet (VXLAN, GRE, IP-in-IP, 6in4).
    pub outer: Option<Ip>,
}

/// What a datagram was found inside, one level deep; [`Packet::ip`] and
/// [`Packet::transport`] are then the inner packet's.
///
/// ```
/// use lola::packet::decode::{decode, Encapsulation, Transport};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/tunnel-vxlan.pcap".as_ref()).unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// // Linux's vxlan device, over a veth pair: the datagram inside UDP to port 4789.
/// let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
/// assert_eq!(packet.encapsulation, Some(Encapsulation::Vxlan { vni: 42 }));
/// let Transport::Udp(udp) = packet.transport else { panic!() };
/// assert_eq!((udp.dst_port, udp.payload), (7456, &b"Hello Lola"[..]));
/// assert_eq!(packet.outer.unwrap().dst.to_string(), "192.0.2.2");
/// assert_eq!(Encapsulation::SixInFour.name(), "6in4");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encapsulation {
    /// An Ethernet frame in UDP to port 4789 (RFC 7348).
    Vxlan {
        /// The VXLAN network identifier.
        vni: u32,
    },
    /// GRE (IP protocol 47) carrying IPv4, IPv6 or an Ethernet frame (gretap).
    Gre {
        /// The GRE protocol type (an EtherType; 0x6558 for Ethernet).
        protocol_type: u16,
    },
    /// IPv4 in IP (IP protocol 4).
    IpInIp,
    /// IPv6 in IP (IP protocol 41): 6in4, the `sit` tunnel.
    SixInFour,
    /// IEEE 802.3 with an LLC/SNAP header instead of Ethernet II's EtherType.
    LlcSnap,
}

impl Encapsulation {
    /// The word frame lines put before the protocol: `VXLAN`, `GRE`, `IPIP`,
    /// `6in4`, `LLC/SNAP`.
    pub fn name(&self) -> &'static str {
        match self {
            Encapsulation::Vxlan { .. } => "VXLAN",
            Encapsulation::Gre { .. } => "GRE",
            Encapsulation::IpInIp => "IPIP",
            Encapsulation::SixInFour => "6in4",
            Encapsulation::LlcSnap => "LLC/SNAP",
        }
    }
}

/// One thing wrong with a frame. `Display` is one phrase with tshark field
/// names (`udp.length 9 disagrees with the 10 bytes of IP payload`).
///
/// ```
/// use lola::packet::decode::Problem;
/// let p = Problem::BadChecksum { field: "udp.checksum", value: 0x4942, expected: 0x4943 };
/// assert_eq!(p.to_string(), "udp.checksum 0x4942 is bad (should be 0x4943)");
/// assert!(p.is_checksum());
/// assert!(!Problem::UdpHeaderCut { captured: 6 }.is_checksum());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A link-layer header shorter than it must be.
    LinkHeaderCut {
        /// Which header (`Ethernet header`, ...).
        what: &'static str,
        /// Bytes captured.
        captured: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// An 802.1Q/802.1ad tag runs past the captured bytes.
    VlanTagCut,
    /// etherparse could not read the IPv4 header.
    Ipv4Unreadable(String),
    /// etherparse could not read the IPv6 header.
    Ipv6Unreadable(String),
    /// etherparse could not read the IPv6 extension headers.
    Ipv6ExtensionsUnreadable(String),
    /// A checksum that does not verify.
    BadChecksum {
        /// `ip.checksum` or `udp.checksum`.
        field: &'static str,
        /// The value in the header.
        value: u16,
        /// What it should have been.
        expected: u16,
    },
    /// A UDP checksum of zero over IPv6, where it is mandatory.
    ZeroUdpChecksumOverIpv6,
    /// The IPv4 total length is less than the header.
    IpLengthBelowHeader {
        /// `ip.len`.
        total_len: usize,
        /// The header's length.
        header_len: usize,
    },
    /// The IPv4 total length claims more bytes than the frame carries.
    IpLengthBeyondFrame {
        /// `ip.len`.
        total_len: usize,
        /// Bytes from the IP header on.
        available: usize,
    },
    /// The IPv6 payload length claims more bytes than the frame carries.
    Ipv6LengthBeyondFrame {
        /// `ipv6.plen`.
        payload_len: usize,
        /// Bytes after the fixed header.
        available: usize,
    },
    /// The UDP header is not all there.
    UdpHeaderCut {
        /// Bytes of it captured.
        captured: usize,
    },
    /// `udp.length` is less than the header.
    UdpLengthBelowHeader {
        /// `udp.length`.
        length: u16,
    },
    /// `udp.length` disagrees with the IP payload length.
    UdpLengthMismatch {
        /// `udp.length`.
        length: u16,
        /// What the IP header implies.
        ip_payload_len: usize,
    },
    /// etherparse could not read the TCP header.
    TcpUnreadable(String),
    /// The ICMP header is not all there.
    IcmpHeaderCut {
        /// Bytes of it captured.
        captured: usize,
    },
    /// A tunnel header (VXLAN, GRE) or the frame it carries is shorter than
    /// it must be, in a datagram captured whole.
    TunnelHeaderCut {
        /// Which header (`VXLAN header`, ...).
        what: &'static str,
        /// Bytes there.
        captured: usize,
        /// Bytes needed.
        needed: usize,
    },
}

impl Problem {
    /// True for problems with a checksum, which the checksum policy judges.
    pub fn is_checksum(&self) -> bool {
        matches!(
            self,
            Problem::BadChecksum { .. } | Problem::ZeroUdpChecksumOverIpv6
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::LinkHeaderCut {
                what,
                captured,
                needed,
            } => write!(f, "{what} cut short: {captured} of {needed} bytes"),
            Problem::VlanTagCut => f.write_str("VLAN tag cut short"),
            Problem::Ipv4Unreadable(e) => write!(f, "IPv4 header unreadable: {e}"),
            Problem::Ipv6Unreadable(e) => write!(f, "IPv6 header unreadable: {e}"),
            Problem::Ipv6ExtensionsUnreadable(e) => {
                write!(f, "IPv6 extension headers unreadable: {e}")
            }
            Problem::BadChecksum {
                field,
                value,
                expected,
            } => write!(
                f,
                "{field} 0x{value:04x} is bad (should be 0x{expected:04x})"
            ),
            Problem::ZeroUdpChecksumOverIpv6 => {
                f.write_str("udp.checksum is zero, which IPv6 forbids")
            }
            Problem::IpLengthBelowHeader {
                total_len,
                header_len,
            } => write!(
                f,
                "ip.len {total_len} is less than the {header_len}-byte header"
            ),
            Problem::IpLengthBeyondFrame {
                total_len,
                available,
            } => write!(
                f,
                "ip.len {total_len} claims more than the {available} bytes the frame carries"
            ),
            Problem::Ipv6LengthBeyondFrame {
                payload_len,
                available,
            } => write!(
                f,
                "ipv6.plen {payload_len} claims more than the {available} bytes the frame carries after the header"
            ),
            Problem::UdpHeaderCut { captured } => {
                write!(f, "UDP header cut short: {captured} of 8 bytes")
            }
            Problem::UdpLengthBelowHeader { length } => {
                write!(f, "udp.length {length} is less than the 8-byte header")
            }
            Problem::UdpLengthMismatch {
                length,
                ip_payload_len,
            } => write!(
                f,
                "udp.length {length} disagrees with the {ip_payload_len} bytes of IP payload"
            ),
            Problem::TcpUnreadable(e) => write!(f, "TCP header unreadable: {e}"),
            Problem::IcmpHeaderCut { captured } => {
                write!(f, "ICMP header cut short: {captured} of 8 bytes")
            }
            Problem::TunnelHeaderCut {
                what,
                captured,
                needed,
            } => write!(f, "{what} cut short: {captured} of {needed} bytes"),
        }
    }
}

/// The IP header fields lola looks at.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// let frame = lola::build_frame(&d).unwrap();
/// let ip = lola::packet::decode::decode(1, &frame, frame.len()).ip.unwrap();
/// assert_eq!((ip.version, ip.header_len, ip.total_len), (4, 20, 38));
/// assert_eq!((ip.ttl, ip.protocol, ip.identification), (64, 17, Some(0)));
/// assert!(ip.dont_fragment && !ip.fragment);
/// assert_eq!(ip.src, d.src.ip());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ip {
    /// 4 or 6.
    pub version: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 header length or 40 (IPv6, without extension headers).
    pub header_len: usize,
    /// DSCP and ECN (IPv4 TOS) or traffic class (IPv6).
    pub tos: u8,
    /// IPv4 total length, or 40 + IPv6 payload length.
    pub total_len: usize,
    /// IPv4 identification.
    pub identification: Option<u16>,
    /// IPv4 don't-fragment flag.
    pub dont_fragment: bool,
    /// True when this is one fragment of a larger datagram.
    pub fragment: bool,
    /// Where this fragment sits, when it is one.
    pub frag: Option<FragmentInfo>,
    /// TTL or hop limit.
    pub ttl: u8,
    /// Protocol / final next header.
    pub protocol: u8,
    /// IPv4 header checksum.
    pub header_checksum: Option<Checksum>,
}

/// What an IP packet carried.
///
/// ```
/// use lola::packet::decode::{decode, Transport};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4-no-listener.pcap".as_ref()).unwrap();
/// let mut kinds = Vec::new();
/// while let Some(f) = reader.next_frame().unwrap() {
///     kinds.push(match decode(f.link_type, f.data, f.orig_len as usize).transport {
///         Transport::Udp(_) => "UDP",
///         Transport::Icmp(_) => "ICMP",
///         _ => "other",
///     });
/// }
/// assert_eq!(kinds, ["UDP", "ICMP"]); // a datagram and the port unreachable it caused
/// ```
#[derive(Clone, Debug)]
pub enum Transport<'a> {
    /// A UDP datagram.
    Udp(Udp<'a>),
    /// A TCP segment.
    Tcp(Tcp),
    /// An ICMP or ICMPv6 message.
    Icmp(Icmp),
    /// A fragment of a datagram: the bytes it carries (captured part).
    /// [`crate::packet::reassembly`] puts fragments back together.
    Fragment(&'a [u8]),
    /// Another protocol, or nothing lola could read.
    Other,
}

/// The fragmentation fields of an IP packet that is one fragment.
///
/// ```
/// use lola::packet::decode::{decode, Transport};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/frag-ipv4.pcap".as_ref()).unwrap();
/// # reader.next_frame().unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// // Frame 2 of a 3000-byte datagram split for an MTU of 1500.
/// let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
/// let frag = packet.ip.as_ref().unwrap().frag.unwrap();
/// assert_eq!((frag.offset * 8, frag.more, frag.protocol, frag.cut), (1480, true, 17, false));
/// assert!(matches!(packet.transport, Transport::Fragment(bytes) if bytes.len() == 1480));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentInfo {
    /// IPv4 identification or IPv6 fragment header identification.
    pub id: u32,
    /// Offset in 8-byte units.
    pub offset: u16,
    /// More fragments follow.
    pub more: bool,
    /// Protocol of the reassembled payload.
    pub protocol: u8,
    /// True when the captured fragment is shorter than the IP header says.
    pub cut: bool,
}

/// A UDP datagram.
///
/// ```
/// use lola::packet::decode::{decode, Transport};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
/// let Transport::Udp(udp) = packet.transport else { panic!() };
/// assert_eq!((udp.src_port, udp.dst_port, udp.length), (48801, 7456, 8 + 10));
/// assert_eq!(udp.payload, b"Hello Lola");
/// assert!(udp.payload_complete);
/// ```
#[derive(Clone, Debug)]
pub struct Udp<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The UDP length field (header + payload).
    pub length: u16,
    /// The checksum.
    pub checksum: Checksum,
    /// The payload bytes that were captured.
    pub payload: &'a [u8],
    /// False when the capture cut the payload short.
    pub payload_complete: bool,
}

/// A TCP segment.
///
/// ```
/// use lola::packet::decode::{decode, Transport};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// # reader.next_frame().unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// // Frame 2: the server's SYN/ACK, acknowledging the client's SYN (Seq=2053414659).
/// let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
/// let Transport::Tcp(tcp) = packet.transport else { panic!() };
/// assert_eq!((tcp.src_port, tcp.flags.to_string().as_str(), tcp.payload_len), (7456, "SYN, ACK", 0));
/// assert_eq!(tcp.ack, 2053414659 + 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tcp {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flags; they print in tshark's order, e.g. `SYN, ACK`.
    pub flags: TcpFlags,
    /// Bytes of data in the segment.
    pub payload_len: usize,
}

/// An ICMP message, with the datagram it quotes when it is an error.
///
/// ```
/// use lola::packet::decode::{decode, Transport};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4-no-listener.pcap".as_ref()).unwrap();
/// # reader.next_frame().unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// // Frame 2: the kernel's answer to a datagram sent where nobody listened.
/// let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
/// let Transport::Icmp(icmp) = packet.transport else { panic!() };
/// assert_eq!((icmp.icmp_type, icmp.code, icmp.port_unreachable), (3, 3, true));
/// let (src, dst) = icmp.quoted_udp.unwrap();
/// assert_eq!((src.port(), dst.port()), (47300, 7457));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Icmp {
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
    /// True for a destination/port unreachable (ICMPv4 3/3, ICMPv6 1/4).
    pub port_unreachable: bool,
    /// Source and destination of the UDP datagram the error quotes.
    pub quoted_udp: Option<(SocketAddr, SocketAddr)>,
}

impl Packet<'_> {
    /// Source and destination of a UDP or TCP packet.
    ///
    /// ```
    /// # let d = lola::Datagram::new(
    /// #     "127.0.0.1:40000".parse().unwrap(),
    /// #     "127.0.0.1:7456".parse().unwrap(),
    /// #     b"Hello Lola".to_vec(),
    /// # );
    /// use lola::packet::decode::decode;
    /// let frame = lola::build_frame(&d).unwrap();
    /// assert_eq!(decode(1, &frame, frame.len()).endpoints(), Some((d.src, d.dst)));
    /// assert_eq!(decode(1, &[0u8; 60], 60).endpoints(), None); // not IP
    /// ```
    pub fn endpoints(&self) -> Option<(SocketAddr, SocketAddr)> {
        let ip = self.ip.as_ref()?;
        let (sp, dp) = match &self.transport {
            Transport::Udp(u) => (u.src_port, u.dst_port),
            Transport::Tcp(t) => (t.src_port, t.dst_port),
            _ => return None,
        };
        Some((SocketAddr::new(ip.src, sp), SocketAddr::new(ip.dst, dp)))
    }
}

/// Decodes a frame of the given link type.
///
/// ```
/// use lola::{build_frame, Datagram};
/// use lola::packet::decode::{decode, Transport};
/// let d = Datagram::new("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:7456".parse().unwrap(), b"Hello Lola".to_vec());
/// let frame = build_frame(&d).unwrap();
/// let packet = decode(1, &frame, frame.len());
/// let Transport::Udp(udp) = packet.transport else { panic!() };
/// assert_eq!((udp.dst_port, udp.payload), (7456, &b"Hello Lola"[..]));
/// assert_eq!(udp.checksum.state.word(), "correct");
/// assert!(packet.problems.is_empty());
/// ```
pub fn decode(link_type: u32, data: &[u8], orig_len: usize) -> Packet<'_> {
    decode_with(link_type, data, orig_len, true)
}

/// Like [`decode`], but with `verify` false it skips checksum verification
/// (every checksum is [`ChecksumState::Unverified`]): what a checker needs to
/// sort millions of frames before it looks closely at the few that matter.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::packet::decode::{decode_with, ChecksumState, Transport};
/// let frame = lola::build_frame(&d).unwrap();
/// let packet = decode_with(1, &frame, frame.len(), false);
/// let Transport::Udp(udp) = packet.transport else { panic!() };
/// assert_eq!(udp.checksum.state, ChecksumState::Unverified);
/// assert_eq!(udp.payload, b"Hello Lola");
/// ```
pub fn decode_with(link_type: u32, data: &[u8], orig_len: usize, verify: bool) -> Packet<'_> {
    let mut packet = Packet {
        link: None,
        ip: None,
        transport: Transport::Other,
        problems: Vec::new(),
        encapsulation: None,
        outer: None,
    };
    let Some((link, version_hint)) = decode_link(link_type, data, &mut packet) else {
        return packet;
    };
    let rest = &data[link.header_len..];
    let frame_cut = orig_len > data.len();
    packet.link = Some(link);
    match version_hint {
        Some(4) => decode_ipv4(rest, frame_cut, verify, &mut packet),
        Some(6) => decode_ipv6(rest, frame_cut, verify, &mut packet),
        _ => {}
    }
    packet
}

/// The protocol and ports of a plain UDP or TCP frame, and where its
/// addresses are: the checker's fast path for the millions of frames it only
/// counts. See [`quick_flow`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct QuickFlow<'a> {
    /// 17 (UDP) or 6 (TCP).
    pub(crate) protocol: u8,
    /// Source port.
    pub(crate) src_port: u16,
    /// Destination port.
    pub(crate) dst_port: u16,
    ip: &'a [u8],
}

impl QuickFlow<'_> {
    /// Source and destination, with their ports.
    pub(crate) fn endpoints(&self) -> (SocketAddr, SocketAddr) {
        let (src, dst) = if self.ip[ipv4::VER_IHL] >> 4 == 4 {
            ipv4_addrs(self.ip)
        } else {
            ipv6_addrs(self.ip)
        };
        (
            SocketAddr::new(src, self.src_port),
            SocketAddr::new(dst, self.dst_port),
        )
    }
}

/// Reads protocol and ports straight from fixed offsets, with no checks
/// beyond bounds.
///
/// Returns `None` whenever the frame is anything but an unfragmented IPv4
/// (or extension-less IPv6) UDP/TCP packet with its transport header
/// captured, on Ethernet II without VLAN tags, raw IP or Linux cooked
/// capture, and for anything that may be a tunnel (UDP to port 4789);
/// [`decode`] then has the last word. When it returns `Some`, [`decode`]
/// finds the same protocol and endpoints.
#[inline(always)]
pub(crate) fn quick_flow(link_type: u32, data: &[u8]) -> Option<QuickFlow<'_>> {
    let (ip, version) = match link_type {
        LINKTYPE_ETHERNET => match data.get(ethernet::ETHERTYPE)? {
            [0x08, 0x00] => (data.get(ethernet::HEADER_LEN..)?, 4),
            [0x86, 0xdd] => (data.get(ethernet::HEADER_LEN..)?, 6),
            _ => return None,
        },
        LINKTYPE_LINUX_SLL => match data.get(sll::PROTOCOL)? {
            [0x08, 0x00] => (data.get(sll::HEADER_LEN..)?, 4),
            [0x86, 0xdd] => (data.get(sll::HEADER_LEN..)?, 6),
            _ => return None,
        },
        LINKTYPE_LINUX_SLL2 => match data.get(sll2::PROTOCOL)? {
            [0x08, 0x00] => (data.get(sll2::HEADER_LEN..)?, 4),
            [0x86, 0xdd] => (data.get(sll2::HEADER_LEN..)?, 6),
            _ => return None,
        },
        LINKTYPE_RAW => (data, data.first()? >> 4),
        LINKTYPE_IPV4 => (data, 4),
        LINKTYPE_IPV6 => (data, 6),
        _ => return None,
    };
    let first = *ip.first()?;
    // Raw IP gives the version from the packet itself: only 4 and 6 are IP.
    if first >> 4 != version || (version != 4 && version != 6) {
        return None;
    }
    let (protocol, header_len, total_len) = if version == 4 {
        let header_len = usize::from(first & 0x0f) * 4;
        // Fragments (MF set or an offset) take the slow path.
        if header_len < ipv4::MIN_HEADER_LEN
            || ip.len() < header_len
            || be16(ip, ipv4::FLAGS_FRAG) & 0x3fff != 0
        {
            return None;
        }
        (
            ip[ipv4::PROTOCOL],
            header_len,
            usize::from(be16(ip, ipv4::LENGTH)),
        )
    } else {
        if ip.len() < ipv6::HEADER_LEN {
            return None;
        }
        (
            ip[ipv6::NEXT_HEADER],
            ipv6::HEADER_LEN,
            ipv6::HEADER_LEN + usize::from(be16(ip, ipv6::PAYLOAD_LEN)),
        )
    };
    // What decode() would see as the transport header: captured and within the IP length.
    let transport = ip.get(header_len..total_len.min(ip.len()))?;
    // Tunnels take the slow path, where decode finds the datagram inside:
    // UDP to the VXLAN port here; IP-in-IP (4), 6in4 (41) and GRE (47) are
    // neither UDP nor TCP, and 802.3 framing has no IP EtherType, so they
    // never get this far.
    let enough = match protocol {
        p if p == ip_number::UDP.0 => {
            transport.len() >= udp::HEADER_LEN && be16(transport, udp::DST_PORT) != vxlan::PORT
        }
        p if p == ip_number::TCP.0 => {
            let offset = usize::from(*transport.get(tcp_field::DATA_OFFSET)? >> 4) * 4;
            offset >= tcp_field::MIN_HEADER_LEN && transport.len() >= offset
        }
        _ => false,
    };
    if !enough {
        return None;
    }
    Some(QuickFlow {
        protocol,
        src_port: be16(transport, udp::SRC_PORT),
        dst_port: be16(transport, udp::DST_PORT),
        ip,
    })
}

/// Decodes the payload of a reassembled datagram as if it had arrived in one
/// packet: `last` is the IP header of its last fragment (addresses, TTL),
/// `payload` the reassembled IP payload (transport header and data). The
/// fragments came inside `tunnel` (its [`Packet::encapsulation`] and
/// [`Packet::outer`]), if they did.
pub(crate) fn decode_reassembled<'a>(
    link: Option<Link>,
    tunnel: (Option<Encapsulation>, Option<Ip>),
    last: &Ip,
    protocol: u8,
    payload: &'a [u8],
) -> Packet<'a> {
    let mut packet = Packet {
        link,
        ip: Some(Ip {
            total_len: last.header_len + payload.len(),
            fragment: false,
            frag: None,
            protocol,
            ..last.clone()
        }),
        transport: Transport::Other,
        problems: Vec::new(),
        encapsulation: tunnel.0,
        outer: tunnel.1,
    };
    decode_transport(
        last.src,
        last.dst,
        protocol,
        payload,
        Verify {
            complete: true,
            verify: true,
        },
        payload.len(),
        &mut packet,
    );
    packet
}

/// The IP version an EtherType announces.
fn from_ether_type(t: u16) -> Option<u8> {
    match t {
        0x0800 => Some(4),
        0x86dd => Some(6),
        _ => None,
    }
}

/// Ethernet II with any 802.1Q/802.1ad tags, or IEEE 802.3 with LLC/SNAP (at
/// least the 14-byte header is there). The bool is true for LLC/SNAP.
fn decode_ethernet(
    data: &[u8],
    mut link: Link,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>, bool)> {
    link.dst_mac = Some(data[ethernet::DST].try_into().ok()?);
    link.src_mac = Some(data[ethernet::SRC].try_into().ok()?);
    let mut at = ethernet::ETHERTYPE.start;
    let mut ether_type = be16(data, at..at + 2);
    while matches!(ether_type, 0x8100 | 0x88a8 | 0x9100) {
        if data.len() < at + ethernet::VLAN_TAG_LEN + 2 {
            problems.push(Problem::VlanTagCut);
            return None;
        }
        link.vlans.push(be16(data, at + 2..at + 4) & 0x0fff);
        at += ethernet::VLAN_TAG_LEN;
        ether_type = be16(data, at..at + 2);
    }
    link.header_len = at + 2;
    if ether_type <= llc::MAX_LENGTH {
        // An 802.3 length: IP comes only behind LLC/SNAP with an EtherType.
        if let Some(snap) = snap_ether_type(&data[link.header_len..]) {
            link.ether_type = Some(snap);
            link.header_len += llc::HEADER_LEN;
            return Some((link, from_ether_type(snap), true));
        }
    }
    link.ether_type = Some(ether_type);
    Some((link, from_ether_type(ether_type), false))
}

/// The EtherType of an LLC/SNAP header (`aa aa 03`, organization code
/// `00 00 00` or `00 00 f8`), or None when `llc` is not one.
fn snap_ether_type(llc_header: &[u8]) -> Option<u16> {
    let header = llc_header.get(..llc::HEADER_LEN)?;
    let snap = header[llc::DSAP_SSAP_CONTROL] == [0xaa, 0xaa, 0x03]
        && matches!(header[llc::OUI], [0, 0, 0] | [0, 0, 0xf8]);
    snap.then(|| be16(header, llc::ETHERTYPE))
}

/// The IP version of a BSD loopback frame (at least its 4-byte header is there).
fn loopback_ip_version(link_type: u32, data: &[u8]) -> Option<u8> {
    let b = [data[0], data[1], data[2], data[3]];
    // NULL is in the byte order of the machine that wrote it; a family
    // is small, so the non-zero half tells the order.
    let family = if link_type == LINKTYPE_LOOP || (b[0] == 0 && b[1] == 0) {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    };
    match family {
        2 => Some(4),
        10 | 24 | 28 | 30 => Some(6),
        _ => None,
    }
}

/// Reads the link header; returns it with the IP version it announces (None
/// for a non-IP frame).
fn decode_link(link_type: u32, data: &[u8], packet: &mut Packet<'_>) -> Option<(Link, Option<u8>)> {
    let problems = &mut packet.problems;
    let mut link = Link {
        dst_mac: None,
        src_mac: None,
        ether_type: None,
        vlans: Vec::new(),
        header_len: 0,
    };
    let need = |needed: usize, what: &'static str, problems: &mut Vec<Problem>| {
        if data.len() < needed {
            problems.push(Problem::LinkHeaderCut {
                what,
                captured: data.len(),
                needed,
            });
            false
        } else {
            true
        }
    };
    match link_type {
        LINKTYPE_ETHERNET => {
            if !need(ethernet::HEADER_LEN, "Ethernet header", problems) {
                return None;
            }
            let (link, version, snap) = decode_ethernet(data, link, problems)?;
            if snap {
                packet.encapsulation = Some(Encapsulation::LlcSnap);
            }
            Some((link, version))
        }
        LINKTYPE_LINUX_SLL => {
            if !need(sll::HEADER_LEN, "Linux cooked (SLL) header", problems) {
                return None;
            }
            let t = be16(data, sll::PROTOCOL);
            link.ether_type = Some(t);
            link.header_len = sll::HEADER_LEN;
            Some((link, from_ether_type(t)))
        }
        LINKTYPE_LINUX_SLL2 => {
            if !need(sll2::HEADER_LEN, "Linux cooked (SLL2) header", problems) {
                return None;
            }
            let t = be16(data, sll2::PROTOCOL);
            link.ether_type = Some(t);
            link.header_len = sll2::HEADER_LEN;
            Some((link, from_ether_type(t)))
        }
        LINKTYPE_NULL | LINKTYPE_LOOP => {
            if !need(null::HEADER_LEN, "loopback header", problems) {
                return None;
            }
            link.header_len = null::HEADER_LEN;
            Some((link, loopback_ip_version(link_type, data)))
        }
        LINKTYPE_RAW | 12 | 14 | LINKTYPE_IPV4 | LINKTYPE_IPV6 => {
            let version = match link_type {
                LINKTYPE_IPV4 => Some(4),
                LINKTYPE_IPV6 => Some(6),
                _ => data.first().map(|b| b >> 4).filter(|v| *v == 4 || *v == 6),
            };
            Some((link, version))
        }
        _ => None,
    }
}

fn decode_ipv4<'a>(data: &'a [u8], frame_cut: bool, verify: bool, packet: &mut Packet<'a>) {
    let header = match Ipv4HeaderSlice::from_slice(data) {
        Ok(h) => h,
        Err(e) => {
            packet.problems.push(Problem::Ipv4Unreadable(e.to_string()));
            return;
        }
    };
    let header_len = header.slice().len();
    let total_len = usize::from(header.total_len());
    let checksum = Checksum {
        value: header.header_checksum(),
        state: if verify {
            ipv4_header_checksum(header.slice())
        } else {
            ChecksumState::Unverified
        },
    };
    let fragment = header.is_fragmenting_payload();
    let ip = Ip {
        version: 4,
        src: IpAddr::V4(header.source_addr()),
        dst: IpAddr::V4(header.destination_addr()),
        header_len,
        tos: data[ipv4::TOS],
        total_len,
        identification: Some(header.identification()),
        dont_fragment: header.dont_fragment(),
        fragment,
        frag: fragment.then(|| FragmentInfo {
            id: u32::from(header.identification()),
            offset: header.fragments_offset().value(),
            more: header.more_fragments(),
            protocol: header.protocol().0,
            cut: total_len > data.len(),
        }),
        ttl: header.ttl(),
        protocol: header.protocol().0,
        header_checksum: Some(checksum),
    };
    if let ChecksumState::Bad { expected } = checksum.state {
        packet.problems.push(Problem::BadChecksum {
            field: "ip.checksum",
            value: checksum.value,
            expected,
        });
    }
    let protocol = ip.protocol;
    let (src, dst) = (ip.src, ip.dst);
    packet.ip = Some(ip);
    if total_len < header_len {
        packet.problems.push(Problem::IpLengthBelowHeader {
            total_len,
            header_len,
        });
        return;
    }
    let available = data.len();
    let payload = if total_len <= available {
        if total_len < available {
            // Ethernet pads short frames to 60 bytes; anything else is odd but harmless.
        }
        &data[header_len..total_len]
    } else {
        if !frame_cut {
            packet.problems.push(Problem::IpLengthBeyondFrame {
                total_len,
                available,
            });
        }
        &data[header_len..]
    };
    let complete = total_len <= available;
    if fragment {
        packet.transport = Transport::Fragment(payload);
        return;
    }
    decode_transport(
        src,
        dst,
        protocol,
        payload,
        Verify { complete, verify },
        total_len - header_len,
        packet,
    );
}

fn decode_ipv6<'a>(data: &'a [u8], frame_cut: bool, verify: bool, packet: &mut Packet<'a>) {
    let header = match Ipv6HeaderSlice::from_slice(data) {
        Ok(h) => h,
        Err(e) => {
            packet.problems.push(Problem::Ipv6Unreadable(e.to_string()));
            return;
        }
    };
    let payload_len = usize::from(header.payload_length());
    let total_len = ipv6::HEADER_LEN + payload_len;
    let available = data.len();
    let complete = total_len <= available;
    if !complete && !frame_cut {
        packet.problems.push(Problem::Ipv6LengthBeyondFrame {
            payload_len,
            available: available - ipv6::HEADER_LEN,
        });
    }
    let body = &data[ipv6::HEADER_LEN..total_len.min(available)];
    let complete = total_len <= available;
    let (next, rest, fragment, frag) =
        match Ipv6ExtensionsSlice::from_slice(header.next_header(), body) {
            Ok((exts, next, rest)) => {
                let frag = exts.clone().into_iter().find_map(|ext| match ext {
                    etherparse::Ipv6ExtensionSlice::Fragment(f) if f.is_fragmenting_payload() => {
                        Some(FragmentInfo {
                            id: f.identification(),
                            offset: f.fragment_offset().value(),
                            more: f.more_fragments(),
                            protocol: next.0,
                            cut: !complete,
                        })
                    }
                    _ => None,
                });
                (next.0, rest, exts.is_fragmenting_payload(), frag)
            }
            Err(e) => {
                packet
                    .problems
                    .push(Problem::Ipv6ExtensionsUnreadable(e.to_string()));
                (header.next_header().0, &body[body.len()..], false, None)
            }
        };
    let ext_len = body.len() - rest.len();
    let src = IpAddr::V6(header.source_addr());
    let dst = IpAddr::V6(header.destination_addr());
    packet.ip = Some(Ip {
        version: 6,
        src,
        dst,
        header_len: ipv6::HEADER_LEN,
        tos: header.traffic_class(),
        total_len,
        identification: None,
        dont_fragment: false,
        fragment,
        frag,
        ttl: header.hop_limit(),
        protocol: next,
        header_checksum: None,
    });
    if fragment {
        packet.transport = Transport::Fragment(rest);
        return;
    }
    decode_transport(
        src,
        dst,
        next,
        rest,
        Verify { complete, verify },
        payload_len.saturating_sub(ext_len),
        packet,
    );
}

/// Whether the IP packet was captured whole, and whether to verify checksums.
#[derive(Clone, Copy)]
struct Verify {
    complete: bool,
    verify: bool,
}

/// Classifies an IPv4 header checksum; `header` is the whole header.
fn ipv4_header_checksum(header: &[u8]) -> ChecksumState {
    if Sum16BitWords::new().add_slice(header).ones_complement() == 0 {
        return ChecksumState::Correct;
    }
    let mut zeroed = [0u8; ipv4::MAX_HEADER_LEN];
    let n = header.len().min(ipv4::MAX_HEADER_LEN);
    zeroed[..n].copy_from_slice(&header[..n]);
    zeroed[ipv4::CHECKSUM].fill(0);
    let expected = Sum16BitWords::new()
        .add_slice(&zeroed[..n])
        .ones_complement()
        .to_be(); // Sum16BitWords sums in native byte order
    ChecksumState::Bad { expected }
}

/// `payload` is what was captured of the IP payload; `ip_payload_len` is what
/// the IP header says it is.
fn decode_transport<'a>(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    payload: &'a [u8],
    verify: Verify,
    ip_payload_len: usize,
    packet: &mut Packet<'a>,
) {
    // One level of tunnel: a tunnel inside a tunnel stays as it is.
    let outermost = packet.encapsulation.is_none();
    match protocol {
        p if p == ip_number::UDP.0 => {
            decode_udp(src, dst, payload, verify, ip_payload_len, packet);
            match &packet.transport {
                Transport::Udp(u) if outermost && u.dst_port == vxlan::PORT => {
                    let (body, whole) = (u.payload, u.payload_complete);
                    decode_vxlan(
                        body,
                        Verify {
                            complete: whole,
                            ..verify
                        },
                        packet,
                    );
                }
                _ => {}
            }
        }
        p if p == ip_number::TCP.0 => decode_tcp(payload, ip_payload_len, packet),
        1 | 58 => decode_icmp(protocol, payload, packet),
        4 if outermost => {
            enter_tunnel(Encapsulation::IpInIp, packet);
            decode_ipv4(payload, !verify.complete, verify.verify, packet);
        }
        41 if outermost => {
            enter_tunnel(Encapsulation::SixInFour, packet);
            decode_ipv6(payload, !verify.complete, verify.verify, packet);
        }
        47 if outermost => decode_gre(payload, verify, packet),
        _ => {}
    }
}

/// From here on the packet's IP layer and transport are the tunnel's
/// payload's; the tunnel's own IP header moves to [`Packet::outer`].
fn enter_tunnel(encapsulation: Encapsulation, packet: &mut Packet<'_>) {
    packet.encapsulation = Some(encapsulation);
    packet.outer = packet.ip.take();
    packet.transport = Transport::Other;
}

/// A tunnel header (or the frame it carries) too short to read: a problem
/// when the datagram was captured whole, silence when the capture cut it.
fn tunnel_cut(
    what: &'static str,
    captured: usize,
    needed: usize,
    verify: Verify,
) -> Option<Problem> {
    verify.complete.then_some(Problem::TunnelHeaderCut {
        what,
        captured,
        needed,
    })
}

/// The payload of a UDP datagram to port 4789: a VXLAN header, then an
/// Ethernet frame. Too short for both, it stays a plain UDP datagram.
fn decode_vxlan<'a>(body: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
    let needed = vxlan::HEADER_LEN + ethernet::HEADER_LEN;
    if body.len() < needed {
        packet.problems.extend(tunnel_cut(
            "VXLAN header and its Ethernet frame",
            body.len(),
            needed,
            verify,
        ));
        return;
    }
    let v = &body[vxlan::VNI];
    let vni = u32::from_be_bytes([0, v[0], v[1], v[2]]);
    enter_tunnel(Encapsulation::Vxlan { vni }, packet);
    decode_inner_ethernet(&body[vxlan::HEADER_LEN..], verify, packet);
}

/// The Ethernet frame a VXLAN or gretap tunnel carries, down to its IP packet.
fn decode_inner_ethernet<'a>(frame: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
    let blank = Link {
        dst_mac: None,
        src_mac: None,
        ether_type: None,
        vlans: Vec::new(),
        header_len: 0,
    };
    let Some((link, version, _)) = decode_ethernet(frame, blank, &mut packet.problems) else {
        return;
    };
    decode_inner_ip(version, &frame[link.header_len..], verify, packet);
}

/// The inner IP packet of a tunnel, as announced (4, 6, or not IP).
fn decode_inner_ip<'a>(version: Option<u8>, ip: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
    match version {
        Some(4) => decode_ipv4(ip, !verify.complete, verify.verify, packet),
        Some(6) => decode_ipv6(ip, !verify.complete, verify.verify, packet),
        _ => {}
    }
}

/// A GRE packet (version 0, without the old routing field) carrying IPv4,
/// IPv6 or Ethernet; anything else stays "another protocol".
fn decode_gre<'a>(payload: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
    if payload.len() < gre::HEADER_LEN {
        packet.problems.extend(tunnel_cut(
            "GRE header",
            payload.len(),
            gre::HEADER_LEN,
            verify,
        ));
        return;
    }
    let flags = be16(payload, gre::FLAGS_VERSION);
    let protocol_type = be16(payload, gre::PROTOCOL);
    let readable = flags & (gre::VERSION | gre::ROUTING_PRESENT) == 0;
    if !readable || !matches!(protocol_type, 0x0800 | 0x86dd | gre::ETHERNET) {
        return;
    }
    let options = [
        gre::CHECKSUM_PRESENT,
        gre::KEY_PRESENT,
        gre::SEQUENCE_PRESENT,
    ]
    .iter()
    .filter(|bit| flags & **bit != 0)
    .count();
    let header_len = gre::HEADER_LEN + options * gre::OPTION_LEN;
    if payload.len() < header_len {
        packet
            .problems
            .extend(tunnel_cut("GRE header", payload.len(), header_len, verify));
        return;
    }
    enter_tunnel(Encapsulation::Gre { protocol_type }, packet);
    let inner = &payload[header_len..];
    if protocol_type == gre::ETHERNET {
        if inner.len() < ethernet::HEADER_LEN {
            packet.problems.extend(tunnel_cut(
                "Ethernet header in GRE",
                inner.len(),
                ethernet::HEADER_LEN,
                verify,
            ));
            return;
        }
        decode_inner_ethernet(inner, verify, packet);
    } else {
        decode_inner_ip(from_ether_type(protocol_type), inner, verify, packet);
    }
}

fn decode_udp<'a>(
    src: IpAddr,
    dst: IpAddr,
    payload: &'a [u8],
    verify: Verify,
    ip_payload_len: usize,
    packet: &mut Packet<'a>,
) {
    if payload.len() < udp::HEADER_LEN {
        packet.problems.push(Problem::UdpHeaderCut {
            captured: payload.len(),
        });
        return;
    }
    let src_port = be16(payload, udp::SRC_PORT);
    let dst_port = be16(payload, udp::DST_PORT);
    let length = be16(payload, udp::LENGTH);
    let value = be16(payload, udp::CHECKSUM);
    let udp_len = usize::from(length);
    if udp_len < udp::HEADER_LEN {
        packet
            .problems
            .push(Problem::UdpLengthBelowHeader { length });
    } else if udp_len != ip_payload_len {
        packet.problems.push(Problem::UdpLengthMismatch {
            length,
            ip_payload_len,
        });
    }
    let end = udp_len.clamp(8, payload.len().max(8)).min(payload.len());
    let payload_complete = verify.complete && udp_len <= payload.len() && udp_len >= 8;
    let checksum = udp_checksum(
        src,
        dst,
        &payload[..end.max(8)],
        length,
        value,
        payload_complete && verify.verify,
    );
    if let ChecksumState::Bad { expected } = checksum.state {
        packet.problems.push(Problem::BadChecksum {
            field: "udp.checksum",
            value,
            expected,
        });
    }
    if checksum.state == ChecksumState::Absent && src.is_ipv6() {
        packet.problems.push(Problem::ZeroUdpChecksumOverIpv6);
    }
    packet.transport = Transport::Udp(Udp {
        src_port,
        dst_port,
        length,
        checksum,
        payload: &payload[8..end.max(8)],
        payload_complete,
    });
}

fn decode_tcp(payload: &[u8], ip_payload_len: usize, packet: &mut Packet<'_>) {
    match TcpHeaderSlice::from_slice(payload) {
        Ok(tcp) => {
            let flags = TcpFlags(tcp.slice()[tcp_field::FLAGS]);
            packet.transport = Transport::Tcp(Tcp {
                src_port: tcp.source_port(),
                dst_port: tcp.destination_port(),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                flags,
                payload_len: ip_payload_len.saturating_sub(tcp.slice().len()),
            });
        }
        Err(e) => packet.problems.push(Problem::TcpUnreadable(e.to_string())),
    }
}

fn decode_icmp(protocol: u8, payload: &[u8], packet: &mut Packet<'_>) {
    if payload.len() < icmp_field::HEADER_LEN {
        packet.problems.push(Problem::IcmpHeaderCut {
            captured: payload.len(),
        });
        return;
    }
    let (icmp_type, code) = (payload[icmp_field::TYPE], payload[icmp_field::CODE]);
    let v6 = protocol == 58;
    let port_unreachable = if v6 {
        icmp_type == 1 && code == 4
    } else {
        icmp_type == 3 && code == 3
    };
    let is_error = if v6 {
        icmp_type < 128
    } else {
        matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
    };
    let quoted_udp = if is_error {
        quoted_udp(&payload[icmp_field::HEADER_LEN..], v6)
    } else {
        None
    };
    packet.transport = Transport::Icmp(Icmp {
        icmp_type,
        code,
        port_unreachable,
        quoted_udp,
    });
}

/// The endpoints of the UDP datagram an ICMP error quotes.
fn quoted_udp(quoted: &[u8], v6: bool) -> Option<(SocketAddr, SocketAddr)> {
    let udp_number = ip_number::UDP.0;
    let (src, dst, u) = if v6 {
        if quoted.len() < ipv6::HEADER_LEN + 8 || quoted[ipv6::NEXT_HEADER] != udp_number {
            return None;
        }
        let (src, dst) = ipv6_addrs(quoted);
        (src, dst, &quoted[ipv6::HEADER_LEN..])
    } else {
        let ihl = usize::from(quoted.first()? & 0x0f) * 4;
        if ihl < ipv4::MIN_HEADER_LEN
            || quoted.len() < ihl + 4
            || quoted[ipv4::PROTOCOL] != udp_number
        {
            return None;
        }
        let (src, dst) = ipv4_addrs(quoted);
        (src, dst, &quoted[ihl..])
    };
    Some((
        SocketAddr::new(src, be16(u, udp::SRC_PORT)),
        SocketAddr::new(dst, be16(u, udp::DST_PORT)),
    ))
}

/// Source and destination of an IPv4 header (at least 20 bytes).
fn ipv4_addrs(ip: &[u8]) -> (IpAddr, IpAddr) {
    let octets = |r: std::ops::Range<usize>| {
        let a = &ip[r];
        IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
    };
    (octets(ipv4::SRC), octets(ipv4::DST))
}

/// Source and destination of an IPv6 header (at least 40 bytes).
fn ipv6_addrs(ip: &[u8]) -> (IpAddr, IpAddr) {
    let octets = |r: std::ops::Range<usize>| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&ip[r]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    (octets(ipv6::SRC), octets(ipv6::DST))
}

/// The pseudo-header sum for UDP between `src` and `dst` with this length.
fn pseudo_header(src: IpAddr, dst: IpAddr, length: u16) -> Sum16BitWords {
    let mut sum = Sum16BitWords::new();
    sum = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => sum.add_4bytes(s.octets()).add_4bytes(d.octets()),
        (IpAddr::V6(s), IpAddr::V6(d)) => sum.add_16bytes(s.octets()).add_16bytes(d.octets()),
        // One IP header carries one family; mixed cannot happen.
        _ => sum,
    };
    sum.add_2bytes([0, ip_number::UDP.0])
        .add_2bytes(length.to_be_bytes())
}

/// Classifies a UDP checksum. `segment` is the UDP header and payload.
fn udp_checksum(
    src: IpAddr,
    dst: IpAddr,
    segment: &[u8],
    length: u16,
    value: u16,
    complete: bool,
) -> Checksum {
    if value == 0 && src.is_ipv4() {
        return Checksum {
            value,
            state: ChecksumState::Absent,
        };
    }
    if !complete {
        return Checksum {
            value,
            state: ChecksumState::Unverified,
        };
    }
    let pseudo = || pseudo_header(src, dst, length);
    let mut zeroed = [0u8; 8];
    zeroed.copy_from_slice(&segment[..8]);
    zeroed[6] = 0;
    zeroed[7] = 0;
    let expected = pseudo()
        .add_slice(&zeroed)
        .add_slice(&segment[8..])
        .to_ones_complement_with_no_zero()
        .to_be(); // Sum16BitWords sums in native byte order
    let state = if pseudo().add_slice(segment).ones_complement() == 0 {
        ChecksumState::Correct
    } else if value == !pseudo().ones_complement().to_be() {
        // Linux on lo (and any NIC with TX offload, captured before the NIC)
        // leaves the folded pseudo-header sum, uncomplemented, in the field.
        ChecksumState::Partial { expected }
    } else {
        ChecksumState::Bad { expected }
    };
    Checksum { value, state }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frame 1 of fixtures/seed-ipv4.pcap, recorded by `tcpdump -i lo`.
    static TCPDUMP_LO_V4: [u8; 52] = [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x26, 0x46, 0xce, 0x40, 0x00, 0x40, 0x11, 0xf5, 0xf6, 0x7f, 0x00, 0x00, 0x01,
        0x7f, 0x00, 0x00, 0x01, 0xbe, 0xa1, 0x1d, 0x20, 0x00, 0x12, 0xfe, 0x25, 0x48, 0x65, 0x6c,
        0x6c, 0x6f, 0x20, 0x4c, 0x6f, 0x6c, 0x61,
    ];

    #[test]
    fn loopback_udp_checksum_is_partial_not_bad() {
        let p = decode(1, &TCPDUMP_LO_V4, 52);
        let Transport::Udp(udp) = &p.transport else {
            panic!("{p:?}")
        };
        assert_eq!(
            udp.checksum.state,
            ChecksumState::Partial { expected: 0x4943 }
        );
        assert_eq!(
            p.ip.as_ref().unwrap().header_checksum.unwrap().state,
            ChecksumState::Correct
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
    }

    #[test]
    fn flipped_payload_bit_makes_udp_checksum_bad() {
        let mut frame = TCPDUMP_LO_V4;
        frame[40] = 0x49;
        frame[41] = 0x43; // the correct checksum
        assert_eq!(decode(1, &frame, 52).problems, Vec::<Problem>::new());
        frame[51] ^= 1;
        let p = decode(1, &frame, 52);
        assert_eq!(p.problems.len(), 1);
        assert!(
            p.problems[0]
                .to_string()
                .starts_with("udp.checksum 0x4943 is bad"),
            "{:?}",
            p.problems
        );
    }

    #[test]
    fn lying_lengths_are_reported_not_trusted() {
        let mut frame = TCPDUMP_LO_V4;
        frame[17] = 0xff; // ip.len 0x00ff
        let p = decode(1, &frame, 52);
        assert!(
            p.problems
                .iter()
                .any(|m| m.to_string().contains("ip.len 255 claims more")),
            "{:?}",
            p.problems
        );
        let mut frame = TCPDUMP_LO_V4;
        frame[14] = 0x4f; // IHL 15: header runs past the frame
        let p = decode(1, &frame, 52);
        assert!(
            p.problems
                .iter()
                .any(|m| m.to_string().contains("IPv4 header unreadable")),
            "{:?}",
            p.problems
        );
    }

    #[test]
    fn every_prefix_of_a_frame_decodes_without_panic() {
        for link_type in [0, 1, 101, 108, 113, 228, 229, 276] {
            for n in 0..TCPDUMP_LO_V4.len() {
                let _ = decode(link_type, &TCPDUMP_LO_V4[..n], 52);
            }
        }
    }

    #[test]
    fn snaplen_cut_payload_is_unverified() {
        let p = decode(1, &TCPDUMP_LO_V4[..46], 52);
        let Transport::Udp(udp) = &p.transport else {
            panic!("{p:?}")
        };
        assert!(!udp.payload_complete);
        assert_eq!(udp.checksum.state, ChecksumState::Unverified);
        assert_eq!(udp.payload, b"Hell");
    }

    fn fixture_frame(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut reader = crate::capture::CaptureReader::open(path.as_ref()).unwrap();
        reader.next_frame().unwrap().unwrap().data.to_vec()
    }

    fn inner_dst(p: &Packet<'_>) -> Option<SocketAddr> {
        p.endpoints().map(|(_, dst)| dst)
    }

    #[test]
    fn gre_options_versions_and_ethernet() {
        let frame = fixture_frame("tunnel-gre.pcap");
        let (head, inner) = (&frame[..34], &frame[42..]); // outer, then the IP packet
        let dst = Some("127.0.0.1:7456".parse().unwrap());
        let gre_frame = |flags: u16, protocol: u16, options: &[u8], body: &[u8]| {
            let mut f = head.to_vec();
            f.extend_from_slice(&flags.to_be_bytes());
            f.extend_from_slice(&protocol.to_be_bytes());
            f.extend_from_slice(options);
            f.extend_from_slice(body);
            let total = (f.len() - 14) as u16;
            f[16..18].copy_from_slice(&total.to_be_bytes());
            f
        };
        // Checksum, key and sequence number: 12 bytes of options.
        let f = gre_frame(0xb000, 0x0800, &[0; 12], inner);
        let p = decode_with(1, &f, f.len(), false);
        assert_eq!(
            p.encapsulation,
            Some(Encapsulation::Gre {
                protocol_type: 0x0800
            })
        );
        assert_eq!(inner_dst(&p), dst);
        // gretap: an Ethernet frame inside.
        let mut ethernet = vec![0; 12];
        ethernet.extend_from_slice(&[0x08, 0x00]);
        ethernet.extend_from_slice(inner);
        let f = gre_frame(0, gre::ETHERNET, &[], &ethernet);
        assert_eq!(inner_dst(&decode_with(1, &f, f.len(), false)), dst);
        // Enhanced GRE (version 1, PPTP) and RFC 1701 routing are not read.
        for flags in [0x0001, 0x4000] {
            let f = gre_frame(flags, 0x0800, &[0; 4], inner);
            let p = decode(1, &f, f.len());
            assert_eq!((p.encapsulation, inner_dst(&p)), (None, None));
        }
        // Options announced but not there: damage, named.
        let f = gre_frame(0xb000, 0x0800, &[0; 4], &[]);
        let p = decode(1, &f, f.len());
        assert!(
            p.problems
                .iter()
                .any(|m| m.to_string() == "GRE header cut short: 8 of 16 bytes"),
            "{:?}",
            p.problems
        );
    }

    #[test]
    fn one_level_of_tunnel_only() {
        // IPIP in IPIP: the first level is decoded, the second is left alone.
        let frame = fixture_frame("tunnel-ipip.pcap");
        let mut twice = frame[..34].to_vec();
        twice.extend_from_slice(&frame[14..]);
        let total = (twice.len() - 14) as u16;
        twice[16..18].copy_from_slice(&total.to_be_bytes());
        let p = decode_with(1, &twice, twice.len(), false);
        assert_eq!(p.encapsulation, Some(Encapsulation::IpInIp));
        assert_eq!(p.ip.as_ref().map(|ip| ip.protocol), Some(4));
        assert!(matches!(p.transport, Transport::Other));
    }

    #[test]
    fn llc_without_snap_is_not_ip() {
        let mut frame = fixture_frame("llc-snap.pcap");
        assert_eq!(
            decode(1, &frame, frame.len()).encapsulation,
            Some(Encapsulation::LlcSnap)
        );
        frame[14] = 0x42; // DSAP 0x42: spanning tree, not SNAP
        let p = decode(1, &frame, frame.len());
        assert_eq!((p.encapsulation, p.ip.is_none()), (None, true));
    }

    #[test]
    fn every_prefix_of_a_tunnel_decodes_without_panic() {
        for name in [
            "tunnel-vxlan.pcap",
            "tunnel-gre.pcap",
            "tunnel-ipip.pcap",
            "tunnel-6in4.pcap",
            "llc-snap.pcap",
        ] {
            let frame = fixture_frame(name);
            for n in 0..frame.len() {
                for orig_len in [n, frame.len()] {
                    let p = decode(1, &frame[..n], orig_len);
                    let _ = crate::packet::summary::summarize(&p);
                }
            }
        }
    }

    fn ip_header_len(ip: &[u8]) -> usize {
        if ip[0] >> 4 == 4 {
            usize::from(ip[0] & 0x0f) * 4
        } else {
            ipv6::HEADER_LEN
        }
    }

    /// The checker counts other flows through `quick_flow` alone; it must
    /// never disagree with `decode`. Every frame of every fixture, and
    /// thousands of one-byte mutations of them, under every link type.
    #[test]
    fn quick_flow_agrees_with_decode() {
        let mut frames = Vec::new();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(mut reader) = crate::capture::CaptureReader::open(&path) else {
                continue;
            };
            while let Ok(Some(f)) = reader.next_frame() {
                frames.push((f.link_type, f.data.to_vec()));
            }
        }
        assert!(frames.len() > 50);
        let agree = |link_type: u32, data: &[u8]| {
            if let Some(q) = quick_flow(link_type, data) {
                let p = decode(link_type, data, data.len());
                let protocol = match p.transport {
                    Transport::Udp(_) => 17,
                    Transport::Tcp(_) => 6,
                    _ => 0,
                };
                assert_eq!(protocol, q.protocol, "link {link_type}: {data:02x?}");
                assert_eq!(p.encapsulation, None, "link {link_type}: {data:02x?}");
                assert_eq!(
                    p.endpoints(),
                    Some(q.endpoints()),
                    "link {link_type}: {data:02x?}"
                );
            }
        };
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for (link_type, data) in &frames {
            for lt in [*link_type, 0, 1, 101, 108, 113, 228, 229, 276] {
                agree(lt, data);
            }
            // Every plain UDP datagram again, sent to the VXLAN port: the
            // fast path must refuse it, whatever follows the UDP header.
            if let Some(q) = quick_flow(*link_type, data) {
                let at = data.len() - q.ip.len() + ip_header_len(q.ip) + udp::DST_PORT.start;
                let mut tunnel = data.clone();
                tunnel[at..at + 2].copy_from_slice(&vxlan::PORT.to_be_bytes());
                if q.protocol == ip_number::UDP.0 {
                    assert!(quick_flow(*link_type, &tunnel).is_none());
                }
                agree(*link_type, &tunnel);
            }
            for _ in 0..1000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let mut mutated = data.clone();
                if mutated.is_empty() {
                    break;
                }
                let at = (seed as usize) % mutated.len().min(80);
                mutated[at] = (seed >> 32) as u8;
                let cut = (seed >> 40) as usize % (mutated.len() + 1);
                agree(*link_type, &mutated);
                agree(*link_type, &mutated[..cut]);
            }
        }
    }
}
