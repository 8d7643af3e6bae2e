//! What a checksum field holds, and the classification of the IPv4 header
//! and UDP checksums: correct, bad, or partial from offload, as tshark says.

use std::fmt;
use std::net::IpAddr;

use etherparse::checksum::Sum16BitWords;
use etherparse::ip_number;

use crate::packet::glossary::CHECKSUM_STATES;
use crate::packet::wire::field::ipv4;

/// What a checksum field holds.
///
/// ```
/// use lola::packet::decode::{decode, ChecksumState, Transport};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// // tcpdump on lo: Linux left the UDP checksum to an offload that never ran.
/// let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
/// let Transport::Udp(udp) = packet.transport else { panic!() };
/// assert_eq!(udp.checksum.state, ChecksumState::Partial { expected: 0x4943 });
/// assert_eq!(packet.ip.unwrap().header_checksum.unwrap().state, ChecksumState::Correct);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "state")]
pub enum ChecksumState {
    /// It verifies: `good`, as Wireshark says.
    #[serde(rename = "good")]
    Correct,
    /// It does not verify; `expected` is what it should have been.
    Bad {
        /// The value a correct sender would have written.
        expected: u16,
    },
    /// It holds only the pseudo-header sum: the sender left the rest to
    /// checksum offload, which never ran (loopback, or captured before the NIC).
    Partial {
        /// The value a correct sender would have written.
        expected: u16,
    },
    /// Zero in a UDP-over-IPv4 header: "no checksum", which IPv4 allows.
    Absent,
    /// Not all of the datagram was captured, so it cannot be verified.
    Unverified,
}

impl ChecksumState {
    /// The one word reports, `--emit` rows and predicates use, from the
    /// [glossary](crate::packet::glossary::CHECKSUM_STATES): `good`, `bad`,
    /// `partial`, `absent`, `unverified`.
    ///
    /// ```
    /// use lola::packet::decode::ChecksumState;
    /// assert_eq!(ChecksumState::Correct.word(), "good");
    /// assert_eq!(ChecksumState::Partial { expected: 0x4943 }.word(), "partial");
    /// assert_eq!(ChecksumState::Absent.word(), "absent");
    /// ```
    pub fn word(&self) -> &'static str {
        CHECKSUM_STATES[self.index()].word.word
    }

    /// Wireshark's `*.checksum.status` number for this state (1 Good, 0 Bad,
    /// 2 Unverified, 3 Not present).
    pub fn wireshark(&self) -> i64 {
        CHECKSUM_STATES[self.index()].wireshark
    }

    fn index(&self) -> usize {
        match self {
            ChecksumState::Correct => 0,
            ChecksumState::Bad { .. } => 1,
            ChecksumState::Partial { .. } => 2,
            ChecksumState::Absent => 3,
            ChecksumState::Unverified => 4,
        }
    }
}

/// A checksum field and what it holds.
///
/// ```
/// use lola::packet::decode::{decode, Transport};
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
/// # let frame = reader.next_frame().unwrap().unwrap();
/// let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
/// let ip = packet.ip.as_ref().unwrap().header_checksum.unwrap();
/// assert_eq!(ip.to_string(), "0xf5f6 good");
/// let Transport::Udp(udp) = &packet.transport else { panic!() };
/// assert_eq!(udp.checksum.value, 0xfe25);
/// assert_eq!(udp.checksum.to_string(), "0xfe25 partial (offload)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Checksum {
    /// The value in the header.
    pub value: u16,
    /// Its classification.
    #[serde(flatten)]
    pub state: ChecksumState,
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            ChecksumState::Bad { expected } => {
                write!(f, "0x{:04x} bad (should be 0x{expected:04x})", self.value)
            }
            ChecksumState::Partial { .. } => write!(f, "0x{:04x} partial (offload)", self.value),
            s => write!(f, "0x{:04x} {}", self.value, s.word()),
        }
    }
}

/// Classifies an IPv4 header checksum; `header` is the whole header.
pub(super) fn ipv4_header_checksum(header: &[u8]) -> ChecksumState {
    if Sum16BitWords::new().add_slice(header).ones_complement() == 0 {
        return ChecksumState::Correct;
    }
    let mut zeroed = [0u8; ipv4::MAX_HEADER_LEN];
    let n = header.len().min(ipv4::MAX_HEADER_LEN);
    zeroed[..n].copy_from_slice(&header[..n]);
    zeroed[ipv4::CHECKSUM].fill(0);
    let expected = Sum16BitWords::new()
        .add_slice(&zeroed[..n])
        .ones_complement()
        .to_be(); // Sum16BitWords sums in native byte order
    ChecksumState::Bad { expected }
}

/// The pseudo-header sum for UDP between `src` and `dst` with this length.
fn pseudo_header(src: IpAddr, dst: IpAddr, length: u32) -> Sum16BitWords {
    let mut sum = Sum16BitWords::new();
    sum = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => sum.add_4bytes(s.octets()).add_4bytes(d.octets()),
        (IpAddr::V6(s), IpAddr::V6(d)) => sum.add_16bytes(s.octets()).add_16bytes(d.octets()),
        // One IP header carries one family; mixed cannot happen.
        _ => sum,
    };
    // IPv6's pseudo-header holds a 32-bit length (a jumbogram's exceeds
    // 16 bits); its high half is 0 for every other datagram.
    sum.add_2bytes([0, ip_number::UDP.0])
        .add_4bytes(length.to_be_bytes())
}

/// Classifies a UDP checksum. `segment` is the UDP header and payload,
/// `length` the UDP length (a jumbogram's from its IPv6 header).
pub(super) fn udp_checksum(
    src: IpAddr,
    dst: IpAddr,
    segment: &[u8],
    length: u32,
    value: u16,
    complete: bool,
) -> Checksum {
    if value == 0 && src.is_ipv4() {
        return Checksum {
            value,
            state: ChecksumState::Absent,
        };
    }
    if !complete {
        return Checksum {
            value,
            state: ChecksumState::Unverified,
        };
    }
    let pseudo = || pseudo_header(src, dst, length);
    let mut zeroed = [0u8; 8];
    zeroed.copy_from_slice(&segment[..8]);
    zeroed[6] = 0;
    zeroed[7] = 0;
    let expected = pseudo()
        .add_slice(&zeroed)
        .add_slice(&segment[8..])
        .to_ones_complement_with_no_zero()
        .to_be(); // Sum16BitWords sums in native byte order
    let state = if pseudo().add_slice(segment).ones_complement() == 0 {
        ChecksumState::Correct
    } else if value == !pseudo().ones_complement().to_be() {
        // Linux on lo (and any NIC with TX offload, captured before the NIC)
        // leaves the folded pseudo-header sum, uncomplemented, in the field.
        ChecksumState::Partial { expected }
    } else {
        ChecksumState::Bad { expected }
    };
    Checksum { value, state }
}

#[cfg(test)]
mod tests {
    use crate::packet::decode::tests::TCPDUMP_LO_V4;
    use crate::packet::decode::{ChecksumState, Problem, Transport, decode};

    #[test]
    fn loopback_udp_checksum_is_partial_not_bad() {
        let p = decode(1, &TCPDUMP_LO_V4, 52);
        let Transport::Udp(udp) = &p.transport else {
            panic!("{p:?}")
        };
        assert_eq!(
            udp.checksum.state,
            ChecksumState::Partial { expected: 0x4943 }
        );
        assert_eq!(
            p.ip.as_ref().unwrap().header_checksum.unwrap().state,
            ChecksumState::Correct
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
    }

    #[test]
    fn flipped_payload_bit_makes_udp_checksum_bad() {
        let mut frame = TCPDUMP_LO_V4;
        frame[40] = 0x49;
        frame[41] = 0x43; // the correct checksum
        assert_eq!(decode(1, &frame, 52).problems, Vec::<Problem>::new());
        frame[51] ^= 1;
        let p = decode(1, &frame, 52);
        assert_eq!(p.problems.len(), 1);
        assert!(
            p.problems[0]
                .to_string()
                .starts_with("udp.checksum 0x4943 is bad"),
            "{:?}",
            p.problems
        );
    }
}
