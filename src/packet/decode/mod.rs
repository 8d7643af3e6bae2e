//! Decoding one captured frame: link layer, IP, and UDP/TCP/ICMP, with every
//! length checked against the bytes that were captured and every checksum
//! classified as tshark would (correct, bad, or partial from offload).
//!
//! etherparse's header slices read the fields; they never verify checksums or
//! cross-check lengths, so that is done here. Damage is reported per frame in
//! [`Packet::problems`]; decoding never fails and never panics.
//!
//! One file per layer, each reading its header and handing what it carries
//! back here: `link` (Ethernet, VLAN tags, 802.3 LLC/SNAP, Linux cooked,
//! BSD loopback, raw IP), `ip` (IPv4, IPv6 and its extension headers,
//! fragments), `transport` (UDP, TCP, ICMP), `tunnel` (VXLAN, GRE, IP-in-IP,
//! 6in4), `checksum` (what a checksum field holds) and `problem` (what is
//! wrong with a frame). This file holds the frame as a whole ([`Packet`],
//! [`Transport`], [`Encapsulation`]) and the one dispatch from an IP payload
//! to the layer that reads it, which is where tunnels recurse. `quick` is the
//! checker's fast path over the same named offsets.

use std::net::{IpAddr, SocketAddr};

use etherparse::ip_number;

use crate::packet::wire::field::{geneve, mpls, vxlan};

mod checksum;
pub mod heuristics;
mod ip;
mod ipcomp;
mod layer;
mod link;
pub(crate) mod ports;
mod problem;
mod quick;
mod transport;
mod tunnel;

pub use checksum::{Checksum, ChecksumState};
pub use ip::{FragmentInfo, Ip};
pub use ipcomp::{Inflated, MAX_INFLATED};
pub use layer::Layer;
pub use link::Link;
pub use problem::Problem;
pub(crate) use quick::{QuickFlow, quick_flow};
pub use transport::{Icmp, Tcp, Udp};

pub use crate::capture::link_type_supported;

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
    /// The outer IP header of a tunnelled packet (VXLAN, Geneve, GRE,
    /// IP-in-IP, 6in4): the outermost tunnel's.
    pub outer: Option<Ip>,
    /// Every header between the link layer and [`ip`](Packet::ip) of a
    /// tunnelled packet, outermost first: each tunnel's IP header, its UDP
    /// header (VXLAN, Geneve), the tunnel header, the Ethernet frame inside.
    pub tunnel_layers: Vec<Layer<'a>>,
    /// The headers an ICMP or ICMPv6 error quotes (the IP header and what
    /// follows it, as far as quoted), after [`transport`](Packet::transport).
    pub quoted: Vec<Layer<'a>>,
    /// The captured bytes of the whole frame.
    pub frame: &'a [u8],
    /// The bytes of [`ip`](Packet::ip): its header and what it carries, as
    /// far as captured and within its length.
    pub ip_bytes: &'a [u8],
    /// The bytes of [`transport`](Packet::transport): its header and payload,
    /// as far as captured.
    pub transport_bytes: &'a [u8],
    /// True while decoding the packet an ICMP error quotes: it quotes
    /// nothing itself and enters no tunnel.
    quoting: bool,
    /// Where an IPComp payload is inflated to ([`decode_in`]); without
    /// one, IPComp stays another protocol.
    store: Option<&'a Inflated>,
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
    /// An Ethernet frame or an IP packet in UDP to port 6081 (RFC 8926).
    Geneve {
        /// The Geneve virtual network identifier.
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
    /// An IP packet compressed by IPComp (IP protocol 108, RFC 3173),
    /// inflated ([`decode_in`]).
    IpComp,
    /// An MPLS label stack and an IP packet in UDP to port 6635 (RFC 7510).
    MplsUdp,
    /// VXLAN-GPE (UDP port 4790): IPv4, IPv6, Ethernet, or an NSH header
    /// (RFC 8300) and what it carries.
    VxlanGpe {
        /// The VXLAN network identifier.
        vni: u32,
    },
}

impl Encapsulation {
    /// The word frame lines put before the protocol: `VXLAN`, `Geneve`, `GRE`, `IPIP`,
    /// `6in4`, `LLC/SNAP`, `IPComp`, `MPLS/UDP`, `VXLAN-GPE`.
    pub fn name(&self) -> &'static str {
        match self {
            Encapsulation::Vxlan { .. } => "VXLAN",
            Encapsulation::Geneve { .. } => "Geneve",
            Encapsulation::Gre { .. } => "GRE",
            Encapsulation::IpInIp => "IPIP",
            Encapsulation::SixInFour => "6in4",
            Encapsulation::LlcSnap => "LLC/SNAP",
            Encapsulation::IpComp => "IPComp",
            Encapsulation::MplsUdp => "MPLS/UDP",
            Encapsulation::VxlanGpe { .. } => "VXLAN-GPE",
        }
    }
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

impl<'a> Packet<'a> {
    /// A packet of which nothing is known yet: `frame` is its captured bytes.
    fn empty(frame: &'a [u8]) -> Packet<'a> {
        Packet {
            link: None,
            ip: None,
            transport: Transport::Other,
            problems: Vec::new(),
            encapsulation: None,
            outer: None,
            tunnel_layers: Vec::new(),
            quoted: Vec::new(),
            frame,
            ip_bytes: &[],
            transport_bytes: &[],
            quoting: false,
            store: None,
        }
    }

    /// Takes the frame around `last` (the last fragment of the datagram
    /// this packet reassembles): its bytes and its tunnel's headers.
    pub fn enclosed_like(&mut self, last: &Packet<'a>) {
        self.frame = last.frame;
        self.ip_bytes = last.ip_bytes;
        self.tunnel_layers = last.tunnel_layers.clone();
    }

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
/// assert_eq!(udp.checksum.state.word(), "good");
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
    decode_frame(link_type, data, orig_len, verify, None)
}

/// Like [`decode_with`], and an IPComp payload is inflated into `store`
/// and decoded: what evaluates fields on a frame calls this (see
/// [`Inflated`]).
pub fn decode_in<'a>(
    link_type: u32,
    data: &'a [u8],
    orig_len: usize,
    verify: bool,
    store: &'a Inflated,
) -> Packet<'a> {
    decode_frame(link_type, data, orig_len, verify, Some(store))
}

fn decode_frame<'a>(
    link_type: u32,
    data: &'a [u8],
    orig_len: usize,
    verify: bool,
    store: Option<&'a Inflated>,
) -> Packet<'a> {
    let mut packet = Packet {
        store,
        ..Packet::empty(data)
    };
    let Some((link, version_hint)) = link::decode_link(link_type, data, &mut packet) else {
        return packet;
    };
    let rest = &data[link.header_len..];
    // What the frame carried from the IP header on, captured or not.
    let wire_len = Some(orig_len.saturating_sub(link.header_len).max(rest.len()));
    packet.link = Some(link);
    match version_hint {
        Some(4) => ip::decode_ipv4(rest, wire_len, verify, &mut packet),
        Some(6) => ip::decode_ipv6(rest, wire_len, verify, &mut packet),
        _ => {}
    }
    packet
}

/// Decodes the payload of a reassembled datagram as if it had arrived in one
/// packet: `last` is the IP header of the fragment that completed it,
/// `payload` the reassembled IP payload (transport header and data). The
/// fragments came inside `tunnel` (its [`Packet::encapsulation`] and
/// [`Packet::outer`]), if they did.
///
/// The IP header stays that frame's own, as tshark shows it on the frame
/// that completes a reassembly: its `ip.len`, `ip.flags.mf` and
/// `ip.frag_offset` (and `ipv6.nxt`) are the fragment's, while the transport
/// fields are the whole datagram's.
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
            protocol,
            ..last.clone()
        }),
        encapsulation: tunnel.0,
        outer: tunnel.1,
        ..Packet::empty(&[])
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

/// IP protocol 51: an authentication header (RFC 4302).
const AUTHENTICATION_HEADER: u8 = 51;

/// The IP header and transport of `packet` as layers, in frame order (what
/// a tunnel or a quoting ICMP error keeps of them).
fn datagram_layers<'a>(packet: &mut Packet<'a>, into: &mut Vec<Layer<'a>>) {
    let ip_bytes = std::mem::take(&mut packet.ip_bytes);
    let transport_bytes = std::mem::take(&mut packet.transport_bytes);
    if let Some(ip) = packet.ip.take() {
        into.push(Layer::Ip(ip, ip_bytes));
    }
    let v6 = matches!(into.last(), Some(Layer::Ip(ip, _)) if ip.version == 6);
    match std::mem::replace(&mut packet.transport, Transport::Other) {
        Transport::Udp(u) => into.push(Layer::Udp(u, transport_bytes)),
        Transport::Tcp(t) => into.push(Layer::Tcp(t, transport_bytes)),
        Transport::Icmp(c) => into.push(Layer::Icmp(c, v6, transport_bytes)),
        Transport::Fragment(_) | Transport::Other => {}
    }
}

/// Whether the IP packet was captured whole, and whether to verify checksums.
#[derive(Clone, Copy)]
struct Verify {
    complete: bool,
    verify: bool,
}

/// The one dispatch from an IP payload to the layer that reads it: UDP, TCP,
/// ICMP, or a tunnel, whose inner IP packet comes back through here.
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
    // IPv4's authentication headers (RFC 4302) stand between the IP header
    // and what it carries, as tshark reads them; IPv6's were read with its
    // extension headers. A loop, not recursion: a crafted packet may stack
    // thousands.
    let (mut protocol, mut payload, mut ip_payload_len) = (protocol, payload, ip_payload_len);
    while protocol == AUTHENTICATION_HEADER {
        let [next, words, ..] = *payload else { break };
        let len = (usize::from(words) + 2) * 4;
        if payload.len() < len {
            break;
        }
        (protocol, payload) = (next, &payload[len..]);
        ip_payload_len = ip_payload_len.saturating_sub(len);
    }
    let tunnels = tunnel::may_enter(packet);
    match protocol {
        p if p == ip_number::UDP.0 => {
            transport::decode_udp(src, dst, payload, verify, ip_payload_len, packet);
            let Transport::Udp(u) = &packet.transport else {
                return;
            };
            let (body, whole) = (u.payload, u.payload_complete);
            let verify = Verify {
                complete: whole,
                ..verify
            };
            match ports::udp_tunnel(u.src_port, u.dst_port) {
                Some(vxlan::PORT) if tunnels => tunnel::decode_vxlan(body, verify, packet),
                Some(geneve::PORT) if tunnels => tunnel::decode_geneve(body, verify, packet),
                Some(vxlan::GPE_PORT) if tunnels => tunnel::decode_vxlan_gpe(body, verify, packet),
                Some(mpls::UDP_PORT) if tunnels => tunnel::decode_mpls_udp(body, verify, packet),
                _ => {}
            }
        }
        p if p == ip_number::TCP.0 => transport::decode_tcp(payload, ip_payload_len, packet),
        1 | 58 => transport::decode_icmp(protocol, payload, verify.verify, packet),
        4 if tunnels => {
            tunnel::enter_tunnel(Encapsulation::IpInIp, None, packet);
            let wire_len = verify.complete.then_some(payload.len());
            ip::decode_ipv4(payload, wire_len, verify.verify, packet);
        }
        41 if tunnels => {
            tunnel::enter_tunnel(Encapsulation::SixInFour, None, packet);
            let wire_len = verify.complete.then_some(payload.len());
            ip::decode_ipv6(payload, wire_len, verify.verify, packet);
        }
        47 if tunnels => tunnel::decode_gre(payload, verify, packet),
        ipcomp::IPCOMP if tunnels => ipcomp::decode_ipcomp(payload, verify, packet),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frame 1 of fixtures/seed-ipv4.pcap, recorded by `tcpdump -i lo`.
    pub(super) static TCPDUMP_LO_V4: [u8; 52] = [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x26, 0x46, 0xce, 0x40, 0x00, 0x40, 0x11, 0xf5, 0xf6, 0x7f, 0x00, 0x00, 0x01,
        0x7f, 0x00, 0x00, 0x01, 0xbe, 0xa1, 0x1d, 0x20, 0x00, 0x12, 0xfe, 0x25, 0x48, 0x65, 0x6c,
        0x6c, 0x6f, 0x20, 0x4c, 0x6f, 0x6c, 0x61,
    ];

    /// The first frame of `fixtures/NAME`.
    pub(super) fn fixture_frame(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut reader = crate::capture::CaptureReader::open(path.as_ref()).unwrap();
        reader.next_frame().unwrap().unwrap().data.to_vec()
    }

    /// TCPDUMP_LO_V4 with `n` authentication headers (12 bytes each)
    /// between its IPv4 header and its UDP header.
    fn behind_authentication_headers(n: usize) -> Vec<u8> {
        let mut frame = TCPDUMP_LO_V4[..34].to_vec();
        for i in 0..n {
            let next = if i + 1 == n {
                17
            } else {
                AUTHENTICATION_HEADER
            };
            frame.extend_from_slice(&[next, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, i as u8]);
        }
        frame.extend_from_slice(&TCPDUMP_LO_V4[34..]);
        frame[14 + 9] = AUTHENTICATION_HEADER;
        let total = (frame.len() - 14) as u16;
        frame[16..18].copy_from_slice(&total.to_be_bytes());
        frame
    }

    #[test]
    fn what_an_authentication_header_protects_is_decoded() {
        // Unverified: the IP header checksum was not recomputed.
        let frame = behind_authentication_headers(2);
        let p = decode_with(1, &frame, frame.len(), false);
        let Transport::Udp(udp) = &p.transport else {
            panic!("{p:?}")
        };
        assert_eq!((udp.dst_port, udp.payload), (7456, &b"Hello Lola"[..]));
        // ip.proto stays the header's: 51, as tshark shows it.
        assert_eq!(
            p.ip.as_ref().map(|ip| ip.protocol),
            Some(AUTHENTICATION_HEADER)
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        // Thousands of them are walked, not recursed into.
        let frame = behind_authentication_headers(5000);
        let p = decode_with(1, &frame, frame.len(), false);
        assert!(matches!(p.transport, Transport::Udp(_)), "{:?}", p.problems);
    }

    #[test]
    fn every_prefix_of_a_frame_decodes_without_panic() {
        for link_type in [0, 1, 101, 108, 113, 228, 229, 276] {
            for n in 0..TCPDUMP_LO_V4.len() {
                let _ = decode(link_type, &TCPDUMP_LO_V4[..n], 52);
            }
        }
    }
}
