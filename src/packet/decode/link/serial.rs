//! Point-to-point links: PPP (with or without its HDLC-like address and
//! control bytes, with or without protocol-field compression) and Cisco
//! HDLC, read as tshark reads them.

use crate::packet::wire::be16;
use crate::packet::wire::field::{chdlc, mpls, ppp};

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
