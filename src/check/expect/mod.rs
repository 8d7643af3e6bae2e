//! Expectation files: several expectations, their order and timing, field
//! predicates, forbidden frames and exclusivity, held against a capture in
//! one streaming pass.
//!
//! The parts: `filter` (the predicate language over [`crate::packet::fields`]),
//! `file` (TOML in, with errors at file:line:column, and TOML out),
//! `engine` (the [`SetChecker`]: observing frames, counting, verdicts),
//! `prefilter` (its fast path), `dispatch` (its index of a large set's
//! `match` predicates), `evidence` (why a claim failed: evidence
//! lines, the closest frame, notes), `outcome` (the typed [`SetReport`]), `marks` (what each frame did,
//! for per-frame comments) and
//! `record` (an expectation file written from a capture).
//!
//! ```
//! use lola::check::expect::{check_file_with_set, ExpectationSet};
//! let set = ExpectationSet::parse("lola.toml", r#"
//! [[expect]]
//! name = "hello"
//! match = 'udp.dstport == 7456'
//! where = ['data.text == "Hello Lola"', "ip.ttl == 64"]
//! "#).unwrap();
//! let report = check_file_with_set("fixtures/seed-ipv4.pcap".as_ref(), &set).unwrap();
//! assert!(report.passed());
//! ```

mod dispatch;
mod engine;
mod evidence;
mod file;
mod filter;
mod marks;
mod outcome;
mod prefilter;
mod reading;
mod record;

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

pub use engine::{CLOSEST_CANDIDATES, SetChecker, Sink};
pub use filter::{
    Arith, Expr, Filter, FilterError, Func, Lit, MAX_DEPTH, Member, Node, Op, Quant, Range, Test,
    TestKind, Truth,
};
pub use marks::{FrameMarks, Mark};
pub use outcome::{Cut, ExpectOutcome, RuleOutcome, SetReport};
pub use reading::{
    check_file_with_set, check_file_with_set_admitting, check_reader_with_set, mark_file,
};
pub use record::{RecordOptions, record_file};

use super::{ChecksumPolicy, Count, Expectation, Report, Truncation};
use crate::error::{Error, Result};

/// What came of holding a capture against what was expected: the built-in
/// check of the flag options, or an expectation file. In JSON, the report
/// itself (untagged).
///
/// ```
/// use lola::check::expect::{CheckReport, ExpectationSet};
/// let set = ExpectationSet::parse("l.toml", "[[expect]]\nname = 'x'\nmatch = 'udp'\n").unwrap();
/// let path = "fixtures/seed-ipv4.pcap".as_ref();
/// let builtin = CheckReport::of_file(path, &lola::Expectation::seed(), None).unwrap();
/// let by_file = CheckReport::of_file(path, &lola::Expectation::seed(), Some(&set)).unwrap();
/// assert!(builtin.passed() && by_file.passed());
/// assert!(matches!(&by_file, CheckReport::Set(r) if r.expectations.len() == 1));
/// assert_eq!(by_file.file(), "fixtures/seed-ipv4.pcap");
/// ```
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum CheckReport {
    /// The built-in check.
    Builtin(Box<Report>),
    /// An expectation file.
    Set(Box<SetReport>),
}

impl CheckReport {
    /// The capture at `path` held against `set` when given, else against
    /// `expectation`.
    pub fn of_file(
        path: &Path,
        expectation: &Expectation,
        set: Option<&ExpectationSet>,
    ) -> Result<CheckReport> {
        Ok(match set {
            Some(set) => CheckReport::Set(Box::new(check_file_with_set(path, set)?)),
            None => CheckReport::Builtin(Box::new(super::check_file(path, expectation)?)),
        })
    }

    /// Like [`CheckReport::of_file`], for a capture lola recorded itself:
    /// `drops` are the frames the kernel reported it dropped
    /// ([`Drops::by_kernel`](crate::capture::Drops::by_kernel), or
    /// `Drops::from(statistics)`), held as the frames a pcapng admits it
    /// lost are, whatever the file's format.
    ///
    /// ```
    /// use lola::capture::{CaptureStatistics, Drops};
    /// use lola::check::expect::CheckReport;
    /// let stats = CaptureStatistics { received: 9, dropped: 3, at: Default::default() };
    /// let seed = "fixtures/seed-ipv4.pcap".as_ref();
    /// let report = CheckReport::of_captured(seed, &lola::Expectation::seed(), None, Drops::from(stats)).unwrap();
    /// assert!(!report.passed());
    /// assert_eq!(report.lost().map(|d| d.total()), Some(3));
    /// ```
    pub fn of_captured(
        path: &Path,
        expectation: &Expectation,
        set: Option<&ExpectationSet>,
        drops: crate::capture::Drops,
    ) -> Result<CheckReport> {
        Ok(match set {
            Some(set) => {
                CheckReport::Set(Box::new(check_file_with_set_admitting(path, set, drops)?))
            }
            None => CheckReport::Builtin(Box::new(super::check_file_admitting(
                path,
                expectation,
                drops,
            )?)),
        })
    }

    /// The frames the capture admits it lost, when any.
    pub fn lost(&self) -> Option<crate::capture::Drops> {
        match self {
            CheckReport::Builtin(r) => r.lost,
            CheckReport::Set(r) => r.lost,
        }
    }

    /// [`CheckReport::of_captured`] of a capture lola has just written: the
    /// file again, or the bytes that went to a FIFO, device or standard
    /// output, which cannot be read back; `drops` are what the kernel
    /// reported it dropped while lola captured (none for a capture lola
    /// made itself).
    pub fn of_written(
        path: &Path,
        written: &crate::capture::Written,
        expectation: &Expectation,
        set: Option<&ExpectationSet>,
        drops: crate::capture::Drops,
    ) -> Result<CheckReport> {
        let bytes = match written {
            crate::capture::Written::File => {
                return CheckReport::of_captured(path, expectation, set, drops);
            }
            crate::capture::Written::Bytes(bytes) => bytes,
        };
        let name = path.display().to_string();
        let reader = crate::capture::CaptureReader::new(&bytes[..], &name)?;
        Ok(match set {
            Some(set) => CheckReport::Set(Box::new(reading::check_reader_with_set_admitting(
                reader,
                &name,
                set,
                false,
                drops,
                &mut |_, _| {},
            )?)),
            None => CheckReport::Builtin(Box::new(super::check_reader_admitting(
                reader,
                &name,
                expectation,
                Truncation::Fail,
                drops,
                |_| {},
            )?)),
        })
    }

    /// True when the capture passed.
    pub fn passed(&self) -> bool {
        match self {
            CheckReport::Builtin(r) => r.passed(),
            CheckReport::Set(r) => r.passed(),
        }
    }

    /// The capture, as given.
    pub fn file(&self) -> &str {
        match self {
            CheckReport::Builtin(r) => &r.file,
            CheckReport::Set(r) => &r.file,
        }
    }
}

/// The longest duration an expectation file may name (`within`,
/// `tolerance`): about 31 years, as on the command line.
pub const MAX_DURATION: Duration = Duration::from_secs(1_000_000_000);

/// The largest expectation file lola reads: 16 MiB.
pub const MAX_FILE_SIZE: u64 = 16 << 20;

/// How many evidence lines an expectation's failure lists (the rest are counted).
pub const EVIDENCE_CAP: usize = 10;

/// An expectation file that could not be read: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetError {
    /// The file, as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// How many frames an expectation needs: `min..=max`.
///
/// ```
/// use lola::check::expect::Bounds;
/// assert_eq!(Bounds::parse(">= 2"), Some(Bounds { min: 2, max: None }));
/// assert_eq!(Bounds::parse("1..=3"), Some(Bounds { min: 1, max: Some(3) }));
/// assert_eq!(Bounds::parse("< 1"), Some(Bounds { min: 0, max: Some(0) }));
/// assert_eq!(Bounds::parse("3..=1"), None);
/// assert_eq!(Bounds::parse("about 3"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Bounds {
    /// At least this many.
    pub min: u64,
    /// At most this many (`None`: no limit).
    pub max: Option<u64>,
}

impl Bounds {
    /// Exactly `n`.
    pub fn exactly(n: u64) -> Bounds {
        Bounds {
            min: n,
            max: Some(n),
        }
    }

    /// `"N"`, `"== N"`, `">= N"`, `"> N"`, `"<= N"`, `"< N"` or `"N..=M"`.
    pub fn parse(text: &str) -> Option<Bounds> {
        let t = text.trim();
        let num = |s: &str| s.trim().parse::<u64>().ok();
        if let Some((a, b)) = t.split_once("..=") {
            let (min, max) = (num(a)?, num(b)?);
            return (min <= max).then_some(Bounds {
                min,
                max: Some(max),
            });
        }
        let b = if let Some(n) = t.strip_prefix(">=") {
            Bounds {
                min: num(n)?,
                max: None,
            }
        } else if let Some(n) = t.strip_prefix("<=") {
            Bounds {
                min: 0,
                max: Some(num(n)?),
            }
        } else if let Some(n) = t.strip_prefix("==") {
            Bounds::exactly(num(n)?)
        } else if let Some(n) = t.strip_prefix('>') {
            Bounds {
                min: num(n)?.checked_add(1)?,
                max: None,
            }
        } else if let Some(n) = t.strip_prefix('<') {
            Bounds {
                min: 0,
                max: Some(num(n)?.checked_sub(1)?),
            }
        } else {
            Bounds::exactly(num(t)?)
        };
        Some(b)
    }

    /// True when `n` is within the bounds.
    pub fn accepts(&self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }

    fn to_toml(self) -> String {
        match (self.min, self.max) {
            (a, Some(b)) if a == b => a.to_string(),
            (0, Some(b)) => format!("\"<= {b}\""),
            (a, None) => format!("\">= {a}\""),
            (a, Some(b)) => format!("\"{a}..={b}\""),
        }
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (a, Some(b)) if a == b => write!(f, "{a}"),
            (0, Some(b)) => write!(f, "at most {b}"),
            (a, None) => write!(f, "at least {a}"),
            (a, Some(b)) => write!(f, "{a} to {b}"),
        }
    }
}

/// How much later than `within` a frame may come: a fixed time or a share
/// of the window. `LOLA_TIME_TOLERANCE` overrides the file's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tolerance {
    /// A fixed time.
    Absolute(Duration),
    /// Percent of the window.
    Percent(u32),
}

impl Tolerance {
    /// `"2ms"` or `"25%"`.
    pub fn parse(text: &str) -> Option<Tolerance> {
        let t = text.trim();
        match t.strip_suffix('%') {
            Some(p) => p.trim().parse().ok().map(Tolerance::Percent),
            None => humantime::parse_duration(t)
                .ok()
                .filter(|d| *d <= MAX_DURATION)
                .map(Tolerance::Absolute),
        }
    }

    /// The window with the tolerance applied.
    pub fn widen(self, within: Duration) -> Duration {
        match self {
            // Saturating: a window wider than any capture is simply open.
            Tolerance::Absolute(d) => within.saturating_add(d),
            Tolerance::Percent(p) => {
                within.saturating_add(within.checked_mul(p).unwrap_or(Duration::MAX) / 100)
            }
        }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tolerance::Absolute(d) => {
                write!(
                    f,
                    "{}",
                    humantime::format_duration(*d).to_string().replace(' ', "")
                )
            }
            Tolerance::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// One expectation: which frames it is about, how many must hold, what
/// each must satisfy, and its place in time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    /// Its name (the JUnit test case).
    pub name: String,
    /// Which frames it is about.
    pub matches: Filter,
    /// How many matching frames must hold.
    pub count: Bounds,
    /// What each matching frame must satisfy.
    pub wheres: Vec<Filter>,
    /// Index of the expectation whose first frame this one's must follow.
    pub after: Option<usize>,
    /// How soon after that frame this one's first must come.
    pub within: Option<Duration>,
}

/// A whole expectation file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectationSet {
    /// The expectations, in file order.
    pub expects: Vec<Expect>,
    /// Rules no frame may match.
    pub forbid: Vec<Filter>,
    /// Every frame must be matched by some expectation.
    pub exclusive: bool,
    /// Slack for `within`.
    pub tolerance: Tolerance,
    /// What checksums do to the frames the expectations match.
    pub checksums: ChecksumPolicy,
    /// What a capture cut short does to the claims its missing bytes
    /// could contradict.
    pub truncated: Truncation,
    /// True for the set the flag options make ([`from_expectation`](ExpectationSet::from_expectation)):
    /// its predicates see only the datagram's own headers
    /// ([`FrameView::datagram_only`](crate::packet::fields::FrameView::datagram_only)),
    /// as the built-in check judges the innermost datagram; false for a
    /// file's, whose fields take every occurrence, as Wireshark's do.
    pub datagram_only: bool,
}

impl ExpectationSet {
    /// A set that claims nothing: every capture passes it (`lola exec`
    /// judges nothing while it records a draft).
    ///
    /// ```
    /// assert!(lola::check::expect::ExpectationSet::empty().expects.is_empty());
    /// ```
    pub fn empty() -> ExpectationSet {
        ExpectationSet {
            expects: Vec::new(),
            forbid: Vec::new(),
            exclusive: false,
            datagram_only: false,
            tolerance: Tolerance::Absolute(Duration::from_millis(1)),
            checksums: ChecksumPolicy::Lenient,
            truncated: Truncation::Fail,
        }
    }

    /// Parses the text of an expectation file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> std::result::Result<ExpectationSet, SetError> {
        file::parse(file, text)
    }

    /// Reads the expectation file at `path`.
    ///
    /// Refuses a file over [`MAX_FILE_SIZE`] (a device such as `/dev/zero`
    /// included) after reading at most that much.
    ///
    /// ```
    /// let err = lola::check::expect::ExpectationSet::read("/dev/zero".as_ref()).unwrap_err();
    /// assert_eq!(err.to_string(), "/dev/zero: an expectation file is at most 16 MiB; this one is larger");
    /// ```
    pub fn read(path: &Path) -> Result<ExpectationSet> {
        use std::io::Read as _;
        let io = |e: std::io::Error| {
            Error::Invalid(format!(
                "{}: {}",
                path.display(),
                crate::error::describe_io(&e)
            ))
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_SIZE + 1).read_to_end(&mut bytes))
            .map_err(io)?;
        if bytes.len() as u64 > MAX_FILE_SIZE {
            return Err(Error::Invalid(format!(
                "{}: an expectation file is at most {} MiB; this one is larger",
                path.display(),
                MAX_FILE_SIZE >> 20
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            // Where the first byte that is not UTF-8 stands, as file:line:col.
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let col = String::from_utf8_lossy(&good[start..]).chars().count() + 1;
            Error::Invalid(format!(
                "{}:{line}:{col}: not UTF-8 text (an expectation file is UTF-8)",
                path.display()
            ))
        })?;
        ExpectationSet::parse(&path.display().to_string(), &text)
            .map_err(|e| Error::Invalid(e.to_string()))
    }

    /// The set as an expectation file, with `comment` as its first lines.
    pub fn to_toml(&self, comment: &str) -> String {
        file::to_toml(self, comment)
    }

    /// The expectation the flag options (`--dst-port`, `--message`,
    /// `--exactly`, `--src`, `--allow-tcp`, `--checksums`) describe, as a set:
    /// one expectation named `datagram`, and unless TCP is allowed a rule
    /// forbidding TCP on the same endpoints.
    ///
    /// ```
    /// use lola::check::expect::ExpectationSet;
    /// let set = ExpectationSet::from_expectation(&lola::Expectation::seed());
    /// assert_eq!(set.expects[0].matches.text(), "udp.dstport == 7456");
    /// assert_eq!(set.expects[0].wheres[0].text(), r#"udp.payload == "Hello Lola""#);
    /// assert_eq!(set.forbid[0].text(), "tcp.port == 7456");
    /// ```
    pub fn from_expectation(e: &Expectation) -> ExpectationSet {
        let parse = |t: &str| match Filter::parse(t) {
            Ok(f) => f,
            // The flag_* texts are built from typed values: they always parse.
            Err(e) => unreachable!("{t}: {e}"),
        };
        ExpectationSet {
            expects: vec![Expect {
                name: "datagram".to_string(),
                matches: parse(&flag_match(e)),
                count: flag_count(e.count),
                wheres: flag_wheres(e.payload.as_deref())
                    .iter()
                    .map(|w| parse(w))
                    .collect(),
                after: None,
                within: None,
            }],
            forbid: flag_forbid(e).iter().map(|f| parse(f)).collect(),
            exclusive: false,
            datagram_only: true,
            tolerance: Tolerance::Absolute(Duration::from_millis(1)),
            checksums: e.checksums,
            truncated: Truncation::Fail,
        }
    }

    /// The tolerance in force: `LOLA_TIME_TOLERANCE` when set and valid, else the file's.
    pub fn effective_tolerance(&self) -> Tolerance {
        std::env::var("LOLA_TIME_TOLERANCE")
            .ok()
            .and_then(|t| Tolerance::parse(&t))
            .unwrap_or(self.tolerance)
    }
}

/// The tests of one side (`side`: `"src"` or `"dst"`) of a `proto` flow:
/// its address and port, those given.
fn side_tests(proto: &str, addr: Option<IpAddr>, port: Option<u16>, side: &str) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(a) = addr {
        let layer = if a.is_ipv4() { "ip" } else { "ipv6" };
        parts.push(format!("{layer}.{side} == {a}"));
    }
    if let Some(p) = port {
        parts.push(format!("{proto}.{side}port == {p}"));
    }
    parts
}

/// The tests of a `proto` flow from `e`'s source to its destination, or
/// (`reverse`) back.
fn flow_tests(proto: &str, e: &Expectation, reverse: bool) -> Vec<String> {
    let (from, to) = if reverse {
        ((e.dst_addr, e.dst_port), (e.src_addr, e.src_port))
    } else {
        ((e.src_addr, e.src_port), (e.dst_addr, e.dst_port))
    };
    let mut tests = side_tests(proto, from.0, from.1, "src");
    tests.extend(side_tests(proto, to.0, to.1, "dst"));
    tests
}

/// The `match` predicate of the flag options: UDP on the given endpoints.
fn flag_match(e: &Expectation) -> String {
    let udp = flow_tests("udp", e, false);
    if udp.is_empty() {
        "udp".to_string()
    } else {
        udp.join(" && ")
    }
}

/// The `where` predicates of `--message`: the payload as text when it is
/// printable, else as hex bytes; none when no payload is expected.
fn flag_wheres(payload: Option<&[u8]>) -> Vec<String> {
    match payload {
        None => Vec::new(),
        Some([]) => vec!["!udp.payload".to_string()],
        Some(p) => match std::str::from_utf8(p) {
            Ok(s) if !s.chars().any(char::is_control) => {
                let escaped = s.replace('\\', "\\\\").replace('"', "\\\"");
                vec![format!("udp.payload == \"{escaped}\"")]
            }
            _ => {
                let hex: Vec<String> = p.iter().map(|b| format!("{b:02x}")).collect();
                vec![format!("udp.payload == {}", hex.join(":"))]
            }
        },
    }
}

/// The bounds of `--exactly`, `--at-least`, `--at-most`.
fn flag_count(count: Count) -> Bounds {
    match count {
        Count::Exactly(n) => Bounds::exactly(n),
        Count::AtLeast(n) => Bounds { min: n, max: None },
        Count::AtMost(n) => Bounds {
            min: 0,
            max: Some(n),
        },
    }
}

/// The `forbid` rule of the flag options: TCP on the same endpoints, either
/// way (none with `--allow-tcp`).
fn flag_forbid(e: &Expectation) -> Vec<String> {
    if e.allow_tcp {
        return Vec::new();
    }
    let rule = match (e.src_addr, e.src_port, e.dst_addr, e.dst_port) {
        (None, None, None, Some(p)) | (None, Some(p), None, None) => {
            format!("tcp.port == {p}")
        }
        (None, None, None, None) => "tcp".to_string(),
        _ => format!(
            "({}) || ({})",
            flow_tests("tcp", e, false).join(" && "),
            flow_tests("tcp", e, true).join(" && ")
        ),
    };
    vec![rule]
}
