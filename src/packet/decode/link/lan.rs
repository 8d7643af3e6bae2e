//! Other local networks that carry IP: ARCnet as Linux captures it, and IP
//! over InfiniBand.

use crate::packet::wire::be16;
use crate::packet::wire::field::{arcnet, ipoib};

use super::{Link, Problem, ether_typed, need};

/// Linux ARCnet (`LINKTYPE_ARCNET_LINUX`): the RFC 1051 protocols (and
/// diagnostics) have a 5-byte header, every other protocol RFC 1201's 8
/// bytes, as tcpdump reads them. IPv4 of either RFC and IPv6 go on to IP;
/// an RFC 1201 packet split into pieces (split flag not 0) does not.
pub(super) fn decode_arcnet_linux(
    data: &[u8],
    mut link: Link,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>)> {
    if !need(data, arcnet::HEADER_LEN, "ARCnet header", problems) {
        return None;
    }
    let protocol = data[arcnet::PROTOCOL];
    if matches!(
        protocol,
        arcnet::IP_OLD | arcnet::ARP_OLD | arcnet::DIAGNOSE
    ) {
        link.header_len = arcnet::HEADER_LEN;
        return Some((link, (protocol == arcnet::IP_OLD).then_some(4)));
    }
    if !need(data, arcnet::RFC1201_HEADER_LEN, "ARCnet header", problems) {
        return None;
    }
    link.header_len = arcnet::RFC1201_HEADER_LEN;
    let version = match protocol {
        _ if data[arcnet::SPLIT_FLAG] != 0 => None,
        arcnet::IP => Some(4),
        arcnet::IPV6 => Some(6),
        _ => None,
    };
    Some((link, version))
}

/// IP over InfiniBand (`LINKTYPE_IPOIB`): 40 bytes of addresses, then an
/// EtherType and 2 reserved bytes.
pub(super) fn decode_ipoib(
    data: &[u8],
    link: Link,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>)> {
    if !need(data, ipoib::HEADER_LEN, "IPoIB header", problems) {
        return None;
    }
    Some(ether_typed(
        data,
        link,
        be16(data, ipoib::PROTOCOL),
        ipoib::HEADER_LEN,
    ))
}
