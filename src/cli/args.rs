//! Every flag of every command, in one place: the clap structs, with the
//! options several commands share (`--to/--port`, `--width/--color`,
//! `-o/--format`, `--json/--junit`) defined once and flattened.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};

use lola::capture::Format;
use lola::check::{ChecksumPolicy, Count, Expectation, SEED_MESSAGE, Truncation};
use lola::harness::CaptureMode;

use super::parse::{
    HexBytes, parse_addr_maybe_port, parse_duration, parse_endpoint, parse_frames, parse_hex,
    parse_port, parse_timestamp,
};

/// A pcap-generating test harness for loopback UDP: send "Hello Lola", write
/// the frame to a pcap, prove it is exactly one datagram and no handshake.
#[derive(Parser)]
#[command(name = "lola", version, long_version = env!("LOLA_LONG_VERSION"), about, long_about = None)]
#[command(after_help = "Exit status: 0 pass, 1 expectation not met, 2 could not run.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Send the datagram over loopback, write its frame to a capture, check it
    Run(RunArgs),
    /// Be the server: bind and print each datagram that arrives (server.py)
    Listen(ListenArgs),
    /// Be the client: send one datagram (client.py)
    Send(SendArgs),
    /// Write the frame for a datagram without any socket (byte-identical for the same arguments)
    Build(BuildArgs),
    /// Check that a capture holds exactly the expected datagram and no TCP on its endpoints
    Check(CheckArgs),
    /// Record frames on a network interface, like a minimal tcpdump (needs CAP_NET_RAW)
    Capture(CaptureArgs),
    /// The same message over TCP and over UDP, side by side, with ladder diagrams
    Compare(CompareArgs),
    /// Draw the ladder diagram of every conversation in a capture
    Flow(FlowArgs),
    /// Compare a capture with a golden one, frame by frame and field by field
    Diff(DiffArgs),
    /// Run a program on a private lo, record every frame it sends there, check the capture
    Exec(ExecArgs),
    /// Say which capture modes work here, and why not
    Doctor(DoctorArgs),
    /// Print the manual page (roff): lola man > lola.1; man ./lola.1
    Man,
    /// Expectation files: print the built-in one, or record one from a capture
    #[command(subcommand)]
    Expect(ExpectCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

/// `--format`: its values, for `--help` and the shell completions.
fn format_values() -> impl TypedValueParser<Value = Format> {
    clap::builder::PossibleValuesParser::new(["pcap", "pcapng"]).try_map(|s| s.parse::<Format>())
}

/// `--capture`: its values (`live` is another name for `host`).
fn capture_values() -> impl TypedValueParser<Value = CaptureMode> {
    use clap::builder::PossibleValue;
    clap::builder::PossibleValuesParser::new([
        PossibleValue::new("host").alias("live"),
        PossibleValue::new("private"),
        PossibleValue::new("auto"),
        PossibleValue::new("off"),
    ])
    .try_map(|s| s.parse::<CaptureMode>())
}

/// `--checksums`: its values.
fn checksum_values() -> impl TypedValueParser<Value = ChecksumPolicy> {
    clap::builder::PossibleValuesParser::new(["strict", "lenient", "ignore"])
        .try_map(|s| s.parse::<ChecksumPolicy>())
}

/// Where the server listens: `--to`, with `--port` overriding its port.
#[derive(Args)]
pub struct EndpointArgs {
    /// Where the server listens and the client sends ([::1]:7456 for IPv6)
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7456", value_parser = parse_endpoint)]
    to: SocketAddr,
    /// Port, overriding the one in --to (0: any free port)
    #[arg(long, value_name = "PORT", value_parser = parse_port)]
    port: Option<u16>,
}

impl EndpointArgs {
    /// `--to` with its port replaced by `--port`, when given.
    pub fn addr(&self) -> SocketAddr {
        with_port(self.to, self.port)
    }
}

/// `-o` and `--format` together: the format from the file's extension when
/// not given, and `STEM.pcap` (or `.pcapng`) when no file is.
fn output_and_format(
    output: &Option<PathBuf>,
    format: Option<Format>,
    stem: &str,
) -> (PathBuf, Format) {
    match (output, format) {
        (Some(p), Some(f)) => (p.clone(), f),
        (Some(p), None) => (p.clone(), format_of(p)),
        (None, Some(Format::PcapNg)) => (format!("{stem}.pcapng").into(), Format::PcapNg),
        (None, _) => (format!("{stem}.pcap").into(), Format::Pcap),
    }
}

/// `addr` with its port replaced by `port`, when given.
fn with_port(mut addr: SocketAddr, port: Option<u16>) -> SocketAddr {
    if let Some(p) = port {
        addr.set_port(p);
    }
    addr
}

/// How diagrams are drawn.
#[derive(Args)]
pub struct DisplayArgs {
    /// Diagram width in columns
    #[arg(long, value_name = "N", default_value_t = 80, value_parser = clap::value_parser!(u16).range(50..=400))]
    pub width: u16,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
}

impl DisplayArgs {
    pub fn color(&self) -> bool {
        match self.color.as_str() {
            "always" => true,
            "never" => false,
            _ => lola::report::ladder::use_color(),
        }
    }
}

/// Reports besides the text on stdout.
#[derive(Args)]
pub struct ReportArgs {
    /// Print a JSON report on stdout instead of text
    #[arg(long)]
    pub json: bool,
    /// Also write a JUnit XML report
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// The HTML report and the GitHub step summary.
#[derive(Args)]
pub struct PictureArgs {
    /// Also write a one-file HTML report (verdict, evidence, ladder diagrams)
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Do not append a markdown summary to $GITHUB_STEP_SUMMARY
    #[arg(long)]
    pub no_summary: bool,
}

/// What `lola flow` draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagramFormat {
    /// Ladder diagrams for the terminal
    Text,
    /// One SVG picture of every ladder
    Svg,
    /// Mermaid sequenceDiagram text, one per conversation
    Mermaid,
    /// Mermaid blocks and the summary table, as markdown
    Markdown,
}

/// The capture a command writes.
#[derive(Args)]
pub struct OutputArgs {
    /// Capture file to write ("-" for standard output) [default: hello-lola.pcap, or .pcapng with --format pcapng]
    #[arg(short, long, visible_short_alias = 'w', value_name = "PATH")]
    output: Option<PathBuf>,
    /// File format [default: from the output's extension, else pcap]
    #[arg(long, value_name = "FORMAT", value_parser = format_values())]
    format: Option<Format>,
}

impl OutputArgs {
    pub fn resolve(&self) -> (PathBuf, Format) {
        output_and_format(&self.output, self.format, "hello-lola")
    }
}

/// The kernel buffer of a live capture, as tcpdump's `-B` sizes it.
#[derive(Args)]
pub struct LiveArgs {
    /// Kernel buffer of the live capture, in KiB, as tcpdump -B: frames wait there while lola is busy, and beyond it the kernel drops and counts them
    #[arg(short = 'B', long = "buffer-size", value_name = "KIB", default_value_t = (lola::host::live::DEFAULT_BUFFER_SIZE / 1024) as u64, value_parser = clap::value_parser!(u64).range(1..=4_194_304))]
    buffer_kib: u64,
}

impl LiveArgs {
    /// The buffer in bytes.
    pub fn bytes(&self) -> usize {
        usize::try_from(self.buffer_kib.saturating_mul(1024)).unwrap_or(usize::MAX)
    }
}

/// The format a file name asks for: pcapng for `.pcapng`, else pcap.
pub fn format_of(path: &Path) -> Format {
    Format::for_path(path)
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// The datagram's payload
    #[arg(long, value_name = "TEXT", default_value = SEED_MESSAGE)]
    pub message: String,
    #[command(flatten)]
    pub output: OutputArgs,
    /// How long the server waits for the datagram (e.g. 2s, 500ms)
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Also record what really crossed lo: host, private (a lo of lola's own), auto (host, else private), off; live = host
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = capture_values())]
    pub capture: CaptureMode,
    /// How long the live capture goes on after the datagram was seen
    #[arg(long, value_name = "DURATION", default_value = "20ms", value_parser = parse_duration)]
    pub linger: Duration,
    #[command(flatten)]
    pub live: LiveArgs,
    /// The written capture must diff equal to this golden capture (see lola diff)
    #[arg(long, value_name = "GOLDEN")]
    pub expect_like: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Print nothing; only the exit status tells
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
    #[command(flatten)]
    pub color: ColorArgs,
    #[command(flatten)]
    pub pictures: PictureArgs,
    /// The written capture must also pass this expectation file (TOML)
    #[arg(long = "expect", value_name = "TOML")]
    pub expect_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct ListenArgs {
    /// Address to bind (--to, as run and send spell it, is the same)
    #[arg(long, visible_alias = "to", value_name = "ADDR:PORT", default_value = "127.0.0.1:7456", value_parser = parse_endpoint)]
    on: SocketAddr,
    /// Port, overriding the one in --on (0: any free port)
    #[arg(long, value_name = "PORT", value_parser = parse_port)]
    port: Option<u16>,
    /// Datagrams to receive before exiting (0: until interrupted)
    #[arg(
        long = "datagrams",
        alias = "count",
        value_name = "N",
        default_value_t = 1
    )]
    pub count: u64,
    /// Give up (exit 2) when nothing arrives for this long [default: wait forever, like server.py]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Also write the frames of the received datagrams to this capture ("-" for standard output)
    #[arg(short, long, visible_short_alias = 'w', value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// File format [default: from the output's extension, else pcap]
    #[arg(long, value_name = "FORMAT", value_parser = format_values())]
    pub format: Option<Format>,
}

impl ListenArgs {
    /// `--on` with its port replaced by `--port`, when given.
    pub fn addr(&self) -> SocketAddr {
        with_port(self.on, self.port)
    }
}

#[derive(Args)]
pub struct SendArgs {
    /// Where to send
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7456", value_parser = parse_endpoint)]
    pub to: SocketAddr,
    /// Address to send from [default: loopback, any free port]
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint)]
    pub from: Option<SocketAddr>,
    /// The payload [default: Hello Lola]
    #[arg(value_name = "MESSAGE", conflicts_with = "message")]
    positional_message: Option<String>,
    /// The payload, as run, compare and check spell it
    #[arg(long = "message", value_name = "TEXT")]
    message: Option<String>,
    /// Record what the send put on lo: host, private (a lo of lola's own), auto (host, else private), off; live = host
    #[arg(long, value_name = "MODE", default_value = "off", value_parser = capture_values())]
    pub capture: CaptureMode,
    /// Where the captured frames go (with --capture; "-" for standard output) [default: send.pcap]
    #[arg(short, long, visible_short_alias = 'w', value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// File format [default: from the output's extension, else pcap]
    #[arg(long, value_name = "FORMAT", value_parser = format_values())]
    pub format: Option<Format>,
    /// How long the capture goes on after the datagram was seen
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = parse_duration)]
    pub linger: Duration,
    #[command(flatten)]
    pub live: LiveArgs,
}

impl SendArgs {
    /// `--message`, or the positional message, or the seed's.
    pub fn message(&self) -> String {
        self.message
            .clone()
            .or_else(|| self.positional_message.clone())
            .unwrap_or_else(|| SEED_MESSAGE.to_string())
    }
}

#[derive(Args)]
pub struct CaptureArgs {
    /// Interface to capture on (Ethernet-like: lo, eth0, ...)
    #[arg(short, long, value_name = "NAME", default_value = "lo")]
    pub interface: String,
    /// Keep only UDP/TCP frames to or from this port, and ICMP errors about them (repeatable)
    #[arg(long = "filter-port", value_name = "P", value_parser = parse_port)]
    pub filter_ports: Vec<u16>,
    /// Stop after this long [default: until --max-frames frames, or Ctrl-C]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many frames, as tcpdump -c
    #[arg(short = 'c', long = "max-frames", alias = "count", value_name = "N")]
    pub count: Option<u64>,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Capture file to write ("-" for standard output)
    #[arg(short, long, visible_short_alias = 'w', value_name = "PATH")]
    pub output: PathBuf,
    /// File format [default: from the output's extension, else pcap]
    #[arg(long, value_name = "FORMAT", value_parser = format_values())]
    pub format: Option<Format>,
    /// Check the written capture against an expectation file (TOML): exit 0 or 1 by its verdict
    #[arg(long = "expect", value_name = "TOML")]
    pub expect_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct BuildArgs {
    /// Source of the datagram
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint)]
    pub src: SocketAddr,
    /// Destination of the datagram
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint)]
    pub dst: SocketAddr,
    #[command(flatten)]
    pub payload: PayloadArgs,
    /// Frame time: seconds since the epoch (1700000000.5) or RFC 3339 (2024-01-01T00:00:00Z) [default: 0]
    #[arg(long, value_name = "T", value_parser = parse_timestamp)]
    pub timestamp: Option<Duration>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Print a JSON summary on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
#[group(multiple = false)]
pub struct PayloadArgs {
    /// Payload as text [default: Hello Lola]
    #[arg(long, value_name = "TEXT")]
    message: Option<String>,
    /// Payload as hex bytes (e.g. 48656c6c6f)
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    payload_hex: Option<HexBytes>,
}

impl PayloadArgs {
    pub fn bytes(&self) -> Option<Vec<u8>> {
        match (&self.message, &self.payload_hex) {
            (Some(m), _) => Some(m.as_bytes().to_vec()),
            (None, Some(h)) => Some(h.0.clone()),
            (None, None) => None,
        }
    }
}

/// The options of [`ExpectationArgs`], which `--expect FILE` replaces and
/// so refuses (an option it would silently ignore).
const FLAG_EXPECTATION: [&str; 12] = [
    "src",
    "dst",
    "src_port",
    "dst_port",
    "message",
    "payload_hex",
    "any_payload",
    "count",
    "at_least",
    "at_most",
    "allow_tcp",
    "checksums",
];

/// What a capture must hold, as `check` and `exec` judge it.
#[derive(Args)]
pub struct ExpectationArgs {
    /// Expected source address, with or without port
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_addr_maybe_port)]
    pub src: Option<(std::net::IpAddr, Option<u16>)>,
    /// Expected destination address, with or without port
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_addr_maybe_port)]
    pub dst: Option<(std::net::IpAddr, Option<u16>)>,
    /// Expected source port
    #[arg(long, value_name = "P", value_parser = parse_port)]
    pub src_port: Option<u16>,
    /// Expected destination port [default: 7456, unless --dst has a port]
    #[arg(long, value_name = "P", value_parser = parse_port)]
    pub dst_port: Option<u16>,
    #[command(flatten)]
    pub payload: PayloadArgs,
    /// Accept any payload
    #[arg(long, conflicts_with_all = ["message", "payload_hex"])]
    pub any_payload: bool,
    /// Exactly N matching datagrams [default: 1]
    #[arg(long = "exactly", alias = "count", value_name = "N", conflicts_with_all = ["at_least", "at_most"])]
    pub count: Option<u64>,
    /// At least N matching datagrams
    #[arg(long, value_name = "N", conflicts_with = "at_most")]
    pub at_least: Option<u64>,
    /// At most N matching datagrams
    #[arg(long, value_name = "N")]
    pub at_most: Option<u64>,
    /// Do not fail on TCP segments between the expected endpoints
    #[arg(long)]
    pub allow_tcp: bool,
    /// strict: only correct checksums pass; lenient: partial (offload) passes with a note; ignore [default: lenient]
    #[arg(long, value_name = "POLICY", value_parser = checksum_values())]
    pub checksums: Option<ChecksumPolicy>,
}

impl ExpectationArgs {
    /// True when any of these flags was given: a claim about the capture,
    /// which `lola exec` then judges (with none, it records a draft).
    pub fn claims(&self) -> bool {
        let ExpectationArgs {
            src,
            dst,
            src_port,
            dst_port,
            payload,
            any_payload,
            count,
            at_least,
            at_most,
            allow_tcp,
            checksums,
        } = self;
        src.is_some()
            || dst.is_some()
            || src_port.is_some()
            || dst_port.is_some()
            || payload.bytes().is_some()
            || *any_payload
            || count.is_some()
            || at_least.is_some()
            || at_most.is_some()
            || *allow_tcp
            || checksums.is_some()
    }

    /// The expectation the flags describe: the seed's, changed by each flag given.
    pub fn expectation(&self) -> Expectation {
        let mut e = Expectation::seed()
            .checksums(self.checksums.unwrap_or_default())
            .allow_tcp(self.allow_tcp);
        if let Some((addr, port)) = self.src {
            e = e.src(addr, port);
        }
        if let Some((addr, port)) = self.dst {
            e = e.dst(addr, port);
        }
        if let Some(p) = self.src_port {
            e = e.src_port(p);
        }
        if let Some(p) = self.dst_port {
            e = e.dst_port(p);
        }
        if let Some(bytes) = self.payload.bytes() {
            e = e.payload(bytes);
        }
        if self.any_payload {
            e = e.any_payload();
        }
        e.count(match (self.count, self.at_least, self.at_most) {
            (Some(n), _, _) => Count::Exactly(n),
            (_, Some(n), _) => Count::AtLeast(n),
            (_, _, Some(n)) => Count::AtMost(n),
            _ => Count::Exactly(1),
        })
    }
}

#[derive(Args)]
pub struct CheckArgs {
    /// The captures to check (pcap or pcapng; a directory or a quoted glob for the captures in it; - for standard input)
    #[arg(value_name = "FILE", required_unless_present = "read")]
    files: Vec<PathBuf>,
    /// A capture to check, as tcpdump -r reads one (repeatable)
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    read: Vec<PathBuf>,
    #[command(flatten)]
    pub expect: ExpectationArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Print nothing; only the exit status tells
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
    #[command(flatten)]
    pub pictures: PictureArgs,
    #[command(flatten)]
    pub color: ColorArgs,
    /// A capture cut short at its end (a writer killed mid-write): fail any claim the missing bytes could contradict, or judge the frames before the cut [default: fail, or the expectation file's `truncated`]
    #[arg(long, value_name = "WHAT",
          value_parser = clap::builder::PossibleValuesParser::new(Truncation::NAMES)
              .try_map(|s| s.parse::<Truncation>()))]
    pub truncated: Option<Truncation>,
    /// Files checked at once [default: one per core]; -j1 checks one after the other
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    pub jobs: Option<usize>,
    /// Check against an expectation file (TOML) instead of the flag options
    #[arg(long = "expect", value_name = "TOML", conflicts_with_all = FLAG_EXPECTATION)]
    pub expect_file: Option<PathBuf>,
    /// Also write one JSON object per frame (NDJSON) to this file (- for standard output); with several captures, one stream in file order
    #[arg(long, value_name = "FILE")]
    pub emit: Option<PathBuf>,
    /// How deep a directory given as FILE is walked (1: only the files directly in it) [default: all the way]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    pub max_depth: Option<usize>,
    /// Frame lines each list of the report shows (all: every one, kept in memory); a line counts the rest, which --json (up to the 50 a report keeps, or N) and --emit FILE list [default: 50]
    #[arg(long, value_name = "N|all", value_parser = parse_frames)]
    pub frames: Option<usize>,
    /// Also write a pcapng copy of the capture whose frames say, as comments, what they did to the check (in Wireshark: frame.comment contains "FAIL"); one capture
    #[arg(long, value_name = "OUT")]
    pub annotate: Option<PathBuf>,
}

impl CheckArgs {
    /// The files, positional and `-r`, in the order given (positional first).
    pub fn files(&self) -> Vec<PathBuf> {
        self.files.iter().chain(&self.read).cloned().collect()
    }
}

/// `--color`, for commands that print a verdict.
#[derive(Args)]
pub struct ColorArgs {
    /// Colour: auto (on a terminal, unless NO_COLOR is set; CLICOLOR_FORCE=1 forces it), always, never
    #[arg(long = "color", value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    when: String,
}

impl ColorArgs {
    pub fn color(&self) -> bool {
        match self.when.as_str() {
            "always" => true,
            "never" => false,
            _ => lola::report::ladder::use_color(),
        }
    }
}

/// `lola expect …`
#[derive(Subcommand)]
pub enum ExpectCommand {
    /// Print the expectation file lola check uses without flags
    ShowDefault(ShowDefaultArgs),
    /// Write an expectation file from a capture that the capture passes
    Record(RecordArgs),
}

#[derive(Args)]
pub struct ShowDefaultArgs {
    #[command(flatten)]
    pub expect: ExpectationArgs,
}

#[derive(Args)]
pub struct RecordArgs {
    /// The capture (pcap or pcapng)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Only the flows of the frames matching this predicate (display-filter syntax); each is recorded whole
    #[arg(long, value_name = "PREDICATE")]
    pub flow: Option<String>,
    /// Keep ephemeral ports (32768 and up) in the match predicates
    #[arg(long)]
    pub ephemeral_ports: bool,
}

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// The message both carry
    #[arg(long, value_name = "TEXT", default_value = SEED_MESSAGE)]
    pub message: String,
    /// Where tcp.pcap and udp.pcap go
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
    /// File format
    #[arg(long, value_name = "FORMAT", value_parser = format_values(), default_value = "pcap")]
    pub format: Format,
    /// How long each exchange may take
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// host (lo of the machine; exit 2 where not permitted), private (a lo of lola's own), auto (host, else private, else synthesize), off (synthesize); live = host
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = capture_values())]
    pub capture: CaptureMode,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Also draw both ladders into FILE, the drawing chosen by its extension (.svg, .mmd, .md, .txt) or --draw
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// What -o draws: text (ladders side by side), svg, mermaid, markdown [default: from -o's extension, else text]
    #[arg(long, value_name = "DRAWING", requires = "output")]
    pub draw: Option<DiagramFormat>,
    /// The old spelling of -o FILE --draw svg
    #[arg(long, value_name = "FILE", hide = true, conflicts_with_all = ["output", "draw"])]
    pub svg: Option<PathBuf>,
    #[command(flatten)]
    pub pictures: PictureArgs,
}

#[derive(Args)]
pub struct FlowArgs {
    /// The capture (pcap or pcapng; - for standard input)
    #[arg(
        value_name = "FILE",
        required_unless_present = "read",
        conflicts_with = "read"
    )]
    file: Option<PathBuf>,
    /// The capture, as tcpdump -r reads one
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    read: Option<PathBuf>,
    #[command(flatten)]
    pub display: DisplayArgs,
    /// Print the conversations as JSON instead of diagrams
    #[arg(long, conflicts_with_all = ["draw", "format"])]
    pub json: bool,
    /// What to draw: text (terminal ladders), svg, mermaid, markdown [default: from -o's extension (.svg, .mmd, .md), else text]
    #[arg(long, value_name = "DRAWING")]
    pub draw: Option<DiagramFormat>,
    /// The old spelling of --draw (--format is a file format everywhere else)
    #[arg(long, value_name = "DRAWING", hide = true, conflicts_with = "draw")]
    pub format: Option<DiagramFormat>,
    /// Write the diagram to this file instead of standard output
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Label data arrows with their first bytes: "text" when printable (16 bytes at most), else hex (8)
    #[arg(long)]
    pub payload: bool,
}

impl FlowArgs {
    /// The capture, given either way.
    pub fn file(&self) -> PathBuf {
        self.file
            .clone()
            .or_else(|| self.read.clone())
            .unwrap_or_default()
    }
}

#[derive(Args)]
pub struct DiffArgs {
    /// The golden capture
    #[arg(value_name = "EXPECTED")]
    pub expected: PathBuf,
    /// The capture under test
    #[arg(value_name = "ACTUAL")]
    pub actual: PathBuf,
    /// Compare every field, even those that vary between runs (ephemeral port, IPv4 id, partial checksums)
    #[arg(long)]
    pub exact: bool,
    /// Leave this field out (tshark name, e.g. udp.dstport; repeatable)
    #[arg(long, value_name = "FIELD")]
    pub ignore: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Print nothing; only the exit status tells
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
    #[command(flatten)]
    pub color: ColorArgs,
}

/// What `lola exec` judges, for its `--help`.
const EXEC_RULE: &str = "\
What exec judges (the first that applies):
  --expect FILE     that expectation file
  a claim flag      the built-in check, as lola check does (--dst-port, --count, --message, ...)
  ./lola.toml       when it exists and neither is given; the report says so (--no-config skips it)
  none of these     nothing: exec records. It prints the conversations it saw, writes the capture
                    and an expectation draft beside it (exec.toml, or --record FILE: the draft lola
                    expect record writes), prints the command that checks the draft, and exits with
                    the program's status (128+N when signal N ended it, 124 after --timeout)";

#[derive(Args)]
#[command(after_help = EXEC_RULE)]
pub struct ExecArgs {
    /// Capture file to write [default: exec.pcap, or exec.pcapng with --format pcapng]
    #[arg(short, long, visible_short_alias = 'w', value_name = "PATH")]
    output: Option<PathBuf>,
    /// File format [default: from the output's extension, else pcap]
    #[arg(long, value_name = "FORMAT", value_parser = format_values())]
    format: Option<Format>,
    /// How long the capture goes on after the program ended
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_duration)]
    pub linger: Duration,
    /// Stop the program after this long (SIGTERM to every process it started, SIGKILL 2s later)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Give the program lola's standard input (else it reads /dev/null)
    #[arg(long)]
    pub stdin: bool,
    /// Record the host's lo instead of a private one (needs CAP_NET_RAW; no isolation)
    #[arg(long)]
    pub host: bool,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Judge the capture even when the program fails or is killed (else exit 2)
    #[arg(long)]
    pub ignore_exit: bool,
    #[command(flatten)]
    pub expect: ExpectationArgs,
    /// Check the capture against an expectation file (TOML) instead of the flag options
    #[arg(long = "expect", value_name = "TOML", conflicts_with_all = FLAG_EXPECTATION)]
    pub expect_file: Option<PathBuf>,
    /// With no claim: where the expectation draft goes [default: the capture's name with .toml, e.g. exec.toml]
    #[arg(long, value_name = "FILE", conflicts_with_all = FLAG_EXPECTATION.iter().chain(&["expect_file"]))]
    pub record: Option<PathBuf>,
    /// With no claim: do not use ./lola.toml as the expectation file; record a draft
    #[arg(long, conflicts_with_all = FLAG_EXPECTATION.iter().chain(&["expect_file"]))]
    pub no_config: bool,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub pictures: PictureArgs,
    /// Print no report; only the exit status tells (the program's own output still shows)
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,
    #[command(flatten)]
    pub color: ColorArgs,
    /// The program and its arguments, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

impl ExecArgs {
    /// `-o` and `--format`, with exec's default file name.
    pub fn output(&self) -> (PathBuf, Format) {
        output_and_format(&self.output, self.format, "exec")
    }
}

#[derive(Args)]
pub struct DoctorArgs {
    /// Print the findings as JSON
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn expect_refuses_every_flag_expectation_option() {
        use clap::Args as _;
        let mut ids: Vec<String> = ExpectationArgs::augment_args(clap::Command::new("x"))
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .collect();
        let mut refused: Vec<String> = FLAG_EXPECTATION.iter().map(|s| s.to_string()).collect();
        ids.sort();
        refused.sort();
        assert_eq!(ids, refused);
    }

    #[test]
    fn port_overrides_the_port_of_to() {
        let cli = Cli::try_parse_from(["lola", "run", "--to", "[::1]:9", "--port", "0"]).unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!(args.endpoint.addr(), "[::1]:0".parse().unwrap());
    }

    #[test]
    fn output_format_follows_the_extension() {
        let cli = Cli::try_parse_from([
            "lola",
            "build",
            "--src",
            "127.0.0.1:1",
            "--dst",
            "127.0.0.1:2",
            "-o",
            "x.PCAPNG",
        ])
        .unwrap();
        let Command::Build(args) = cli.command else {
            panic!("not build")
        };
        assert_eq!(args.output.resolve(), ("x.PCAPNG".into(), Format::PcapNg));
        assert_eq!(format_of(Path::new("x.cap")), Format::Pcap);
    }
}
