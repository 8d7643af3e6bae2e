//! The network layer: IPv4 and IPv6 with its extension headers, lengths
//! checked against the captured bytes, fragments found and set aside for
//! reassembly.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{Ipv4HeaderSlice, Ipv6ExtensionsSlice, Ipv6HeaderSlice};

use crate::packet::wire::field::{ipv4, ipv6};

use super::checksum::ipv4_header_checksum;
use super::{Checksum, ChecksumState, Packet, Problem, Transport, Verify, decode_transport};

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
    /// IPv4 total length, or 40 + IPv6 payload length (an IPv6 jumbogram's
    /// from its Jumbo Payload option); the frame's length when the header
    /// says 0 (see [`length_from_frame`](Ip::length_from_frame)).
    pub total_len: usize,
    /// True when the IPv4 header's total length is 0, as Linux records a
    /// TSO / BIG TCP segment larger than 64 KiB, and [`total_len`](Ip::total_len)
    /// was taken from the frame, as tshark and tcpdump take it.
    pub length_from_frame: bool,
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
    /// Protocol / final next header: what the IP payload is (UDP, TCP, ...),
    /// past any IPv6 extension headers.
    pub protocol: u8,
    /// The Next Header of the IPv6 fixed header (`ipv6.nxt`: 0 for
    /// hop-by-hop options, 44 for a fragment header, ...); the protocol for
    /// IPv4.
    pub next_header: u8,
    /// IPv4 header checksum.
    pub header_checksum: Option<Checksum>,
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

/// Decodes an IPv4 packet from `data` (what was captured of it). `wire_len`
/// is its length on the wire as the frame tells it (at least `data.len()`),
/// or None when that is unknown and the capture cut it (inside a tunnel
/// whose outer packet was cut).
pub(super) fn decode_ipv4<'a>(
    data: &'a [u8],
    wire_len: Option<usize>,
    verify: bool,
    packet: &mut Packet<'a>,
) {
    let frame_cut = wire_len != Some(data.len());
    let header = match Ipv4HeaderSlice::from_slice(data) {
        Ok(h) => h,
        Err(e) => {
            packet.problems.push(Problem::Ipv4Unreadable(e.to_string()));
            return;
        }
    };
    let header_len = header.slice().len();
    // Linux records a TSO / BIG TCP segment of more than 64 KiB (and some
    // NICs' captures any TSO segment) with 0 in ip.len: like tshark (its
    // ip.tso_support, on by default) and tcpdump, the length is the frame's.
    let length_from_frame = header.total_len() == 0;
    let total_len = if length_from_frame {
        wire_len.unwrap_or(data.len())
    } else {
        usize::from(header.total_len())
    };
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
        length_from_frame,
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
        next_header: header.protocol().0,
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
    packet.ip_bytes = &data[..total_len.clamp(header_len, data.len())];
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
    // A first fragment that is not all in the frame can never be put back
    // together: like Wireshark (packet-ip.c reassembles only what it has
    // whole), its payload is decoded as far as it goes.
    let first_cut = ip_first_fragment(packet) && !complete;
    if fragment && !first_cut {
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

/// True when the packet's IPv4 header is a fragment at offset 0.
fn ip_first_fragment(packet: &Packet<'_>) -> bool {
    packet
        .ip
        .as_ref()
        .and_then(|ip| ip.frag)
        .is_some_and(|f| f.offset == 0)
}

/// Decodes an IPv6 packet from `data`; `wire_len` as for [`decode_ipv4`].
pub(super) fn decode_ipv6<'a>(
    data: &'a [u8],
    wire_len: Option<usize>,
    verify: bool,
    packet: &mut Packet<'a>,
) {
    let frame_cut = wire_len != Some(data.len());
    let header = match Ipv6HeaderSlice::from_slice(data) {
        Ok(h) => h,
        Err(e) => {
            packet.problems.push(Problem::Ipv6Unreadable(e.to_string()));
            return;
        }
    };
    let jumbo = match header.payload_length() {
        // RFC 2675: a jumbogram's length is in its hop-by-hop Jumbo Payload
        // option, and its payload length field 0.
        0 => jumbo_payload_len(data),
        _ => None,
    };
    let payload_len = jumbo.unwrap_or(usize::from(header.payload_length()));
    let zero = payload_len == 0 && header.next_header().0 != NO_NEXT_HEADER;
    if zero {
        packet.problems.push(Problem::Ipv6PayloadLengthZero);
    }
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
    let (next, rest, fragment, frag) = if zero {
        (header.next_header().0, body, false, None)
    } else {
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
        length_from_frame: false,
        identification: None,
        dont_fragment: false,
        fragment,
        frag,
        ttl: header.hop_limit(),
        protocol: next,
        next_header: header.next_header().0,
        header_checksum: None,
    });
    packet.ip_bytes = &data[..total_len.min(available)];
    if zero {
        return;
    }
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

/// IPv6's "No Next Header": the one header an empty payload may name.
const NO_NEXT_HEADER: u8 = 59;

/// The payload length a jumbogram's hop-by-hop Jumbo Payload option (type
/// 0xC2, RFC 2675) gives, if the IPv6 packet `ip` (payload length 0) has one.
fn jumbo_payload_len(ip: &[u8]) -> Option<usize> {
    const HOP_BY_HOP: u8 = 0;
    const JUMBO_PAYLOAD: u8 = 0xc2;
    if *ip.get(ipv6::NEXT_HEADER)? != HOP_BY_HOP {
        return None;
    }
    let hbh = ip.get(ipv6::HEADER_LEN..)?;
    let len = (usize::from(*hbh.get(1)?) + 1) * 8;
    let mut options = hbh.get(2..len)?;
    while let [kind, rest @ ..] = options {
        if *kind == 0 {
            options = rest; // Pad1
            continue;
        }
        let [opt_len, rest @ ..] = rest else {
            return None;
        };
        let value = rest.get(..usize::from(*opt_len))?;
        if *kind == JUMBO_PAYLOAD {
            let bytes: [u8; 4] = value.try_into().ok()?;
            return usize::try_from(u32::from_be_bytes(bytes)).ok();
        }
        options = &rest[value.len()..];
    }
    None
}

/// Source and destination of an IPv4 header (at least 20 bytes).
pub(super) fn ipv4_addrs(ip: &[u8]) -> (IpAddr, IpAddr) {
    let octets = |r: std::ops::Range<usize>| {
        let a = &ip[r];
        IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
    };
    (octets(ipv4::SRC), octets(ipv4::DST))
}

/// Source and destination of an IPv6 header (at least 40 bytes).
pub(super) fn ipv6_addrs(ip: &[u8]) -> (IpAddr, IpAddr) {
    let octets = |r: std::ops::Range<usize>| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&ip[r]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    (octets(ipv6::SRC), octets(ipv6::DST))
}

#[cfg(test)]
mod tests {
    use crate::packet::decode::tests::TCPDUMP_LO_V4;
    use crate::packet::decode::{Problem, Transport, decode, decode_with};

    #[test]
    fn an_ipv4_length_of_zero_is_the_frames() {
        let mut frame = TCPDUMP_LO_V4;
        frame[16..18].copy_from_slice(&[0, 0]);
        let p = decode_with(1, &frame, 52, false);
        let ip = p.ip.as_ref().unwrap();
        assert_eq!((ip.total_len, ip.length_from_frame), (38, true));
        assert!(matches!(p.transport, Transport::Udp(_)), "{p:?}");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        // Cut by a snaplen of 46: the length is still the frame's, 38.
        let p = decode_with(1, &frame[..46], 52, false);
        assert_eq!(p.ip.as_ref().unwrap().total_len, 38);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
    }

    #[test]
    fn jumbograms_take_their_length_from_the_jumbo_payload_option() {
        let path = format!("{}/fixtures/jumbo-ipv6.pcap", env!("CARGO_MANIFEST_DIR"));
        let mut reader = crate::capture::CaptureReader::open(path.as_ref()).unwrap();
        let mut seen = Vec::new();
        while let Some(f) = reader.next_frame().unwrap() {
            let p = decode(f.link_type, f.data, f.orig_len as usize);
            let ip = p.ip.as_ref().unwrap();
            let payload = match &p.transport {
                Transport::Tcp(t) => t.payload_len,
                Transport::Udp(u) => u.payload_len,
                _ => 0,
            };
            seen.push((
                ip.next_header,
                ip.protocol,
                ip.total_len,
                payload,
                p.problems,
            ));
        }
        assert_eq!(
            seen,
            [
                (0, 6, 40 + 70028, 70000, vec![]),
                (0, 17, 40 + 70016, 70000, vec![]),
                (6, 6, 40, 0, vec![Problem::Ipv6PayloadLengthZero]),
                (17, 17, 40 + 18, 10, vec![]),
            ]
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
}
