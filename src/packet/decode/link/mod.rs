//! The link layer: Ethernet II with 802.1Q/802.1ad tags, IEEE 802.3 with
//! LLC/SNAP (and LLC/SNAP behind the "jumbo LLC" EtherType), Linux cooked
//! capture (SLL, SLL2), BSD loopback (NULL, LOOP), raw IP and MPLS label
//! stacks here; PPP, Cisco HDLC and Frame Relay in `serial`; ARCnet, IP over InfiniBand
//! and 802.11 (bare or behind radiotap) in `lan`; the
//! capture headers around a packet or another frame (NFLOG, PKTAP, PPI,
//! Solaris ipnet) in `wrapped`. Each reads down to the IP version its
//! header announces.
//!
//! LLC/SNAP is read here rather than with the tunnels: it is 802.3's way of
//! naming the EtherType, and the Ethernet reader is the one that meets it.

mod lan;
mod serial;
mod wrapped;

use crate::capture::{
    LINKTYPE_ARCNET_LINUX, LINKTYPE_C_HDLC, LINKTYPE_ETHERNET, LINKTYPE_FRELAY,
    LINKTYPE_IEEE802_11, LINKTYPE_IEEE802_11_RADIOTAP, LINKTYPE_IPNET, LINKTYPE_IPOIB,
    LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP,
    LINKTYPE_NFLOG, LINKTYPE_NULL, LINKTYPE_PKTAP, LINKTYPE_PPI, LINKTYPE_PPP, LINKTYPE_PPP_HDLC,
    LINKTYPE_RAW, LINKTYPE_USER2_PKTAP,
};
use crate::packet::wire::be16;
use crate::packet::wire::field::{ethernet, llc, mpls, null, sll, sll2};

use super::{Encapsulation, Packet, Problem};

/// The link-layer header of a frame.
///
/// ```
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/link-qinq.pcap".as_ref()).unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// let link = lola::packet::decode::decode(frame.link_type, frame.data, frame.data.len()).link.unwrap();
/// // An 802.1ad S-tag (VLAN 200), an 802.1Q C-tag (VLAN 100), then IPv4.
/// assert_eq!(link.vlans, [200, 100]);
/// assert_eq!((link.ether_type, link.header_len), (Some(0x0800), 22));
/// assert_eq!((link.src_mac, link.dst_mac), (Some([0; 6]), Some([0; 6])));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Destination MAC (Ethernet only).
    pub dst_mac: Option<[u8; 6]>,
    /// Source MAC (Ethernet only).
    pub src_mac: Option<[u8; 6]>,
    /// EtherType of the network layer, where the link layer carries one.
    pub ether_type: Option<u16>,
    /// 802.1Q / 802.1ad VLAN IDs, outermost first.
    pub vlans: Vec<u16>,
    /// Bytes of link-layer header before the network layer.
    pub header_len: usize,
}

/// The IP version an EtherType announces.
pub(super) fn from_ether_type(t: u16) -> Option<u8> {
    match t {
        0x0800 => Some(4),
        0x86dd => Some(6),
        _ => None,
    }
}

/// Ethernet II with any 802.1Q/802.1ad tags, or IEEE 802.3 with LLC/SNAP (at
/// least the 14-byte header is there). The bool is true for LLC/SNAP.
pub(super) fn decode_ethernet(
    data: &[u8],
    mut link: Link,
    problems: &mut Vec<Problem>,
) -> Option<(Link, Option<u8>, bool)> {
    link.dst_mac = Some(data[ethernet::DST].try_into().ok()?);
    link.src_mac = Some(data[ethernet::SRC].try_into().ok()?);
    let mut at = ethernet::ETHERTYPE.start;
    let mut ether_type = be16(data, at..at + 2);
    while matches!(ether_type, 0x8100 | 0x88a8 | 0x9100) {
        if data.len() < at + ethernet::VLAN_TAG_LEN + 2 {
            problems.push(Problem::VlanTagCut);
            return None;
        }
        link.vlans.push(be16(data, at + 2..at + 4) & 0x0fff);
        at += ethernet::VLAN_TAG_LEN;
        ether_type = be16(data, at..at + 2);
    }
    link.header_len = at + 2;
    if ether_type <= llc::MAX_LENGTH || ether_type == llc::JUMBO_ETHERTYPE {
        // An 802.3 length (or the jumbo LLC EtherType, which tshark reads
        // as LLC too): IP comes only behind LLC/SNAP with an EtherType.
        if let Some(snap) = snap_ether_type(&data[link.header_len..]) {
            link.ether_type = Some(snap);
            link.header_len += llc::HEADER_LEN;
            return Some((link, from_ether_type(snap), true));
        }
    }
    let header_len = link.header_len;
    let (link, version) = ether_typed(data, link, ether_type, header_len);
    Some((link, version, false))
}

/// The EtherType of an LLC/SNAP header (`aa aa 03`, organization code
/// `00 00 00` or `00 00 f8`), or None when `llc` is not one.
pub(super) fn snap_ether_type(llc_header: &[u8]) -> Option<u16> {
    let header = llc_header.get(..llc::HEADER_LEN)?;
    let snap = header[llc::DSAP_SSAP_CONTROL] == [0xaa, 0xaa, 0x03]
        && matches!(header[llc::OUI], [0, 0, 0] | [0, 0, 0xf8]);
    snap.then(|| be16(header, llc::ETHERTYPE))
}

/// The IP version of a BSD loopback frame (at least its 4-byte header is there).
fn loopback_ip_version(link_type: u32, data: &[u8]) -> Option<u8> {
    let b = [data[0], data[1], data[2], data[3]];
    // NULL is in the byte order of the machine that wrote it; a family
    // is small, so the non-zero half tells the order.
    let family = if link_type == LINKTYPE_LOOP || (b[0] == 0 && b[1] == 0) {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    };
    match family {
        2 => Some(4),
        10 | 24 | 28 | 30 => Some(6),
        _ => None,
    }
}

/// Reads the link header; returns it with the IP version it announces (None
/// for a non-IP frame).
pub(super) fn decode_link(
    link_type: u32,
    data: &[u8],
    packet: &mut Packet<'_>,
) -> Option<(Link, Option<u8>)> {
    let problems = &mut packet.problems;
    let mut link = Link {
        dst_mac: None,
        src_mac: None,
        ether_type: None,
        vlans: Vec::new(),
        header_len: 0,
    };
    match link_type {
        LINKTYPE_ETHERNET => {
            if !need(data, ethernet::HEADER_LEN, "Ethernet header", problems) {
                return None;
            }
            let (link, version, snap) = decode_ethernet(data, link, problems)?;
            if snap {
                packet.encapsulation = Some(Encapsulation::LlcSnap);
            }
            Some((link, version))
        }
        LINKTYPE_LINUX_SLL => {
            if !need(data, sll::HEADER_LEN, "Linux cooked (SLL) header", problems) {
                return None;
            }
            Some(ether_typed(
                data,
                link,
                be16(data, sll::PROTOCOL),
                sll::HEADER_LEN,
            ))
        }
        LINKTYPE_LINUX_SLL2 => {
            if !need(
                data,
                sll2::HEADER_LEN,
                "Linux cooked (SLL2) header",
                problems,
            ) {
                return None;
            }
            Some(ether_typed(
                data,
                link,
                be16(data, sll2::PROTOCOL),
                sll2::HEADER_LEN,
            ))
        }
        LINKTYPE_NULL | LINKTYPE_LOOP => {
            if !need(data, null::HEADER_LEN, "loopback header", problems) {
                return None;
            }
            link.header_len = null::HEADER_LEN;
            Some((link, loopback_ip_version(link_type, data)))
        }
        LINKTYPE_RAW | 12 | 14 | LINKTYPE_IPV4 | LINKTYPE_IPV6 => {
            let version = match link_type {
                LINKTYPE_IPV4 => Some(4),
                LINKTYPE_IPV6 => Some(6),
                _ => data.first().map(|b| b >> 4).filter(|v| *v == 4 || *v == 6),
            };
            Some((link, version))
        }
        LINKTYPE_PPP | LINKTYPE_PPP_HDLC => serial::decode_ppp(data, link, problems),
        LINKTYPE_C_HDLC => serial::decode_cisco_hdlc(data, link, problems),
        LINKTYPE_FRELAY => serial::decode_frame_relay(data, link, problems),
        LINKTYPE_ARCNET_LINUX => lan::decode_arcnet_linux(data, link, problems),
        LINKTYPE_IPOIB => lan::decode_ipoib(data, link, problems),
        LINKTYPE_IEEE802_11 => lan::decode_ieee802_11(data, link, false, problems),
        LINKTYPE_IEEE802_11_RADIOTAP => lan::decode_radiotap(data, link, problems),
        LINKTYPE_NFLOG => wrapped::decode_nflog(data, link, problems),
        LINKTYPE_IPNET => wrapped::decode_ipnet(data, link, problems),
        LINKTYPE_PKTAP | LINKTYPE_USER2_PKTAP | LINKTYPE_PPI => {
            wrapped::decode_wrapped(link_type, data, packet)
        }
        _ => None,
    }
}

/// True when `data` holds the `needed` bytes of a `what`; else notes that
/// it was cut.
fn need(data: &[u8], needed: usize, what: &'static str, problems: &mut Vec<Problem>) -> bool {
    if data.len() < needed {
        problems.push(Problem::LinkHeaderCut {
            what,
            captured: data.len(),
            needed,
        });
        false
    } else {
        true
    }
}

/// A header of `header_len` bytes that names its payload by EtherType
/// (MPLS's included: its label stack is read past).
fn ether_typed(
    data: &[u8],
    mut link: Link,
    ether_type: u16,
    header_len: usize,
) -> (Link, Option<u8>) {
    link.ether_type = Some(ether_type);
    link.header_len = header_len;
    if matches!(ether_type, mpls::UNICAST | mpls::MULTICAST) {
        let version = past_mpls_labels(data, &mut link);
        return (link, version);
    }
    (link, from_ether_type(ether_type))
}

/// Reads the MPLS label stack at `link.header_len` and counts it in the
/// header; the IP version of what the stack carries, told as tshark tells
/// it, by the first nibble after the bottom entry. None when the stack is
/// cut or carries something else (a pseudowire, Ethernet).
pub(super) fn past_mpls_labels(data: &[u8], link: &mut Link) -> Option<u8> {
    let mut at = link.header_len;
    loop {
        let entry = data.get(at..at + mpls::ENTRY_LEN)?;
        at += mpls::ENTRY_LEN;
        link.header_len = at;
        if entry[mpls::BOTTOM_BYTE] & mpls::BOTTOM_OF_STACK != 0 {
            break;
        }
    }
    data.get(at).map(|b| b >> 4).filter(|v| *v == 4 || *v == 6)
}

#[cfg(test)]
mod tests {
    use crate::packet::decode::tests::fixture_frame;
    use crate::packet::decode::{Encapsulation, decode};

    #[test]
    fn llc_without_snap_is_not_ip() {
        let mut frame = fixture_frame("llc-snap.pcap");
        assert_eq!(
            decode(1, &frame, frame.len()).encapsulation,
            Some(Encapsulation::LlcSnap)
        );
        frame[14] = 0x42; // DSAP 0x42: spanning tree, not SNAP
        let p = decode(1, &frame, frame.len());
        assert_eq!((p.encapsulation, p.ip.is_none()), (None, true));
    }

    #[test]
    fn jumbo_llc_is_read_as_802_3_llc_snap() {
        let mut frame = fixture_frame("llc-snap.pcap");
        frame[12..14].copy_from_slice(&[0x88, 0x70]);
        let p = decode(1, &frame, frame.len());
        assert_eq!(p.encapsulation, Some(Encapsulation::LlcSnap));
        assert_eq!(p.link.as_ref().unwrap().header_len, 22);
        assert_eq!(p.endpoints().unwrap().1.port(), 7456);
    }

    /// An IPv4 UDP packet to port 7456, behind `header`, decodes under
    /// `link_type` with `header.len()` bytes of link header.
    fn reads_behind(link_type: u32, header: &[u8]) {
        let ip = &super::super::tests::TCPDUMP_LO_V4[14..];
        let frame = [header, ip].concat();
        let p = decode(link_type, &frame, frame.len());
        assert_eq!(
            p.link.as_ref().map(|l| l.header_len),
            Some(header.len()),
            "{link_type}"
        );
        assert_eq!(p.endpoints().map(|e| e.1.port()), Some(7456), "{link_type}");
        assert!(p.problems.is_empty(), "{link_type}: {:?}", p.problems);
    }

    #[test]
    fn headers_of_each_link_type_lead_to_ip() {
        // PPP: HDLC-like address and control, or none; a compressed protocol.
        reads_behind(9, &[0xff, 0x03, 0x00, 0x21]);
        reads_behind(9, &[0x00, 0x21]);
        reads_behind(50, &[0x21]);
        // PPP whose first byte is a Cisco HDLC address is Cisco HDLC.
        reads_behind(9, &[0x0f, 0x00, 0x08, 0x00]);
        reads_behind(104, &[0x8f, 0x00, 0x08, 0x00]);
        // PPP and Ethernet carrying MPLS: two labels, the second the bottom.
        let labels = [0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40];
        reads_behind(9, &[&[0xff, 0x03, 0x02, 0x81][..], &labels].concat());
        reads_behind(1, &[&[0; 12][..], &[0x88, 0x47], &labels].concat());
        // Frame Relay: RFC 2427 with padding, SNAP, and Cisco's EtherType.
        reads_behind(107, &[0x18, 0x41, 0x03, 0x00, 0xcc]);
        reads_behind(107, &[0x18, 0x41, 0x03, 0x80, 0, 0, 0, 0x08, 0x00]);
        reads_behind(107, &[0x18, 0x41, 0x08, 0x00]);
        // ARCnet: RFC 1201 (8 bytes) and RFC 1051 (5 bytes).
        reads_behind(129, &[0x01, 0x02, 0x00, 0x00, 212, 0x00, 0x00, 0x01]);
        reads_behind(129, &[0x01, 0x02, 0x00, 0x00, 240]);
        // IPoIB: 40 bytes of addresses, EtherType, reserved.
        reads_behind(242, &[&[0; 40][..], &[0x08, 0x00, 0, 0]].concat());
        // Solaris ipnet: family 2.
        reads_behind(226, &[&[1, 2][..], &[0; 22]].concat());
        // 802.11 QoS data to the AP, then LLC/SNAP.
        let snap = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
        let wlan = [&[0x88, 0x01][..], &[0; 24], &snap].concat();
        reads_behind(105, &wlan);
        // The same behind radiotap (TSFT and flags present, no padding).
        let radiotap = [&[0, 0, 17, 0, 0x03, 0, 0, 0][..], &[0; 9]].concat();
        reads_behind(127, &[&radiotap[..], &wlan].concat());
        // ... and behind PPI (its DLT 105).
        reads_behind(192, &[&[0, 0, 8, 0, 105, 0, 0, 0][..], &wlan].concat());
        // PKTAP: a 108-byte header (packet record, DLT 1), then Ethernet.
        let mut pktap = [0; 108];
        pktap[0] = 108;
        pktap[4] = 1;
        pktap[8] = 1;
        let ethernet = [&[0; 12][..], &[0x08, 0x00]].concat();
        reads_behind(258, &[&pktap[..], &ethernet].concat());
    }

    #[test]
    fn nflog_tlvs_are_read_in_either_byte_order() {
        // Family AF_INET; a prefix TLV (type 10, "x" padded), then the payload (type 9).
        let tlvs = |le: bool| {
            let u16_of = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
            let ip = &super::super::tests::TCPDUMP_LO_V4[14..];
            let mut out = vec![2, 0, 0, 0];
            out.extend(u16_of(5));
            out.extend(u16_of(10));
            out.extend(b"x\0\0\0");
            out.extend(u16_of(4 + ip.len() as u16));
            out.extend(u16_of(9));
            out.extend(ip);
            out
        };
        for le in [true, false] {
            let frame = tlvs(le);
            let p = decode(239, &frame, frame.len());
            assert_eq!(p.link.as_ref().map(|l| l.header_len), Some(16), "le {le}");
            assert_eq!(p.endpoints().map(|e| e.1.port()), Some(7456), "le {le}");
        }
    }

    #[test]
    fn wrappers_do_not_nest_and_other_802_11_frames_carry_no_ip() {
        // A PPI header around a PPI header.
        let ip = &super::super::tests::TCPDUMP_LO_V4[14..];
        let ppi = [0, 0, 8, 0, 192, 0, 0, 0];
        let frame = [&ppi[..], &ppi, &[0, 0, 8, 0, 101, 0, 0, 0], ip].concat();
        assert!(decode(192, &frame, frame.len()).ip.is_none());
        // The same PPI header around raw IP is read.
        let frame = [&[0, 0, 8, 0, 101, 0, 0, 0][..], ip].concat();
        assert!(decode(192, &frame, frame.len()).ip.is_some());
        let snap = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
        for (control, flags) in [
            (0x80, 0x00), // a beacon
            (0x48, 0x01), // null data
            (0x08, 0x41), // protected data
            (0x08, 0x05), // a fragment
        ] {
            let frame = [&[control, flags][..], &[0; 22], &snap, ip].concat();
            assert!(
                decode(105, &frame, frame.len()).ip.is_none(),
                "{control:#x} {flags:#x}"
            );
        }
    }

    /// No link type panics on any frame of any fixture, cut anywhere or
    /// with a byte changed.
    #[test]
    fn every_link_type_reads_any_bytes_without_panic() {
        let mut frames = Vec::new();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        for dir in [root.to_string(), format!("{root}/corpus")] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let Ok(mut reader) = crate::capture::CaptureReader::open_any_link_type(&path)
                else {
                    continue;
                };
                while let Ok(Some(f)) = reader.next_frame() {
                    frames.push(f.data.to_vec());
                }
            }
        }
        let link_types: Vec<u32> = (0..300)
            .filter(|t| crate::capture::link_type_supported(*t))
            .collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for data in &frames {
            for &link_type in &link_types {
                let _ = decode(link_type, data, data.len());
                for _ in 0..8 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let mut mutated = data.clone();
                    if !mutated.is_empty() {
                        let at = (seed as usize) % mutated.len().min(160);
                        mutated[at] = (seed >> 32) as u8;
                    }
                    let cut = (seed >> 40) as usize % (mutated.len() + 1);
                    let _ = decode(link_type, &mutated[..cut], mutated.len());
                }
            }
        }
    }
}
