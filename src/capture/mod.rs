//! Layer 1, capture files: writing pcap and pcapng (whole or not at all),
//! and reading them back as a stream of frames with their link types;
//! the link-type table (names as libpcap gives them, and which ones lola
//! decodes).
//!
//! May use: [`error`](crate::error) only. Knows nothing of what a frame
//! holds: bytes in, bytes out.

mod drops;
mod encode;
mod pcapng;
mod read;
mod resolve;
mod temporary;
mod write;

pub use drops::Drops;
pub use encode::{
    CaptureFrame, CaptureStatistics, FrameEncoder, WriteSummary, encode_capture,
    encode_capture_with,
};
pub use pcapng::Section;
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
    )
}

/// The LINKTYPE_ name of a link-layer type, as in tcpdump's `-L` list.
///
/// ```
/// assert_eq!(lola::capture::link_type_name(1), "EN10MB");
/// assert_eq!(lola::capture::link_type_name(9999), "unknown");
/// ```
pub fn link_type_name(link_type: u32) -> &'static str {
    match link_type {
        LINKTYPE_NULL => "NULL",
        LINKTYPE_ETHERNET => "EN10MB",
        LINKTYPE_RAW | 12 | 14 => "RAW",
        LINKTYPE_LOOP => "LOOP",
        LINKTYPE_LINUX_SLL => "LINUX_SLL",
        LINKTYPE_IPV4 => "IPV4",
        LINKTYPE_IPV6 => "IPV6",
        LINKTYPE_LINUX_SLL2 => "LINUX_SLL2",
        105 => "IEEE802_11",
        127 => "IEEE802_11_RADIOTAP",
        147..=162 => "USER",
        189 => "USB_LINUX",
        220 => "USB_LINUX_MMAPPED",
        249 => "NETLINK",
        _ => "unknown",
    }
}
