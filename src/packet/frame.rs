//! The datagram a socket saw, and the Ethernet frame Linux puts on `lo` for it.
//!
//! [`Datagram`] is the plain value (addresses, ports, payload, time); [`build_frame`]
//! turns it into the bytes `tcpdump -i lo` records, with etherparse doing the
//! encoding and both checksums.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use etherparse::{IpHeaders, Ipv4Header, Ipv6FlowLabel, Ipv6Header, PacketBuilder, ip_number};

use crate::error::{Error, Result};
use crate::packet::wire::TcpFlags;

/// Hop limit / TTL Linux uses for loopback traffic (`net.ipv4.ip_default_ttl`).
pub const LOOPBACK_TTL: u8 = 64;

/// Length of the Ethernet II header that Linux's loopback device prepends.
pub const ETHERNET_HEADER_LEN: usize = 14;

/// The largest payload one UDP datagram over IPv4 can carry (65535 - 20 - 8).
pub const MAX_IPV4_PAYLOAD: usize = 65_507;

/// The largest payload one UDP datagram over IPv6 without jumbograms can carry (65535 - 8).
pub const MAX_IPV6_PAYLOAD: usize = 65_527;

/// One UDP datagram as a socket saw it.
///
/// ```
/// use lola::Datagram;
/// let d = Datagram::new(
///     "127.0.0.1:40000".parse().unwrap(),
///     "127.0.0.1:7456".parse().unwrap(),
///     b"Hello Lola".to_vec(),
/// );
/// assert_eq!(d.frame_len(), 52);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Where it came from (the client socket).
    pub src: SocketAddr,
    /// Where it went (the server socket).
    pub dst: SocketAddr,
    /// The bytes it carried.
    pub payload: Vec<u8>,
    /// When it was received, as time since the Unix epoch.
    pub timestamp: Duration,
}

impl Datagram {
    /// A datagram with timestamp zero (1970-01-01T00:00:00Z).
    ///
    /// ```
    /// use lola::Datagram;
    /// let d = Datagram::new("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:7456".parse().unwrap(), b"Hi".to_vec());
    /// assert_eq!((d.dst.port(), d.payload.as_slice()), (7456, &b"Hi"[..]));
    /// assert_eq!(d.timestamp, std::time::Duration::ZERO);
    /// ```
    pub fn new(src: SocketAddr, dst: SocketAddr, payload: Vec<u8>) -> Datagram {
        Datagram {
            src,
            dst,
            payload,
            timestamp: Duration::ZERO,
        }
    }

    /// The same datagram received at `timestamp` (time since the Unix epoch).
    ///
    /// ```
    /// # let d = lola::Datagram::new(
    /// #     "127.0.0.1:40000".parse().unwrap(),
    /// #     "127.0.0.1:7456".parse().unwrap(),
    /// #     b"Hello Lola".to_vec(),
    /// # );
    /// let later = d.at(std::time::Duration::from_secs(1_795_601_130));
    /// assert_eq!(lola::check::format_time(later.timestamp), "2026-11-25T10:05:30.000000Z");
    /// ```
    pub fn at(mut self, timestamp: Duration) -> Datagram {
        self.timestamp = timestamp;
        self
    }

    /// Length in bytes of the Ethernet frame [`build_frame`] makes for it.
    ///
    /// ```
    /// use lola::{build_frame, Datagram};
    /// let hello = |src: &str, dst: &str| {
    ///     Datagram::new(src.parse().unwrap(), dst.parse().unwrap(), b"Hello Lola".to_vec())
    /// };
    /// let (v4, v6) = (hello("127.0.0.1:40000", "127.0.0.1:7456"), hello("[::1]:40000", "[::1]:7456"));
    /// assert_eq!((v4.frame_len(), v6.frame_len()), (14 + 20 + 8 + 10, 14 + 40 + 8 + 10));
    /// assert_eq!(build_frame(&v6).unwrap().len(), v6.frame_len());
    /// ```
    pub fn frame_len(&self) -> usize {
        let ip = if self.src.is_ipv4() { 20 } else { 40 };
        ETHERNET_HEADER_LEN + ip + 8 + self.payload.len()
    }

    /// Refuses what no single UDP datagram can be: mixed address families,
    /// an unspecified address, a payload too large.
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use lola::Datagram;
    /// let v4: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    /// let v6: SocketAddr = "[::1]:7456".parse().unwrap();
    /// assert!(Datagram::new(v4, v4, vec![0; 65_507]).validate().is_ok());
    /// assert!(Datagram::new(v4, v4, vec![0; 65_508]).validate().is_err());
    /// let mixed = Datagram::new(v4, v6, Vec::new()).validate().unwrap_err();
    /// assert_eq!(mixed.to_string(), "source 127.0.0.1:40000 and destination [::1]:7456 are of different address families");
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.src.is_ipv4() != self.dst.is_ipv4() {
            return Err(Error::Invalid(format!(
                "source {} and destination {} are of different address families",
                self.src, self.dst
            )));
        }
        for (role, addr) in [("source", self.src), ("destination", self.dst)] {
            if addr.ip().is_unspecified() {
                return Err(Error::Invalid(format!(
                    "{role} address {} is unspecified; a frame needs a concrete address",
                    addr.ip()
                )));
            }
        }
        let max = if self.src.is_ipv4() {
            MAX_IPV4_PAYLOAD
        } else {
            MAX_IPV6_PAYLOAD
        };
        if self.payload.len() > max {
            return Err(Error::Invalid(format!(
                "payload of {} bytes does not fit in one UDP datagram (at most {max} over {})",
                self.payload.len(),
                if self.src.is_ipv4() { "IPv4" } else { "IPv6" }
            )));
        }
        Ok(())
    }
}

/// Builds the frame Linux shows on `lo` for this datagram: Ethernet II with
/// all-zero MAC addresses; IPv4 with TTL 64, DF set, identification 0 and no
/// options (or IPv6 with hop limit 64, no extension headers); UDP with a
/// correct checksum over the pseudo-header.
///
/// The output depends only on the datagram, so the same datagram always gives
/// the same bytes.
///
/// ```
/// use lola::{build_frame, Datagram};
/// let d = Datagram::new(
///     "127.0.0.1:40000".parse().unwrap(),
///     "127.0.0.1:7456".parse().unwrap(),
///     b"Hello Lola".to_vec(),
/// );
/// let frame = build_frame(&d).unwrap();
/// assert_eq!(frame.len(), 52);
/// assert_eq!(&frame[12..14], &[0x08, 0x00]); // EtherType IPv4
/// assert_eq!(&frame[42..], b"Hello Lola");
/// ```
pub fn build_frame(datagram: &Datagram) -> Result<Vec<u8>> {
    datagram.validate()?;
    let ip = ip_headers(datagram.src.ip(), datagram.dst.ip(), ip_number::UDP)?;
    let builder = PacketBuilder::ethernet2([0; 6], [0; 6])
        .ip(ip)
        .udp(datagram.src.port(), datagram.dst.port());
    let mut frame = Vec::with_capacity(builder.size(datagram.payload.len()));
    builder
        .write(&mut frame, &datagram.payload)
        .map_err(|e| Error::Invalid(format!("cannot build frame: {e}")))?;
    Ok(frame)
}

/// One segment of a TCP conversation, as [`tcp_conversation`] lays it out.
///
/// ```
/// let segments = lola::packet::frame::tcp_conversation(b"Hello Lola");
/// let data = &segments[3];
/// use lola::packet::wire::TcpFlags;
/// assert!(data.from_client && data.flags == TcpFlags::PSH | TcpFlags::ACK && data.payload == b"Hello Lola");
/// // The server acknowledges the 10 bytes.
/// let ack = &segments[4];
/// assert!(!ack.from_client && ack.flags == TcpFlags::ACK && ack.payload.is_empty());
/// assert_eq!(ack.ack_no, data.seq + 10);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSegment {
    /// True when the client sends it.
    pub from_client: bool,
    /// Its flags (SYN, ACK, FIN, PSH); with ACK, `ack_no` is meaningful.
    pub flags: TcpFlags,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful with `ack`).
    pub ack_no: u32,
    /// Data carried.
    pub payload: Vec<u8>,
}

/// The segments Linux exchanges for one TCP connection that carries
/// `payload` from client to server and is closed by the client: handshake
/// (SYN, SYN/ACK, ACK), data and its ACK, and the FIN/ACK teardown, with
/// consistent sequence and acknowledgement numbers.
///
/// ```
/// let segments = lola::packet::frame::tcp_conversation(b"Hello Lola");
/// assert_eq!(segments.len(), 8);
/// use lola::packet::wire::TcpFlags;
/// assert_eq!(segments[0].flags, TcpFlags::SYN);
/// assert_eq!(segments[3].payload, b"Hello Lola");
/// ```
pub fn tcp_conversation(payload: &[u8]) -> Vec<TcpSegment> {
    // Fixed initial sequence numbers: the file is the same for the same
    // arguments; tshark shows sequence numbers relative to them anyway.
    let (c, s) = (0x1000_0000u32, 0x2000_0000u32);
    let n = payload.len() as u32;
    let seg = |from_client, flags, seq, ack_no, data: &[u8]| TcpSegment {
        from_client,
        flags,
        seq,
        ack_no,
        payload: data.to_vec(),
    };
    let (syn, ack, fin, psh) = (TcpFlags::SYN, TcpFlags::ACK, TcpFlags::FIN, TcpFlags::PSH);
    vec![
        seg(true, syn, c, 0, b""),
        seg(false, syn | ack, s, c + 1, b""),
        seg(true, ack, c + 1, s + 1, b""),
        seg(true, psh | ack, c + 1, s + 1, payload),
        seg(false, ack, s + 1, c + 1 + n, b""),
        seg(true, fin | ack, c + 1 + n, s + 1, b""),
        seg(false, fin | ack, s + 1, c + 2 + n, b""),
        seg(true, ack, c + 2 + n, s + 2, b""),
    ]
}

/// Builds the frame for one TCP segment between `client` and `server` as
/// Linux shows it on `lo` (all-zero MACs, TTL 64, DF), with correct IPv4
/// and TCP checksums. SYNs carry an MSS option of 65495, as on `lo`.
///
/// ```
/// use lola::packet::decode::{decode, Transport};
/// use lola::packet::frame::{build_tcp_frame, tcp_conversation};
/// let (client, server) = ("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:7456".parse().unwrap());
/// let syn = build_tcp_frame(client, server, &tcp_conversation(b"Hi")[0]).unwrap();
/// assert_eq!(syn.len(), 14 + 20 + 20 + 4); // with the 4-byte MSS option
/// let Transport::Tcp(tcp) = decode(1, &syn, syn.len()).transport else { panic!() };
/// assert_eq!((tcp.src_port, tcp.dst_port, tcp.flags), (40000, 7456, lola::packet::wire::TcpFlags::SYN));
/// ```
pub fn build_tcp_frame(
    client: SocketAddr,
    server: SocketAddr,
    segment: &TcpSegment,
) -> Result<Vec<u8>> {
    let (src, dst) = if segment.from_client {
        (client, server)
    } else {
        (server, client)
    };
    Datagram::new(src, dst, Vec::new()).validate()?;
    let ip = ip_headers(src.ip(), dst.ip(), ip_number::TCP)?;
    let mut builder = PacketBuilder::ethernet2([0; 6], [0; 6]).ip(ip).tcp(
        src.port(),
        dst.port(),
        segment.seq,
        65_483,
    );
    if segment.flags.contains(TcpFlags::SYN) {
        builder = builder
            .syn()
            .options(&[etherparse::TcpOptionElement::MaximumSegmentSize(65_495)])
            .map_err(|e| Error::Invalid(format!("cannot build TCP options: {e}")))?;
    }
    if segment.flags.contains(TcpFlags::ACK) {
        builder = builder.ack(segment.ack_no);
    }
    if segment.flags.contains(TcpFlags::FIN) {
        builder = builder.fin();
    }
    if segment.flags.contains(TcpFlags::PSH) {
        builder = builder.psh();
    }
    let mut frame = Vec::with_capacity(builder.size(segment.payload.len()));
    builder
        .write(&mut frame, &segment.payload)
        .map_err(|e| Error::Invalid(format!("cannot build frame: {e}")))?;
    Ok(frame)
}

/// The IP header Linux puts on `lo` between `src` and `dst`: IPv4 with TTL
/// 64, DF set, identification 0 and no options, or IPv6 with hop limit 64 and
/// no extension headers. Lengths and checksums are filled in by the builder.
fn ip_headers(src: IpAddr, dst: IpAddr, protocol: etherparse::IpNumber) -> Result<IpHeaders> {
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            // Linux sets DF on loopback traffic: path MTU discovery is on by
            // default (IP_PMTUDISC_WANT) and lo's MTU never forces fragments.
            let mut header = Ipv4Header::new(0, LOOPBACK_TTL, protocol, src.octets(), dst.octets())
                .map_err(|e| Error::Invalid(format!("cannot build IPv4 header: {e}")))?;
            header.dont_fragment = true;
            Ok(IpHeaders::Ipv4(header, Default::default()))
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => Ok(IpHeaders::Ipv6(
            Ipv6Header {
                traffic_class: 0,
                flow_label: Ipv6FlowLabel::ZERO,
                payload_length: 0,
                next_header: protocol,
                hop_limit: LOOPBACK_TTL,
                source: src.octets(),
                destination: dst.octets(),
            },
            Default::default(),
        )),
        _ => Err(Error::Invalid(format!(
            "source {src} and destination {dst} are of different address families"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frame for 127.0.0.1:40000 → 127.0.0.1:7456 "Hello Lola", as Linux
    /// puts it on `lo` except for the IPv4 identification (Linux: hashed
    /// counter; here: 0). Checksums computed independently with Python.
    static FRAME_V4: [u8; 52] = [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, // Ethernet
        0x45, 0x00, 0x00, 0x26, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x3c, 0xc5, // IPv4 ..
        127, 0, 0, 1, 127, 0, 0, 1, // .. addresses
        0x9c, 0x40, 0x1d, 0x20, 0x00, 0x12, 0x6b, 0xa4, // UDP
        b'H', b'e', b'l', b'l', b'o', b' ', b'L', b'o', b'l', b'a',
    ];

    fn hello(src: &str, dst: &str) -> Datagram {
        Datagram::new(
            src.parse().unwrap(),
            dst.parse().unwrap(),
            b"Hello Lola".to_vec(),
        )
    }

    /// The datagram a decoded frame carries, as `build_frame` was given it.
    fn parse(frame: &[u8]) -> Datagram {
        use crate::packet::decode::{Transport, decode};
        let packet = decode(crate::capture::LINKTYPE_ETHERNET, frame, frame.len());
        assert!(packet.problems.is_empty(), "{:?}", packet.problems);
        let Transport::Udp(udp) = &packet.transport else {
            panic!("not UDP: {packet:?}")
        };
        assert_eq!(udp.checksum.state.word(), "good");
        let (src, dst) = packet.endpoints().unwrap();
        Datagram::new(src, dst, udp.payload.to_vec())
    }

    #[test]
    fn parse_the_reference_bytes() {
        assert_eq!(parse(&FRAME_V4), hello("127.0.0.1:40000", "127.0.0.1:7456"));
    }

    #[test]
    fn emit_then_parse_gives_the_datagram_back() {
        let payloads: [&[u8]; 4] = [b"Hello Lola", b"", &[0, 0xff, 0x7f], &[b'x'; 1400]];
        for (src, dst) in [
            ("127.0.0.1:40000", "127.0.0.1:7456"),
            ("10.1.2.3:1", "192.0.2.9:65535"),
            ("[::1]:40000", "[::1]:7456"),
            ("[2001:db8::1]:53", "[fe80::2]:5353"),
        ] {
            for payload in payloads {
                let d = Datagram::new(src.parse().unwrap(), dst.parse().unwrap(), payload.to_vec());
                let frame = build_frame(&d).unwrap();
                assert_eq!(frame.len(), d.frame_len());
                assert_eq!(parse(&frame), d, "{src} → {dst}, {} bytes", payload.len());
            }
        }
    }

    #[test]
    fn tcp_segments_emit_then_parse_back() {
        use crate::packet::decode::{Transport, decode};
        for (client, server) in [
            ("127.0.0.1:40000", "127.0.0.1:7456"),
            ("[::1]:40000", "[::1]:7456"),
        ] {
            let (client, server) = (client.parse().unwrap(), server.parse().unwrap());
            for segment in tcp_conversation(b"Hello Lola") {
                let frame = build_tcp_frame(client, server, &segment).unwrap();
                let packet = decode(crate::capture::LINKTYPE_ETHERNET, &frame, frame.len());
                assert!(packet.problems.is_empty(), "{:?}", packet.problems);
                let Transport::Tcp(tcp) = &packet.transport else {
                    panic!("not TCP: {packet:?}")
                };
                let (src, dst) = packet.endpoints().unwrap();
                let want = if segment.from_client {
                    (client, server)
                } else {
                    (server, client)
                };
                assert_eq!((src, dst), want);
                assert_eq!(tcp.flags, segment.flags);
                assert_eq!(tcp.seq, segment.seq);
                let ack = if segment.flags.contains(TcpFlags::ACK) {
                    segment.ack_no
                } else {
                    0
                };
                assert_eq!(tcp.ack, ack);
                assert_eq!(tcp.payload_len, segment.payload.len());
            }
        }
    }

    #[test]
    fn ipv4_frame_matches_reference_bytes() {
        let frame = build_frame(&hello("127.0.0.1:40000", "127.0.0.1:7456")).unwrap();
        assert_eq!(frame, FRAME_V4);
    }

    #[test]
    fn ipv6_frame_has_hop_limit_64_and_udp_next_header() {
        let frame = build_frame(&hello("[::1]:40000", "[::1]:7456")).unwrap();
        assert_eq!(frame.len(), 14 + 40 + 8 + 10);
        assert_eq!(&frame[12..14], &[0x86, 0xdd]);
        assert_eq!(frame[14 + 6], 17, "next header");
        assert_eq!(frame[14 + 7], 64, "hop limit");
        assert_eq!(&frame[14 + 4..14 + 6], &[0, 18], "payload length");
    }

    #[test]
    fn mixed_families_are_refused() {
        let err = build_frame(&hello("127.0.0.1:1", "[::1]:7456")).unwrap_err();
        assert!(
            err.to_string().contains("different address families"),
            "{err}"
        );
    }

    #[test]
    fn oversized_payload_is_refused() {
        let mut d = hello("127.0.0.1:1", "127.0.0.1:2");
        d.payload = vec![0; MAX_IPV4_PAYLOAD + 1];
        let err = build_frame(&d).unwrap_err();
        assert!(err.to_string().contains("does not fit"), "{err}");
        d.payload.pop();
        assert_eq!(build_frame(&d).unwrap().len(), 14 + 65535);
    }
}
