//! Tunnels: VXLAN (UDP port 4789), VXLAN-GPE and NSH (UDP port 4790), MPLS
//! over UDP (port 6635), Geneve (UDP port 6081), GRE and gretap, and the
//! IP-in-IP and 6in4 entry the dispatch in `mod.rs` makes. The inner
//! packet becomes the [`Packet`]'s; the tunnel's headers move to
//! [`Packet::tunnel_layers`], the outermost tunnel's IP header to `outer`.
//! A tunnel inside a tunnel is entered too, up to [`MAX_TUNNEL_LAYERS`].

use crate::packet::wire::be16;
use crate::packet::wire::field::{ethernet, geneve, gre, nsh, vxlan};

use super::ip::{decode_ipv4, decode_ipv6};
use super::link::{decode_ethernet, from_ether_type, past_mpls_labels};
use super::{Encapsulation, Layer, Link, Packet, Problem, Verify, datagram_layers};

/// Headers kept before a tunnel is left as it is (another protocol): four
/// VXLAN levels, or sixteen IP-in-IP ones.
pub(super) const MAX_TUNNEL_LAYERS: usize = 16;

/// True when a tunnel found here is entered: not inside what an ICMP error
/// quotes, and not past [`MAX_TUNNEL_LAYERS`].
pub(super) fn may_enter(packet: &Packet<'_>) -> bool {
    !packet.quoting && packet.tunnel_layers.len() < MAX_TUNNEL_LAYERS
}

/// From here on the packet's IP layer and transport are the tunnel's
/// payload's: the tunnel's own IP header (and UDP header) and `header`, the
/// tunnel header, move to [`Packet::tunnel_layers`]. The outermost tunnel
/// names the [`Packet::encapsulation`] and its IP header is [`Packet::outer`].
pub(super) fn enter_tunnel<'a>(
    encapsulation: Encapsulation,
    header: Option<Layer<'a>>,
    packet: &mut Packet<'a>,
) {
    if packet.encapsulation.is_none() {
        packet.encapsulation = Some(encapsulation);
        packet.outer = packet.ip.clone();
    }
    let mut layers = std::mem::take(&mut packet.tunnel_layers);
    datagram_layers(packet, &mut layers);
    layers.extend(header);
    packet.tunnel_layers = layers;
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
pub(super) fn decode_vxlan<'a>(body: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
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
    let vni = vni_of(&body[vxlan::VNI]);
    enter_tunnel(
        Encapsulation::Vxlan { vni },
        Some(Layer::Vxlan(vni, body)),
        packet,
    );
    decode_inner_ethernet(&body[vxlan::HEADER_LEN..], verify, packet);
}

/// A 24-bit network identifier (VXLAN's, VXLAN-GPE's, Geneve's) from its
/// three bytes.
fn vni_of(v: &[u8]) -> u32 {
    u32::from_be_bytes([0, v[0], v[1], v[2]])
}

/// The payload of a UDP datagram to port 4790: a VXLAN-GPE header, then
/// what its next protocol names (`vxlan.next_proto`: IPv4, IPv6, Ethernet,
/// NSH), as Wireshark's `dissect_vxlan_gpe` reads it. Too short for the
/// header, or another protocol (MPLS, ...), it stays a plain UDP datagram.
pub(super) fn decode_vxlan_gpe<'a>(body: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
    let (Some(&next), Some(inner)) = (
        body.get(vxlan::GPE_NEXT_PROTOCOL),
        body.get(vxlan::HEADER_LEN..),
    ) else {
        packet.problems.extend(tunnel_cut(
            "VXLAN-GPE header",
            body.len(),
            vxlan::HEADER_LEN,
            verify,
        ));
        return;
    };
    if !matches!(next, 1..=4) {
        return;
    }
    let vni = vni_of(&body[vxlan::VNI]);
    enter_tunnel(
        Encapsulation::VxlanGpe { vni },
        Some(Layer::Vxlan(vni, body)),
        packet,
    );
    decode_service_payload(next, inner, verify, packet);
}

/// What VXLAN-GPE's or NSH's next protocol `next` names, in `inner`:
/// 1 IPv4, 2 IPv6, 3 Ethernet, 4 an NSH header (RFC 8300) and what its own
/// next protocol names, as Wireshark's `dissect_nsh` reads it (its length
/// field, at least 24 bytes with metadata type 1 and 8 with type 2). NSH
/// inside NSH is walked, not recursed into.
fn decode_service_payload<'a>(
    mut next: u8,
    mut inner: &'a [u8],
    verify: Verify,
    packet: &mut Packet<'a>,
) {
    while next == 4 {
        let (Some(&length), Some(&md_type), Some(&carried)) = (
            inner.get(nsh::LENGTH),
            inner.get(nsh::MD_TYPE),
            inner.get(nsh::NEXT_PROTOCOL),
        ) else {
            return;
        };
        let words = usize::from(length & 0x3f);
        let len = match md_type & 0x0f {
            1 => 24,
            2 => (words * 4).max(nsh::HEADER_LEN),
            _ => (words * 4).max(4),
        };
        (next, inner) = (carried, inner.get(len..).unwrap_or(&[]));
    }
    match next {
        1 => decode_inner_ip(Some(4), inner, verify, packet),
        2 => decode_inner_ip(Some(6), inner, verify, packet),
        3 => decode_inner_ethernet(inner, verify, packet),
        _ => {}
    }
}

/// The payload of a UDP datagram to port 6635 (RFC 7510): an MPLS label
/// stack, then an IPv4 or IPv6 packet, told by its first nibble as tshark
/// tells it. A cut stack, or anything else after it, stays a plain UDP
/// datagram.
pub(super) fn decode_mpls_udp<'a>(body: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
    let mut stack = Link {
        dst_mac: None,
        src_mac: None,
        ether_type: None,
        vlans: Vec::new(),
        header_len: 0,
    };
    let Some(version) = past_mpls_labels(body, &mut stack) else {
        return;
    };
    enter_tunnel(Encapsulation::MplsUdp, None, packet);
    decode_inner_ip(Some(version), &body[stack.header_len..], verify, packet);
}

/// The payload of a UDP datagram to port 6081: a Geneve header with its
/// options, then what its protocol type names (Ethernet, IPv4 or IPv6).
/// Too short for the header, or another protocol, it stays a plain UDP
/// datagram.
pub(super) fn decode_geneve<'a>(body: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
    let Some(&first) = body.get(geneve::VERSION_OPTIONS) else {
        return;
    };
    let header_len = geneve::HEADER_LEN + usize::from(first & geneve::OPTIONS_MASK) * 4;
    if body.len() < header_len {
        packet
            .problems
            .extend(tunnel_cut("Geneve header", body.len(), header_len, verify));
        return;
    }
    let protocol_type = be16(body, geneve::PROTOCOL);
    if first >> 6 != 0 || !matches!(protocol_type, 0x0800 | 0x86dd | gre::ETHERNET) {
        return;
    }
    let vni = vni_of(&body[geneve::VNI]);
    let inner = &body[header_len..];
    if protocol_type == gre::ETHERNET && inner.len() < ethernet::HEADER_LEN {
        packet.problems.extend(tunnel_cut(
            "Ethernet header in Geneve",
            inner.len(),
            ethernet::HEADER_LEN,
            verify,
        ));
        return;
    }
    enter_tunnel(
        Encapsulation::Geneve { vni },
        Some(Layer::Geneve(vni, body)),
        packet,
    );
    if protocol_type == gre::ETHERNET {
        decode_inner_ethernet(inner, verify, packet);
    } else {
        decode_inner_ip(from_ether_type(protocol_type), inner, verify, packet);
    }
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
    let ip = &frame[link.header_len..];
    packet.tunnel_layers.push(Layer::Ethernet(link, frame));
    decode_inner_ip(version, ip, verify, packet);
}

/// The inner IP packet of a tunnel, as announced (4, 6, or not IP).
fn decode_inner_ip<'a>(version: Option<u8>, ip: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
    match version {
        Some(4) => decode_ipv4(
            ip,
            verify.complete.then_some(ip.len()),
            verify.verify,
            packet,
        ),
        Some(6) => decode_ipv6(
            ip,
            verify.complete.then_some(ip.len()),
            verify.verify,
            packet,
        ),
        _ => {}
    }
}

/// A GRE packet (version 0, without the old routing field) carrying IPv4,
/// IPv6 or Ethernet, bare or behind a header Wireshark reads (WCCP's
/// redirect, ERSPAN, Cisco MetaData); anything else stays "another protocol".
pub(super) fn decode_gre<'a>(payload: &'a [u8], verify: Verify, packet: &mut Packet<'a>) {
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
    let known = matches!(
        protocol_type,
        0x0800 | 0x86dd | gre::ETHERNET | gre::WCCP | gre::ERSPAN | gre::CISCO_METADATA
    );
    if !readable || !known {
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
    let Some((carried, inner)) = gre_carries(protocol_type, flags, &payload[header_len..]) else {
        return;
    };
    enter_tunnel(
        Encapsulation::Gre { protocol_type },
        Some(Layer::Gre(protocol_type, payload)),
        packet,
    );
    if carried == gre::ETHERNET {
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
        decode_inner_ip(from_ether_type(carried), inner, verify, packet);
    }
}

/// What a GRE payload `body` of `protocol_type` carries, as Wireshark's
/// dissectors read it (packet-gre.c, packet-erspan.c, packet-cmd.c): the
/// EtherType of the packet (0x6558 for an Ethernet frame) and its bytes;
/// None when it carries neither IP nor Ethernet.
fn gre_carries(protocol_type: u16, flags: u16, body: &[u8]) -> Option<(u16, &[u8])> {
    match protocol_type {
        gre::WCCP => {
            let skip = if body.first().is_some_and(|b| b >> 4 == 4) {
                0
            } else {
                4
            };
            Some((0x0800, body.get(skip..)?))
        }
        gre::ERSPAN => {
            let skip = if flags & gre::SEQUENCE_PRESENT == 0 {
                0 // type I: no header
            } else {
                match body.first()? >> 4 {
                    1 => 8,
                    2 if body.get(11)? & 1 != 0 => 20,
                    2 => 12,
                    _ => return None,
                }
            };
            Some((gre::ETHERNET, body.get(skip..)?))
        }
        gre::CISCO_METADATA => {
            let carried = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
            matches!(carried, 0x0800 | 0x86dd).then_some((carried, body.get(8..)?))
        }
        other => Some((other, body)),
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::MAX_TUNNEL_LAYERS;
    use crate::packet::decode::tests::fixture_frame;
    use crate::packet::decode::{Encapsulation, Packet, Transport, decode, decode_with};
    use crate::packet::wire::field::gre;

    fn inner_dst(p: &Packet<'_>) -> Option<SocketAddr> {
        p.endpoints().map(|(_, dst)| dst)
    }

    #[test]
    fn gre_headers_wireshark_reads_before_the_packet() {
        use crate::packet::decode::{Transport, decode};
        // Real captures (tcpdump's tests): WCCPv2 redirect (TCP inside),
        // ERSPAN type II (HSRP over UDP 1985 in a mirrored Ethernet frame),
        // Cisco MetaData (frame 26: ICMP).
        let nth = |name: &str, n: usize| {
            let path = format!("{}/fixtures/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
            let mut reader = crate::capture::CaptureReader::open(path.as_ref()).unwrap();
            for _ in 1..n {
                reader.next_frame().unwrap();
            }
            reader.next_frame().unwrap().unwrap().data.to_vec()
        };
        let f = nth("tests_wccp_redirect_gre.pcap", 1);
        assert!(matches!(
            decode(1, &f, f.len()).transport,
            Transport::Tcp(_)
        ));
        let f = nth("tests_erspan-type-ii-2.pcap", 1);
        let p = decode(1, &f, f.len());
        assert!(matches!(&p.transport, Transport::Udp(u) if u.dst_port == 1985));
        let f = nth("tests_various_gre.pcap", 26);
        assert!(matches!(
            decode(1, &f, f.len()).transport,
            Transport::Icmp(_)
        ));
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
    fn tunnels_inside_tunnels_are_entered_up_to_the_limit() {
        // IPIP in IPIP: both levels are entered, as tshark does; the datagram
        // is the innermost, and every IP header is kept, outermost first.
        let frame = fixture_frame("tunnel-ipip.pcap");
        let wrap = |levels: usize| {
            let mut f = frame.clone();
            for _ in 0..levels {
                let mut outer = f[..34].to_vec();
                outer.extend_from_slice(&f[14..]);
                let total = (outer.len() - 14) as u16;
                outer[16..18].copy_from_slice(&total.to_be_bytes());
                f = outer;
            }
            f
        };
        let twice = wrap(1);
        let p = decode_with(1, &twice, twice.len(), false);
        assert_eq!(p.encapsulation, Some(Encapsulation::IpInIp));
        assert_eq!(inner_dst(&p), Some("127.0.0.1:7456".parse().unwrap()));
        let names: Vec<&str> = p.tunnel_layers.iter().map(|l| l.name()).collect();
        assert_eq!(names, ["ip", "ip"]);
        // Past MAX_TUNNEL_LAYERS headers, the rest is another protocol.
        let deep = wrap(MAX_TUNNEL_LAYERS);
        let p = decode_with(1, &deep, deep.len(), false);
        assert_eq!(p.tunnel_layers.len(), MAX_TUNNEL_LAYERS);
        assert_eq!(p.ip.as_ref().map(|ip| ip.protocol), Some(4));
        assert!(matches!(p.transport, Transport::Other));
    }

    #[test]
    fn nsh_inside_nsh_is_walked_not_recursed_into() {
        // tcpdump's VXLAN-GPE capture: its NSH header (24 bytes, metadata
        // type 2) repeated 2,000 times, each naming NSH (4) but the last.
        let frame = fixture_frame("corpus/tests_nsh-over-vxlan-gpe.pcap");
        let (head, nsh, inner) = (&frame[..50], &frame[50..74], &frame[74..]);
        let mut f = head.to_vec();
        for i in 0..2000 {
            let mut h = nsh.to_vec();
            if i < 1999 {
                h[3] = 4;
            }
            f.extend_from_slice(&h);
        }
        f.extend_from_slice(inner);
        let ip_len = (f.len() - 14) as u16;
        f[16..18].copy_from_slice(&ip_len.to_be_bytes());
        f[38..40].copy_from_slice(&(ip_len - 20).to_be_bytes());
        let p = decode_with(1, &f, f.len(), false);
        assert_eq!(
            p.encapsulation,
            Some(Encapsulation::VxlanGpe { vni: 0xff_ffff })
        );
        assert_eq!(inner_dst(&p), Some("192.168.0.2:20000".parse().unwrap()));
    }

    #[test]
    fn every_prefix_of_a_tunnel_decodes_without_panic() {
        for name in [
            "tunnel-vxlan.pcap",
            "tunnel-gre.pcap",
            "tunnel-ipip.pcap",
            "tunnel-6in4.pcap",
            "llc-snap.pcap",
            "corpus/tests_nsh-over-vxlan-gpe.pcap",
            "corpus/tests_mpls-over-udp.pcap",
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
}
