//! The registry: every field lola can name, one line each, in the order of
//! the README's reference table.

use super::{Display, Field, FieldType, Id};

macro_rules! field {
    ($name:literal, $ty:ident, $id:ident, $display:expr, $tshark:literal, $about:literal) => {
        Field {
            name: $name,
            ty: FieldType::$ty,
            id: Id::$id,
            display: $display,
            tshark: $tshark,
            about: $about,
        }
    };
}

use Display::{Hex, HexBytes, Plain};

/// Every field lola supports, in the order of the README's reference table.
pub const FIELDS: &[Field] = &[
    field!(
        "frame",
        Protocol,
        Frame,
        HexBytes,
        false,
        "protocol: the whole frame as captured"
    ),
    field!(
        "frame.number",
        Uint,
        FrameNumber,
        Plain,
        true,
        "1-based frame number"
    ),
    field!(
        "frame.len",
        Uint,
        FrameLen,
        Plain,
        true,
        "length on the wire"
    ),
    field!(
        "frame.cap_len",
        Uint,
        FrameCapLen,
        Plain,
        true,
        "bytes captured"
    ),
    field!(
        "eth",
        Protocol,
        Eth,
        HexBytes,
        false,
        "protocol: each Ethernet header, the frame's and a tunnel's (Wireshark's `len()`: 14)"
    ),
    field!("eth.src", Mac, EthSrc, Plain, true, "Ethernet source"),
    field!("eth.dst", Mac, EthDst, Plain, true, "Ethernet destination"),
    field!(
        "eth.addr",
        Mac,
        EthAddr,
        Plain,
        true,
        "either Ethernet address"
    ),
    field!(
        "eth.type",
        Uint,
        EthType,
        Hex(4),
        true,
        "EtherType of an Ethernet II frame; of a VLAN-tagged one, the outer tag's (0x8100, 0x88a8); absent on 802.3"
    ),
    field!(
        "vlan.id",
        Uint,
        VlanId,
        Plain,
        true,
        "802.1Q VLAN ID (the inner, customer tag of QinQ)"
    ),
    field!(
        "ip",
        Protocol,
        Ip,
        HexBytes,
        false,
        "protocol: each IPv4 header, outer first (tunnel, then inner; ICMP error, then quoted)"
    ),
    field!(
        "ip.version",
        Uint,
        IpVersion,
        Plain,
        true,
        "IP version (4 or 6) of each IP header"
    ),
    field!(
        "ip.hdr_len",
        Uint,
        IpHdrLen,
        Plain,
        true,
        "IPv4 header length in bytes"
    ),
    field!(
        "ip.dsfield",
        Uint,
        IpDsfield,
        Hex(2),
        true,
        "IPv4 DS field (DSCP and ECN)"
    ),
    field!(
        "ip.len",
        Uint,
        IpLen,
        Plain,
        true,
        "IPv4 total length, the frame's own header's (on the fragment that completes a datagram too); the frame's length when the header says 0 (TSO, BIG TCP)"
    ),
    field!("ip.id", Uint, IpId, Hex(4), true, "IPv4 identification"),
    field!(
        "ip.flags.df",
        Bool,
        IpFlagsDf,
        Plain,
        true,
        "IPv4 don't fragment"
    ),
    field!(
        "ip.flags.mf",
        Bool,
        IpFlagsMf,
        Plain,
        true,
        "IPv4 more fragments"
    ),
    field!(
        "ip.frag_offset",
        Uint,
        IpFragOffset,
        Plain,
        true,
        "IPv4 fragment offset in 8-byte units, the header's 13 bits (Wireshark 3.4 and later; bytes before)"
    ),
    field!("ip.ttl", Uint, IpTtl, Plain, true, "IPv4 time to live"),
    field!("ip.proto", Uint, IpProto, Plain, true, "IPv4 protocol"),
    field!(
        "ip.checksum",
        Uint,
        IpChecksum,
        Hex(4),
        true,
        "IPv4 header checksum"
    ),
    field!(
        "ip.checksum.status",
        Status,
        IpChecksumStatus,
        Plain,
        false,
        "lola's verdict on ip.checksum, numbered as Wireshark's with its ip.check_checksum preference on (0 Bad, 1 Good, 2 Unverified, 3 Not present); by default Wireshark verifies nothing (2)"
    ),
    field!("ip.src", Addr, IpSrc, Plain, true, "IPv4 source"),
    field!("ip.dst", Addr, IpDst, Plain, true, "IPv4 destination"),
    field!("ip.addr", Addr, IpAddr, Plain, true, "either IPv4 address"),
    field!(
        "ipv6",
        Protocol,
        Ipv6,
        HexBytes,
        false,
        "protocol: each IPv6 header, outer first"
    ),
    field!("ipv6.hlim", Uint, Ipv6Hlim, Plain, true, "IPv6 hop limit"),
    field!(
        "ipv6.nxt",
        Uint,
        Ipv6Nxt,
        Plain,
        true,
        "Next Header of the IPv6 fixed header (0 hop-by-hop, 44 fragment, ..., not the upper layer's)"
    ),
    field!("ipv6.src", Addr, Ipv6Src, Plain, true, "IPv6 source"),
    field!("ipv6.dst", Addr, Ipv6Dst, Plain, true, "IPv6 destination"),
    field!(
        "ipv6.addr",
        Addr,
        Ipv6Addr,
        Plain,
        true,
        "either IPv6 address"
    ),
    field!(
        "udp",
        Protocol,
        Udp,
        HexBytes,
        false,
        "protocol: each UDP header (a tunnel's, the datagram's, one an ICMP error quotes); `len()`: 8"
    ),
    field!(
        "udp.srcport",
        Uint,
        UdpSrcport,
        Plain,
        true,
        "UDP source port"
    ),
    field!(
        "udp.dstport",
        Uint,
        UdpDstport,
        Plain,
        true,
        "UDP destination port"
    ),
    field!("udp.port", Uint, UdpPort, Plain, true, "either UDP port"),
    field!(
        "udp.length",
        Uint,
        UdpLength,
        Plain,
        true,
        "UDP length (header and payload); 0 in a UDP jumbogram (RFC 2675), as sent"
    ),
    field!(
        "udp.checksum",
        Uint,
        UdpChecksum,
        Hex(4),
        true,
        "UDP checksum (absent when udp.length is below 8, where tshark stops)"
    ),
    field!(
        "udp.checksum.status",
        Status,
        UdpChecksumStatus,
        Plain,
        false,
        "lola's verdict on udp.checksum, as Wireshark's with udp.check_checksum on; a partial sum (checksum offload) is 2 Unverified where Wireshark says 0 Bad"
    ),
    field!(
        "udp.payload",
        Bytes,
        UdpPayload,
        HexBytes,
        true,
        "UDP payload bytes, whatever carries them (absent when empty)"
    ),
    field!(
        "tcp",
        Protocol,
        Tcp,
        HexBytes,
        false,
        "protocol: each TCP header; `len()`: the header with options"
    ),
    field!(
        "tcp.srcport",
        Uint,
        TcpSrcport,
        Plain,
        true,
        "TCP source port"
    ),
    field!(
        "tcp.dstport",
        Uint,
        TcpDstport,
        Plain,
        true,
        "TCP destination port"
    ),
    field!("tcp.port", Uint, TcpPort, Plain, true, "either TCP port"),
    field!(
        "tcp.seq",
        Uint,
        TcpSeq,
        Plain,
        true,
        "sequence number relative to the direction's base: its SYN reads 0; without the SYN, the first segment reads 1"
    ),
    field!(
        "tcp.ack",
        Uint,
        TcpAck,
        Plain,
        true,
        "acknowledgement number relative to the other direction's base (as sent when ACK is not set)"
    ),
    field!(
        "tcp.seq_raw",
        Uint,
        TcpSeqRaw,
        Plain,
        true,
        "sequence number as sent"
    ),
    field!(
        "tcp.ack_raw",
        Uint,
        TcpAckRaw,
        Plain,
        true,
        "acknowledgement number as sent"
    ),
    field!("tcp.len", Uint, TcpLen, Plain, true, "bytes of TCP payload"),
    field!(
        "tcp.flags",
        Uint,
        TcpFlags,
        Hex(4),
        true,
        "the 12 flag bits: reserved, AE (0x100, Accurate ECN), CWR to FIN"
    ),
    field!("tcp.flags.fin", Bool, TcpFlagsFin, Plain, true, "FIN"),
    field!("tcp.flags.syn", Bool, TcpFlagsSyn, Plain, true, "SYN"),
    field!("tcp.flags.reset", Bool, TcpFlagsReset, Plain, true, "RST"),
    field!("tcp.flags.push", Bool, TcpFlagsPush, Plain, true, "PSH"),
    field!("tcp.flags.ack", Bool, TcpFlagsAck, Plain, true, "ACK"),
    field!("tcp.flags.urg", Bool, TcpFlagsUrg, Plain, true, "URG"),
    field!(
        "tcp.payload",
        Bytes,
        TcpPayload,
        HexBytes,
        true,
        "TCP payload bytes as captured (absent when empty)"
    ),
    field!(
        "icmp",
        Protocol,
        Icmp,
        HexBytes,
        false,
        "protocol: each ICMP message (with what an error quotes)"
    ),
    field!("icmp.type", Uint, IcmpType, Plain, true, "ICMP type"),
    field!("icmp.code", Uint, IcmpCode, Plain, true, "ICMP code"),
    field!(
        "icmpv6",
        Protocol,
        Icmpv6,
        HexBytes,
        false,
        "protocol: each ICMPv6 message (with what an error quotes)"
    ),
    field!("icmpv6.type", Uint, Icmpv6Type, Plain, true, "ICMPv6 type"),
    field!("icmpv6.code", Uint, Icmpv6Code, Plain, true, "ICMPv6 code"),
    field!(
        "vxlan",
        Protocol,
        Vxlan,
        HexBytes,
        false,
        "protocol: each VXLAN header (UDP port 4789) and the frame it carries, or VXLAN-GPE's (UDP port 4790) and what it names (IPv4, IPv6, Ethernet, NSH); `len()`: 8"
    ),
    field!(
        "vxlan.vni",
        Uint,
        VxlanVni,
        Plain,
        true,
        "VXLAN network identifier"
    ),
    field!(
        "geneve",
        Protocol,
        Geneve,
        HexBytes,
        false,
        "protocol: each Geneve header (UDP port 6081) and what it carries; `len()`: 8 and options"
    ),
    field!(
        "geneve.vni",
        Uint,
        GeneveVni,
        Hex(6),
        true,
        "Geneve virtual network identifier"
    ),
    field!(
        "gre",
        Protocol,
        Gre,
        HexBytes,
        false,
        "protocol: each GRE header and what it carries (IPv4, IPv6, Ethernet, and behind WCCP's, ERSPAN's or Cisco MetaData's header)"
    ),
    field!(
        "data",
        Protocol,
        Data,
        HexBytes,
        true,
        "protocol: payload no dissector claims (see data.data)"
    ),
    field!(
        "data.data",
        Bytes,
        DataData,
        HexBytes,
        true,
        "payload no dissector claims, as Wireshark shows it: UDP and TCP on a port tshark gives no protocol (UDP: nor QUIC nor TFTP, found by their heuristics and then by conversation, as tshark 4.0 finds them; a TFTP DATA block's bytes after its 4-byte header; a TCP payload that starts with Etch's magic de:ad:be:ef is Etch's), ICMP echo data after the ping's timestamp (8 or 16 bytes, as today's Wireshark reads it; 4.0 takes 8), a fragment's bytes, an IPComp payload's compressed bytes (before the packet they inflate to), what follows an Ethernet loopback (0x9000) message's functions"
    ),
    field!(
        "data.len",
        Uint,
        DataLen,
        Plain,
        true,
        "length of data.data"
    ),
    field!(
        "data.text",
        Text,
        DataText,
        Plain,
        false,
        "data.data as text (invalid UTF-8 replaced), as Wireshark shows it with the data dissector's show_as_text preference on (off by default: no value)"
    ),
];
