//! Point-to-point links: PPP (with or without its HDLC-like address and
//! control bytes, with or without protocol-field compression), Cisco HDLC
//! and Frame Relay, read as tshark reads them.

use crate::packet::wire::be16;
use crate::packet::wire::field::{chdlc, frame_relay, mpls, ppp};

use super::{Link, Problem, ether_typed, need, past_mpls_labels};

/// PPP (`LINKTYPE_PPP`, `LINKTYPE_PPP_HDLC`), as tshark's `ppp_hdlc`
/// dissector reads it: a frame that starts with a Cisco HDLC address is
/// Cisco HDLC; `ff` starts the address and control bytes, which are
/// skipped whatever the control byte; then a protocol of one byte when that
/// byte is odd (compressed), else of two. IPv4 and IPv6 go on to IP, as
/// does either behind an MPLS label stack; nothing else does (LCP, IPCP
/// stay unread).
pub(super) fn decode_ppp(
    data: &[u8],
    mut link: Link,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>)> {
    let first = *data.first()?;
    if first == chdlc::UNICAST || first == chdlc::MULTICAST {
        return decode_cisco_hdlc(data, link, problems);
    }
    let at = if first == ppp::ADDRESS {
        ppp::ADDRESS_CONTROL_LEN
    } else {
        0
    };
    if !need(data, at + 1, "PPP header", problems) {
        return None;
    }
    let (protocol, len) = if data[at] & ppp::COMPRESSED != 0 {
        (u16::from(data[at]), 1)
    } else {
        if !need(data, at + 2, "PPP header", problems) {
            return None;
        }
        (be16(data, at..at + 2), 2)
    };
    link.header_len = at + len;
    let version = match protocol {
        ppp::IPV4 => Some(4),
        ppp::IPV6 => Some(6),
        mpls::PPP_UNICAST | mpls::PPP_MULTICAST => past_mpls_labels(data, &mut link),
        _ => None,
    };
    Some((link, version))
}

/// Cisco HDLC (`LINKTYPE_C_HDLC`): address, control, then an EtherType.
pub(super) fn decode_cisco_hdlc(
    data: &[u8],
    link: Link,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>)> {
    if !need(data, chdlc::HEADER_LEN, "Cisco HDLC header", problems) {
        return None;
    }
    Some(ether_typed(
        data,
        link,
        be16(data, chdlc::PROTOCOL),
        chdlc::HEADER_LEN,
    ))
}

/// Frame Relay (`LINKTYPE_FRELAY`): the Q.922 address (2 to 4 bytes), then
/// either UI and an NLPID (IPv4, IPv6, or SNAP with an EtherType; a padding
/// byte may come first), or Cisco's EtherType.
pub(super) fn decode_frame_relay(
    data: &[u8],
    mut link: Link,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>)> {
    use frame_relay as fr;
    let address_len = data
        .iter()
        .take(*fr::ADDRESS_LEN.end())
        .position(|b| b & fr::ADDRESS_END != 0)?
        + 1;
    if address_len < *fr::ADDRESS_LEN.start() {
        return None;
    }
    if !need(data, address_len + 2, "Frame Relay header", problems) {
        return None;
    }
    if data[address_len] != fr::UI {
        let ether_type = be16(data, address_len..address_len + 2);
        return Some(ether_typed(data, link, ether_type, address_len + 2));
    }
    let mut at = address_len + 1;
    if data[at] == fr::PADDING {
        at += 1;
    }
    let Some(&nlpid) = data.get(at) else {
        problems.push(Problem::LinkHeaderCut {
            what: "Frame Relay header",
            captured: data.len(),
            needed: at + 1,
        });
        return None;
    };
    at += 1;
    link.header_len = at;
    match nlpid {
        fr::IPV4 => Some((link, Some(4))),
        fr::IPV6 => Some((link, Some(6))),
        fr::SNAP => {
            if !need(data, at + fr::SNAP_LEN, "Frame Relay SNAP header", problems) {
                return None;
            }
            if data[at..at + 3] != [0, 0, 0] {
                link.header_len = at + fr::SNAP_LEN;
                return Some((link, None));
            }
            let ether_type = be16(data, at + 3..at + 5);
            Some(ether_typed(data, link, ether_type, at + fr::SNAP_LEN))
        }
        _ => Some((link, None)),
    }
}
