//! What the user expects of a capture: how many datagrams, between which
//! endpoints, carrying what, and what checksums and TCP may do to the verdict.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use super::{SEED_MESSAGE, SEED_PORT};
use crate::packet::decode::ChecksumState;
use crate::packet::summary::quote_bytes;

/// How many matching datagrams the capture must hold.
///
/// ```
/// use lola::Count;
/// assert_eq!(Count::Exactly(1).to_string(), "exactly 1 datagram");
/// assert_eq!(Count::AtLeast(2).to_string(), "at least 2 datagrams");
/// assert_eq!(Count::AtMost(0).to_string(), "at most 0 datagrams");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
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
    pub(crate) fn accepts(&self, n: u64) -> bool {
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
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

/// What one checksum does to the verdict under a [`ChecksumPolicy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// It passes and needs no word.
    Pass,
    /// It passes; the report notes the partial (offload) checksum.
    PassPartial,
    /// It passes; the report notes the absent (zero) UDP checksum.
    PassAbsent,
    /// It fails the datagram.
    Fail,
}

impl ChecksumPolicy {
    /// The whole policy in one table: what a checksum in `state` does, on a
    /// datagram over IPv6 (where a zero UDP checksum is forbidden) or IPv4.
    pub(crate) fn judge(self, state: ChecksumState, ipv6: bool) -> Judgement {
        use ChecksumPolicy::*;
        use ChecksumState::*;
        match (self, state) {
            (Ignore, _) | (_, Correct) => Judgement::Pass,
            (_, Bad { .. }) | (Strict, _) => Judgement::Fail,
            (Lenient, Partial { .. }) => Judgement::PassPartial,
            (Lenient, Absent) if ipv6 => Judgement::Fail,
            (Lenient, Absent) => Judgement::PassAbsent,
            (Lenient, Unverified) => Judgement::Pass,
        }
    }
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
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
    #[schemars(with = "Option<crate::packet::summary::Payload>")]
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
        Some(bytes) => s.serialize_some(&crate::packet::summary::Payload::of(bytes)),
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
    pub fn exactly(datagram: &crate::packet::frame::Datagram) -> Expectation {
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
    pub(crate) fn endpoint_mismatches(&self, src: SocketAddr, dst: SocketAddr) -> Vec<String> {
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
    pub(crate) fn ports_match(&self, src_port: u16, dst_port: u16) -> bool {
        self.src_port.is_none_or(|x| x == src_port) && self.dst_port.is_none_or(|x| x == dst_port)
    }

    /// True when a datagram from `src` to `dst` is on the expected endpoints.
    pub(crate) fn endpoints_match(&self, src: SocketAddr, dst: SocketAddr) -> bool {
        self.src_addr.is_none_or(|x| x == src.ip())
            && self.src_port.is_none_or(|x| x == src.port())
            && self.dst_addr.is_none_or(|x| x == dst.ip())
            && self.dst_port.is_none_or(|x| x == dst.port())
    }

    /// True when a TCP segment between `a` and `b` (either direction) is on
    /// the expected endpoints.
    pub(crate) fn tcp_on_flow(&self, a: SocketAddr, b: SocketAddr) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_policy_table() {
        use ChecksumPolicy::*;
        use Judgement::*;
        let bad = ChecksumState::Bad { expected: 1 };
        let partial = ChecksumState::Partial { expected: 1 };
        let (ok, none, unverified) = (
            ChecksumState::Correct,
            ChecksumState::Absent,
            ChecksumState::Unverified,
        );
        // (policy, state, over IPv6) → judgement
        let table = [
            (Strict, ok, false, Pass),
            (Strict, bad, false, Fail),
            (Strict, partial, false, Fail),
            (Strict, none, false, Fail),
            (Strict, unverified, false, Fail),
            (Lenient, ok, false, Pass),
            (Lenient, bad, false, Fail),
            (Lenient, partial, false, PassPartial),
            (Lenient, none, false, PassAbsent),
            (Lenient, none, true, Fail),
            (Lenient, unverified, false, Pass),
            (Ignore, ok, false, Pass),
            (Ignore, bad, false, Pass),
            (Ignore, partial, true, Pass),
            (Ignore, none, true, Pass),
            (Ignore, unverified, false, Pass),
        ];
        for (policy, state, ipv6, want) in table {
            assert_eq!(
                policy.judge(state, ipv6),
                want,
                "{policy:?} {state:?} ipv6={ipv6}"
            );
        }
    }
}
