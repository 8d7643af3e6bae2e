//! Layer 1, capture files: writing pcap and pcapng (whole or not at all),
//! and reading them back as a stream of frames with their link types;
//! the link-type table (names as libpcap gives them, and which ones lola
//! decodes).
//!
//! May use: [`error`](crate::error) only. Knows nothing of what a frame
//! holds: bytes in, bytes out.

mod annotate;
mod drops;
mod encode;
mod link_names;
mod pcapng;
mod read;
mod resolve;
mod temporary;
mod write;

pub use annotate::{Annotated, annotate_capture};
pub use drops::Drops;
pub use encode::{
    CaptureFrame, CaptureStatistics, FrameEncoder, WriteSummary, encode_capture,
    encode_capture_with,
};
pub use pcapng::Section;
pub(crate) use read::Visit;
pub use read::{CaptureReader, EPB_CHECKSUM_NOT_READY, MAX_NOTES, RawFrame};
pub use temporary::{NumberedDir, interrupt, remove_temporary_files};
pub use write::{
    Output, Written, check_writable, is_standard_output, write_capture, write_capture_kept,
    write_capture_streamed, write_capture_with, write_file_atomically, writes_a_file,
};

use std::fmt;
use std::str::FromStr;

/// libpcap's upper bound on a captured length (`MAXIMUM_SNAPLEN`); also the
/// snaplen tcpdump writes and lola writes.
pub const MAX_SNAPLEN: u32 = 262_144;

/// Largest pcapng block lola reads: a maximum-size packet plus generous room
/// for options (Wireshark's own bound is of the same order).
pub const MAX_BLOCK: u32 = MAX_SNAPLEN + 128 * 1024;

/// The container format of a capture file.
///
/// ```
/// use lola::capture::Format;
/// assert_eq!("pcapng".parse::<Format>(), Ok(Format::PcapNg));
/// assert_eq!(Format::Pcap.to_string(), "pcap");
/// assert!("erf".parse::<Format>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Classic libpcap format (what `tcpdump -w` writes).
    Pcap,
    /// pcapng (what Wireshark and dumpcap write).
    #[serde(rename = "pcapng")]
    PcapNg,
}

impl Format {
    /// The format a file name asks for: pcapng for `.pcapng`, else pcap.
    ///
    /// ```
    /// use lola::capture::Format;
    /// assert_eq!(Format::for_path("a.PCAPNG".as_ref()), Format::PcapNg);
    /// assert_eq!(Format::for_path("a.cap".as_ref()), Format::Pcap);
    /// ```
    pub fn for_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("pcapng") => Format::PcapNg,
            _ => Format::Pcap,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        })
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "pcap" => Ok(Format::Pcap),
            "pcapng" => Ok(Format::PcapNg),
            _ => Err(format!("unknown format {s:?}: expected pcap or pcapng")),
        }
    }
}

/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// LINKTYPE_NULL: BSD loopback, 4-byte address family in the writer's byte order.
pub const LINKTYPE_NULL: u32 = 0;
/// LINKTYPE_RAW: raw IPv4 or IPv6.
pub const LINKTYPE_RAW: u32 = 101;
/// LINKTYPE_LOOP: OpenBSD loopback, 4-byte address family in network byte order.
pub const LINKTYPE_LOOP: u32 = 108;
/// LINKTYPE_LINUX_SLL: Linux cooked capture v1.
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// LINKTYPE_IPV4: raw IPv4.
pub const LINKTYPE_IPV4: u32 = 228;
/// LINKTYPE_IPV6: raw IPv6.
pub const LINKTYPE_IPV6: u32 = 229;
/// LINKTYPE_LINUX_SLL2: Linux cooked capture v2 (`tcpdump -i any`).
pub const LINKTYPE_LINUX_SLL2: u32 = 276;
/// LINKTYPE_PPP: PPP, with or without HDLC-like address and control bytes.
pub const LINKTYPE_PPP: u32 = 9;
/// LINKTYPE_PPP_HDLC (libpcap's `PPP_SERIAL`): PPP in HDLC-like framing.
pub const LINKTYPE_PPP_HDLC: u32 = 50;
/// LINKTYPE_C_HDLC: Cisco HDLC, an EtherType after address and control.
pub const LINKTYPE_C_HDLC: u32 = 104;
/// LINKTYPE_FRELAY: Frame Relay.
pub const LINKTYPE_FRELAY: u32 = 107;
/// LINKTYPE_IEEE802_11: IEEE 802.11 frames, with no radio header.
pub const LINKTYPE_IEEE802_11: u32 = 105;
/// LINKTYPE_IEEE802_11_RADIOTAP (libpcap's `IEEE802_11_RADIO`): a radiotap
/// header, then an 802.11 frame.
pub const LINKTYPE_IEEE802_11_RADIOTAP: u32 = 127;
/// LINKTYPE_ARCNET_LINUX: ARCnet, as Linux captures it.
pub const LINKTYPE_ARCNET_LINUX: u32 = 129;
/// LINKTYPE_PPI: Per-Packet Information header, then a frame of another link type.
pub const LINKTYPE_PPI: u32 = 192;
/// LINKTYPE_IPNET: Solaris ipnet, a 24-byte header before IP.
pub const LINKTYPE_IPNET: u32 = 226;
/// LINKTYPE_NFLOG: Linux netfilter log messages (`tcpdump -i nflog`).
pub const LINKTYPE_NFLOG: u32 = 239;
/// LINKTYPE_IPOIB: IP over InfiniBand (RFC 4391).
pub const LINKTYPE_IPOIB: u32 = 242;
/// LINKTYPE_PKTAP: Apple PKTAP (macOS `tcpdump -i any`), a header then a
/// frame of another link type.
pub const LINKTYPE_PKTAP: u32 = 258;
/// LINKTYPE_USER2, which Apple's PKTAP used before 258 and which tshark
/// (and libpcap on macOS) read as PKTAP.
pub const LINKTYPE_USER2_PKTAP: u32 = 149;

/// Whether lola can decode frames of this link type.
///
/// ```
/// use lola::capture::{LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2};
/// use lola::capture::link_type_supported;
/// assert!(link_type_supported(LINKTYPE_ETHERNET) && link_type_supported(LINKTYPE_LINUX_SLL2));
/// assert!(!link_type_supported(147)); // USER0
/// ```
pub fn link_type_supported(link_type: u32) -> bool {
    matches!(
        link_type,
        LINKTYPE_ETHERNET
            | LINKTYPE_NULL
            | LINKTYPE_RAW
            | 12
            | 14
            | LINKTYPE_LOOP
            | LINKTYPE_LINUX_SLL
            | LINKTYPE_IPV4
            | LINKTYPE_IPV6
            | LINKTYPE_LINUX_SLL2
            | LINKTYPE_PPP
            | LINKTYPE_PPP_HDLC
            | LINKTYPE_C_HDLC
            | LINKTYPE_FRELAY
            | LINKTYPE_ARCNET_LINUX
            | LINKTYPE_IEEE802_11
            | LINKTYPE_IEEE802_11_RADIOTAP
            | LINKTYPE_PPI
            | LINKTYPE_IPNET
            | LINKTYPE_NFLOG
            | LINKTYPE_IPOIB
            | LINKTYPE_PKTAP
            | LINKTYPE_USER2_PKTAP
    )
}

/// libpcap's name for a link-layer type, as `tcpdump -r` prints it after
/// `link-type` (the `DLT_` name without its prefix); `unknown` for a value
/// libpcap has no name for.
///
/// ```
/// use lola::capture::link_type_name;
/// assert_eq!(link_type_name(1), "EN10MB");
/// assert_eq!(link_type_name(127), "IEEE802_11_RADIO");
/// assert_eq!(link_type_name(239), "NFLOG");
/// assert_eq!(link_type_name(9999), "unknown");
/// ```
pub fn link_type_name(link_type: u32) -> &'static str {
    match link_type {
        // OpenBSD's DLT_RAW, which lola reads as raw IP too; libpcap built
        // for Linux has no name for 14.
        14 => "RAW",
        _ => link_names::LINK_TYPE_NAMES
            .binary_search_by_key(&link_type, |(value, _)| *value)
            .map_or("unknown", |i| link_names::LINK_TYPE_NAMES[i].1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_and_unique_so_the_search_finds_each() {
        let names = link_names::LINK_TYPE_NAMES;
        assert!(names.windows(2).all(|w| w[0].0 < w[1].0));
        for (value, name) in names {
            assert_eq!(link_type_name(*value), *name);
        }
    }

    #[test]
    fn every_link_type_lola_reads_has_a_name() {
        for value in 0..=u16::MAX as u32 {
            if link_type_supported(value) {
                assert_ne!(link_type_name(value), "unknown", "{value}");
            }
        }
        // libpcap names them as tcpdump prints them, user types numbered.
        assert_eq!(link_type_name(147), "USER0");
        assert_eq!(link_type_name(258), "PKTAP");
        assert_eq!(link_type_name(113), "LINUX_SLL");
    }
}
