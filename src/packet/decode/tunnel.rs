//! Tunnels, one level deep: VXLAN (UDP to port 4789), GRE and gretap, and
//! the IP-in-IP and 6in4 entry the dispatch in `mod.rs` makes. The inner
//! packet becomes the [`Packet`]'s, the tunnel's IP header its `outer`.

use crate::packet::wire::be16;
use crate::packet::wire::field::{ethernet, gre, vxlan};

use super::ip::{decode_ipv4, decode_ipv6};
use super::link::{decode_ethernet, from_ether_type};
use super::{Encapsulation, Link, Packet, Problem, Transport, Verify};

/// From here on the packet's IP layer and transport are the tunnel's
/// payload's; the tunnel's own IP header moves to [`Packet::outer`].
pub(super) fn enter_tunnel(encapsulation: Encapsulation, packet: &mut Packet<'_>) {
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
/// IPv6 or Ethernet; anything else stays "another protocol".
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

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use crate::packet::decode::tests::fixture_frame;
    use crate::packet::decode::{Encapsulation, Packet, Transport, decode, decode_with};
    use crate::packet::wire::field::gre;

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
}
