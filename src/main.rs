//! The `lola` command: parses arguments, calls the library, prints, and maps
//! the outcome to an exit code (0 pass, 1 expectation not met, 2 could not run).

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use lola::capture::{Format, write_capture};
use lola::check::{self, ChecksumPolicy, Count, Expectation, SEED_MESSAGE, SEED_PORT, quote_bytes};
use lola::exchange::{Client, Event, Server};
use lola::harness::{self, CaptureMode, RunOptions};
use lola::live::{self, FlowFilter};
use lola::{Datagram, Error, Report};

mod doctor_cli;
mod exec_cli;

/// A pcap-generating test harness for loopback UDP: send "Hello Lola", write
/// the frame to a pcap, prove it is exactly one datagram and no handshake.
#[derive(Parser)]
#[command(name = "lola", version, about, long_about = None)]
#[command(after_help = "Exit status: 0 pass, 1 expectation not met, 2 could not run.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    Exec(exec_cli::ExecArgs),
    /// Say which capture modes work here, and why not
    Doctor(doctor_cli::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
struct DiffArgs {
    /// The golden capture
    #[arg(value_name = "EXPECTED")]
    expected: PathBuf,
    /// The capture under test
    #[arg(value_name = "ACTUAL")]
    actual: PathBuf,
    /// Compare every field, even those that vary between runs (ephemeral port, IPv4 id, partial checksums)
    #[arg(long)]
    exact: bool,
    /// Leave this field out (tshark name, e.g. udp.dstport; repeatable)
    #[arg(long, value_name = "FIELD")]
    ignore: Vec<String>,
    /// Print a JSON report on stdout instead of text
    #[arg(long)]
    json: bool,
    /// Also write a JUnit XML report
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

#[derive(Args)]
struct CompareArgs {
    /// Where both servers listen
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7456", value_parser = parse_endpoint)]
    to: SocketAddr,
    /// Port, overriding the one in --to (0: any free port)
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,
    /// The message both carry
    #[arg(long, value_name = "TEXT", default_value = SEED_MESSAGE)]
    message: String,
    /// Where tcp.pcap and udp.pcap go
    #[arg(long, value_name = "DIR", default_value = ".")]
    out_dir: PathBuf,
    /// File format
    #[arg(long, value_name = "pcap|pcapng", default_value = "pcap")]
    format: Format,
    /// How long each exchange may take
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    timeout: Duration,
    /// host (lo of the machine; exit 2 where not permitted), private (a lo of lola's own), auto (host, else private, else synthesize), off (synthesize); live = host
    #[arg(long, value_name = "MODE", default_value = "auto")]
    capture: CaptureMode,
    #[command(flatten)]
    display: DisplayArgs,
    /// Print a JSON report on stdout instead of text
    #[arg(long)]
    json: bool,
    /// Also write a JUnit XML report
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

#[derive(Args)]
struct FlowArgs {
    /// The capture (pcap or pcapng; - for standard input)
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    display: DisplayArgs,
    /// Print the conversations as JSON instead of diagrams
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DisplayArgs {
    /// Diagram width in columns
    #[arg(long, value_name = "N", default_value_t = 80, value_parser = clap::value_parser!(u16).range(50..=400))]
    width: u16,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
}

impl DisplayArgs {
    fn color(&self) -> bool {
        match self.color.as_str() {
            "always" => true,
            "never" => false,
            _ => lola::flow::use_color(),
        }
    }
}

#[derive(Args)]
struct RunArgs {
    /// Where the server binds and the client sends ([::1]:7456 for IPv6)
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7456", value_parser = parse_endpoint)]
    to: SocketAddr,
    /// Server port, overriding the one in --to (0: any free port)
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,
    /// The datagram's payload
    #[arg(long, value_name = "TEXT", default_value = SEED_MESSAGE)]
    message: String,
    #[command(flatten)]
    output: OutputArgs,
    /// How long the server waits for the datagram (e.g. 2s, 500ms)
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    timeout: Duration,
    /// Also record what really crossed lo: host, private (a lo of lola's own), auto (host, else private), off; live = host
    #[arg(long, value_name = "MODE", default_value = "auto")]
    capture: CaptureMode,
    /// How long the live capture goes on after the datagram was seen
    #[arg(long, value_name = "DURATION", default_value = "20ms", value_parser = parse_duration)]
    linger: Duration,
    /// The written capture must diff equal to this golden capture (see lola diff)
    #[arg(long, value_name = "GOLDEN")]
    expect_like: Option<PathBuf>,
    /// Print a JSON report on stdout instead of text
    #[arg(long)]
    json: bool,
    /// Also write a JUnit XML report
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

#[derive(Args)]
struct OutputArgs {
    /// Capture file to write ("-" for standard output) [default: hello-lola.pcap, or .pcapng with --format pcapng]
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// File format [default: from the output's extension, else pcap]
    #[arg(long, value_name = "pcap|pcapng")]
    format: Option<Format>,
}

impl OutputArgs {
    fn resolve(&self) -> (PathBuf, Format) {
        let from_ext = |p: &Path| match p.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("pcapng") => Format::PcapNg,
            _ => Format::Pcap,
        };
        match (&self.output, self.format) {
            (Some(p), Some(f)) => (p.clone(), f),
            (Some(p), None) => (p.clone(), from_ext(p)),
            (None, Some(Format::PcapNg)) => ("hello-lola.pcapng".into(), Format::PcapNg),
            (None, _) => ("hello-lola.pcap".into(), Format::Pcap),
        }
    }
}

#[derive(Args)]
struct ListenArgs {
    /// Address to bind
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7456", value_parser = parse_endpoint)]
    on: SocketAddr,
    /// Port, overriding the one in --on (0: any free port)
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,
    /// Datagrams to receive before exiting (0: until interrupted)
    #[arg(long, value_name = "N", default_value_t = 1)]
    count: u64,
    /// Give up (exit 2) when nothing arrives for this long [default: wait forever, like server.py]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Also write the frames of the received datagrams to this capture
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// File format [default: from the output's extension, else pcap]
    #[arg(long, value_name = "pcap|pcapng")]
    format: Option<Format>,
}

#[derive(Args)]
struct SendArgs {
    /// Where to send
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7456", value_parser = parse_endpoint)]
    to: SocketAddr,
    /// Address to send from [default: loopback, any free port]
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint)]
    from: Option<SocketAddr>,
    /// The payload
    #[arg(value_name = "MESSAGE", default_value = SEED_MESSAGE)]
    message: String,
    /// Record what the send put on lo: host, private (a lo of lola's own), auto (host, else private), off; live = host
    #[arg(long, value_name = "MODE", default_value = "off")]
    capture: CaptureMode,
    /// Where the captured frames go (with --capture) [default: send.pcap]
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// File format [default: from the output's extension, else pcap]
    #[arg(long, value_name = "pcap|pcapng")]
    format: Option<Format>,
    /// How long the capture goes on after the datagram was seen
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = parse_duration)]
    linger: Duration,
}

#[derive(Args)]
struct CaptureArgs {
    /// Interface to capture on (Ethernet-like: lo, eth0, ...)
    #[arg(short, long, value_name = "NAME", default_value = "lo")]
    interface: String,
    /// Keep only UDP/TCP frames to or from this port, and ICMP errors about them (repeatable)
    #[arg(long = "filter-port", value_name = "P")]
    filter_ports: Vec<u16>,
    /// Stop after this long [default: until --count frames, or Ctrl-C]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Stop after this many frames
    #[arg(short = 'c', long, value_name = "N")]
    count: Option<u64>,
    /// Capture file to write
    #[arg(short, long, value_name = "PATH")]
    output: PathBuf,
    /// File format [default: from the output's extension, else pcap]
    #[arg(long, value_name = "pcap|pcapng")]
    format: Option<Format>,
}

#[derive(Args)]
struct BuildArgs {
    /// Source of the datagram
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint)]
    src: SocketAddr,
    /// Destination of the datagram
    #[arg(long, value_name = "ADDR:PORT", value_parser = parse_endpoint)]
    dst: SocketAddr,
    #[command(flatten)]
    payload: PayloadArgs,
    /// Frame time: seconds since the epoch (1700000000.5) or RFC 3339 (2024-01-01T00:00:00Z) [default: 0]
    #[arg(long, value_name = "T", value_parser = parse_timestamp)]
    timestamp: Option<Duration>,
    #[command(flatten)]
    output: OutputArgs,
    /// Print a JSON summary on stdout
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
#[group(multiple = false)]
struct PayloadArgs {
    /// Payload as text [default: Hello Lola]
    #[arg(long, value_name = "TEXT")]
    message: Option<String>,
    /// Payload as hex bytes (e.g. 48656c6c6f)
    #[arg(long, value_name = "HEX", value_parser = parse_hex)]
    payload_hex: Option<HexBytes>,
}

impl PayloadArgs {
    fn bytes(&self) -> Option<Vec<u8>> {
        match (&self.message, &self.payload_hex) {
            (Some(m), _) => Some(m.as_bytes().to_vec()),
            (None, Some(h)) => Some(h.0.clone()),
            (None, None) => None,
        }
    }
}

#[derive(Args)]
struct CheckArgs {
    /// The capture to check (pcap or pcapng; - for standard input)
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Expected source address, with or without port
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_addr_maybe_port)]
    src: Option<(IpAddr, Option<u16>)>,
    /// Expected destination address, with or without port
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = parse_addr_maybe_port)]
    dst: Option<(IpAddr, Option<u16>)>,
    /// Expected source port
    #[arg(long, value_name = "P")]
    src_port: Option<u16>,
    /// Expected destination port [default: 7456, unless --dst has a port]
    #[arg(long, value_name = "P")]
    dst_port: Option<u16>,
    #[command(flatten)]
    payload: PayloadArgs,
    /// Accept any payload
    #[arg(long, conflicts_with_all = ["message", "payload_hex"])]
    any_payload: bool,
    /// Exactly N matching datagrams [default: 1]
    #[arg(long, value_name = "N", conflicts_with_all = ["at_least", "at_most"])]
    count: Option<u64>,
    /// At least N matching datagrams
    #[arg(long, value_name = "N", conflicts_with = "at_most")]
    at_least: Option<u64>,
    /// At most N matching datagrams
    #[arg(long, value_name = "N")]
    at_most: Option<u64>,
    /// Do not fail on TCP segments between the expected endpoints
    #[arg(long)]
    allow_tcp: bool,
    /// strict: only correct checksums pass; lenient: partial (offload) passes with a note; ignore
    #[arg(long, value_name = "POLICY", default_value = "lenient")]
    checksums: ChecksumPolicy,
    /// Print a JSON report on stdout instead of text
    #[arg(long)]
    json: bool,
    /// Print nothing; only the exit status tells
    #[arg(short, long, conflicts_with = "json")]
    quiet: bool,
    /// Also write a JUnit XML report
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd_run(args),
        Command::Listen(args) => cmd_listen(args),
        Command::Send(args) => cmd_send(args),
        Command::Build(args) => cmd_build(args),
        Command::Check(args) => cmd_check(args),
        Command::Capture(args) => cmd_capture(args),
        Command::Compare(args) => cmd_compare(args),
        Command::Flow(args) => cmd_flow(args),
        Command::Diff(args) => cmd_diff(args),
        Command::Exec(args) => exec_cli::cmd_exec(args),
        Command::Doctor(args) => doctor_cli::cmd_doctor(args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "lola", &mut text);
            out(String::from_utf8_lossy(&text));
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(io::stderr(), "lola: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Writes to stdout; a closed pipe (`lola check x | head -1`) is not an error.
fn out(text: impl std::fmt::Display) {
    let mut stdout = io::stdout().lock();
    if let Err(e) = write!(stdout, "{text}").and_then(|_| stdout.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        let _ = writeln!(io::stderr(), "lola: cannot write to standard output: {e}");
    }
}

/// A report's text with its verdict word (PASS, FAIL, SAME, DIFFERENT) in
/// colour, on a terminal and without NO_COLOR only.
fn verdict_colour(report: &impl std::fmt::Display) -> String {
    let text = report.to_string();
    if !lola::flow::use_color() {
        return text;
    }
    text.lines()
        .map(|line| {
            for (word, code) in [
                ("PASS ", "32"),
                ("SAME ", "32"),
                ("FAIL ", "31"),
                ("DIFFERENT ", "31"),
            ] {
                if let Some(rest) = line.strip_prefix(word) {
                    return format!("\x1b[1;{code}m{}\x1b[0m {rest}\n", word.trim_end());
                }
            }
            format!("{line}\n")
        })
        .collect()
}

fn verdict_code(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn cmd_run(args: RunArgs) -> Result<ExitCode, Error> {
    let to = with_port(args.to, args.port);
    let (output, format) = args.output.resolve();
    if output == Path::new("-") {
        return Err(Error::Invalid(
            "run writes the capture to a file and reads it back; give -o a file name (lola build -o - writes to stdout)"
                .into(),
        ));
    }
    let options = RunOptions {
        to,
        payload: args.message.into_bytes(),
        output,
        format,
        timeout: args.timeout,
        capture: args.capture,
        linger: args.linger,
    };
    let json = args.json;
    let outcome = harness::run(&options, |event| {
        if json {
            return;
        }
        match event {
            Event::Listening(addr) => out(format_args!("Just here on {}...\n", addr.port())),
            Event::Sending(..) => out("Sending data...\n"),
        }
    })?;
    let d = &outcome.exchange.received;
    let like = match &args.expect_like {
        Some(golden) => {
            let rules = lola::compare::DiffRules {
                ephemeral_server: to.port() == 0,
                ..Default::default()
            };
            Some(lola::diff::diff_files(golden, &outcome.output, &rules)?)
        }
        None => None,
    };
    let passed = outcome.passed() && like.as_ref().is_none_or(|l| l.same());
    if let Some(path) = &args.junit {
        let mut suites = vec![(
            format!("lola run: {}", outcome.output.display()),
            lola::junit::check_cases(&outcome.report),
        )];
        if let Some(live) = &outcome.live {
            let mut cases = lola::junit::check_cases(&live.report);
            cases.push(lola::junit::Case {
                name: "the synthesized frame differs from the observed one only where expected"
                    .into(),
                failure: match &live.comparison {
                    Some(c) if c.equivalent() => None,
                    Some(c) => Some(
                        c.unexpected()
                            .map(|f| format!("{} {} → {}", f.field, f.left, f.right))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    None => Some("the datagram was not seen on lo".into()),
                },
            });
            suites.push((format!("lola run: {}", live.output.display()), cases));
        }
        if let Some(l) = &like {
            suites.push((
                format!("lola run --expect-like {}", l.expected),
                lola::junit::diff_cases(l),
            ));
        }
        let suites: Vec<(&str, Vec<lola::junit::Case>)> = suites
            .iter()
            .map(|(n, c)| (n.as_str(), c.clone()))
            .collect();
        write_junit(path, &suites)?;
    }
    if json {
        let value = json!({
            "schema_version": 1,
            "command": "run",
            "verdict": if passed { "pass" } else { "fail" },
            "exchange": {
                "client": d.src.to_string(),
                "server": d.dst.to_string(),
                "payload": String::from_utf8_lossy(&d.payload),
                "payload_len": d.payload.len(),
                "received_at": check::format_time(d.timestamp),
                "stray_datagrams": outcome.exchange.strays.len(),
            },
            "output": {
                "path": outcome.output.display().to_string(),
                "format": outcome.written.format,
                "frames": outcome.written.frames,
                "bytes": outcome.written.bytes,
            },
            "check": outcome.report,
            "capture": match &outcome.live {
                Some(live) => json!({
                    "mode": "live",
                    "interface": "lo",
                    "place": live.place.name(),
                    "observed": {
                        "path": live.output.display().to_string(),
                        "format": live.written.format,
                        "frames": live.written.frames,
                        "bytes": live.written.bytes,
                    },
                    "check": live.report,
                    "comparison": live.comparison,
                    "equivalent": live.comparison.as_ref().is_some_and(|c| c.equivalent()),
                }),
                None => json!({ "mode": "off", "note": outcome.capture_note }),
            },
            "expect_like": like,
        });
        let text =
            serde_json::to_string_pretty(&value).map_err(|e| Error::Invalid(e.to_string()))?;
        out(format_args!("{text}\n"));
    } else {
        out(format_args!(
            "FROM: {} DATA: {}\n",
            d.src,
            quote_bytes(&d.payload)
        ));
        for stray in &outcome.exchange.strays {
            out(format_args!(
                "note: ignored a datagram from another sender {} DATA: {}\n",
                stray.src,
                quote_bytes(&stray.payload)
            ));
        }
        out(format_args!(
            "wrote {} ({}, {} frame, {} bytes)\n",
            outcome.output.display(),
            outcome.written.format,
            outcome.written.frames,
            outcome.written.bytes
        ));
        out(verdict_colour(&outcome.report));
        if let Some(note) = &outcome.capture_note {
            out(format_args!("note: {note}; --capture off silences this\n"));
        }
        if let Some(live) = &outcome.live {
            out(format_args!(
                "captured on {}: {} {} of this run's flow; wrote {} ({}, {} bytes)\n",
                live.place,
                live.written.frames,
                if live.written.frames == 1 {
                    "frame"
                } else {
                    "frames"
                },
                live.output.display(),
                live.written.format,
                live.written.bytes
            ));
            out(verdict_colour(&live.report));
            match &live.comparison {
                Some(c) => {
                    out(format_args!(
                        "synthesized vs observed: {}\n",
                        if c.equivalent() {
                            "equivalent (differences only where expected)"
                        } else {
                            "DIFFERENT"
                        }
                    ));
                    out(c);
                }
                None => out("synthesized vs observed: the datagram was not seen on lo\n"),
            }
        }
        if let Some(l) = &like {
            out(verdict_colour(l));
        }
    }
    Ok(verdict_code(passed))
}

/// Files at least this large get a progress bar (on a terminal only).
const PROGRESS_FROM: u64 = 64 * 1024 * 1024;

/// `check_file`, with a progress bar on stderr for large files when stderr is
/// a terminal; never on a pipe, in CI logs, or with --quiet.
fn check_with_progress(
    path: &Path,
    expectation: &Expectation,
    quiet: bool,
) -> Result<Report, Error> {
    use std::io::IsTerminal;
    let size = std::fs::metadata(path)
        .map(|m| if m.is_file() { m.len() } else { 0 })
        .unwrap_or(0);
    if quiet || size < PROGRESS_FROM || !io::stderr().is_terminal() {
        return lola::check_file(path, expectation);
    }
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("checking {}", path.display()));
    let reader = lola::capture::CaptureReader::open(path)?;
    let result = check::check_reader_with_progress(
        reader,
        &path.display().to_string(),
        expectation,
        |bytes| bar.set_position(bytes),
    );
    bar.finish_and_clear();
    result
}

fn write_junit(path: &Path, suites: &[(&str, Vec<lola::junit::Case>)]) -> Result<(), Error> {
    lola::capture::write_file_atomically(path, lola::junit::to_xml(suites).as_bytes())
}

fn cmd_diff(args: DiffArgs) -> Result<ExitCode, Error> {
    let rules = lola::compare::DiffRules {
        exact: args.exact,
        ignore: args.ignore.clone(),
        ephemeral_server: false,
    };
    let report = lola::diff::diff_files(&args.expected, &args.actual, &rules)?;
    if let Some(path) = &args.junit {
        let suite = format!(
            "lola diff {} {}",
            args.expected.display(),
            args.actual.display()
        );
        write_junit(path, &[(&suite, lola::junit::diff_cases(&report))])?;
    }
    if args.json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| Error::Invalid(e.to_string()))?;
        out(format_args!("{text}\n"));
    } else {
        out(verdict_colour(&report));
    }
    Ok(verdict_code(report.same()))
}

fn cmd_listen(args: ListenArgs) -> Result<ExitCode, Error> {
    let on = with_port(args.on, args.port);
    if args.output.is_some() && args.count == 0 {
        return Err(Error::Invalid(
            "listen -o writes the capture once all datagrams are in; give --count N (N > 0)".into(),
        ));
    }
    let server = Server::bind(on)?;
    out(format_args!(
        "Just here on {}...\n",
        server.local_addr().port()
    ));
    let mut frames = Vec::new();
    let mut received = 0u64;
    while args.count == 0 || received < args.count {
        let (d, _) = server.receive(None, args.timeout)?;
        received += 1;
        out(format_args!(
            "FROM: {} DATA: {}\n",
            d.src,
            quote_bytes(&d.payload)
        ));
        if args.output.is_some() {
            frames.push(harness::synthesize(&d)?);
        }
    }
    if let Some(path) = &args.output {
        let format = args.format.unwrap_or_else(|| {
            OutputArgs {
                output: Some(path.clone()),
                format: None,
            }
            .resolve()
            .1
        });
        let written = write_capture(path, format, &frames)?;
        out(format_args!(
            "wrote {} ({}, {} {}, {} bytes)\n",
            path.display(),
            written.format,
            written.frames,
            if written.frames == 1 {
                "frame"
            } else {
                "frames"
            },
            written.bytes
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_send(args: SendArgs) -> Result<ExitCode, Error> {
    if args.to.ip().is_unspecified() {
        return Err(Error::Invalid(format!(
            "--to {}: the destination must be a concrete address such as 127.0.0.1 or ::1",
            args.to
        )));
    }
    if args.output.is_some() && args.capture == CaptureMode::Off {
        return Err(Error::Invalid(
            "-o needs --capture host, private or auto".into(),
        ));
    }
    // A private lo is a namespace of its own: enter it before binding.
    harness::prepare_capture(args.capture)?;
    let client = Client::bind_for(args.to, args.from)?;
    let (mut capture, note) =
        harness::open_capture(args.capture, FlowFilter::pair(client.local_addr(), args.to))?;
    out("Sending data...\n");
    let sent_at = std::time::Instant::now();
    client.send(args.to, args.message.as_bytes())?;
    if let Some(note) = note {
        out(format_args!("note: {note}\n"));
    }
    let Some(capture) = capture.as_mut() else {
        return Ok(ExitCode::SUCCESS);
    };
    let datagram = Datagram::new(client.local_addr(), args.to, args.message.into_bytes());
    let frames = live::collect_until(
        capture,
        sent_at + Duration::from_secs(2),
        args.linger,
        |frames| {
            frames
                .iter()
                .any(|f| harness::is_datagram(&f.data, &datagram))
        },
    )
    .map_err(|e| {
        Error::Invalid(format!(
            "live capture on lo failed: {}",
            lola::error::describe_io(&e)
        ))
    })?;
    let path = args.output.unwrap_or_else(|| PathBuf::from("send.pcap"));
    let format = args.format.unwrap_or_else(|| format_of(&path));
    let written = harness::write_observed(&path, format, &frames)?;
    out(format_args!(
        "captured on {}: {} {}; wrote {} ({}, {} bytes)\n",
        lola::sandbox::Place::current(),
        written.frames,
        if written.frames == 1 {
            "frame"
        } else {
            "frames"
        },
        path.display(),
        written.format,
        written.bytes
    ));
    for (i, f) in frames.iter().enumerate() {
        let what = describe_live_frame(&f.data, &datagram);
        out(format_args!("  frame {}  {}\n", i + 1, what));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line for a frame `send` captured: the datagram, or what answered it.
fn describe_live_frame(frame: &[u8], datagram: &Datagram) -> String {
    use lola::decode::{Transport, decode};
    if harness::is_datagram(frame, datagram) {
        return format!(
            "the datagram {} → {} UDP {} Len={}",
            datagram.src,
            datagram.dst,
            frame.len(),
            datagram.payload.len()
        );
    }
    let p = decode(1, frame, frame.len());
    match (&p.transport, &p.ip) {
        (Transport::Icmp(i), Some(ip)) if i.port_unreachable => format!(
            "ICMP port unreachable from {}: nobody listens on {}, the kernel answered",
            ip.src, datagram.dst
        ),
        (Transport::Icmp(i), Some(ip)) => {
            format!("ICMP type {} code {} from {}", i.icmp_type, i.code, ip.src)
        }
        (Transport::Udp(u), Some(ip)) => format!(
            "a reply datagram from {} Len={}",
            std::net::SocketAddr::new(ip.src, u.src_port),
            u.payload.len()
        ),
        (Transport::Tcp(t), _) => format!("TCP [{}]", t.flags),
        _ => format!("{} bytes", frame.len()),
    }
}

fn format_of(path: &Path) -> Format {
    OutputArgs {
        output: Some(path.to_path_buf()),
        format: None,
    }
    .resolve()
    .1
}

fn cmd_capture(args: CaptureArgs) -> Result<ExitCode, Error> {
    let format = args.format.unwrap_or_else(|| format_of(&args.output));
    let ethernet_like = std::fs::read_to_string(format!("/sys/class/net/{}/type", args.interface))
        .map(|t| matches!(t.trim(), "1" | "772"))
        .unwrap_or(true);
    if !ethernet_like {
        return Err(Error::Invalid(format!(
            "{}: only Ethernet-like interfaces (lo, ethN) are supported",
            args.interface
        )));
    }
    let mut capture = live::Capture::open(
        &args.interface,
        FlowFilter::ports(args.filter_ports.clone()),
    )
    .map_err(|e| Error::Invalid(format!("cannot capture on {}: {e}", args.interface)))?;
    let stop = signals::install();
    let deadline = args.duration.map(|d| std::time::Instant::now() + d);
    let _ = writeln!(
        io::stderr(),
        "lola: capturing on {}{}, Ctrl-C to stop",
        args.interface,
        if args.filter_ports.is_empty() {
            String::new()
        } else {
            format!(" (ports {:?})", args.filter_ports)
        }
    );
    let mut frames = Vec::new();
    while !stop.load(std::sync::atomic::Ordering::Relaxed)
        && args.count.is_none_or(|n| (frames.len() as u64) < n)
    {
        let wait = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                left.min(Duration::from_millis(200))
            }
            None => Duration::from_millis(200),
        };
        match capture.next(wait) {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Invalid(format!(
                    "capture on {} failed: {}",
                    args.interface,
                    lola::error::describe_io(&e)
                )));
            }
        }
    }
    let frames: Vec<_> = frames
        .iter()
        .map(|f| lola::capture::CaptureFrame {
            timestamp: f.timestamp,
            data: std::borrow::Cow::Borrowed(&f.data[..]),
            comment: Some(harness::captured_comment(&args.interface)),
        })
        .collect();
    let written = write_capture(&args.output, format, &frames)?;
    out(format_args!(
        "{} {} captured; wrote {} ({}, {} bytes)\n",
        written.frames,
        if written.frames == 1 {
            "frame"
        } else {
            "frames"
        },
        args.output.display(),
        written.format,
        written.bytes
    ));
    Ok(ExitCode::SUCCESS)
}

fn cmd_compare(args: CompareArgs) -> Result<ExitCode, Error> {
    let to = with_port(args.to, args.port);
    let options = harness::CompareOptions {
        to,
        payload: args.message.clone().into_bytes(),
        out_dir: args.out_dir.clone(),
        format: args.format,
        timeout: args.timeout,
        capture: args.capture,
        ..Default::default()
    };
    let outcome = harness::compare(&options)?;
    // The negative control: the checker must fail TCP and pass UDP.
    let port = outcome
        .udp
        .flows
        .conversations
        .first()
        .map(|c| c.right.port())
        .unwrap_or(to.port());
    let tcp_port = outcome
        .tcp
        .flows
        .conversations
        .first()
        .map(|c| c.right.port())
        .unwrap_or(to.port());
    let expect = |p: u16| {
        Expectation::seed()
            .dst_port(p)
            .payload(args.message.as_bytes())
    };
    let tcp_report = lola::check_file(&outcome.tcp.path, &expect(tcp_port))?;
    let udp_report = lola::check_file(&outcome.udp.path, &expect(port))?;
    let demonstrated = !tcp_report.passed() && tcp_report.tcp_count > 0 && udp_report.passed();
    if let Some(path) = &args.junit {
        let cases = vec![
            lola::junit::Case {
                name: format!(
                    "lola check {} finds the TCP handshake",
                    outcome.tcp.path.display()
                ),
                failure: (tcp_report.tcp_count == 0 || tcp_report.passed())
                    .then(|| format!("the checker did not flag TCP: {}", tcp_report.verdict)),
            },
            lola::junit::Case {
                name: format!("lola check {} passes", outcome.udp.path.display()),
                failure: (!udp_report.passed()).then(|| udp_report.failures.join("; ")),
            },
        ];
        write_junit(path, &[("lola compare", cases)])?;
    }
    let conv = |side: &harness::Side| side.flows.conversations.first().cloned();
    let (tcp, udp) = (conv(&outcome.tcp), conv(&outcome.udp));
    if args.json {
        let value = json!({
            "schema_version": 1,
            "command": "compare",
            "verdict": if demonstrated { "pass" } else { "fail" },
            "capture_note": outcome.capture_note,
            "tcp": { "path": outcome.tcp.path.display().to_string(), "live": outcome.tcp.live, "conversation": tcp, "check": tcp_report },
            "udp": { "path": outcome.udp.path.display().to_string(), "live": outcome.udp.live, "conversation": udp, "check": udp_report },
        });
        let text =
            serde_json::to_string_pretty(&value).map_err(|e| Error::Invalid(e.to_string()))?;
        out(format_args!("{text}\n"));
        return Ok(verdict_code(demonstrated));
    }
    let (width, color) = (usize::from(args.display.width), args.display.color());
    let how = |side: &harness::Side| {
        if side.live {
            format!("captured live on {}", lola::sandbox::Place::current())
        } else {
            "synthesized (no live capture)".to_string()
        }
    };
    let quoted = quote_bytes(args.message.as_bytes());
    for (name, what, side, c) in [
        ("TCP", "one connection carrying", &outcome.tcp, &tcp),
        ("UDP", "one datagram carrying", &outcome.udp, &udp),
    ] {
        out(format_args!(
            "{name}: {what} {quoted}, {} → {}\n",
            how(side),
            side.path.display()
        ));
        match c {
            Some(c) => out(lola::flow::ladder(c, width, color)),
            None => out("  (no frames)\n"),
        }
        out("\n");
    }
    if let Some(note) = &outcome.capture_note {
        out(format_args!("note: {note}\n\n"));
    }
    out(lola::flow::side_by_side(&[
        ("TCP", tcp.as_ref()),
        ("UDP", udp.as_ref()),
    ]));
    out("\n");
    let verdict = |r: &Report| {
        if r.passed() {
            "PASS".to_string()
        } else {
            format!("FAIL ({})", r.failures.join("; "))
        }
    };
    out(format_args!(
        "lola check {}: {}\n",
        outcome.tcp.path.display(),
        verdict(&tcp_report)
    ));
    out(format_args!(
        "lola check {}: {}\n",
        outcome.udp.path.display(),
        verdict(&udp_report)
    ));
    Ok(verdict_code(demonstrated))
}

fn cmd_flow(args: FlowArgs) -> Result<ExitCode, Error> {
    let name = args.file.display().to_string();
    let flows = if args.file == Path::new("-") {
        lola::flow::flows(
            lola::capture::CaptureReader::new(io::stdin().lock(), "-")?,
            "-",
        )?
    } else {
        lola::flow::flows(lola::capture::CaptureReader::open(&args.file)?, &name)?
    };
    if args.json {
        let text =
            serde_json::to_string_pretty(&flows).map_err(|e| Error::Invalid(e.to_string()))?;
        out(format_args!("{text}\n"));
        return Ok(ExitCode::SUCCESS);
    }
    let (width, color) = (usize::from(args.display.width), args.display.color());
    if flows.conversations.is_empty() {
        out(format_args!("{name}: no UDP or TCP conversation\n"));
    }
    for c in &flows.conversations {
        out(format_args!("{}\n", lola::flow::summary_line(c)));
        out(lola::flow::ladder(c, width, color));
        out("\n");
    }
    if flows.more_conversations > 0 {
        out(format_args!(
            "... and {} more conversations\n",
            flows.more_conversations
        ));
    }
    if flows.other_frames > 0 {
        out(format_args!(
            "{} other frames (not UDP or TCP) not drawn\n",
            flows.other_frames
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C and SIGTERM end a capture cleanly: the frames so far are written.
mod signals {
    use std::sync::atomic::{AtomicBool, Ordering};

    static STOP: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_signal(_: libc::c_int) {
        STOP.store(true, Ordering::Relaxed);
    }

    pub fn install() -> &'static AtomicBool {
        #[cfg(unix)]
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
            libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        }
        &STOP
    }
}

fn cmd_build(args: BuildArgs) -> Result<ExitCode, Error> {
    let payload = args
        .payload
        .bytes()
        .unwrap_or_else(|| SEED_MESSAGE.as_bytes().to_vec());
    let datagram =
        Datagram::new(args.src, args.dst, payload).at(args.timestamp.unwrap_or(Duration::ZERO));
    let (output, format) = args.output.resolve();
    let frame = lola::capture::CaptureFrame {
        timestamp: datagram.timestamp,
        data: std::borrow::Cow::Owned(lola::build_frame(&datagram)?),
        comment: Some(format!(
            "built by lola from {} → {} ({} bytes of payload)",
            datagram.src,
            datagram.dst,
            datagram.payload.len()
        )),
    };
    let written = write_capture(&output, format, &[frame])?;
    if output == Path::new("-") {
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        let value = json!({
            "schema_version": 1,
            "command": "build",
            "output": { "path": output.display().to_string(), "format": written.format, "frames": written.frames, "bytes": written.bytes },
            "frame": { "src": datagram.src.to_string(), "dst": datagram.dst.to_string(), "length": datagram.frame_len(), "timestamp": check::format_time(datagram.timestamp) },
        });
        out(format_args!("{value:#}\n"));
    } else {
        out(format_args!(
            "wrote {} ({}, 1 frame, {} bytes): {} → {} UDP {} Len={}\n",
            output.display(),
            written.format,
            written.bytes,
            datagram.src,
            datagram.dst,
            datagram.frame_len(),
            datagram.payload.len()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_check(args: CheckArgs) -> Result<ExitCode, Error> {
    let mut e = Expectation::seed()
        .checksums(args.checksums)
        .allow_tcp(args.allow_tcp);
    if let Some((addr, port)) = args.src {
        e = e.src(addr, port);
    }
    if let Some((addr, port)) = args.dst {
        e = e.dst(addr, port);
    }
    if let Some(p) = args.src_port {
        e = e.src_port(p);
    }
    if let Some(p) = args.dst_port {
        e = e.dst_port(p);
    }
    if let Some(bytes) = args.payload.bytes() {
        e = e.payload(bytes);
    }
    if args.any_payload {
        e = e.any_payload();
    }
    e = e.count(match (args.count, args.at_least, args.at_most) {
        (Some(n), _, _) => Count::Exactly(n),
        (_, Some(n), _) => Count::AtLeast(n),
        (_, _, Some(n)) => Count::AtMost(n),
        _ => Count::Exactly(1),
    });
    let report = check_with_progress(&args.file, &e, args.quiet)?;
    if let Some(path) = &args.junit {
        let suite = format!("lola check {}", args.file.display());
        write_junit(path, &[(&suite, lola::junit::check_cases(&report))])?;
    }
    if args.json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| Error::Invalid(e.to_string()))?;
        out(format_args!("{text}\n"));
    } else if !args.quiet {
        out(verdict_colour(&report));
    }
    Ok(verdict_code(report.passed()))
}

/// `addr` with its port replaced by `--port`, when given.
fn with_port(mut addr: SocketAddr, port: Option<u16>) -> SocketAddr {
    if let Some(p) = port {
        addr.set_port(p);
    }
    addr
}

// ---- argument parsers -------------------------------------------------------

/// `127.0.0.1:7456`, `[::1]:7456`, `localhost:7456`, or an address alone
/// (port 7456).
fn parse_endpoint(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = s.trim_matches(|c| c == '[' || c == ']').parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, SEED_PORT));
    }
    if let Some(port) = s.strip_prefix("localhost:") {
        let port: u16 = port.parse().map_err(|_| format!("bad port in {s:?}"))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if s == "localhost" {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), SEED_PORT));
    }
    match s.to_socket_addrs() {
        Ok(mut addrs) => addrs
            .next()
            .ok_or_else(|| format!("{s:?} resolves to no address")),
        Err(_) => Err(format!(
            "{s:?} is not an address:port such as 127.0.0.1:7456 or [::1]:7456"
        )),
    }
}

fn parse_addr_maybe_port(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok((addr.ip(), Some(addr.port())));
    }
    s.trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .map(|ip| (ip, None))
        .map_err(|_| {
            format!("{s:?} is not an address, with or without a port (127.0.0.1, [::1]:7456)")
        })
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.parse::<f64>() {
        if (0.0..1e9).contains(&secs) {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("{s:?} is not a usable duration"));
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration such as 2s or 500ms: {e}"))
}

fn parse_timestamp(s: &str) -> Result<Duration, String> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 9
    {
        let secs: u64 = secs
            .parse()
            .map_err(|_| format!("{s:?}: seconds out of range"))?;
        let nanos: u32 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<9}")
                .parse()
                .map_err(|_| format!("{s:?}: bad fraction"))?
        };
        return Ok(Duration::new(secs, nanos));
    }
    humantime::parse_rfc3339_weak(s)
        .map_err(|_| format!("{s:?} is not seconds since the epoch (1700000000.5) or RFC 3339 (2024-01-01T00:00:00Z)"))?
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("{s:?} is before 1970"))
}

/// Bytes given in hex. A newtype, because clap reads `Vec<u8>` as many values.
#[derive(Clone, Debug)]
struct HexBytes(Vec<u8>);

fn parse_hex(s: &str) -> Result<HexBytes, String> {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let clean = clean.strip_prefix("0x").unwrap_or(&clean);
    if !clean.len().is_multiple_of(2) {
        return Err(format!("{s:?}: hex needs an even number of digits"));
    }
    (0..clean.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&clean[i..i + 2], 16)
                .map_err(|_| format!("{s:?}: {:?} is not a hex byte", &clean[i..i + 2]))
        })
        .collect::<Result<Vec<u8>, String>>()
        .map(HexBytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_like_the_seed_writes_them() {
        assert_eq!(parse_endpoint("127.0.0.1:7456").unwrap().port(), 7456);
        assert!(parse_endpoint("[::1]:7456").unwrap().is_ipv6());
        assert_eq!(
            parse_endpoint("localhost:9").unwrap(),
            "127.0.0.1:9".parse().unwrap()
        );
        assert_eq!(
            parse_endpoint("::1").unwrap(),
            "[::1]:7456".parse().unwrap()
        );
        assert!(parse_endpoint("nonsense:port").is_err());
    }

    #[test]
    fn timestamps_and_hex_parse() {
        assert_eq!(
            parse_timestamp("1700000000.5").unwrap(),
            Duration::new(1_700_000_000, 500_000_000)
        );
        assert_eq!(
            parse_timestamp("2024-01-01T00:00:00Z").unwrap().as_secs(),
            1_704_067_200
        );
        assert_eq!(parse_hex("48 65:6c").unwrap().0, b"Hel");
        assert!(parse_hex("4").is_err());
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
