//! Other local networks that carry IP: ARCnet as Linux captures it, IP over
//! InfiniBand, and IEEE 802.11 (bare or behind radiotap) data frames.

use crate::packet::wire::be16;
use crate::packet::wire::field::{arcnet, ieee802_11, ipoib, llc, radiotap};

use super::{Link, Problem, ether_typed, need, snap_ether_type};

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

/// IEEE 802.11 (`LINKTYPE_IEEE802_11`): a data frame's MAC header (three
/// or four addresses, QoS and HT control fields as its flags say), then
/// LLC/SNAP with an EtherType. Management and control frames, frames
/// without data, encrypted bodies, fragments and A-MSDUs announce no IP.
/// `data_pad`: radiotap says the header is padded to a multiple of 4 bytes.
pub(super) fn decode_ieee802_11(
    data: &[u8],
    mut link: Link,
    data_pad: bool,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>)> {
    use ieee802_11 as wlan;
    if !need(data, wlan::FLAGS + 1, "802.11 header", problems) {
        return None;
    }
    let (control, flags) = (data[wlan::FRAME_CONTROL], data[wlan::FLAGS]);
    let (kind, subtype) = ((control >> 2) & 0x3, control >> 4);
    if kind != wlan::TYPE_DATA || subtype & wlan::SUBTYPE_NO_DATA != 0 {
        link.header_len = data.len();
        return Some((link, None));
    }
    let mut header_len = wlan::HEADER_LEN;
    if flags & wlan::TO_FROM_DS == wlan::TO_FROM_DS {
        header_len += wlan::ADDRESS_LEN;
    }
    let qos = header_len;
    if subtype & wlan::SUBTYPE_QOS != 0 {
        header_len += wlan::QOS_LEN;
        if flags & wlan::ORDER != 0 {
            header_len += wlan::HT_CONTROL_LEN;
        }
    }
    if data_pad {
        header_len = header_len.next_multiple_of(4);
    }
    if !need(data, header_len, "802.11 header", problems) {
        return None;
    }
    link.header_len = header_len;
    let fragment =
        flags & wlan::MORE_FRAGMENTS != 0 || be16(data, wlan::SEQUENCE_CONTROL) & 0x0f00 != 0;
    let amsdu = subtype & wlan::SUBTYPE_QOS != 0 && data[qos] & wlan::QOS_AMSDU != 0;
    if flags & wlan::PROTECTED != 0 || fragment || amsdu {
        return Some((link, None));
    }
    match snap_ether_type(&data[header_len..]) {
        Some(ether_type) => Some(ether_typed(
            data,
            link,
            ether_type,
            header_len + llc::HEADER_LEN,
        )),
        None => Some((link, None)),
    }
}

/// Radiotap (`LINKTYPE_IEEE802_11_RADIOTAP`): a header of its own length,
/// whose flags field (when present) may say that the 802.11 header is
/// padded; then an 802.11 frame.
pub(super) fn decode_radiotap(
    data: &[u8],
    link: Link,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>)> {
    if !need(data, radiotap::MIN_HEADER_LEN, "radiotap header", problems) {
        return None;
    }
    let le32 = |at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let header_len = usize::from(u16::from_le_bytes([
        data[radiotap::LENGTH.start],
        data[radiotap::LENGTH.start + 1],
    ]));
    if data[radiotap::VERSION] != 0 || header_len < radiotap::MIN_HEADER_LEN {
        return None;
    }
    if !need(data, header_len, "radiotap header", problems) {
        return None;
    }
    // The fields start after the last "present" bitmap; flags is the
    // second field, after an 8-aligned TSFT when there is one.
    let present = le32(radiotap::PRESENT.start)?;
    let mut at = radiotap::PRESENT.start;
    while le32(at)? & radiotap::EXTENDED != 0 {
        at += 4;
    }
    at += 4;
    let mut data_pad = false;
    if present & radiotap::FLAGS != 0 {
        if present & radiotap::TSFT != 0 {
            at = at.next_multiple_of(8) + 8;
        }
        if at < header_len {
            data_pad = data[at] & radiotap::FLAG_DATA_PAD != 0;
        }
    }
    let (mut link, version) = decode_ieee802_11(&data[header_len..], link, data_pad, problems)?;
    link.header_len += header_len;
    Some((link, version))
}
