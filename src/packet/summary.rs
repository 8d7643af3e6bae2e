//! A frame in a few words, the way tshark's summary columns put it:
//! protocol, source, destination and info. Every command that names a frame
//! (check, diff, send, flow) takes its words from [`summarize`], and values
//! (times, payloads, frame lists) from the helpers here.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::packet::decode::{Encapsulation, Packet, Transport};

/// A decoded frame's summary columns.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::packet::summary::summarize;
/// let frame = lola::build_frame(&d).unwrap();
/// let s = summarize(&lola::packet::decode::decode(1, &frame, frame.len()));
/// assert_eq!((s.protocol, s.src.to_string(), s.dst.to_string()), ("UDP", "127.0.0.1:40000".into(), "127.0.0.1:7456".into()));
/// assert_eq!(s.info, r#"Len=10 "Hello Lola""#);
/// assert_eq!(s.brief, "Len=10");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// `UDP`, `TCP`, `ICMP`, `ICMPv6`, `IP` (a fragment) or `?`; behind a
    /// tunnel or LLC/SNAP its name first: `VXLAN UDP`, `LLC/SNAP TCP`.
    pub protocol: &'static str,
    /// The tunnel or framing the packet came in, when it did (`VXLAN`, `GRE`,
    /// `IPIP`, `6in4`, `LLC/SNAP`).
    pub encapsulation: Option<&'static str>,
    /// Source address and port (or address alone, or nothing known).
    pub src: Endpoint,
    /// Destination address and port (or address alone, or nothing known).
    pub dst: Endpoint,
    /// tshark-like info column: `Len=10 "Hello Lola"`, `[SYN, ACK] Seq=0 Ack=1 Len=0`;
    /// a tunnelled packet's ends with the tunnel: `(VXLAN VNI 42, 127.0.0.1 → 127.0.0.1)`.
    pub info: String,
    /// The info column without payload or sequence numbers: `Len=10`, `[SYN] Len=0`.
    pub brief: String,
}

impl Summary {
    /// True for a UDP, TCP or ICMP frame: one whose endpoints mean something.
    pub fn has_flow(&self) -> bool {
        let protocol = match self.encapsulation {
            Some(_) => self.protocol.rsplit(' ').next().unwrap_or(self.protocol),
            None => self.protocol,
        };
        matches!(protocol, "UDP" | "TCP" | "ICMP" | "ICMPv6")
    }

    /// One short line: `UDP 127.0.0.1:40000 → 127.0.0.1:7456 Len=10`
    /// (`VXLAN UDP 10.9.0.1:40000 → ...` for the datagram in a tunnel), or
    /// `60 bytes` for a frame that is not UDP, TCP or ICMP.
    ///
    /// ```
    /// use lola::packet::summary::summarize;
    /// let other = summarize(&lola::packet::decode::decode(1, &[0u8; 60], 60));
    /// assert_eq!(other.line(60), "60 bytes");
    /// ```
    pub fn line(&self, captured: usize) -> String {
        if self.has_flow() {
            format!(
                "{} {} → {} {}",
                self.protocol, self.src, self.dst, self.brief
            )
        } else {
            format!("{captured} bytes")
        }
    }
}

/// The summary columns of a decoded frame.
pub fn summarize(packet: &Packet<'_>) -> Summary {
    let (src, dst) = match (packet.endpoints(), &packet.ip) {
        (Some((s, d)), _) => (Endpoint::from(s), Endpoint::from(d)),
        (None, Some(ip)) => (Endpoint::addr(ip.src), Endpoint::addr(ip.dst)),
        (None, None) => (Endpoint::default(), Endpoint::default()),
    };
    let (protocol, mut info, brief) = match &packet.transport {
        Transport::Udp(u) => {
            let len = format!("Len={}", u.payload_len);
            ("UDP", format!("{len} {}", quote_bytes(u.payload)), len)
        }
        Transport::Tcp(t) => (
            "TCP",
            format!(
                "[{}] Seq={} Ack={} Len={}",
                t.flags, t.seq, t.ack, t.payload_len
            ),
            format!("[{}] Len={}", t.flags, t.payload_len),
        ),
        Transport::Icmp(i) => {
            let v6 = packet.ip.as_ref().is_some_and(|ip| ip.version == 6);
            let words = format!("type {} code {}", i.icmp_type, i.code);
            (if v6 { "ICMPv6" } else { "ICMP" }, words.clone(), words)
        }
        Transport::Fragment(_) => ("IP", "fragment".into(), "fragment".into()),
        Transport::Other => ("?", String::new(), String::new()),
    };
    if packet.ip.as_ref().is_some_and(|ip| ip.length_from_frame) {
        info.push_str(" (ip.len 0: length from the frame, as TSO records it)");
    }
    let encapsulation = packet.encapsulation.map(|e| e.name());
    if let Some(tunnel) = tunnel_words(packet) {
        info = if info.is_empty() {
            format!("({tunnel})")
        } else {
            format!("{info} ({tunnel})")
        };
    }
    Summary {
        protocol: match encapsulation {
            Some(name) => prefixed(name, protocol),
            None => protocol,
        },
        encapsulation,
        src,
        dst,
        info,
        brief,
    }
}

/// The tunnel a packet came through, in words: `VXLAN VNI 42, 127.0.0.1 →
/// 127.0.0.1`, `GRE, 10.0.0.1 → 10.0.0.2`; None for none (or LLC/SNAP,
/// which is framing, not a tunnel).
fn tunnel_words(packet: &Packet<'_>) -> Option<String> {
    let outer = packet.outer.as_ref()?;
    let name = match packet.encapsulation? {
        Encapsulation::Vxlan { vni } => format!("VXLAN VNI {vni}"),
        Encapsulation::Geneve { vni } => format!("Geneve VNI {vni}"),
        e => e.name().to_string(),
    };
    Some(format!("{name}, {} → {}", outer.src, outer.dst))
}

/// `VXLAN UDP` and the like: the protocol column behind an encapsulation.
fn prefixed(encapsulation: &'static str, protocol: &'static str) -> &'static str {
    const PROTOCOLS: [&str; 6] = ["UDP", "TCP", "ICMP", "ICMPv6", "IP", "?"];
    const NAMES: [[&str; 6]; 6] = [
        [
            "VXLAN UDP",
            "VXLAN TCP",
            "VXLAN ICMP",
            "VXLAN ICMPv6",
            "VXLAN IP",
            "VXLAN ?",
        ],
        [
            "Geneve UDP",
            "Geneve TCP",
            "Geneve ICMP",
            "Geneve ICMPv6",
            "Geneve IP",
            "Geneve ?",
        ],
        [
            "GRE UDP",
            "GRE TCP",
            "GRE ICMP",
            "GRE ICMPv6",
            "GRE IP",
            "GRE ?",
        ],
        [
            "IPIP UDP",
            "IPIP TCP",
            "IPIP ICMP",
            "IPIP ICMPv6",
            "IPIP IP",
            "IPIP ?",
        ],
        [
            "6in4 UDP",
            "6in4 TCP",
            "6in4 ICMP",
            "6in4 ICMPv6",
            "6in4 IP",
            "6in4 ?",
        ],
        [
            "LLC/SNAP UDP",
            "LLC/SNAP TCP",
            "LLC/SNAP ICMP",
            "LLC/SNAP ICMPv6",
            "LLC/SNAP IP",
            "LLC/SNAP ?",
        ],
    ];
    let row = ["VXLAN", "Geneve", "GRE", "IPIP", "6in4", "LLC/SNAP"]
        .iter()
        .position(|n| *n == encapsulation);
    let column = PROTOCOLS.iter().position(|p| *p == protocol);
    match (row, column) {
        (Some(r), Some(c)) => NAMES[r][c],
        _ => protocol,
    }
}

/// An endpoint: an address with its port (UDP, TCP), an address alone (other
/// IP), or nothing known. `Display` is `127.0.0.1:7456`, `[::1]:7456`,
/// `127.0.0.1` or `?`; JSON is `{"addr": "127.0.0.1", "port": 7456}`.
///
/// ```
/// use lola::packet::summary::Endpoint;
/// let e = Endpoint::from("[::1]:7456".parse::<std::net::SocketAddr>().unwrap());
/// assert_eq!(e.to_string(), "[::1]:7456");
/// assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"addr":"::1","port":7456}"#);
/// assert_eq!(Endpoint::default().to_string(), "?");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Endpoint {
    /// The IP address, when there is one.
    pub addr: Option<IpAddr>,
    /// The port, for UDP and TCP.
    pub port: Option<u16>,
}

impl Endpoint {
    /// An address without a port.
    pub fn addr(addr: IpAddr) -> Endpoint {
        Endpoint {
            addr: Some(addr),
            port: None,
        }
    }
}

impl From<SocketAddr> for Endpoint {
    fn from(a: SocketAddr) -> Endpoint {
        Endpoint {
            addr: Some(a.ip()),
            port: Some(a.port()),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.addr, self.port) {
            (Some(a), Some(p)) => write!(f, "{}", SocketAddr::new(a, p)),
            (Some(a), None) => write!(f, "{a}"),
            (None, _) => f.write_str("?"),
        }
    }
}

/// Serializes a socket address as an [`Endpoint`] object.
pub(crate) fn endpoint_json<S: serde::Serializer>(a: &SocketAddr, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&Endpoint::from(*a), s)
}

/// Bytes as JSON shows them: the text when they are UTF-8, and always hex,
/// so a binary payload is never lossy.
///
/// ```
/// use lola::packet::summary::Payload;
/// let p = Payload::of(&[0xff, 0x00, 0xfe]);
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"text":null,"hex":"ff00fe"}"#);
/// assert_eq!(Payload::of(b"Hi").text.as_deref(), Some("Hi"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Payload {
    /// The bytes as text, when they are valid UTF-8.
    pub text: Option<String>,
    /// The bytes in hex.
    pub hex: String,
}

impl Payload {
    /// The JSON form of `bytes`.
    pub fn of(bytes: &[u8]) -> Payload {
        Payload {
            text: std::str::from_utf8(bytes).ok().map(str::to_string),
            hex: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// A time since the epoch in nanoseconds, as JSON's `*_ns` fields carry it.
pub fn nanos(t: Duration) -> u64 {
    u64::try_from(t.as_nanos()).unwrap_or(u64::MAX)
}

/// RFC 3339 UTC with microseconds, or with nanoseconds when the time has
/// them (a nanosecond pcap or pcapng keeps its full precision); seconds since
/// the epoch where the time is out of range.
///
/// ```
/// use std::time::Duration;
/// use lola::check::format_time;
/// let t = Duration::from_micros(1_795_601_130_494_285);
/// assert_eq!(format_time(t), "2026-11-25T10:05:30.494285Z");
/// let ns = Duration::from_nanos(1_795_601_130_494_285_123);
/// assert_eq!(format_time(ns), "2026-11-25T10:05:30.494285123Z");
/// assert_eq!(format_time(Duration::from_secs(300_000_000_000)), "300000000000.000000000");
/// ```
pub fn format_time(t: Duration) -> String {
    match std::time::UNIX_EPOCH.checked_add(t) {
        Some(st) if t.as_secs() < 253_402_300_800 && !t.subsec_nanos().is_multiple_of(1000) => {
            humantime::format_rfc3339_nanos(st).to_string()
        }
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

/// Frame numbers as `frame 3` or `frames 3, 4, 5`.
///
/// ```
/// use lola::packet::summary::frame_list;
/// assert_eq!(frame_list(&[3]), "frame 3");
/// assert_eq!(frame_list(&[3, 4, 5]), "frames 3, 4, 5");
/// ```
pub fn frame_list(frames: &[u64]) -> String {
    match frames {
        [one] => format!("frame {one}"),
        many => format!("frames {}", numbers(many)),
    }
}

/// Frame numbers as `3, 4, 5`.
pub(crate) fn numbers(frames: &[u64]) -> String {
    frames
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `n word` or `n words`: `1 frame`, `8 frames`.
pub(crate) fn plural(n: u64, word: &str) -> String {
    crate::packet::glossary::count(n, word)
}
