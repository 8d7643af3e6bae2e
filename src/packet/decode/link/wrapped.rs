//! Capture headers around a packet: Linux NFLOG (TLVs around an IP packet)
//! and Solaris ipnet (a fixed header before one), and the headers around a
//! frame of another link type, PKTAP and PPI, whose frame is read as that
//! link type (one level deep: a PKTAP or PPI header inside one is not read).

use crate::capture::{LINKTYPE_PKTAP, LINKTYPE_PPI, LINKTYPE_USER2_PKTAP};
use crate::packet::wire::field::{ipnet, nflog, pktap, ppi};

use super::{Link, Packet, Problem, decode_link, need};

/// Linux NFLOG (`LINKTYPE_NFLOG`): the address family (IPv4 or IPv6), then
/// TLVs, the packet in the last `NFULA_PAYLOAD` one. The TLVs' lengths and
/// types are in the writer's byte order, found as tshark finds it: big
/// endian when a walk that way meets a known type first, else little endian
/// when that way does, else big endian.
pub(super) fn decode_nflog(
    data: &[u8],
    mut link: Link,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>)> {
    if !need(data, nflog::HEADER_LEN, "NFLOG header", problems) {
        return None;
    }
    let tlvs = &data[nflog::HEADER_LEN..];
    let big_endian =
        tlv_order_fits(tlvs, u16::from_be_bytes) || !tlv_order_fits(tlvs, u16::from_le_bytes);
    let read = |at: usize| {
        let bytes = [tlvs[at], tlvs[at + 1]];
        if big_endian {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        }
    };
    let mut payload = None;
    let mut at = 0;
    while tlvs.len() >= at + nflog::TLV_HEADER_LEN {
        let len = usize::from(read(at));
        if len < nflog::TLV_HEADER_LEN {
            break;
        }
        if read(at + 2) & nflog::TYPE_MASK == nflog::PAYLOAD {
            payload = Some(at + nflog::TLV_HEADER_LEN);
        }
        at += len.next_multiple_of(nflog::TLV_ALIGN);
    }
    let Some(payload) = payload else {
        link.header_len = data.len();
        return Some((link, None));
    };
    link.header_len = nflog::HEADER_LEN + payload;
    let version = match data[nflog::FAMILY] {
        2 => Some(4),
        10 => Some(6),
        _ => None,
    };
    Some((link, version))
}

/// tshark's test of an NFLOG byte order: walking the TLVs with `u16` as
/// the reader, a type between 1 and 255 comes before a length under 4 or a
/// type of 256 or more.
fn tlv_order_fits(tlvs: &[u8], u16_from: fn([u8; 2]) -> u16) -> bool {
    let mut at = 0;
    while tlvs.len() > at + nflog::TLV_HEADER_LEN {
        let len = usize::from(u16_from([tlvs[at], tlvs[at + 1]]));
        let kind = u16_from([tlvs[at + 2], tlvs[at + 3]]) & 0x7fff;
        if len < nflog::TLV_HEADER_LEN || kind >= 0x100 {
            return false;
        }
        if kind != 0 {
            return true;
        }
        at += len.next_multiple_of(nflog::TLV_ALIGN);
    }
    false
}

/// Solaris ipnet (`LINKTYPE_IPNET`): a 24-byte header whose family says
/// IPv4 (2) or IPv6 (26).
pub(super) fn decode_ipnet(
    data: &[u8],
    mut link: Link,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>)> {
    if !need(data, ipnet::HEADER_LEN, "ipnet header", problems) {
        return None;
    }
    link.header_len = ipnet::HEADER_LEN;
    let version = match data[ipnet::FAMILY] {
        2 => Some(4),
        26 => Some(6),
        _ => None,
    };
    Some((link, version))
}

/// PKTAP (`LINKTYPE_PKTAP`, or `LINKTYPE_USER2` where Apple first put it,
/// as tshark reads it) or PPI (`LINKTYPE_PPI`): a little-endian header
/// that gives its own length and the link type of the frame after it; that
/// frame is decoded as its link type says, its header counted after this
/// one. A PKTAP record that is not a packet, a PPI header of another
/// version than 0, and a header shorter than its fixed part (tcpdump
/// refuses a PKTAP header under 108 bytes) carry no frame.
pub(super) fn decode_wrapped(
    link_type: u32,
    data: &[u8],
    packet: &mut Packet<'_>,
) -> Option<(Link, Option<u8>)> {
    let le32 = |r: std::ops::Range<usize>| {
        u32::from_le_bytes([
            data[r.start],
            data[r.start + 1],
            data[r.start + 2],
            data[r.start + 3],
        ])
    };
    let pktap = link_type != LINKTYPE_PPI;
    let (header_len, inner) = if pktap {
        if !need(data, pktap::DLT.end, "PKTAP header", &mut packet.problems) {
            return None;
        }
        let header_len = le32(pktap::LENGTH) as usize;
        if header_len < pktap::MIN_HEADER_LEN || le32(pktap::RECORD_TYPE) != pktap::PACKET {
            return None;
        }
        (header_len, le32(pktap::DLT))
    } else {
        if !need(
            data,
            ppi::MIN_HEADER_LEN,
            "PPI header",
            &mut packet.problems,
        ) {
            return None;
        }
        let header_len = usize::from(u16::from_le_bytes([
            data[ppi::LENGTH.start],
            data[ppi::LENGTH.start + 1],
        ]));
        if data[ppi::VERSION] != 0 || header_len < ppi::MIN_HEADER_LEN {
            return None;
        }
        (header_len, le32(ppi::DLT))
    };
    let what = if pktap { "PKTAP header" } else { "PPI header" };
    if !need(data, header_len, what, &mut packet.problems)
        || matches!(inner, LINKTYPE_PKTAP | LINKTYPE_USER2_PKTAP | LINKTYPE_PPI)
    {
        return None;
    }
    let (mut link, version) = decode_link(inner, &data[header_len..], packet)?;
    link.header_len += header_len;
    Some((link, version))
}
