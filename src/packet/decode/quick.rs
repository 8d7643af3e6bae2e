//! The checker's fast path: protocol and ports of a plain UDP or TCP frame
//! read at the same named offsets the full decoder uses, so that the millions
//! of frames a check only counts never pay for a full decode.

use std::net::SocketAddr;

use etherparse::ip_number;

use crate::capture::{
    LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2,
    LINKTYPE_RAW,
};
use crate::packet::wire::be16;
use crate::packet::wire::field::{ethernet, ipv4, ipv6, sll, sll2, tcp as tcp_field, udp};

use super::ip::{ipv4_addrs, ipv6_addrs};

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
    /// Where the transport header starts in `ip`.
    header_len: u8,
}

impl<'a> QuickFlow<'a> {
    /// The bytes after a UDP header, as captured (the payload, and
    /// whatever follows it in the frame: padding, an Ethernet trailer);
    /// None for TCP. The fast path's first look, which more bytes only make
    /// more often true ([`may_start`](super::heuristics::may_start)).
    #[inline(always)]
    pub(crate) fn after_udp_header(&self) -> Option<&'a [u8]> {
        if self.protocol != ip_number::UDP.0 {
            return None;
        }
        self.ip
            .get(usize::from(self.header_len) + udp::HEADER_LEN..)
    }

    /// The transport header and what follows it, within the IP length (as
    /// [`quick_flow`] found it).
    #[inline(always)]
    fn transport(&self) -> &'a [u8] {
        let ip = self.ip;
        let total = if ip[ipv4::VER_IHL] >> 4 == 4 {
            usize::from(be16(ip, ipv4::LENGTH))
        } else {
            ipv6::HEADER_LEN + usize::from(be16(ip, ipv6::PAYLOAD_LEN))
        };
        &ip[usize::from(self.header_len)..total.min(ip.len())]
    }

    /// A UDP datagram's payload, as [`decode`](super::decode) cuts it (by
    /// the UDP length, within what was captured); None for TCP.
    pub(crate) fn udp_payload(&self) -> Option<&'a [u8]> {
        if self.protocol != ip_number::UDP.0 {
            return None;
        }
        let t = self.transport();
        let length = usize::from(be16(t, udp::LENGTH));
        let end = length
            .clamp(udp::HEADER_LEN, t.len().max(udp::HEADER_LEN))
            .min(t.len());
        t.get(udp::HEADER_LEN..end)
    }

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
/// [`decode`](super::decode) then has the last word. When it returns `Some`,
/// [`decode`](super::decode) finds the same protocol and endpoints.
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
    // UDP to or from the VXLAN or Geneve port here (as Wireshark decides
    // it: the lower port first); IP-in-IP (4), 6in4 (41) and GRE (47) are
    // neither UDP nor TCP, and 802.3 framing has no IP EtherType, so they
    // never get this far.
    let enough = match protocol {
        p if p == ip_number::UDP.0 => {
            transport.len() >= udp::HEADER_LEN
                && super::ports::udp_tunnel(
                    be16(transport, udp::SRC_PORT),
                    be16(transport, udp::DST_PORT),
                )
                .is_none()
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
        // An IPv4 header is at most 60 bytes, IPv6's fixed one 40.
        header_len: header_len as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::decode::{Transport, decode};
    use crate::packet::wire::field::{geneve, vxlan};

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
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        for dir in [root.to_string(), format!("{root}/corpus")] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let Ok(mut reader) = crate::capture::CaptureReader::open(&path) else {
                    continue;
                };
                while let Ok(Some(f)) = reader.next_frame() {
                    frames.push((f.link_type, f.data.to_vec()));
                }
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
                // The payload the conversation table reads, and what it may
                // run on into (the fast path's first look).
                let payload = match p.transport {
                    Transport::Udp(u) => Some(u.payload),
                    _ => None,
                };
                assert_eq!(payload, q.udp_payload(), "link {link_type}: {data:02x?}");
                if let (Some(payload), Some(rest)) = (payload, q.after_udp_header()) {
                    assert!(rest.starts_with(payload), "link {link_type}: {data:02x?}");
                }
            }
        };
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for (link_type, data) in &frames {
            for lt in [
                *link_type, 0, 1, 9, 101, 104, 108, 113, 228, 229, 239, 258, 276,
            ] {
                agree(lt, data);
            }
            // Every plain UDP datagram again, sent to the VXLAN or Geneve
            // port: the fast path must refuse it, whatever follows the UDP header.
            for port in [vxlan::PORT, geneve::PORT] {
                let Some(q) = quick_flow(*link_type, data) else {
                    continue;
                };
                let at = data.len() - q.ip.len() + ip_header_len(q.ip) + udp::DST_PORT.start;
                let mut tunnel = data.clone();
                tunnel[at..at + 2].copy_from_slice(&port.to_be_bytes());
                // Unless the other port is a lower one a dissector claims
                // first (DNS from 53 to 4789 stays DNS, as in Wireshark).
                let src = be16(&tunnel[at - 2..], 0..2);
                if q.protocol == ip_number::UDP.0
                    && super::super::ports::udp_tunnel(src, port).is_some()
                {
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
