//! The checker: what the user expects ([`Expectation`]), held against every
//! frame of a capture, gives a [`Report`] with a verdict.
//!
//! The capture is streamed: memory does not grow with the file, only the
//! lists a report shows (each capped at [`LIST_CAP`] entries; counts are exact).

use std::fmt;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use crate::capture::{CaptureReader, Format};
use crate::decode::{
    ChecksumState, Packet, Transport, decode, decode_reassembled, decode_with, link_type_supported,
    quick_flow,
};
use crate::error::{Error, Result};
use crate::reassembly::{self, Outcome, Reassembler};

/// How many frames each list of a report keeps (counts stay exact).
pub const LIST_CAP: usize = 50;

/// The seed's port.
pub const SEED_PORT: u16 = 7456;
/// The seed's message.
pub const SEED_MESSAGE: &str = "Hello Lola";

/// How many matching datagrams the capture must hold.
///
/// ```
/// use lola::Count;
/// assert_eq!(Count::Exactly(1).to_string(), "exactly 1 datagram");
/// assert_eq!(Count::AtLeast(2).to_string(), "at least 2 datagrams");
/// assert_eq!(Count::AtMost(0).to_string(), "at most 0 datagrams");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Count {
    /// Exactly this many.
    Exactly(u64),
    /// This many or more.
    AtLeast(u64),
    /// This many or fewer.
    AtMost(u64),
}

impl Count {
    fn accepts(&self, n: u64) -> bool {
        match *self {
            Count::Exactly(k) => n == k,
            Count::AtLeast(k) => n >= k,
            Count::AtMost(k) => n <= k,
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (word, k) = match *self {
            Count::Exactly(k) => ("exactly", k),
            Count::AtLeast(k) => ("at least", k),
            Count::AtMost(k) => ("at most", k),
        };
        write!(
            f,
            "{word} {k} {}",
            if k == 1 { "datagram" } else { "datagrams" }
        )
    }
}

/// What a bad or partial checksum does to the verdict.
///
/// ```
/// use lola::ChecksumPolicy;
/// assert_eq!(ChecksumPolicy::default(), ChecksumPolicy::Lenient);
/// assert_eq!("strict".parse(), Ok(ChecksumPolicy::Strict));
/// assert!("loose".parse::<ChecksumPolicy>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumPolicy {
    /// Anything but `correct` fails.
    Strict,
    /// `bad` fails; `partial` (offload) and `none` pass with a note.
    #[default]
    Lenient,
    /// Checksums are reported but never fail the check.
    Ignore,
}

impl FromStr for ChecksumPolicy {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "strict" => Ok(ChecksumPolicy::Strict),
            "lenient" => Ok(ChecksumPolicy::Lenient),
            "ignore" => Ok(ChecksumPolicy::Ignore),
            _ => Err(format!(
                "unknown checksum policy {s:?}: expected strict, lenient or ignore"
            )),
        }
    }
}

/// What the capture must show. Fields left `None` match anything.
///
/// ```
/// use lola::{Count, Expectation};
/// let e = Expectation::seed().dst_port(9000).count(Count::AtLeast(1));
/// assert_eq!(e.dst_port, Some(9000));
/// assert_eq!(e.payload.as_deref(), Some(&b"Hello Lola"[..]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Expectation {
    /// Source address of the datagram.
    pub src_addr: Option<IpAddr>,
    /// Source port of the datagram.
    pub src_port: Option<u16>,
    /// Destination address of the datagram.
    pub dst_addr: Option<IpAddr>,
    /// Destination port of the datagram.
    pub dst_port: Option<u16>,
    /// Exact payload bytes.
    #[serde(serialize_with = "serialize_payload")]
    pub payload: Option<Vec<u8>>,
    /// How many datagrams must match.
    pub count: Count,
    /// When false, any TCP segment between the expected endpoints fails the check.
    pub allow_tcp: bool,
    /// What bad or partial checksums do.
    pub checksums: ChecksumPolicy,
}

fn serialize_payload<S: serde::Serializer>(
    p: &Option<Vec<u8>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match p {
        Some(bytes) => s.serialize_some(&String::from_utf8_lossy(bytes)),
        None => s.serialize_none(),
    }
}

impl Default for Expectation {
    fn default() -> Self {
        Expectation::seed()
    }
}

impl Expectation {
    /// The seed's expectation: exactly one datagram carrying `Hello Lola` to
    /// port 7456, from anywhere, and no TCP on that port.
    ///
    /// ```
    /// let e = lola::Expectation::seed();
    /// assert_eq!(e.describe(), r#"exactly 1 datagram to port 7456 carrying "Hello Lola""#);
    /// assert_eq!((e.src_addr, e.src_port, e.dst_port), (None, None, Some(7456)));
    /// assert!(!e.allow_tcp);
    /// ```
    pub fn seed() -> Expectation {
        Expectation {
            src_addr: None,
            src_port: None,
            dst_addr: None,
            dst_port: Some(SEED_PORT),
            payload: Some(SEED_MESSAGE.as_bytes().to_vec()),
            count: Count::Exactly(1),
            allow_tcp: false,
            checksums: ChecksumPolicy::Lenient,
        }
    }

    /// Exactly this datagram: its addresses, ports and payload.
    ///
    /// ```
    /// use lola::{Datagram, Expectation};
    /// let d = Datagram::new(
    ///     "127.0.0.1:40000".parse().unwrap(),
    ///     "127.0.0.1:7456".parse().unwrap(),
    ///     b"Hello Lola".to_vec(),
    /// );
    /// assert_eq!(
    ///     Expectation::exactly(&d).describe(),
    ///     r#"exactly 1 datagram from 127.0.0.1:40000 to 127.0.0.1:7456 carrying "Hello Lola""#
    /// );
    /// ```
    pub fn exactly(datagram: &crate::Datagram) -> Expectation {
        Expectation {
            src_addr: Some(datagram.src.ip()),
            src_port: Some(datagram.src.port()),
            dst_addr: Some(datagram.dst.ip()),
            dst_port: Some(datagram.dst.port()),
            payload: Some(datagram.payload.clone()),
            ..Expectation::seed()
        }
    }

    /// Sets the source address and, when it has one, port.
    ///
    /// ```
    /// use lola::{check_file, Expectation};
    /// let seed = std::path::Path::new("fixtures/seed-ipv4.pcap"); // from 127.0.0.1:48801
    /// let localhost = "127.0.0.1".parse().unwrap();
    /// assert!(check_file(seed, &Expectation::seed().src(localhost, None)).unwrap().passed());
    /// assert!(check_file(seed, &Expectation::seed().src(localhost, Some(48801))).unwrap().passed());
    /// assert!(!check_file(seed, &Expectation::seed().src(localhost, Some(40000))).unwrap().passed());
    /// ```
    pub fn src(mut self, addr: IpAddr, port: Option<u16>) -> Self {
        self.src_addr = Some(addr);
        if port.is_some() {
            self.src_port = port;
        }
        self
    }

    /// Sets the destination address and, when it has one, port.
    ///
    /// ```
    /// use lola::{check_file, Expectation};
    /// let e = Expectation::seed().dst("::1".parse().unwrap(), Some(7456));
    /// assert!(check_file("fixtures/seed-ipv6.pcap".as_ref(), &e).unwrap().passed());
    /// assert!(!check_file("fixtures/seed-ipv4.pcap".as_ref(), &e).unwrap().passed());
    /// ```
    pub fn dst(mut self, addr: IpAddr, port: Option<u16>) -> Self {
        self.dst_addr = Some(addr);
        if port.is_some() {
            self.dst_port = port;
        }
        self
    }

    /// Sets the destination port.
    ///
    /// ```
    /// use lola::{check_file, Expectation};
    /// // The client sent to 127.0.0.1:7457, where nobody listened.
    /// let path = std::path::Path::new("fixtures/seed-ipv4-no-listener.pcap");
    /// assert!(!check_file(path, &Expectation::seed()).unwrap().passed());
    /// assert!(check_file(path, &Expectation::seed().dst_port(7457)).unwrap().passed());
    /// ```
    pub fn dst_port(mut self, port: u16) -> Self {
        self.dst_port = Some(port);
        self
    }

    /// Sets the source port.
    ///
    /// ```
    /// use lola::{check_file, Expectation};
    /// let seed = std::path::Path::new("fixtures/seed-ipv4.pcap"); // from 127.0.0.1:48801
    /// assert!(check_file(seed, &Expectation::seed().src_port(48801)).unwrap().passed());
    /// assert!(!check_file(seed, &Expectation::seed().src_port(40000)).unwrap().passed());
    /// ```
    pub fn src_port(mut self, port: u16) -> Self {
        self.src_port = Some(port);
        self
    }

    /// Sets the exact payload.
    ///
    /// ```
    /// use lola::{check_file, Expectation};
    /// let e = Expectation::seed().payload("Hi");
    /// assert_eq!(e.payload.as_deref(), Some(&b"Hi"[..]));
    /// let report = check_file("fixtures/seed-ipv4.pcap".as_ref(), &e).unwrap();
    /// assert!(!report.passed(), "the capture carries Hello Lola");
    /// ```
    pub fn payload(mut self, payload: impl Into<Vec<u8>>) -> Self {
        self.payload = Some(payload.into());
        self
    }

    /// Accepts any payload.
    ///
    /// ```
    /// use lola::{check_file, Expectation};
    /// let e = Expectation::seed().any_payload();
    /// assert_eq!(e.describe(), "exactly 1 datagram to port 7456");
    /// // The 3000-byte datagram reassembled from three fragments now matches.
    /// assert!(check_file("fixtures/frag-ipv4.pcap".as_ref(), &e).unwrap().passed());
    /// ```
    pub fn any_payload(mut self) -> Self {
        self.payload = None;
        self
    }

    /// Sets how many datagrams must match.
    ///
    /// ```
    /// use lola::{check_file, Count, Expectation};
    /// let twice = std::path::Path::new("fixtures/seed-ipv4-twice.pcap");
    /// assert!(!check_file(twice, &Expectation::seed()).unwrap().passed());
    /// assert!(check_file(twice, &Expectation::seed().count(Count::Exactly(2))).unwrap().passed());
    /// assert!(check_file(twice, &Expectation::seed().count(Count::AtLeast(1))).unwrap().passed());
    /// ```
    pub fn count(mut self, count: Count) -> Self {
        self.count = count;
        self
    }

    /// Lets TCP on the expected endpoints pass.
    ///
    /// ```
    /// use lola::{check_file, Count, Expectation};
    /// // Hello Lola over one TCP connection: no datagram, 8 segments on port 7456.
    /// let tcp = std::path::Path::new("fixtures/seed-tcp.pcap");
    /// let no_datagram = Expectation::seed().count(Count::Exactly(0));
    /// assert!(!check_file(tcp, &no_datagram).unwrap().passed());
    /// assert!(check_file(tcp, &no_datagram.allow_tcp(true)).unwrap().passed());
    /// ```
    pub fn allow_tcp(mut self, allow: bool) -> Self {
        self.allow_tcp = allow;
        self
    }

    /// Sets the checksum policy.
    ///
    /// ```
    /// use lola::{check_file, ChecksumPolicy, Expectation};
    /// // Linux leaves the UDP checksum partial on lo: lenient notes it, strict fails it.
    /// let seed = std::path::Path::new("fixtures/seed-ipv4.pcap");
    /// assert!(check_file(seed, &Expectation::seed()).unwrap().passed());
    /// let strict = Expectation::seed().checksums(ChecksumPolicy::Strict);
    /// assert!(!check_file(seed, &strict).unwrap().passed());
    /// ```
    pub fn checksums(mut self, policy: ChecksumPolicy) -> Self {
        self.checksums = policy;
        self
    }

    /// Mismatches of the endpoint part, as `field value, expected value`.
    fn endpoint_mismatches(&self, src: SocketAddr, dst: SocketAddr) -> Vec<String> {
        let mut out = Vec::new();
        let ip_field = |a: IpAddr| if a.is_ipv4() { "ip" } else { "ipv6" };
        if let Some(want) = self.src_addr
            && want != src.ip()
        {
            out.push(format!(
                "{}.src {}, expected {want}",
                ip_field(src.ip()),
                src.ip()
            ));
        }
        if let Some(want) = self.dst_addr
            && want != dst.ip()
        {
            out.push(format!(
                "{}.dst {}, expected {want}",
                ip_field(dst.ip()),
                dst.ip()
            ));
        }
        if let Some(want) = self.src_port
            && want != src.port()
        {
            out.push(format!("udp.srcport {}, expected {want}", src.port()));
        }
        if let Some(want) = self.dst_port
            && want != dst.port()
        {
            out.push(format!("udp.dstport {}, expected {want}", dst.port()));
        }
        out
    }

    /// True when these ports are the expected ones (addresses not considered).
    #[inline]
    fn ports_match(&self, src_port: u16, dst_port: u16) -> bool {
        self.src_port.is_none_or(|x| x == src_port) && self.dst_port.is_none_or(|x| x == dst_port)
    }

    /// True when a datagram from `src` to `dst` is on the expected endpoints.
    fn endpoints_match(&self, src: SocketAddr, dst: SocketAddr) -> bool {
        self.src_addr.is_none_or(|x| x == src.ip())
            && self.src_port.is_none_or(|x| x == src.port())
            && self.dst_addr.is_none_or(|x| x == dst.ip())
            && self.dst_port.is_none_or(|x| x == dst.port())
    }

    /// True when a TCP segment between `a` and `b` (either direction) is on
    /// the expected endpoints.
    fn tcp_on_flow(&self, a: SocketAddr, b: SocketAddr) -> bool {
        self.endpoints_match(a, b) || self.endpoints_match(b, a)
    }

    /// A one-line description: `exactly 1 datagram to port 7456 carrying "Hello Lola"`.
    ///
    /// ```
    /// use lola::{Count, Expectation};
    /// let e = Expectation::seed().count(Count::AtLeast(2)).src_port(40000);
    /// assert_eq!(
    ///     e.describe(),
    ///     r#"at least 2 datagrams from port 40000 to port 7456 carrying "Hello Lola""#
    /// );
    /// ```
    pub fn describe(&self) -> String {
        let mut s = self.count.to_string();
        let side = |addr: Option<IpAddr>, port: Option<u16>| match (addr, port) {
            (Some(a), Some(p)) => Some(SocketAddr::new(a, p).to_string()),
            (Some(a), None) => Some(a.to_string()),
            (None, Some(p)) => Some(format!("port {p}")),
            (None, None) => None,
        };
        if let Some(src) = side(self.src_addr, self.src_port) {
            s.push_str(&format!(" from {src}"));
        }
        if let Some(dst) = side(self.dst_addr, self.dst_port) {
            s.push_str(&format!(" to {dst}"));
        }
        if let Some(p) = &self.payload {
            s.push_str(&format!(" carrying {}", quote_bytes(p)));
        }
        s
    }
}

/// One frame as a report shows it: a tshark-like summary line.
///
/// ```
/// let seed = "fixtures/seed-ipv4.pcap".as_ref();
/// let report = lola::check_file(seed, &lola::Expectation::seed()).unwrap();
/// let line = &report.matched[0];
/// assert_eq!((line.frame, line.protocol.as_str(), line.length), (1, "UDP", 52));
/// assert_eq!((line.src.as_str(), line.dst.as_str()), ("127.0.0.1:48801", "127.0.0.1:7456"));
/// assert_eq!(line.udp_checksum.as_deref(), Some("partial"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FrameLine {
    /// 1-based frame number.
    pub frame: u64,
    /// Capture time as RFC 3339 UTC with microseconds.
    pub time: String,
    /// Source address and port (or address).
    pub src: String,
    /// Destination address and port (or address).
    pub dst: String,
    /// `UDP`, `TCP`, `ICMP`, `ICMPv6`, ...
    pub protocol: String,
    /// Frame length on the wire.
    pub length: u32,
    /// tshark-like info column: `Len=10`, `[SYN, ACK] Seq=0 Ack=1`, ...
    pub info: String,
    /// IPv4 header checksum state, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_checksum: Option<String>,
    /// UDP checksum state, when UDP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp_checksum: Option<String>,
    /// What is wrong with it or notable about it, tshark field names first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

impl fmt::Display for FrameLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "frame {}  {}  {} → {}  {} {}  {}",
            self.frame, self.time, self.src, self.dst, self.protocol, self.length, self.info
        )?;
        if let Some(c) = &self.ip_checksum {
            write!(f, "  ip.checksum {c}")?;
        }
        if let Some(c) = &self.udp_checksum {
            write!(f, "  udp.checksum {c}")?;
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
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OtherCounts {
    /// UDP datagrams of other flows.
    pub udp: u64,
    /// TCP segments of other flows.
    pub tcp: u64,
    /// ICMP messages not about the expected flow.
    pub icmp: u64,
    /// IP fragments (not reassembled).
    pub fragments: u64,
    /// Frames that are not IP, or other IP protocols.
    pub other: u64,
    /// Frames whose headers could not be read.
    pub damaged: u64,
}

/// The result of a check.
///
/// ```
/// let path = "fixtures/seed-tcp.pcap".as_ref();
/// let report = lola::check_file(path, &lola::Expectation::seed()).unwrap();
/// assert_eq!((report.verdict, report.frames, report.matched_count, report.tcp_count), ("fail", 8, 0, 8));
/// assert_eq!(report.failures[1], "8 TCP segments on the expected endpoints, including a handshake");
/// assert!(report.to_string().starts_with("FAIL fixtures/seed-tcp.pcap: expected exactly 1 datagram"));
/// ```
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// Version of this JSON schema.
    pub schema_version: u32,
    /// The file checked, as given.
    pub file: String,
    /// Its format.
    pub format: Format,
    /// `pass` or `fail`.
    pub verdict: &'static str,
    /// What was expected.
    pub expectation: Expectation,
    /// The expectation in words.
    pub expected: String,
    /// Frames in the file.
    pub frames: u64,
    /// How many datagrams matched.
    pub matched_count: u64,
    /// The matching datagrams (at most [`LIST_CAP`]).
    pub matched: Vec<FrameLine>,
    /// Datagrams on the expected endpoints that do not match, with reasons.
    pub offending_count: u64,
    /// Those datagrams (at most [`LIST_CAP`]).
    pub offending: Vec<FrameLine>,
    /// TCP segments on the expected endpoints.
    pub tcp_count: u64,
    /// Those segments (at most [`LIST_CAP`]).
    pub tcp: Vec<FrameLine>,
    /// UDP datagrams elsewhere, shown when the count fails, with what differs.
    pub near_misses: Vec<FrameLine>,
    /// Frames of other flows, by kind.
    pub other: OtherCounts,
    /// Why the check failed, one line each (empty on pass).
    pub failures: Vec<String>,
    /// What passed but deserves a word (partial checksums, replies, ICMP, leniency).
    pub notes: Vec<String>,
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
        self.failures.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.passed() {
            writeln!(
                f,
                "PASS {}: {} ({} matched in {} {}), no TCP on its endpoints",
                self.file,
                self.expected,
                self.matched_count,
                self.frames,
                if self.frames == 1 { "frame" } else { "frames" }
            )?;
        } else {
            writeln!(f, "FAIL {}: expected {}", self.file, self.expected)?;
            for reason in &self.failures {
                writeln!(f, "  {reason}")?;
            }
        }
        for line in self.matched.iter().chain(&self.offending).chain(&self.tcp) {
            writeln!(f, "  {line}")?;
        }
        if !self.passed() {
            for line in &self.near_misses {
                writeln!(f, "  {line}")?;
            }
        }
        let o = &self.other;
        let mut others = Vec::new();
        for (n, what) in [
            (o.udp, "UDP"),
            (o.tcp, "TCP"),
            (o.icmp, "ICMP"),
            (
                o.fragments,
                if o.fragments == 1 {
                    "fragment"
                } else {
                    "fragments"
                },
            ),
            (o.other, "other"),
            (o.damaged, "damaged"),
        ] {
            if n > 0 {
                others.push(format!("{n} {what}"));
            }
        }
        if !others.is_empty() {
            writeln!(f, "  other frames: {}", others.join(", "))?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}

/// Checks the capture at `path`; `-` reads standard input.
///
/// ```
/// use lola::{check_file, Expectation};
/// let report = check_file("fixtures/seed-ipv4.pcap".as_ref(), &Expectation::seed()).unwrap();
/// assert!(report.passed(), "{report}");
/// assert_eq!((report.file.as_str(), report.matched_count), ("fixtures/seed-ipv4.pcap", 1));
/// let err = check_file("fixtures/bad-magic.pcap".as_ref(), &Expectation::seed()).unwrap_err();
/// assert!(err.to_string().contains("bad magic number 0xdeadbeef"), "{err}");
/// ```
pub fn check_file(path: &Path, expectation: &Expectation) -> Result<Report> {
    if path == Path::new("-") {
        let stdin = std::io::stdin();
        let reader = CaptureReader::new(stdin.lock(), "-")?;
        return check_reader(reader, "-", expectation);
    }
    let reader = CaptureReader::open(path)?;
    check_reader(reader, &path.display().to_string(), expectation)
}

/// Checks a capture from any reader; `name` names it in the report.
///
/// ```
/// use lola::capture::CaptureReader;
/// let bytes = std::fs::read("fixtures/seed-ipv6.pcap").unwrap();
/// let reader = CaptureReader::new(&bytes[..], "in memory").unwrap();
/// let report = lola::check::check_reader(reader, "in memory", &lola::Expectation::seed()).unwrap();
/// assert!(report.passed(), "{report}");
/// assert_eq!(report.file, "in memory");
/// ```
pub fn check_reader<R: Read>(
    reader: CaptureReader<R>,
    name: &str,
    expectation: &Expectation,
) -> Result<Report> {
    check_reader_with_progress(reader, name, expectation, |_| {})
}

/// Like [`check_reader`], calling `progress` with the bytes read so far
/// every 65536 frames (for a progress bar on large files).
///
/// ```
/// use lola::capture::{encode_capture, CaptureFrame, CaptureReader, Format};
/// # use std::borrow::Cow;
/// # let data = Cow::Borrowed(&[0u8; 60][..]);
/// # let frame = CaptureFrame { timestamp: Default::default(), data, comment: None };
/// # let mut file = Vec::new();
/// # encode_capture(&mut file, Format::Pcap, &vec![frame; 65_536]).unwrap();
/// // `file` holds 65536 frames of 60 bytes each.
/// let reader = CaptureReader::new(&file[..], "big.pcap").unwrap();
/// let mut calls = Vec::new();
/// let expectation = lola::Expectation::seed();
/// let report = lola::check::check_reader_with_progress(reader, "big.pcap", &expectation, |at| {
///     calls.push(at)
/// })
/// .unwrap();
/// assert_eq!(report.frames, 65_536);
/// assert_eq!(calls, [24 + 65_535 * (16 + 60)]); // once, at the byte where frame 65536 starts
/// ```
pub fn check_reader_with_progress<R: Read>(
    mut reader: CaptureReader<R>,
    name: &str,
    expectation: &Expectation,
    mut progress: impl FnMut(u64),
) -> Result<Report> {
    let mut report = Report {
        schema_version: 1,
        file: name.to_string(),
        format: reader.format(),
        verdict: "pass",
        expectation: expectation.clone(),
        expected: expectation.describe(),
        frames: 0,
        matched_count: 0,
        matched: Vec::new(),
        offending_count: 0,
        offending: Vec::new(),
        tcp_count: 0,
        tcp: Vec::new(),
        near_misses: Vec::new(),
        other: OtherCounts::default(),
        failures: Vec::new(),
        notes: Vec::new(),
    };
    let mut partial_frames = Vec::new();
    let mut absent_frames = Vec::new();
    let mut icmp_notes = Vec::new();
    let mut reply_notes = Vec::new();
    let mut fragment_notes = Vec::new();
    let mut damaged_notes = Vec::new();
    let mut first_other_tcp: Option<String> = None;
    let mut reassembler = Reassembler::default();
    // A pcap file has one link type: refuse it before reading any frame.
    if reader.format() == Format::Pcap
        && let Some(link_type) = reader.link_type()
        && !link_type_supported(link_type)
    {
        return Err(Error::UnsupportedLinkType {
            path: name.into(),
            link_type,
        });
    }
    while let Some(frame) = reader.next_frame()? {
        report.frames += 1;
        if report.frames.is_multiple_of(65_536) {
            progress(frame.offset);
        }
        if !link_type_supported(frame.link_type) {
            return Err(Error::UnsupportedLinkType {
                path: name.into(),
                link_type: frame.link_type,
            });
        }
        // Frames of other flows are only counted: the fast path reads their
        // protocol and ports at fixed offsets and moves on.
        if report.near_misses.len() >= LIST_CAP
            && let Some(quick) = quick_flow(frame.link_type, frame.data)
        {
            let (sp, dp) = (quick.src_port, quick.dst_port);
            // Ports alone usually settle it; addresses only when they agree.
            let other = !(expectation.ports_match(sp, dp) || expectation.ports_match(dp, sp)) || {
                let (src, dst) = quick.endpoints();
                !expectation.endpoints_match(src, dst) && !expectation.endpoints_match(dst, src)
            };
            if other {
                if quick.protocol == etherparse::ip_number::UDP.0 {
                    report.other.udp += 1;
                    continue;
                }
                if first_other_tcp.is_some() {
                    report.other.tcp += 1;
                    continue;
                }
            }
        }
        // Sort the frame cheaply first; verify checksums only of the frames
        // the report will show (millions of others are only counted).
        let orig_len = frame.orig_len as usize;
        let reassembled: Vec<u8>;
        let mut verified = false;
        let mut packet = decode_with(frame.link_type, frame.data, orig_len, false);
        if let (Transport::Fragment(bytes), Some(ip)) = (&packet.transport, &packet.ip)
            && let Some(info) = ip.frag
        {
            report.other.fragments += 1;
            match reassembler.add(ip.src, ip.dst, &info, frame.number, bytes) {
                Outcome::Pending => continue,
                Outcome::Invalid(why) => {
                    push_capped(&mut fragment_notes, why);
                    continue;
                }
                Outcome::Complete { payload, frames } => {
                    push_capped(
                        &mut fragment_notes,
                        format!(
                            "frame {}: a datagram {} → {} reassembled from the fragments in frames {}",
                            frame.number,
                            ip.src,
                            ip.dst,
                            reassembly::list(&frames)
                        ),
                    );
                    // The last fragment's header, with its checksum verified.
                    let last = decode(frame.link_type, frame.data, orig_len);
                    let (link, ip) = (
                        last.link.clone(),
                        last.ip.clone().unwrap_or_else(|| ip.clone()),
                    );
                    reassembled = payload;
                    packet = decode_reassembled(link, &ip, info.protocol, &reassembled);
                    verified = true;
                }
            }
        }
        let shown = match (&packet.transport, packet.endpoints()) {
            (Transport::Udp(_), Some((src, dst))) => {
                expectation.endpoints_match(src, dst) || report.near_misses.len() < LIST_CAP
            }
            (Transport::Tcp(_), Some((a, b))) => {
                expectation.tcp_on_flow(a, b) && report.tcp.len() < LIST_CAP
            }
            _ => false,
        };
        if shown && !verified {
            packet = decode(frame.link_type, frame.data, orig_len);
        }
        let line = |reasons: Vec<String>| {
            frame_line(
                frame.number,
                frame.timestamp,
                frame.orig_len,
                &packet,
                reasons,
            )
        };
        match &packet.transport {
            Transport::Udp(udp) => {
                let (src, dst) = packet.endpoints().expect("UDP has endpoints");
                if !expectation.endpoints_match(src, dst) {
                    if expectation.endpoints_match(dst, src) && expectation.dst_port.is_some() {
                        push_capped(
                            &mut reply_notes,
                            format!("frame {}: a reply datagram {src} → {dst}", frame.number),
                        );
                    }
                    report.other.udp += 1;
                    if report.near_misses.len() < LIST_CAP {
                        let mut reasons = expectation.endpoint_mismatches(src, dst);
                        if let Some(want) = &expectation.payload
                            && want.as_slice() != udp.payload
                        {
                            reasons.push(format!("payload {}", quote_bytes(udp.payload)));
                        }
                        report.near_misses.push(line(reasons));
                    }
                    continue;
                }
                let mut reasons = Vec::new();
                if let Some(want) = &expectation.payload {
                    if !udp.payload_complete {
                        reasons.push(format!(
                            "payload cut short by the capture's snaplen ({} of {} bytes captured); it could not be compared",
                            udp.payload.len(),
                            usize::from(udp.length).saturating_sub(8)
                        ));
                    } else if want.as_slice() != udp.payload {
                        reasons.push(format!(
                            "payload {}, expected {}",
                            quote_bytes(udp.payload),
                            quote_bytes(want)
                        ));
                    }
                }
                for problem in &packet.problems {
                    let is_checksum = problem.contains("checksum");
                    if !is_checksum {
                        reasons.push(problem.clone());
                    }
                }
                let mut checksum_states = Vec::new();
                if let Some(c) = packet.ip.as_ref().and_then(|ip| ip.header_checksum) {
                    checksum_states.push(("ip.checksum", c));
                }
                checksum_states.push(("udp.checksum", udp.checksum));
                for (field, c) in checksum_states {
                    let fails = match (expectation.checksums, c.state) {
                        (ChecksumPolicy::Ignore, _) => false,
                        (_, ChecksumState::Correct) => false,
                        (_, ChecksumState::Bad { .. }) => true,
                        (ChecksumPolicy::Strict, _) => true,
                        (ChecksumPolicy::Lenient, ChecksumState::Partial { .. }) => {
                            push_capped(&mut partial_frames, frame.number);
                            false
                        }
                        (ChecksumPolicy::Lenient, ChecksumState::Absent) => {
                            if src.is_ipv6() {
                                true
                            } else {
                                push_capped(&mut absent_frames, frame.number);
                                false
                            }
                        }
                        (ChecksumPolicy::Lenient, ChecksumState::Unverified) => false,
                    };
                    if fails {
                        reasons.push(format!("{field} {c}"));
                    }
                }
                if reasons.is_empty() {
                    report.matched_count += 1;
                    if report.matched.len() < LIST_CAP {
                        report.matched.push(line(Vec::new()));
                    }
                } else {
                    report.offending_count += 1;
                    if report.offending.len() < LIST_CAP {
                        report.offending.push(line(reasons));
                    }
                }
            }
            Transport::Tcp(tcp) => {
                let (a, b) = packet.endpoints().expect("TCP has endpoints");
                if expectation.tcp_on_flow(a, b) {
                    report.tcp_count += 1;
                    if report.tcp.len() < LIST_CAP {
                        let role = if tcp.flags.contains("SYN") {
                            "handshake"
                        } else if tcp.flags.contains("FIN") || tcp.flags.contains("RST") {
                            "teardown"
                        } else if tcp.payload_len > 0 {
                            "data"
                        } else {
                            "acknowledgement"
                        };
                        report
                            .tcp
                            .push(line(vec![format!("{role} on the expected endpoints")]));
                    }
                } else {
                    report.other.tcp += 1;
                    first_other_tcp
                        .get_or_insert_with(|| format!("frame {}: {a} → {b}", frame.number));
                }
            }
            Transport::Icmp(icmp) => {
                let about_flow = icmp
                    .quoted_udp
                    .is_some_and(|(s, d)| expectation.endpoint_mismatches(s, d).is_empty());
                if about_flow && icmp.port_unreachable {
                    let (s, d) = icmp.quoted_udp.expect("checked above");
                    push_capped(
                        &mut icmp_notes,
                        format!(
                            "frame {}: ICMP port unreachable for the datagram {s} → {d}: nobody was listening on {d}",
                            frame.number
                        ),
                    );
                } else if about_flow {
                    push_capped(
                        &mut icmp_notes,
                        format!(
                            "frame {}: ICMP type {} code {} about the expected flow",
                            frame.number, icmp.icmp_type, icmp.code
                        ),
                    );
                }
                report.other.icmp += 1;
            }
            Transport::Fragment(_) => {
                // A fragment whose IP header could not be fully read.
                report.other.fragments += 1;
                push_capped(
                    &mut fragment_notes,
                    format!(
                        "frame {}: an IP fragment; lola does not reassemble fragments",
                        frame.number
                    ),
                );
            }
            Transport::Other => {
                if !packet.problems.is_empty() {
                    report.other.damaged += 1;
                    push_capped(
                        &mut damaged_notes,
                        format!(
                            "frame {} (byte {}): {}",
                            frame.number,
                            frame.offset,
                            packet.problems.join("; ")
                        ),
                    );
                } else {
                    report.other.other += 1;
                }
            }
        }
    }

    if !expectation.count.accepts(report.matched_count) {
        report.failures.push(format!(
            "found {} matching {} in {} {}",
            report.matched_count,
            if report.matched_count == 1 {
                "datagram"
            } else {
                "datagrams"
            },
            report.frames,
            if report.frames == 1 {
                "frame"
            } else {
                "frames"
            }
        ));
    }
    if report.offending_count > 0 {
        report.failures.push(format!(
            "{} {} on the expected endpoints {} not match (listed below)",
            report.offending_count,
            if report.offending_count == 1 {
                "datagram"
            } else {
                "datagrams"
            },
            if report.offending_count == 1 {
                "does"
            } else {
                "do"
            },
        ));
    }
    if report.tcp_count > 0 {
        let handshake = report.tcp.iter().any(|l| l.info.contains("SYN"));
        let msg = format!(
            "{} TCP {} on the expected endpoints{}",
            report.tcp_count,
            if report.tcp_count == 1 {
                "segment"
            } else {
                "segments"
            },
            if handshake {
                ", including a handshake"
            } else {
                ""
            }
        );
        if expectation.allow_tcp {
            report.notes.push(format!("{msg} (allowed by --allow-tcp)"));
        } else {
            report.failures.push(msg);
        }
    }
    if !partial_frames.is_empty() {
        report.notes.push(format!(
            "{} {} a partial UDP checksum (pseudo-header only), as Linux leaves it on loopback and under checksum offload; \
             Wireshark says \"maybe caused by checksum offload\"; --checksums strict fails it",
            frame_list(&partial_frames),
            if partial_frames.len() == 1 { "has" } else { "have" }
        ));
    }
    if !absent_frames.is_empty() {
        report.notes.push(format!(
            "{} {} no UDP checksum (zero), which IPv4 allows",
            frame_list(&absent_frames),
            if absent_frames.len() == 1 {
                "carries"
            } else {
                "carry"
            }
        ));
    }
    if report.other.tcp > 0 {
        report.notes.push(format!(
            "{} TCP {} of other flows, not on the expected endpoints (e.g. {})",
            report.other.tcp,
            if report.other.tcp == 1 {
                "segment"
            } else {
                "segments"
            },
            first_other_tcp.as_deref().unwrap_or("")
        ));
    }
    report.notes.extend(icmp_notes);
    report.notes.extend(reply_notes);
    let (incomplete, unlisted) = reassembler.finish();
    for datagram in incomplete.iter().take(LIST_CAP) {
        push_capped(
            &mut fragment_notes,
            format!(
                "frames {}: fragments of a datagram {} → {} (id 0x{:x}) that never completed; it was not checked",
                reassembly::list(&datagram.frames),
                datagram.src,
                datagram.dst,
                datagram.id
            ),
        );
    }
    let more = incomplete.len().saturating_sub(LIST_CAP) as u64 + unlisted;
    if more > 0 {
        fragment_notes.push(format!("... and {more} more incomplete datagrams"));
    }
    report.notes.extend(fragment_notes);
    report.notes.extend(damaged_notes);
    report.notes.extend(reader.notes().iter().cloned());
    if !report.passed() {
        report.verdict = "fail";
    }
    Ok(report)
}

fn push_capped<T>(list: &mut Vec<T>, item: T) {
    if list.len() < LIST_CAP {
        list.push(item);
    }
}

fn frame_list(frames: &[u64]) -> String {
    match frames {
        [one] => format!("frame {one}"),
        many => format!(
            "frames {}",
            many.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn frame_line(
    number: u64,
    timestamp: Duration,
    length: u32,
    packet: &Packet<'_>,
    reasons: Vec<String>,
) -> FrameLine {
    let (src, dst) = match (packet.endpoints(), &packet.ip) {
        (Some((s, d)), _) => (s.to_string(), d.to_string()),
        (None, Some(ip)) => (ip.src.to_string(), ip.dst.to_string()),
        (None, None) => ("?".into(), "?".into()),
    };
    let ip_checksum = packet
        .ip
        .as_ref()
        .and_then(|ip| ip.header_checksum)
        .map(|c| c.state.word().to_string());
    let (protocol, info, udp_checksum) = match &packet.transport {
        Transport::Udp(u) => (
            "UDP".to_string(),
            format!(
                "Len={} {}",
                usize::from(u.length).saturating_sub(8),
                quote_bytes(u.payload)
            ),
            Some(u.checksum.state.word().to_string()),
        ),
        Transport::Tcp(t) => (
            "TCP".to_string(),
            format!(
                "[{}] Seq={} Ack={} Len={}",
                t.flags, t.seq, t.ack, t.payload_len
            ),
            None,
        ),
        Transport::Icmp(i) => (
            if packet.ip.as_ref().is_some_and(|ip| ip.version == 6) {
                "ICMPv6"
            } else {
                "ICMP"
            }
            .to_string(),
            format!("type {} code {}", i.icmp_type, i.code),
            None,
        ),
        Transport::Fragment(_) => ("IP".into(), "fragment".into(), None),
        Transport::Other => ("?".into(), String::new(), None),
    };
    FrameLine {
        frame: number,
        time: format_time(timestamp),
        src,
        dst,
        protocol,
        length,
        info,
        ip_checksum,
        udp_checksum,
        reasons,
    }
}

/// RFC 3339 UTC with microseconds, or seconds since the epoch where the time
/// is out of range.
///
/// ```
/// use std::time::Duration;
/// use lola::check::format_time;
/// let t = Duration::from_micros(1_795_601_130_494_285);
/// assert_eq!(format_time(t), "2026-11-25T10:05:30.494285Z");
/// assert_eq!(format_time(Duration::from_secs(300_000_000_000)), "300000000000.000000000");
/// ```
pub fn format_time(t: Duration) -> String {
    match std::time::UNIX_EPOCH.checked_add(t) {
        Some(st) if t.as_secs() < 253_402_300_800 => {
            humantime::format_rfc3339_micros(st).to_string()
        }
        _ => format!("{}.{:09}", t.as_secs(), t.subsec_nanos()),
    }
}

/// Bytes as a double-quoted string: printable ASCII as is, the rest escaped
/// (`\n`, `\"`, `\xNN`), cut after 64 bytes with `…`.
///
/// ```
/// assert_eq!(lola::check::quote_bytes(b"Hello Lola"), "\"Hello Lola\"");
/// assert_eq!(lola::check::quote_bytes(b"a\"\x00"), "\"a\\\"\\x00\"");
/// ```
pub fn quote_bytes(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes.iter().take(64) {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    if bytes.len() > 64 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::Duration;

    use etherparse::Ipv4Header;

    use super::*;
    use crate::capture::{CaptureFrame, encode_capture};
    use crate::{Datagram, build_frame};

    /// Splits the IPv4 frame's payload into fragments of `size` bytes (a
    /// multiple of 8), each with its own correct header, as a router would.
    fn fragment(frame: &[u8], size: usize) -> Vec<Vec<u8>> {
        let header = Ipv4Header::from_slice(&frame[14..]).unwrap().0;
        let payload = &frame[14 + header.header_len()..];
        payload
            .chunks(size)
            .enumerate()
            .map(|(i, chunk)| {
                let mut h = header.clone();
                h.identification = 0x1234;
                h.dont_fragment = false;
                h.more_fragments = (i + 1) * size < payload.len();
                h.fragment_offset =
                    etherparse::IpFragOffset::try_new((i * size / 8) as u16).unwrap();
                h.total_len = (h.header_len() + chunk.len()) as u16;
                h.header_checksum = h.calc_header_checksum();
                let mut out = frame[..14].to_vec();
                h.write(&mut out).unwrap();
                out.extend_from_slice(chunk);
                out
            })
            .collect()
    }

    fn check_frames(frames: &[Vec<u8>], expectation: &Expectation) -> Report {
        let frames: Vec<_> = frames
            .iter()
            .map(|f| CaptureFrame {
                timestamp: Duration::ZERO,
                data: Cow::Borrowed(&f[..]),
                comment: None,
            })
            .collect();
        let mut file = Vec::new();
        encode_capture(&mut file, Format::Pcap, &frames).unwrap();
        check_reader(
            CaptureReader::new(&file[..], "t.pcap").unwrap(),
            "t.pcap",
            expectation,
        )
        .unwrap()
    }

    fn big_datagram() -> (Datagram, Vec<u8>) {
        let mut payload = b"Hello Lola".to_vec();
        payload.resize(3000, b'.');
        let d = Datagram::new(
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:7456".parse().unwrap(),
            payload,
        );
        let frame = build_frame(&d).unwrap();
        (d, frame)
    }

    #[test]
    fn fragments_are_reassembled_before_matching_and_never_counted_as_datagrams() {
        let (d, frame) = big_datagram();
        let mut frags = fragment(&frame, 1480);
        assert_eq!(frags.len(), 3);
        frags.swap(0, 2); // out of order, as they may be captured
        let report = check_frames(&frags, &Expectation::exactly(&d));
        assert!(report.passed(), "{report}");
        assert_eq!(report.matched_count, 1);
        assert_eq!(
            report.matched[0].frame, 3,
            "the datagram is whole at the last fragment"
        );
        assert_eq!(report.other.fragments, 3);
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("reassembled from the fragments in frames 1, 2, 3")),
            "{report}"
        );
    }

    #[test]
    fn a_missing_fragment_is_reported_precisely() {
        let (d, frame) = big_datagram();
        let mut frags = fragment(&frame, 1480);
        frags.remove(1);
        let report = check_frames(&frags, &Expectation::exactly(&d));
        assert!(!report.passed());
        assert_eq!(report.matched_count, 0);
        assert!(
            report.notes.iter().any(|n| n.contains("frames 1, 2: fragments of a datagram 127.0.0.1 → 127.0.0.1 (id 0x1234) that never completed")),
            "{report}"
        );
    }
}
