//! The transport layer: UDP (lengths cross-checked, checksum classified),
//! TCP and ICMP (with the datagram an ICMP error quotes).

use std::net::{IpAddr, SocketAddr};

use etherparse::{TcpHeaderSlice, ip_number};

use crate::packet::wire::field::{icmp as icmp_field, ipv4, ipv6, tcp as tcp_field, udp};
use crate::packet::wire::{TcpFlags, be16};

use super::checksum::udp_checksum;
use super::ip::{ipv4_addrs, ipv6_addrs};
use super::{Checksum, ChecksumState, Packet, Problem, Transport, Verify};

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
    /// The payload's length by the UDP length (a jumbogram's by its IPv6
    /// header), captured or not.
    pub payload_len: usize,
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
    /// All 12 flag bits, as tshark's `tcp.flags` holds them: the three
    /// reserved bits, AE (0x100, Accurate ECN, once NS), then CWR to FIN.
    pub flag_bits: u16,
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

pub(super) fn decode_udp<'a>(
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
    // RFC 2675: a UDP jumbogram (over an IPv6 jumbogram, more than 65,535
    // bytes) has 0 in its length field and takes its length from IPv6.
    let jumbogram = length == 0 && dst.is_ipv6() && ip_payload_len > usize::from(u16::MAX);
    let udp_len = if jumbogram {
        ip_payload_len
    } else {
        usize::from(length)
    };
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
        udp_len as u32,
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
        payload_len: udp_len.saturating_sub(udp::HEADER_LEN),
        payload_complete,
    });
}

pub(super) fn decode_tcp(payload: &[u8], ip_payload_len: usize, packet: &mut Packet<'_>) {
    match TcpHeaderSlice::from_slice(payload) {
        Ok(tcp) => {
            let flags = TcpFlags(tcp.slice()[tcp_field::FLAGS]);
            let flag_bits = be16(tcp.slice(), tcp_field::FLAG_BITS) & 0x0fff;
            packet.transport = Transport::Tcp(Tcp {
                src_port: tcp.source_port(),
                dst_port: tcp.destination_port(),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                flags,
                flag_bits,
                payload_len: ip_payload_len.saturating_sub(tcp.slice().len()),
            });
        }
        Err(e) => packet.problems.push(Problem::TcpUnreadable(e.to_string())),
    }
}

pub(super) fn decode_icmp(protocol: u8, payload: &[u8], packet: &mut Packet<'_>) {
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

#[cfg(test)]
mod tests {
    use crate::packet::decode::tests::TCPDUMP_LO_V4;
    use crate::packet::decode::{ChecksumState, Transport, decode};

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
}
