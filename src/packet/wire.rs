//! Wire-format facts shared by every module that reads or writes frames: the
//! byte offsets of the header fields lola reads by hand ([`field`]), and TCP
//! flags as one typed value ([`TcpFlags`]).
//!
//! etherparse reads and writes headers; these offsets serve the few places
//! that read bytes directly (the checker's fixed-offset fast path, the link
//! layer, ICMP quotes), so that the fast path and the full decoder cannot
//! drift apart.

use std::fmt;

/// Byte ranges of header fields, in the manner of smoltcp's `mod field`.
pub mod field {
    /// A range of bytes in a header.
    pub type Field = std::ops::Range<usize>;

    /// Ethernet II.
    pub mod ethernet {
        use super::Field;
        /// Destination MAC.
        pub const DST: Field = 0..6;
        /// Source MAC.
        pub const SRC: Field = 6..12;
        /// EtherType (or the TPID of a VLAN tag).
        pub const ETHERTYPE: Field = 12..14;
        /// Header length without VLAN tags.
        pub const HEADER_LEN: usize = 14;
        /// Length of one 802.1Q / 802.1ad tag.
        pub const VLAN_TAG_LEN: usize = 4;
    }

    /// IEEE 802.2 LLC with a SNAP header (RFC 1042), after an 802.3 length
    /// field: how old framing carries an EtherType.
    pub mod llc {
        use super::Field;
        /// DSAP, SSAP and control: `aa aa 03` announce SNAP.
        pub const DSAP_SSAP_CONTROL: Field = 0..3;
        /// SNAP organization code: `00 00 00` (RFC 1042) or `00 00 f8` (802.1H).
        pub const OUI: Field = 3..6;
        /// SNAP protocol: an EtherType.
        pub const ETHERTYPE: Field = 6..8;
        /// LLC (3 bytes) and SNAP (5 bytes).
        pub const HEADER_LEN: usize = 8;
        /// The largest 802.3 length field; larger values are EtherTypes.
        pub const MAX_LENGTH: u16 = 1500;
        /// EtherType of "jumbo LLC" (an LLC header behind an EtherType,
        /// for frames longer than an 802.3 length can say).
        pub const JUMBO_ETHERTYPE: u16 = 0x8870;
    }

    /// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`).
    pub mod sll {
        use super::Field;
        /// Protocol (an EtherType).
        pub const PROTOCOL: Field = 14..16;
        /// Header length.
        pub const HEADER_LEN: usize = 16;
    }

    /// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`).
    pub mod sll2 {
        use super::Field;
        /// Protocol (an EtherType).
        pub const PROTOCOL: Field = 0..2;
        /// Header length.
        pub const HEADER_LEN: usize = 20;
    }

    /// BSD loopback (`LINKTYPE_NULL`, `LINKTYPE_LOOP`): a 4-byte family.
    pub mod null {
        /// Header length.
        pub const HEADER_LEN: usize = 4;
    }

    /// PPP (`LINKTYPE_PPP`, `LINKTYPE_PPP_HDLC`): HDLC-like address and
    /// control bytes when present, then the protocol (RFC 1661, RFC 1662).
    pub mod ppp {
        /// The HDLC address byte (all stations) that starts an uncompressed
        /// header; the control byte follows it.
        pub const ADDRESS: u8 = 0xff;
        /// Address and control bytes.
        pub const ADDRESS_CONTROL_LEN: usize = 2;
        /// Protocol: IPv4.
        pub const IPV4: u16 = 0x0021;
        /// Protocol: IPv6.
        pub const IPV6: u16 = 0x0057;
        /// A protocol's first byte with this bit set is the whole protocol
        /// field (protocol-field compression, RFC 1661 §6.5).
        pub const COMPRESSED: u8 = 0x01;
    }

    /// An MPLS label stack entry (RFC 3032): label, traffic class, bottom
    /// of stack, TTL.
    pub mod mpls {
        /// The byte holding the bottom-of-stack bit.
        pub const BOTTOM_BYTE: usize = 2;
        /// Bottom of stack: the last entry before the payload.
        pub const BOTTOM_OF_STACK: u8 = 0x01;
        /// Length of one entry.
        pub const ENTRY_LEN: usize = 4;
        /// EtherType of MPLS unicast.
        pub const UNICAST: u16 = 0x8847;
        /// EtherType of MPLS multicast.
        pub const MULTICAST: u16 = 0x8848;
        /// PPP protocol of MPLS unicast.
        pub const PPP_UNICAST: u16 = 0x0281;
        /// PPP protocol of MPLS multicast.
        pub const PPP_MULTICAST: u16 = 0x0283;
        /// The IANA UDP port of MPLS over UDP (RFC 7510).
        pub const UDP_PORT: u16 = 6635;
    }

    /// Cisco HDLC (`LINKTYPE_C_HDLC`): address, control, then an EtherType.
    pub mod chdlc {
        use super::Field;
        /// Address: unicast.
        pub const UNICAST: u8 = 0x0f;
        /// Address: multicast.
        pub const MULTICAST: u8 = 0x8f;
        /// Protocol (an EtherType).
        pub const PROTOCOL: Field = 2..4;
        /// Header length.
        pub const HEADER_LEN: usize = 4;
    }

    /// Frame Relay (`LINKTYPE_FRELAY`): a Q.922 address of 2 to 4 bytes
    /// (the last with its EA bit set), then either the UI control byte and
    /// an NLPID (RFC 2427), or an EtherType (Cisco's encapsulation).
    pub mod frame_relay {
        /// The EA bit: this byte ends the address.
        pub const ADDRESS_END: u8 = 0x01;
        /// Shortest and longest address.
        pub const ADDRESS_LEN: std::ops::RangeInclusive<usize> = 2..=4;
        /// Control: unnumbered information, an NLPID follows.
        pub const UI: u8 = 0x03;
        /// NLPID padding before the NLPID.
        pub const PADDING: u8 = 0x00;
        /// NLPID: SNAP (3-byte OUI, 2-byte protocol) follows.
        pub const SNAP: u8 = 0x80;
        /// NLPID: IPv4.
        pub const IPV4: u8 = 0xcc;
        /// NLPID: IPv6.
        pub const IPV6: u8 = 0x8e;
        /// SNAP header after its NLPID: OUI and protocol.
        pub const SNAP_LEN: usize = 5;
    }

    /// Linux netfilter log (`LINKTYPE_NFLOG`, what `tcpdump -i nflog`
    /// writes): a 4-byte header, then TLVs whose length and type are in
    /// the byte order of the host that wrote them.
    pub mod nflog {
        /// Address family: 2 (AF_INET) or 10 (AF_INET6).
        pub const FAMILY: usize = 0;
        /// Header length (family, version, resource ID).
        pub const HEADER_LEN: usize = 4;
        /// TLV header length (length, type); the length counts it.
        pub const TLV_HEADER_LEN: usize = 4;
        /// TLVs start on 4-byte boundaries.
        pub const TLV_ALIGN: usize = 4;
        /// TLV type `NFULA_PAYLOAD`: the packet, from its network header.
        pub const PAYLOAD: u16 = 9;
        /// The type bits of a TLV's type field (the top two are flags).
        pub const TYPE_MASK: u16 = 0x3fff;
    }

    /// Apple PKTAP (`LINKTYPE_PKTAP`, what macOS `tcpdump -i any` writes):
    /// a little-endian header of its own length, then a frame of the
    /// link type it names.
    pub mod pktap {
        use super::Field;
        /// Header length (little-endian u32).
        pub const LENGTH: Field = 0..4;
        /// Record type (little-endian u32): 1 is a packet.
        pub const RECORD_TYPE: Field = 4..8;
        /// Link type of the frame that follows (little-endian u32).
        pub const DLT: Field = 8..12;
        /// Record type of a packet (`PKT_REC_PACKET`).
        pub const PACKET: u32 = 1;
        /// Size of the header as tcpdump knows it; shorter ones are refused.
        pub const MIN_HEADER_LEN: usize = 108;
    }

    /// Per-Packet Information (`LINKTYPE_PPI`): a little-endian header of
    /// its own length, then a frame of the link type it names.
    pub mod ppi {
        use super::Field;
        /// Version: 0.
        pub const VERSION: usize = 0;
        /// Header length, fields included (little-endian u16).
        pub const LENGTH: Field = 2..4;
        /// Link type of the frame that follows (little-endian u32).
        pub const DLT: Field = 4..8;
        /// Length of the fixed header.
        pub const MIN_HEADER_LEN: usize = 8;
    }

    /// IP over InfiniBand (`LINKTYPE_IPOIB`): 40 bytes of addresses, then
    /// the RFC 4391 encapsulation header (an EtherType, 2 reserved bytes).
    pub mod ipoib {
        use super::Field;
        /// Protocol (an EtherType).
        pub const PROTOCOL: Field = 40..42;
        /// Header length.
        pub const HEADER_LEN: usize = 44;
    }

    /// IEEE 802.11 (`LINKTYPE_IEEE802_11`): the MAC header of a data frame.
    pub mod ieee802_11 {
        /// Frame control, first byte: type (bits 2-3) and subtype (bits 4-7).
        pub const FRAME_CONTROL: usize = 0;
        /// Frame control, second byte: the flags.
        pub const FLAGS: usize = 1;
        /// Sequence control: fragment number (low 4 bits) and sequence number.
        pub const SEQUENCE_CONTROL: super::Field = 22..24;
        /// Header length of a data frame with three addresses.
        pub const HEADER_LEN: usize = 24;
        /// Length of the fourth address (when both DS flags are set).
        pub const ADDRESS_LEN: usize = 6;
        /// Length of the QoS control field (QoS subtypes).
        pub const QOS_LEN: usize = 2;
        /// Length of the HT control field (QoS frames with the order flag).
        pub const HT_CONTROL_LEN: usize = 4;
        /// Type: data.
        pub const TYPE_DATA: u8 = 2;
        /// Subtype bit: QoS.
        pub const SUBTYPE_QOS: u8 = 0x8;
        /// Subtype bit: no data (null function).
        pub const SUBTYPE_NO_DATA: u8 = 0x4;
        /// Flags: to and from the distribution system (both: four addresses).
        pub const TO_FROM_DS: u8 = 0x03;
        /// Flag: more fragments follow.
        pub const MORE_FRAGMENTS: u8 = 0x04;
        /// Flag: the body is encrypted.
        pub const PROTECTED: u8 = 0x40;
        /// Flag: order (on a QoS data frame, an HT control field is present).
        pub const ORDER: u8 = 0x80;
        /// QoS control, first byte: an A-MSDU, not one LLC frame, follows.
        pub const QOS_AMSDU: u8 = 0x80;
    }

    /// Radiotap (`LINKTYPE_IEEE802_11_RADIOTAP`): a little-endian header
    /// of its own length before an 802.11 frame.
    pub mod radiotap {
        use super::Field;
        /// Version: 0.
        pub const VERSION: usize = 0;
        /// Header length (little-endian u16).
        pub const LENGTH: Field = 2..4;
        /// The first "present" bitmap (little-endian u32).
        pub const PRESENT: Field = 4..8;
        /// Present bit: TSFT (8 bytes, 8-aligned), the field before flags.
        pub const TSFT: u32 = 0x1;
        /// Present bit: flags (1 byte).
        pub const FLAGS: u32 = 0x2;
        /// Present bit: another bitmap follows.
        pub const EXTENDED: u32 = 0x8000_0000;
        /// Flag: the frame ends with its 4-byte FCS.
        pub const FLAG_FCS: u8 = 0x10;
        /// Flag: padding after the 802.11 header, to a multiple of 4.
        pub const FLAG_DATA_PAD: u8 = 0x20;
        /// Length of the fixed header.
        pub const MIN_HEADER_LEN: usize = 8;
    }

    /// Solaris ipnet (`LINKTYPE_IPNET`).
    pub mod ipnet {
        /// Address family: 2 (AF_INET) or 26 (Solaris AF_INET6).
        pub const FAMILY: usize = 1;
        /// Header length.
        pub const HEADER_LEN: usize = 24;
    }

    /// Linux ARCnet (`LINKTYPE_ARCNET_LINUX`): source, destination, a
    /// 2-byte offset and the protocol; RFC 1201 protocols add a split flag
    /// and a 2-byte sequence number.
    pub mod arcnet {
        /// Protocol ID.
        pub const PROTOCOL: usize = 4;
        /// RFC 1201 split flag: 0 for a packet in one piece.
        pub const SPLIT_FLAG: usize = 5;
        /// Header length of the RFC 1051 protocols.
        pub const HEADER_LEN: usize = 5;
        /// Header length of the RFC 1201 protocols.
        pub const RFC1201_HEADER_LEN: usize = 8;
        /// IPv4 (RFC 1201).
        pub const IP: u8 = 212;
        /// IPv4 (RFC 1051).
        pub const IP_OLD: u8 = 240;
        /// ARP (RFC 1051).
        pub const ARP_OLD: u8 = 241;
        /// Diagnostics (ANSI/ATA 878.1), with the short header.
        pub const DIAGNOSE: u8 = 0x80;
        /// IPv6 (RFC 2497).
        pub const IPV6: u8 = 0xc4;
    }

    /// IPv4.
    pub mod ipv4 {
        use super::Field;
        /// Version and header length (IHL, in 32-bit words).
        pub const VER_IHL: usize = 0;
        /// DSCP and ECN.
        pub const TOS: usize = 1;
        /// Total length.
        pub const LENGTH: Field = 2..4;
        /// Flags (high 3 bits) and fragment offset.
        pub const FLAGS_FRAG: Field = 6..8;
        /// Protocol.
        pub const PROTOCOL: usize = 9;
        /// Header checksum.
        pub const CHECKSUM: Field = 10..12;
        /// Source address.
        pub const SRC: Field = 12..16;
        /// Destination address.
        pub const DST: Field = 16..20;
        /// Header length without options.
        pub const MIN_HEADER_LEN: usize = 20;
        /// Header length with the most options.
        pub const MAX_HEADER_LEN: usize = 60;
    }

    /// IPv6.
    pub mod ipv6 {
        use super::Field;
        /// Payload length.
        pub const PAYLOAD_LEN: Field = 4..6;
        /// Next header.
        pub const NEXT_HEADER: usize = 6;
        /// Source address.
        pub const SRC: Field = 8..24;
        /// Destination address.
        pub const DST: Field = 24..40;
        /// Fixed header length.
        pub const HEADER_LEN: usize = 40;
    }

    /// UDP.
    pub mod udp {
        use super::Field;
        /// Source port.
        pub const SRC_PORT: Field = 0..2;
        /// Destination port.
        pub const DST_PORT: Field = 2..4;
        /// Length of header and payload.
        pub const LENGTH: Field = 4..6;
        /// Checksum.
        pub const CHECKSUM: Field = 6..8;
        /// Header length.
        pub const HEADER_LEN: usize = 8;
    }

    /// VXLAN (RFC 7348): 8 bytes after UDP to port 4789, then an Ethernet frame.
    pub mod vxlan {
        use super::Field;
        /// Flags: `0x08` (I) says the VNI is valid.
        pub const FLAGS: usize = 0;
        /// VXLAN network identifier (24 bits).
        pub const VNI: Field = 4..7;
        /// Header length.
        pub const HEADER_LEN: usize = 8;
        /// The IANA UDP port, where tshark (and lola) look for VXLAN.
        pub const PORT: u16 = 4789;
        /// The UDP port of VXLAN-GPE, whose header names what follows.
        pub const GPE_PORT: u16 = 4790;
        /// VXLAN-GPE's next protocol (after the flags and 16 reserved bits).
        pub const GPE_NEXT_PROTOCOL: usize = 3;
    }

    /// NSH, the Network Service Header (RFC 8300).
    pub mod nsh {
        /// The byte whose low 6 bits are the header's length in 4-byte words.
        pub const LENGTH: usize = 1;
        /// Metadata type (low 4 bits).
        pub const MD_TYPE: usize = 2;
        /// Next protocol: 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS.
        pub const NEXT_PROTOCOL: usize = 3;
        /// Base and service path headers.
        pub const HEADER_LEN: usize = 8;
    }

    /// Geneve (RFC 8926): a tunnel header in UDP, with options.
    pub mod geneve {
        use super::Field;
        /// Version (2 bits) and the options' length in 4-byte words (6 bits).
        pub const VERSION_OPTIONS: usize = 0;
        /// Mask of the options' length in [`VERSION_OPTIONS`].
        pub const OPTIONS_MASK: u8 = 0x3f;
        /// Protocol type of the payload: an EtherType (0x6558: Ethernet).
        pub const PROTOCOL: Field = 2..4;
        /// Virtual network identifier (24 bits).
        pub const VNI: Field = 4..7;
        /// Header length without options.
        pub const HEADER_LEN: usize = 8;
        /// The IANA UDP port.
        pub const PORT: u16 = 6081;
    }

    /// GRE (RFC 2784, RFC 2890), IP protocol 47.
    pub mod gre {
        use super::Field;
        /// Flags (C, R, K, S, ...) and version (low 3 bits, 0 for GRE).
        pub const FLAGS_VERSION: Field = 0..2;
        /// Protocol type: an EtherType (0x6558: an Ethernet frame).
        pub const PROTOCOL: Field = 2..4;
        /// Header length without optional fields.
        pub const HEADER_LEN: usize = 4;
        /// Length of each optional field (checksum + reserved, key, sequence number).
        pub const OPTION_LEN: usize = 4;
        /// C: a checksum field is present.
        pub const CHECKSUM_PRESENT: u16 = 0x8000;
        /// R: routing present (RFC 1701 only; lola does not read it).
        pub const ROUTING_PRESENT: u16 = 0x4000;
        /// K: a key field is present.
        pub const KEY_PRESENT: u16 = 0x2000;
        /// S: a sequence number field is present.
        pub const SEQUENCE_PRESENT: u16 = 0x1000;
        /// The version bits.
        pub const VERSION: u16 = 0x0007;
        /// Protocol type of transparent Ethernet bridging (gretap).
        pub const ETHERNET: u16 = 0x6558;
        /// Protocol type of WCCP's redirected IPv4 (a 4-byte redirect
        /// header first in WCCPv2, unless the packet starts like IPv4).
        pub const WCCP: u16 = 0x883e;
        /// Protocol type of ERSPAN: a mirrored Ethernet frame (type I bare,
        /// type II after 8 bytes, type III after 12 and an optional 8).
        pub const ERSPAN: u16 = 0x88be;
        /// Protocol type of Cisco MetaData: an 8-byte header (EtherType,
        /// version, length, option, SGT) then the packet of that EtherType.
        pub const CISCO_METADATA: u16 = 0x8909;
    }

    /// TCP (ports sit where UDP's do).
    pub mod tcp {
        /// Data offset (high 4 bits, in 32-bit words).
        pub const DATA_OFFSET: usize = 12;
        /// The eight flag bits, FIN lowest (see [`TcpFlags`](crate::packet::wire::TcpFlags)).
        pub const FLAGS: usize = 13;
        /// The data offset's low nibble and the flags byte: the 12 flag
        /// bits (3 reserved, AE, then CWR to FIN) under a 0x0fff mask.
        pub const FLAG_BITS: super::Field = 12..14;
        /// Header length without options.
        pub const MIN_HEADER_LEN: usize = 20;
    }

    /// ICMP and ICMPv6.
    pub mod icmp {
        /// Type.
        pub const TYPE: usize = 0;
        /// Code.
        pub const CODE: usize = 1;
        /// Header length; an error's quoted datagram follows it.
        pub const HEADER_LEN: usize = 8;
    }
}

/// Reads a big-endian `u16` at `range` (which must be two bytes within `data`).
#[inline(always)]
pub(crate) fn be16(data: &[u8], range: field::Field) -> u16 {
    u16::from_be_bytes([data[range.start], data[range.start + 1]])
}

/// TCP flags, as the flag bits of the TCP header (byte 13).
///
/// `Display` lists them in tshark's order, `SYN, ACK`; no flags print as
/// nothing.
///
/// ```
/// use lola::packet::wire::TcpFlags;
/// let synack = TcpFlags::SYN | TcpFlags::ACK;
/// assert_eq!(synack.to_string(), "SYN, ACK");
/// assert!(synack.contains(TcpFlags::SYN) && !synack.contains(TcpFlags::FIN));
/// assert!(synack.is_handshake() && !synack.is_teardown());
/// assert!((TcpFlags::RST | TcpFlags::ACK).is_teardown());
/// assert_eq!(TcpFlags::default().to_string(), "");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN: no more data from the sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN: synchronize sequence numbers (the handshake).
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST: reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH: push the data to the application.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK: the acknowledgement number is valid.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG: the urgent pointer is valid.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE: ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR: congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    const NAMES: [(TcpFlags, &'static str); 8] = [
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
        (TcpFlags::URG, "URG"),
        (TcpFlags::ECE, "ECE"),
        (TcpFlags::CWR, "CWR"),
    ];

    /// True when every flag of `other` is set here.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// A SYN (or SYN/ACK): part of a connection's handshake.
    pub fn is_handshake(self) -> bool {
        self.contains(TcpFlags::SYN)
    }

    /// A FIN or RST: part of a connection's end.
    pub fn is_teardown(self) -> bool {
        self.0 & (TcpFlags::FIN.0 | TcpFlags::RST.0) != 0
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | other.0)
    }
}

impl std::ops::BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, other: TcpFlags) {
        self.0 |= other.0;
    }
}

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (flag, name) in TcpFlags::NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(", ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for TcpFlags {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_print_in_tsharks_order() {
        assert_eq!(
            TcpFlags(0xff).to_string(),
            "FIN, SYN, RST, PSH, ACK, URG, ECE, CWR"
        );
        assert_eq!((TcpFlags::PSH | TcpFlags::ACK).to_string(), "PSH, ACK");
        assert_eq!((TcpFlags::FIN | TcpFlags::ACK).to_string(), "FIN, ACK");
    }

    #[test]
    fn offsets_agree_with_etherparse() {
        use etherparse::{Ipv4Header, Ipv6Header, UdpHeader};
        let v4 = Ipv4Header::new(
            10,
            64,
            etherparse::IpNumber::UDP,
            [1, 2, 3, 4],
            [5, 6, 7, 8],
        )
        .unwrap()
        .to_bytes();
        assert_eq!(&v4[field::ipv4::SRC], &[1, 2, 3, 4]);
        assert_eq!(&v4[field::ipv4::DST], &[5, 6, 7, 8]);
        assert_eq!(v4[field::ipv4::PROTOCOL], 17);
        assert_eq!(be16(&v4, field::ipv4::LENGTH), 30);
        let v6 = Ipv6Header {
            payload_length: 18,
            next_header: etherparse::IpNumber::UDP,
            source: [1; 16],
            destination: [2; 16],
            ..Default::default()
        }
        .to_bytes();
        assert_eq!(&v6[field::ipv6::SRC], &[1; 16]);
        assert_eq!(&v6[field::ipv6::DST], &[2; 16]);
        assert_eq!(v6[field::ipv6::NEXT_HEADER], 17);
        assert_eq!(be16(&v6, field::ipv6::PAYLOAD_LEN), 18);
        let udp = UdpHeader {
            source_port: 40000,
            destination_port: 7456,
            length: 18,
            checksum: 0xabcd,
        }
        .to_bytes();
        assert_eq!(be16(&udp, field::udp::SRC_PORT), 40000);
        assert_eq!(be16(&udp, field::udp::DST_PORT), 7456);
        assert_eq!(be16(&udp, field::udp::LENGTH), 18);
        assert_eq!(be16(&udp, field::udp::CHECKSUM), 0xabcd);
    }
}
