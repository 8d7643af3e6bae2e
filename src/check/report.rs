//! What a check found, as typed values: the [`Verdict`], each [`Failure`]
//! and [`Note`], the frames shown ([`FrameLine`]), and the [`Report`] that
//! holds them. Words are made only when a value is displayed; JSON carries
//! the same words, JUnit and the CLI match on the variants.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::{Count, Expectation};
use crate::capture::{Drops, Format};
use crate::packet::decode::{Packet, Problem};
use crate::packet::summary::{self, Endpoint, frame_list, plural, summarize};

/// How a check, or any command that judges, came out.
///
/// ```
/// use lola::check::Verdict;
/// assert_eq!(Verdict::Pass.to_string(), "pass");
/// assert_eq!(serde_json::to_string(&Verdict::Error).unwrap(), r#""error""#);
/// assert!(Verdict::Pass.passed() && !Verdict::Fail.passed());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The expectation holds.
    Pass,
    /// It does not.
    Fail,
    /// No verdict could be reached (the file could not be read, ...).
    Error,
}

impl Verdict {
    /// `Pass` when `passed`, else `Fail`.
    pub fn from_passed(passed: bool) -> Verdict {
        if passed { Verdict::Pass } else { Verdict::Fail }
    }

    /// True for `Pass`.
    pub fn passed(self) -> bool {
        self == Verdict::Pass
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The glossary's words, in the order of the variants.
        f.write_str(crate::packet::glossary::VERDICTS[*self as usize].word)
    }
}

/// Why a check failed.
///
/// ```
/// use lola::check::Failure;
/// let f = Failure::Tcp { segments: 8, handshake: true };
/// assert_eq!(f.to_string(), "8 TCP segments on the expected endpoints, including a handshake");
/// assert_eq!(Failure::Count { found: 0, frames: 1 }.to_string(), "found 0 matching datagrams in 1 frame");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The number of matching datagrams is not the expected one.
    Count {
        /// Matching datagrams found.
        found: u64,
        /// Frames in the capture.
        frames: u64,
    },
    /// Datagrams on the expected endpoints that do not match (payload,
    /// checksums, damage); they are listed in [`Report::offending`].
    Mismatched {
        /// How many.
        datagrams: u64,
    },
    /// TCP on the expected endpoints; listed in [`Report::tcp`].
    Tcp {
        /// How many segments.
        segments: u64,
        /// True when one of them is a SYN.
        handshake: bool,
    },
    /// The capture admits it lost frames, which could hold what an exact
    /// count or "no TCP" rules out.
    Lost {
        /// What the capture says it lost.
        drops: Drops,
        /// The count that cannot be proven, if it is exact or a maximum.
        count: Option<Count>,
        /// True when "no TCP" cannot be proven.
        tcp: bool,
    },
    /// The capture ends inside a record (a writer killed mid-write): the
    /// frames before the cut were judged, but the missing bytes could hold
    /// datagrams or TCP segments that contradict the expectation.
    Truncated {
        /// Byte offset of the record that is cut.
        offset: u64,
        /// What is missing, as the reader says it.
        what: String,
    },
}

impl Failure {
    /// True when the failure bears on the number of matching datagrams.
    pub fn about_count(&self) -> bool {
        matches!(
            self,
            Failure::Count { .. }
                | Failure::Lost { count: Some(_), .. }
                | Failure::Truncated { .. }
        )
    }

    /// True when the failure bears on TCP on the expected endpoints.
    pub fn about_tcp(&self) -> bool {
        matches!(
            self,
            Failure::Tcp { .. } | Failure::Lost { tcp: true, .. } | Failure::Truncated { .. }
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Failure::Count { found, frames } => write!(
                f,
                "found {found} matching {} in {}",
                if found == 1 { "datagram" } else { "datagrams" },
                plural(frames, "frame")
            ),
            Failure::Mismatched { datagrams } => write!(
                f,
                "{} on the expected endpoints {} not match (listed below)",
                plural(datagrams, "datagram"),
                if datagrams == 1 { "does" } else { "do" }
            ),
            Failure::Tcp {
                segments,
                handshake,
            } => write!(
                f,
                "{} on the expected endpoints{}",
                plural(segments, "TCP segment"),
                if handshake {
                    ", including a handshake"
                } else {
                    ""
                }
            ),
            Failure::Lost { drops, count, tcp } => {
                write!(
                    f,
                    "the capture admits {} ({drops}): ",
                    plural(drops.total(), "lost frame")
                )?;
                match (count, tcp) {
                    (Some(c), true) => write!(f, "\"{c}\" and \"no TCP\" cannot be proven"),
                    (Some(c), false) => write!(f, "\"{c}\" cannot be proven"),
                    (None, _) => f.write_str("\"no TCP\" cannot be proven"),
                }
            }
            Failure::Truncated { offset, ref what } => write!(
                f,
                "the capture is cut short at byte {offset} ({what}); the missing bytes could hold datagrams or TCP segments that change the verdict"
            ),
        }
    }
}

/// What passed but deserves a word.
///
/// ```
/// use lola::check::Note;
/// let n = Note::Reply { frame: 2, src: "127.0.0.1:7456".parse().unwrap(), dst: "127.0.0.1:40000".parse().unwrap() };
/// assert_eq!(n.to_string(), "frame 2: a reply datagram 127.0.0.1:7456 → 127.0.0.1:40000");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// TCP on the expected endpoints, which the expectation allows.
    TcpAllowed {
        /// How many segments.
        segments: u64,
        /// True when one of them is a SYN.
        handshake: bool,
    },
    /// Matching datagrams whose UDP checksum is partial (checksum offload).
    PartialChecksums {
        /// Their frame numbers (at most [`LIST_CAP`](super::LIST_CAP)).
        frames: Vec<u64>,
    },
    /// Matching IPv4 datagrams with no UDP checksum (zero).
    AbsentChecksums {
        /// Their frame numbers (at most [`LIST_CAP`](super::LIST_CAP)).
        frames: Vec<u64>,
    },
    /// TCP segments of flows other than the expected one.
    OtherTcp {
        /// How many.
        segments: u64,
        /// The first: frame number and endpoints.
        first: (u64, SocketAddr, SocketAddr),
    },
    /// The kernel answered the expected datagram with a port unreachable.
    PortUnreachable {
        /// The ICMP frame.
        frame: u64,
        /// Source and destination of the datagram it quotes.
        datagram: (SocketAddr, SocketAddr),
    },
    /// Another ICMP error about the expected flow.
    Icmp {
        /// The ICMP frame.
        frame: u64,
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
    },
    /// A datagram in the opposite direction of the expected one.
    Reply {
        /// Its frame.
        frame: u64,
        /// Its source.
        src: SocketAddr,
        /// Its destination.
        dst: SocketAddr,
    },
    /// A datagram put back together from IP fragments.
    Reassembled {
        /// The frame of the last fragment, where the datagram is whole.
        frame: u64,
        /// IP source.
        src: IpAddr,
        /// IP destination.
        dst: IpAddr,
        /// The frames of all its fragments.
        fragments: Vec<u64>,
    },
    /// A fragment that cannot be used, with the reassembler's reason.
    FragmentRejected(String),
    /// A fragment whose fragment header could not be read whole.
    FragmentUnreadable {
        /// Its frame.
        frame: u64,
    },
    /// Fragments of a datagram that never completed.
    Incomplete {
        /// Their frames.
        fragments: Vec<u64>,
        /// IP source.
        src: IpAddr,
        /// IP destination.
        dst: IpAddr,
        /// IP identification.
        id: u32,
    },
    /// More incomplete datagrams than listed.
    MoreIncomplete(u64),
    /// A frame whose headers could not be read.
    Damaged {
        /// Its number.
        frame: u64,
        /// Its byte offset in the file.
        offset: u64,
        /// What is wrong.
        problems: Vec<Problem>,
    },
    /// A note of the capture reader (leniency with a damaged or odd file).
    Reader(String),
    /// The capture admits it lost frames (or the kernel reported it dropped
    /// them while lola captured), and no claim they could contradict was
    /// made: the count is a minimum and TCP is allowed.
    Lost {
        /// What was lost, and who says so.
        drops: Drops,
        /// The count, a minimum, that holds whatever the lost frames held.
        count: Count,
    },
    /// The capture is cut short, and only the frames before the cut were
    /// judged (as asked, or because no claim could be contradicted).
    Truncated {
        /// Byte offset of the record that is cut.
        offset: u64,
        /// What is missing, as the reader says it.
        what: String,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::TcpAllowed {
                segments,
                handshake,
            } => write!(
                f,
                "{} (allowed)",
                Failure::Tcp {
                    segments: *segments,
                    handshake: *handshake
                }
            ),
            Note::PartialChecksums { frames } => write!(
                f,
                "{} {} a partial UDP checksum (pseudo-header only), as Linux leaves it on loopback and under checksum offload; \
                 Wireshark says \"maybe caused by checksum offload\"",
                frame_list(frames),
                if frames.len() == 1 { "has" } else { "have" }
            ),
            Note::AbsentChecksums { frames } => write!(
                f,
                "{} {} no UDP checksum (zero), which IPv4 allows",
                frame_list(frames),
                if frames.len() == 1 {
                    "carries"
                } else {
                    "carry"
                }
            ),
            Note::OtherTcp {
                segments,
                first: (frame, a, b),
            } => write!(
                f,
                "{} of other flows, not on the expected endpoints (e.g. frame {frame}: {a} → {b})",
                plural(*segments, "TCP segment")
            ),
            Note::PortUnreachable {
                frame,
                datagram: (s, d),
            } => write!(
                f,
                "frame {frame}: ICMP port unreachable for the datagram {s} → {d}: nobody was listening on {d}"
            ),
            Note::Icmp {
                frame,
                icmp_type,
                code,
            } => write!(
                f,
                "frame {frame}: ICMP type {icmp_type} code {code} about the expected flow"
            ),
            Note::Reply { frame, src, dst } => {
                write!(f, "frame {frame}: a reply datagram {src} → {dst}")
            }
            Note::Reassembled { .. }
            | Note::FragmentRejected(_)
            | Note::FragmentUnreadable { .. }
            | Note::Incomplete { .. }
            | Note::MoreIncomplete(_) => self.fmt_fragment_note(f),
            Note::Damaged {
                frame,
                offset,
                problems,
            } => {
                write!(f, "frame {frame} (byte {offset}): ")?;
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
            Note::Reader(text) => f.write_str(text),
            Note::Lost { drops, count } => write!(
                f,
                "the capture admits {} ({drops}); \"{count}\" holds whatever they held",
                plural(drops.total(), "lost frame")
            ),
            Note::Truncated { offset, what } => write!(
                f,
                "the capture is cut short at byte {offset} ({what}); only the frames before the cut were judged"
            ),
        }
    }
}

impl Note {
    /// The words of the notes about IP fragments.
    fn fmt_fragment_note(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Reassembled {
                frame,
                src,
                dst,
                fragments,
            } => write!(
                f,
                "frame {frame}: a datagram {src} → {dst} reassembled from the fragments in frames {}",
                summary::numbers(fragments)
            ),
            Note::FragmentRejected(why) => f.write_str(why),
            Note::FragmentUnreadable { frame } => write!(
                f,
                "frame {frame}: an IP fragment whose fragment header could not be read; it was not reassembled"
            ),
            Note::Incomplete {
                fragments,
                src,
                dst,
                id,
            } => write!(
                f,
                "frames {}: fragments of a datagram {src} → {dst} (id 0x{id:x}) that never completed; it was not checked",
                summary::numbers(fragments)
            ),
            Note::MoreIncomplete(n) => write!(f, "... and {n} more incomplete datagrams"),
            _ => Ok(()),
        }
    }
}

/// One frame as a report shows it: a tshark-like summary line.
///
/// ```
/// let seed = "fixtures/seed-ipv4.pcap".as_ref();
/// let report = lola::check_file(seed, &lola::Expectation::seed()).unwrap();
/// let line = &report.matched[0];
/// assert_eq!((line.frame, line.protocol.as_str(), line.length), (1, "UDP", 52));
/// assert_eq!((line.src.to_string(), line.dst.to_string()), ("127.0.0.1:48801".into(), "127.0.0.1:7456".into()));
/// assert_eq!(line.udp_checksum.as_deref(), Some("partial"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FrameLine {
    /// 1-based frame number.
    pub frame: u64,
    /// Capture time as RFC 3339 UTC, with microseconds, or nanoseconds when
    /// the file has them.
    pub time: String,
    /// The same time as nanoseconds since the epoch.
    pub time_ns: u64,
    /// Source address and port (or address).
    pub src: Endpoint,
    /// Destination address and port (or address).
    pub dst: Endpoint,
    /// `UDP`, `TCP`, `ICMP`, `ICMPv6`, ...
    pub protocol: String,
    /// Frame length on the wire.
    pub length: u32,
    /// tshark-like info column: `Len=10`, `[SYN, ACK] Seq=0 Ack=1`, ...
    pub info: String,
    /// IPv4 header checksum state, when there is one: `ip.checksum.status`'s
    /// word (`good`, `bad`, `absent`, `unverified`; see docs/glossary.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_checksum: Option<String>,
    /// UDP checksum state, when UDP: `udp.checksum.status`'s word (`good`,
    /// `bad`, `partial`, `absent`, `unverified`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp_checksum: Option<String>,
    /// What is wrong with it or notable about it, tshark field names first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

impl FrameLine {
    /// The line for a decoded frame, with the reasons it is shown.
    pub(crate) fn new(
        number: u64,
        timestamp: Duration,
        length: u32,
        packet: &Packet<'_>,
        reasons: Vec<String>,
    ) -> FrameLine {
        let s = summarize(packet);
        let udp_checksum = match &packet.transport {
            crate::packet::decode::Transport::Udp(u) => Some(u.checksum.state.word().to_string()),
            _ => None,
        };
        FrameLine {
            frame: number,
            time: summary::format_time(timestamp),
            time_ns: summary::nanos(timestamp),
            src: s.src,
            dst: s.dst,
            protocol: s.protocol.to_string(),
            length,
            info: s.info,
            ip_checksum: packet
                .ip
                .as_ref()
                .and_then(|ip| ip.header_checksum)
                .map(|c| c.state.word().to_string()),
            udp_checksum,
            reasons,
        }
    }
}

impl fmt::Display for FrameLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "frame {}  {}  {} → {}  {} {}  {}",
            self.frame, self.time, self.src, self.dst, self.protocol, self.length, self.info
        )?;
        if let Some(c) = &self.ip_checksum {
            write!(f, "  ip.checksum.status {c}")?;
        }
        if let Some(c) = &self.udp_checksum {
            write!(f, "  udp.checksum.status {c}")?;
        }
        if !self.reasons.is_empty() {
            write!(f, "  => {}", self.reasons.join("; "))?;
        }
        Ok(())
    }
}

/// Frames that are neither the expected datagram nor on its flow.
///
/// ```
/// // `other` to port 9999, a TCP connection to 9998, then Hello Lola to 7456.
/// let path = "fixtures/other-flows.pcap".as_ref();
/// let report = lola::check_file(path, &lola::Expectation::seed()).unwrap();
/// assert!(report.passed());
/// assert_eq!((report.other.udp, report.other.tcp, report.other.icmp), (1, 8, 0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OtherCounts {
    /// UDP datagrams of other flows.
    pub udp: u64,
    /// TCP segments of other flows.
    pub tcp: u64,
    /// ICMP messages not about the expected flow.
    pub icmp: u64,
    /// IP fragments (reassembled or not).
    pub fragments: u64,
    /// Frames that are not IP, or other IP protocols.
    pub other: u64,
    /// Frames whose headers could not be read.
    pub damaged: u64,
}

/// The result of a check.
///
/// ```
/// use lola::check::{Failure, Verdict};
/// let path = "fixtures/seed-tcp.pcap".as_ref();
/// let report = lola::check_file(path, &lola::Expectation::seed()).unwrap();
/// assert_eq!((report.verdict, report.frames, report.matched_count, report.tcp_count), (Verdict::Fail, 8, 0, 8));
/// assert_eq!(report.failures[1], Failure::Tcp { segments: 8, handshake: true });
/// assert_eq!(report.failures[1].to_string(), "8 TCP segments on the expected endpoints, including a handshake");
/// assert!(report.to_string().starts_with("FAIL fixtures/seed-tcp.pcap: expected exactly 1 datagram"));
/// ```
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Version of this JSON schema.
    pub schema_version: u32,
    /// The file checked, as given.
    pub file: String,
    /// Its format.
    pub format: Format,
    /// Pass or fail.
    pub verdict: Verdict,
    /// What was expected.
    pub expectation: Expectation,
    /// The expectation in words.
    pub expected: String,
    /// Frames in the file.
    pub frames: u64,
    /// How many datagrams matched.
    pub matched_count: u64,
    /// The matching datagrams (at most [`LIST_CAP`](super::LIST_CAP)).
    pub matched: Vec<FrameLine>,
    /// Datagrams on the expected endpoints that do not match, with reasons.
    pub offending_count: u64,
    /// Those datagrams (at most [`LIST_CAP`](super::LIST_CAP)).
    pub offending: Vec<FrameLine>,
    /// TCP segments on the expected endpoints.
    pub tcp_count: u64,
    /// Those segments (at most [`LIST_CAP`](super::LIST_CAP)).
    pub tcp: Vec<FrameLine>,
    /// UDP datagrams elsewhere, shown when the count fails, with what differs.
    pub near_misses: Vec<FrameLine>,
    /// Frames of other flows, by kind.
    pub other: OtherCounts,
    /// Why the check failed (empty on pass).
    #[serde(serialize_with = "as_words")]
    #[schemars(with = "Vec<String>")]
    pub failures: Vec<Failure>,
    /// What passed but deserves a word (partial checksums, replies, ICMP, leniency).
    #[serde(serialize_with = "as_words")]
    #[schemars(with = "Vec<String>")]
    pub notes: Vec<Note>,
    /// Frames the capture admits it lost (pcapng statistics), or that the
    /// kernel reported it dropped while lola captured, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<Drops>,
}

/// Serializes each value as its `Display` text.
fn as_words<T: fmt::Display, S: Serializer>(values: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(values.iter().map(|v| v.to_string()))
}

impl Report {
    /// True when the capture meets the expectation.
    ///
    /// ```
    /// use lola::{check_file, Expectation};
    /// assert!(check_file("fixtures/seed-ipv4.pcap".as_ref(), &Expectation::seed()).unwrap().passed());
    /// assert!(!check_file("fixtures/seed-ipv4-twice.pcap".as_ref(), &Expectation::seed()).unwrap().passed());
    /// ```
    pub fn passed(&self) -> bool {
        self.verdict.passed()
    }

    /// The failures on one line, `; `-separated (empty on pass).
    ///
    /// ```
    /// let report = lola::check_file("fixtures/seed-tcp.pcap".as_ref(), &lola::Expectation::seed()).unwrap();
    /// assert_eq!(
    ///     report.failures_line(),
    ///     "found 0 matching datagrams in 8 frames; 8 TCP segments on the expected endpoints, including a handshake"
    /// );
    /// ```
    pub fn failures_line(&self) -> String {
        self.failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a capture cut short at its end does to the verdict
/// (`--truncated`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Truncation {
    /// A claim the missing bytes could contradict fails (the default).
    #[default]
    Fail,
    /// The frames before the cut are judged as if the file ended there.
    JudgeCompleteFrames,
}

impl Truncation {
    /// The values of `--truncated`, in order.
    pub const NAMES: [&'static str; 2] = ["fail", "judge-complete-frames"];
}

impl std::str::FromStr for Truncation {
    type Err = String;

    fn from_str(s: &str) -> Result<Truncation, String> {
        match s {
            "fail" => Ok(Truncation::Fail),
            "judge-complete-frames" => Ok(Truncation::JudgeCompleteFrames),
            _ => Err(format!(
                "{s:?} is not one of {}",
                Truncation::NAMES.join(", ")
            )),
        }
    }
}
