//! How each field's values are read from a decoded frame: one extractor per
//! protocol, chosen by the field's [`Id`].

use crate::packet::decode::{ChecksumState, Packet, Transport};

use super::{FrameView, Id, Value};

fn one<T>(i: usize, x: Option<T>) -> Option<T> {
    if i == 0 { x } else { None }
}

fn status(state: ChecksumState) -> &'static str {
    match state {
        ChecksumState::Correct => "good",
        ChecksumState::Bad { .. } => "bad",
        ChecksumState::Partial { .. } => "partial",
        ChecksumState::Absent => "absent",
        ChecksumState::Unverified => "unverified",
    }
}

pub(super) fn get<'a>(id: Id, v: &FrameView<'_, 'a>, i: usize) -> Option<Value<'a>> {
    let p = v.packet;
    match id {
        Id::FrameNumber | Id::FrameLen | Id::FrameCapLen => frame_field(id, v, i),
        Id::EthSrc | Id::EthDst | Id::EthAddr | Id::EthType | Id::VlanId => link_field(id, p, i),
        Id::IpVersion
        | Id::IpHdrLen
        | Id::IpDsfield
        | Id::IpLen
        | Id::IpId
        | Id::IpFlagsDf
        | Id::IpFlagsMf
        | Id::IpFragOffset
        | Id::IpTtl
        | Id::IpProto
        | Id::IpChecksum
        | Id::IpChecksumStatus
        | Id::IpSrc
        | Id::IpDst
        | Id::IpAddr => ipv4_field(id, p, i),
        Id::Ipv6Hlim | Id::Ipv6Nxt | Id::Ipv6Src | Id::Ipv6Dst | Id::Ipv6Addr => {
            ipv6_field(id, p, i)
        }
        Id::Udp
        | Id::UdpSrcport
        | Id::UdpDstport
        | Id::UdpPort
        | Id::UdpLength
        | Id::UdpChecksum
        | Id::UdpChecksumStatus => udp_field(id, p, i),
        Id::Tcp
        | Id::TcpSrcport
        | Id::TcpDstport
        | Id::TcpPort
        | Id::TcpSeq
        | Id::TcpAck
        | Id::TcpSeqRaw
        | Id::TcpAckRaw
        | Id::TcpLen
        | Id::TcpFlags
        | Id::TcpFlagsFin
        | Id::TcpFlagsSyn
        | Id::TcpFlagsReset
        | Id::TcpFlagsPush
        | Id::TcpFlagsAck
        | Id::TcpFlagsUrg => tcp_field(id, v, i),
        Id::IcmpType | Id::IcmpCode | Id::Icmpv6Type | Id::Icmpv6Code => icmp_field(id, p, i),
        Id::DataData | Id::DataLen | Id::DataText => data_field(id, p, i),
    }
}

/// Value `i` of a two-valued field (`*.addr`, `*.port`): `a` at 0, `b` at 1.
fn pair<T>(i: usize, a: Option<T>, b: Option<T>) -> Option<T> {
    match i {
        0 => a,
        1 => b,
        _ => None,
    }
}

/// The `frame.*` fields.
fn frame_field<'a>(id: Id, v: &FrameView<'_, 'a>, i: usize) -> Option<Value<'a>> {
    use Value::Uint;
    match id {
        Id::FrameNumber => one(i, Some(Uint(v.number))),
        Id::FrameLen => one(i, Some(Uint(u64::from(v.orig_len)))),
        Id::FrameCapLen => one(i, Some(Uint(v.cap_len as u64))),
        _ => None,
    }
}

/// The `eth.*` and `vlan.*` fields.
fn link_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    use Value::Uint;
    let link = p.link.as_ref();
    match id {
        Id::EthSrc => one(i, link.and_then(|l| l.src_mac).map(Value::Mac)),
        Id::EthDst => one(i, link.and_then(|l| l.dst_mac).map(Value::Mac)),
        Id::EthAddr => pair(
            i,
            link.and_then(|l| l.dst_mac).map(Value::Mac),
            link.and_then(|l| l.src_mac).map(Value::Mac),
        ),
        Id::EthType => one(
            i,
            // An 802.3 frame carries a length there, not a type (LLC/SNAP
            // names the protocol): no eth.type, as tshark shows it.
            link.filter(|l| l.src_mac.is_some() && l.vlans.is_empty())
                .filter(|_| p.encapsulation != Some(crate::packet::decode::Encapsulation::LlcSnap))
                .and_then(|l| l.ether_type)
                .filter(|&t| t > crate::packet::wire::field::llc::MAX_LENGTH)
                .map(|t| Uint(t.into())),
        ),
        Id::VlanId => one(
            i,
            link.and_then(|l| l.vlans.last()).map(|&id| Uint(id.into())),
        ),
        _ => None,
    }
}

/// The `ip.*` fields (`ip.version` for either version, the rest IPv4 only).
fn ipv4_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    use Value::{Addr, Bool, Uint};
    let ip = p.ip.as_ref();
    let ip4 = ip.filter(|ip| ip.version == 4);
    match id {
        Id::IpVersion => one(i, ip.map(|ip| Uint(ip.version.into()))),
        Id::IpHdrLen => one(i, ip4.map(|ip| Uint(ip.header_len as u64))),
        Id::IpDsfield => one(i, ip4.map(|ip| Uint(ip.tos.into()))),
        Id::IpLen => one(i, ip4.map(|ip| Uint(ip.total_len as u64))),
        Id::IpId => one(
            i,
            ip4.and_then(|ip| ip.identification).map(|n| Uint(n.into())),
        ),
        Id::IpFlagsDf => one(i, ip4.map(|ip| Bool(ip.dont_fragment))),
        Id::IpFlagsMf => one(i, ip4.map(|ip| Bool(ip.frag.is_some_and(|f| f.more)))),
        // The header's 13 bits, in 8-byte units, as Wireshark 3.4 and later
        // hold it (its tree shows the bytes, its filters use the units).
        Id::IpFragOffset => one(
            i,
            ip4.map(|ip| Uint(ip.frag.map_or(0, |f| f.offset.into()))),
        ),
        Id::IpTtl => one(i, ip4.map(|ip| Uint(ip.ttl.into()))),
        Id::IpProto => one(i, ip4.map(|ip| Uint(ip.protocol.into()))),
        Id::IpChecksum => one(
            i,
            ip4.and_then(|ip| ip.header_checksum)
                .map(|c| Uint(c.value.into())),
        ),
        Id::IpChecksumStatus => one(
            i,
            ip4.and_then(|ip| ip.header_checksum)
                .map(|c| Value::Status(status(c.state))),
        ),
        Id::IpSrc => one(i, ip4.map(|ip| Addr(ip.src))),
        Id::IpDst => one(i, ip4.map(|ip| Addr(ip.dst))),
        Id::IpAddr => pair(i, ip4.map(|ip| Addr(ip.src)), ip4.map(|ip| Addr(ip.dst))),
        _ => None,
    }
}

/// The `ipv6.*` fields.
fn ipv6_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    use Value::{Addr, Uint};
    let ip6 = p.ip.as_ref().filter(|ip| ip.version == 6);
    match id {
        Id::Ipv6Hlim => one(i, ip6.map(|ip| Uint(ip.ttl.into()))),
        Id::Ipv6Nxt => one(i, ip6.map(|ip| Uint(ip.next_header.into()))),
        Id::Ipv6Src => one(i, ip6.map(|ip| Addr(ip.src))),
        Id::Ipv6Dst => one(i, ip6.map(|ip| Addr(ip.dst))),
        Id::Ipv6Addr => pair(i, ip6.map(|ip| Addr(ip.src)), ip6.map(|ip| Addr(ip.dst))),
        _ => None,
    }
}

/// The `udp` and `udp.*` fields.
fn udp_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    use Value::{Bool, Uint};
    let udp = match &p.transport {
        Transport::Udp(u) => Some(u),
        _ => None,
    };
    match id {
        Id::Udp => one(i, udp.map(|_| Bool(true))),
        Id::UdpSrcport => one(i, udp.map(|u| Uint(u.src_port.into()))),
        Id::UdpDstport => one(i, udp.map(|u| Uint(u.dst_port.into()))),
        Id::UdpPort => pair(
            i,
            udp.map(|u| Uint(u.src_port.into())),
            udp.map(|u| Uint(u.dst_port.into())),
        ),
        Id::UdpLength => one(i, udp.map(|u| Uint(u.length.into()))),
        // tshark stops at a bogus length (below 8, not a jumbogram's 0)
        // before it reads the checksum.
        Id::UdpChecksum => one(
            i,
            udp.filter(|u| u.length >= 8 || u.payload_len > 0)
                .map(|u| Uint(u.checksum.value.into())),
        ),
        Id::UdpChecksumStatus => one(i, udp.map(|u| Value::Status(status(u.checksum.state)))),
        _ => None,
    }
}

/// The `tcp` and `tcp.*` fields (`tcp.seq`/`tcp.ack` from the view's
/// relative numbers).
fn tcp_field<'a>(id: Id, v: &FrameView<'_, 'a>, i: usize) -> Option<Value<'a>> {
    use crate::packet::wire::TcpFlags;
    use Value::{Bool, Uint};
    let tcp = match &v.packet.transport {
        Transport::Tcp(t) => Some(t),
        _ => None,
    };
    let flag = |bit: TcpFlags| one(i, tcp.map(|t| Bool(t.flags.contains(bit))));
    match id {
        Id::Tcp => one(i, tcp.map(|_| Bool(true))),
        Id::TcpSrcport => one(i, tcp.map(|t| Uint(t.src_port.into()))),
        Id::TcpDstport => one(i, tcp.map(|t| Uint(t.dst_port.into()))),
        Id::TcpPort => pair(
            i,
            tcp.map(|t| Uint(t.src_port.into())),
            tcp.map(|t| Uint(t.dst_port.into())),
        ),
        Id::TcpSeq => one(i, v.tcp_relative.map(|(s, _)| Uint(s.into()))),
        Id::TcpAck => one(i, v.tcp_relative.map(|(_, a)| Uint(a.into()))),
        Id::TcpSeqRaw => one(i, tcp.map(|t| Uint(t.seq.into()))),
        Id::TcpAckRaw => one(i, tcp.map(|t| Uint(t.ack.into()))),
        Id::TcpLen => one(i, tcp.map(|t| Uint(t.payload_len as u64))),
        Id::TcpFlags => one(i, tcp.map(|t| Uint(t.flag_bits.into()))),
        Id::TcpFlagsFin => flag(TcpFlags::FIN),
        Id::TcpFlagsSyn => flag(TcpFlags::SYN),
        Id::TcpFlagsReset => flag(TcpFlags::RST),
        Id::TcpFlagsPush => flag(TcpFlags::PSH),
        Id::TcpFlagsAck => flag(TcpFlags::ACK),
        Id::TcpFlagsUrg => flag(TcpFlags::URG),
        _ => None,
    }
}

/// The `icmp.*` and `icmpv6.*` fields.
fn icmp_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    use Value::Uint;
    let icmp = match &p.transport {
        Transport::Icmp(c) => Some(c),
        _ => None,
    };
    let version = p.ip.as_ref().map(|ip| ip.version);
    let icmp4 = icmp.filter(|_| version == Some(4));
    let icmp6 = icmp.filter(|_| version == Some(6));
    match id {
        Id::IcmpType => one(i, icmp4.map(|c| Uint(c.icmp_type.into()))),
        Id::IcmpCode => one(i, icmp4.map(|c| Uint(c.code.into()))),
        Id::Icmpv6Type => one(i, icmp6.map(|c| Uint(c.icmp_type.into()))),
        Id::Icmpv6Code => one(i, icmp6.map(|c| Uint(c.code.into()))),
        _ => None,
    }
}

/// The `data.*` fields: a UDP datagram's payload, when it has one.
fn data_field<'a>(id: Id, p: &Packet<'a>, i: usize) -> Option<Value<'a>> {
    let payload: Option<&'a [u8]> = match &p.transport {
        Transport::Udp(u) if !u.payload.is_empty() => Some(u.payload),
        _ => None,
    };
    match id {
        Id::DataData => one(i, payload.map(Value::Bytes)),
        Id::DataLen => one(i, payload.map(|b| Value::Uint(b.len() as u64))),
        Id::DataText => one(i, payload.map(|b| Value::Text(String::from_utf8_lossy(b)))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::packet::decode::decode;
    use crate::packet::fields::{FrameView, Value, lookup};

    /// The value of `field` in the Ethernet frame `data`.
    fn value(field: &str, data: &[u8]) -> Option<Value<'static>> {
        let frame = crate::capture::RawFrame {
            number: 1,
            offset: 0,
            timestamp: std::time::Duration::ZERO,
            link_type: 1,
            orig_len: data.len() as u32,
            data,
            comment: None,
            flags: None,
        };
        let packet = decode(1, data, data.len());
        let v = FrameView::new(&frame, &packet);
        match lookup(field).unwrap().get(&v, 0) {
            Some(Value::Uint(n)) => Some(Value::Uint(n)),
            None => None,
            Some(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_802_3_length_is_no_eth_type() {
        // IEEE 802.3 (length 38) with LLC for spanning tree: tshark shows no eth.type.
        let mut stp = vec![0u8; 12];
        stp.extend_from_slice(&[0x00, 0x26, 0x42, 0x42, 0x03]);
        stp.resize(60, 0);
        assert_eq!(value("eth.type", &stp), None);
        stp[12..14].copy_from_slice(&[0x88, 0xcc]); // LLDP: an EtherType
        assert_eq!(value("eth.type", &stp), Some(Value::Uint(0x88cc)));
    }
}
