//! The headers of a frame other than "the" datagram's: a tunnel's outer IP
//! and UDP headers, the tunnel header itself and the Ethernet frame it
//! carries ([`Packet::tunnel_layers`]), and the IP packet an ICMP error quotes
//! ([`Packet::quoted`]). Wireshark shows each of them, and its fields take
//! a value from every one: `ip.src` of a VXLAN frame has two.

use super::{Icmp, Ip, Link, Tcp, Udp};

/// One header of a frame that is not the innermost datagram's, with the
/// bytes it starts (itself and what it carries, as far as captured).
///
/// ```
/// use lola::packet::decode::{decode, Layer};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/tunnel-vxlan.pcap".as_ref()).unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
/// let names: Vec<&str> = packet.tunnel_layers.iter().map(Layer::name).collect();
/// assert_eq!(names, ["ip", "udp", "vxlan", "eth"]); // then the inner ip and udp
/// assert!(packet.quoted.is_empty());
/// ```
#[derive(Clone, Debug)]
pub enum Layer<'a> {
    /// An Ethernet header inside a tunnel (VXLAN, Geneve, gretap).
    Ethernet(Link, &'a [u8]),
    /// An IPv4 or IPv6 header.
    Ip(Ip, &'a [u8]),
    /// A UDP header (a tunnel's, or one an ICMP error quotes).
    Udp(Udp<'a>, &'a [u8]),
    /// A TCP header an ICMP error quotes.
    Tcp(Tcp, &'a [u8]),
    /// An ICMP (false) or ICMPv6 (true) header an ICMP error quotes.
    Icmp(Icmp, bool, &'a [u8]),
    /// A VXLAN header (RFC 7348) and its network identifier.
    Vxlan(u32, &'a [u8]),
    /// A Geneve header (RFC 8926) and its network identifier.
    Geneve(u32, &'a [u8]),
    /// A GRE header and its protocol type.
    Gre(u16, &'a [u8]),
    /// Bytes Wireshark shows as `data` before the packet they carry: an
    /// IPComp payload, compressed.
    Data(&'a [u8]),
}

impl<'a> Layer<'a> {
    /// Wireshark's name of the layer's protocol (`ip` for either version's
    /// header here; `ipv6` is told apart by [`Ip::version`]).
    pub fn name(&self) -> &'static str {
        match self {
            Layer::Ethernet(..) => "eth",
            Layer::Ip(..) => "ip",
            Layer::Udp(..) => "udp",
            Layer::Tcp(..) => "tcp",
            Layer::Icmp(..) => "icmp",
            Layer::Vxlan(..) => "vxlan",
            Layer::Geneve(..) => "geneve",
            Layer::Gre(..) => "gre",
            Layer::Data(..) => "data",
        }
    }
}
