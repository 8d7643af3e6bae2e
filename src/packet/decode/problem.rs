//! What can be wrong with a frame, one typed value per kind of damage.

use std::fmt;

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
    /// An IPv6 payload length of 0 without the Jumbo Payload option that
    /// would make it a jumbogram (RFC 2675): tshark calls it malformed
    /// unless told the capture came from TSO (`ipv6.tso_support`, off by
    /// default).
    Ipv6PayloadLengthZero,
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
            Problem::Ipv6PayloadLengthZero => f.write_str(
                "ipv6.plen 0 without a Jumbo Payload option (a TSO segment?); not decoded further",
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
