//! Hints that know lola's users: the spellings tcpdump, tshark and nc
//! taught their hands (`-c 3`, `-Y 'udp'`, `-nn`, `--port` on `check`),
//! each mapped to lola's answer for the command at hand. Looked up before
//! clap's generic "a similar argument exists", which points the wrong way
//! for these (`--port` → `--report`).
//!
//! A hint is a line of words and, where a command line fixes the mistake,
//! that command line (`try: lola check x.pcap --dst-port 7456`): the
//! original arguments with the wrong spelling replaced by lola's.

use std::ffi::OsString;

/// What to say about a mistake, and the command line that fixes it.
#[derive(Debug, PartialEq, Eq)]
pub struct Hint {
    /// The words: `check has no --port; use --dst-port 7456 (the server's port)`.
    pub words: String,
    /// The whole corrected command line, when there is one.
    pub fixed: Option<Vec<String>>,
}

/// What an answer does to the wrong spelling (and its value).
enum Fix {
    /// Replace the flag (and its value) with these words; `{}` is the value.
    Use(&'static [&'static str]),
    /// Leave the flag (and its value) out.
    Drop,
    /// Another command line altogether; `{}` is the value, `{file}` the
    /// first capture named.
    Run(&'static [&'static str]),
    /// Words only: no command line does it.
    Say,
}

/// One answer: the words after `use`/`lola …`, the fix, and whether the
/// wrong spelling takes a value (`-c 3`) or stands alone (`-nn`).
struct Answer {
    why: &'static str,
    fix: Fix,
    takes_value: bool,
}

const fn use_(why: &'static str, with: &'static [&'static str], takes_value: bool) -> Answer {
    Answer {
        why,
        fix: Fix::Use(with),
        takes_value,
    }
}

const fn drop(why: &'static str, takes_value: bool) -> Answer {
    Answer {
        why,
        fix: Fix::Drop,
        takes_value,
    }
}

const fn run(why: &'static str, line: &'static [&'static str], takes_value: bool) -> Answer {
    Answer {
        why,
        fix: Fix::Run(line),
        takes_value,
    }
}

const fn say(why: &'static str, takes_value: bool) -> Answer {
    Answer {
        why,
        fix: Fix::Say,
        takes_value,
    }
}

/// Commands that judge a capture with the expectation flags.
fn judges(command: &str) -> bool {
    matches!(command, "check" | "exec" | "show-default")
}

impl super::args::Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        use super::args::{Command, ExpectCommand};
        match self {
            Command::Run(_) => "run",
            Command::Listen(_) => "listen",
            Command::Send(_) => "send",
            Command::Build(_) => "build",
            Command::Check(_) => "check",
            Command::Capture(_) => "capture",
            Command::Compare(_) => "compare",
            Command::Flow(_) => "flow",
            Command::Diff(_) => "diff",
            Command::Exec(_) => "exec",
            Command::Doctor(_) => "doctor",
            Command::Man => "man",
            Command::Expect(ExpectCommand::ShowDefault(_)) => "show-default",
            Command::Expect(ExpectCommand::Record(_)) => "record",
            Command::Completions { .. } => "completions",
        }
    }
}

/// lola's answer to `flag` (as typed, without `=value`) in `command`.
fn answer(command: &str, flag: &str, value: Option<&str>) -> Option<Answer> {
    let value_is_hex = value.is_some_and(|v| v.starts_with("0x"));
    Some(match flag {
        "--port" | "--dport" | "--dst-port" | "--destination-port" | "-p" | "--dstport"
            if judges(command) =>
        {
            use_(
                "--dst-port {} (the server's port)",
                &["--dst-port", "{}"],
                true,
            )
        }
        "--sport" | "--source-port" | "--srcport" | "--src-port" if judges(command) => use_(
            "--src-port {} (the client's port)",
            &["--src-port", "{}"],
            true,
        ),
        "--dport" | "--dst-port" | "--dstport" | "-p"
            if matches!(command, "run" | "listen" | "compare") =>
        {
            use_("--port {} (the server's port)", &["--port", "{}"], true)
        }
        "--port" | "--dport" | "--dst-port" if command == "send" => use_(
            "--to 127.0.0.1:{} (where the datagram goes)",
            &["--to", "127.0.0.1:{}"],
            true,
        ),
        "--sport" | "--src-port" | "-p" if command == "send" => use_(
            "--from 127.0.0.1:{} (the client's address and port)",
            &["--from", "127.0.0.1:{}"],
            true,
        ),
        "--port" | "--dport" | "--sport" | "--dst-port" | "--src-port" if command == "capture" => {
            use_(
                "--filter-port {} (frames to or from that port)",
                &["--filter-port", "{}"],
                true,
            )
        }
        "--port" | "--dport" | "--sport" | "--dst-port" | "--src-port"
            if matches!(command, "flow" | "diff") =>
        {
            say(
                "it reads every conversation in the capture; lola check --dst-port P judges one port",
                true,
            )
        }
        "--sport" | "--src-port" if matches!(command, "run" | "compare") => say(
            "the client sends from a free port of the kernel's choosing; lola send --from ADDR:PORT picks one",
            true,
        ),
        "--to" | "--dst" if command == "check" || command == "exec" => use_(
            "--dst {} (the server's address; --dst-port for its port alone)",
            &["--dst", "{}"],
            true,
        ),
        "--from" if judges(command) => {
            use_("--src {} (the client's address)", &["--src", "{}"], true)
        }
        "-c" | "--count" | "--packet-count" if judges(command) && value != Some("-1") => use_(
            "--exactly {} (that many matching datagrams; --at-least N or --at-most N for bounds)",
            &["--exactly", "{}"],
            true,
        ),
        "-c" if command == "listen" => use_(
            "--datagrams {} (datagrams to receive before exiting)",
            &["--datagrams", "{}"],
            true,
        ),
        "-c" | "--count" if matches!(command, "run" | "send" | "compare") => {
            drop("it sends one datagram; lola send again for another", true)
        }
        "-c" | "--count" if matches!(command, "flow" | "diff") => {
            drop("it reads the whole capture", true)
        }
        "-Y" | "-R" | "--display-filter" | "--filter" | "-2" if judges(command) => run(
            "an expectation file holds display filters (match = '{}'): lola expect record {file} --flow '{}' > e.toml, then lola check --expect e.toml",
            &["lola", "expect", "record", "{file}", "--flow", "{}"],
            true,
        ),
        "-Y" | "-R" | "--display-filter" | "--filter" if command == "flow" => run(
            "flow draws every conversation; lola expect record {file} --flow '{}' lists the frames a display filter keeps",
            &["lola", "expect", "record", "{file}", "--flow", "{}"],
            true,
        ),
        "-Y" | "-R" | "-f" | "--display-filter" | "--filter" if command == "capture" => say(
            "lola capture keeps frames by port: --filter-port P; judge the rest with lola check --expect FILE",
            true,
        ),
        "-f" if judges(command) || command == "flow" => run(
            "capture filters apply when recording: lola capture -i lo --filter-port P -w FILE",
            &[
                "lola",
                "capture",
                "-i",
                "lo",
                "--filter-port",
                "7456",
                "-w",
                "capture.pcap",
            ],
            true,
        ),
        "-n" | "-nn" | "-N" | "--no-resolve" => {
            drop("lola never resolves names or ports, so leave -n out", false)
        }
        "-v" | "-vv" | "-vvv" | "-V" | "--verbose" | "-x" | "-X" | "-A" | "-e"
            if command == "check" =>
        {
            use_(
                "--emit - (one JSON object per frame, every field) or --json",
                &["--emit", "-"],
                false,
            )
        }
        "-v" | "-vv" | "-vvv" | "-V" | "--verbose" => {
            drop("lola prints every finding already; leave -v out", false)
        }
        "-T" if command == "check" => use_(
            "--json (the report) or --emit - (one JSON object per frame)",
            &["--json"],
            true,
        ),
        "-i" | "--interface" if command == "exec" => say(
            "exec records a lo of its own; --host records the machine's lo",
            true,
        ),
        "-i" | "--interface" if matches!(command, "run" | "send" | "compare") => use_(
            "--capture host (the machine's lo) or --capture private (a lo of lola's own)",
            &["--capture", "host"],
            true,
        ),
        "-i" | "--interface" => run(
            "it reads a capture file; record one with lola capture -i {} -w FILE",
            &["lola", "capture", "-i", "{}", "-w", "capture.pcap"],
            true,
        ),
        "-r" | "--read" if command == "diff" => use_(
            "diff takes two files: lola diff EXPECTED ACTUAL",
            &["{}"],
            true,
        ),
        "-w" | "--write" | "-o" | "--output" if command == "check" => use_(
            "--emit {} (its frames as NDJSON), --junit FILE (JUnit XML) or --report FILE (HTML)",
            &["--emit", "{}"],
            true,
        ),
        "-w" | "--write" if command == "flow" => {
            use_("-o {} (the drawing's file)", &["-o", "{}"], true)
        }
        "-w" | "--write" if command == "compare" => use_(
            "--out-dir {} (where tcp.pcap and udp.pcap go)",
            &["--out-dir", "{}"],
            true,
        ),
        "-w" | "-o" | "--output" | "--write" if command == "diff" => use_(
            "--junit {} (a JUnit XML report) or --json",
            &["--junit", "{}"],
            true,
        ),
        "--format" if value == Some("json") => use_("--json", &["--json"], true),
        "--svg" if command == "flow" => use_(
            "-o {} (the extension chooses the drawing; or --draw svg)",
            &["-o", "{}"],
            true,
        ),
        "--html" => use_("--report {} (one HTML file)", &["--report", "{}"], true),
        "--xml" | "--junitxml" | "--junit-xml" => {
            use_("--junit {} (JUnit XML)", &["--junit", "{}"], true)
        }
        "--no-color" | "--no-colour" | "--nocolor" => {
            use_("--color never", &["--color", "never"], false)
        }
        "--colour" => use_("--color {}", &["--color", "{}"], true),
        "--payload" | "--data" | "--msg" | "--text" if value_is_hex => use_(
            "--payload-hex {} (bytes in hex)",
            &["--payload-hex", "{}"],
            true,
        ),
        "--payload" | "--data" | "--msg" | "--text" => {
            use_("--message {}", &["--message", "{}"], true)
        }
        "--min" | "--atleast" | "--min-count" => use_("--at-least {}", &["--at-least", "{}"], true),
        "--max" | "--atmost" | "--max-count" => use_("--at-most {}", &["--at-most", "{}"], true),
        "--tcp" | "--allow-tcp-handshake" if judges(command) => {
            use_("--allow-tcp", &["--allow-tcp"], false)
        }
        "-u" | "--udp" => drop("lola speaks UDP only, so leave -u out", false),
        "-l" | "--listen" if command == "send" || command == "run" => run(
            "the server is lola listen: lola listen --port 7456",
            &["lola", "listen", "--port", "7456"],
            false,
        ),
        "-6" | "--ipv6" if matches!(command, "run" | "send" | "compare") => use_(
            "--to '[::1]:7456' (IPv6 is in the address)",
            &["--to", "[::1]:7456"],
            false,
        ),
        "-4" | "--ipv4" => drop("IPv4 is the default; the address says which", false),
        "--host" if command == "run" || command == "send" => use_(
            "--capture host (record the machine's lo)",
            &["--capture", "host"],
            false,
        ),
        "--private" if matches!(command, "run" | "send" | "compare") => use_(
            "--capture private (a lo of lola's own)",
            &["--capture", "private"],
            false,
        ),
        "-s" | "--snaplen" => drop("lola keeps whole frames, so leave -s out", true),
        "-p" | "--no-promiscuous-mode" if command == "capture" => {
            drop("lola never sets promiscuous mode, so leave -p out", false)
        }
        _ => return None,
    })
}

/// The hint for a parse error, or `None` to let clap's message stand.
/// `args` are the arguments as given, without the program name.
pub fn hint(args: &[OsString], error: &clap::Error) -> Option<Hint> {
    use clap::error::{ContextKind, ContextValue};
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let command = command_of(&args)?;
    let invalid = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.split([' ', '=']).next().unwrap_or(s).to_string(),
        _ => String::new(),
    };
    // `--count -1`: clap reports `-1` as an unknown flag.
    if let Some(h) = negative_count(&command, &args) {
        return Some(h);
    }
    // `--format json` where --format is the file format: the value is what
    // is wrong. Other flags lola has keep clap's own words.
    let format_json = invalid == "--format"
        && args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json");
    if format_json && error.kind() != clap::error::ErrorKind::UnknownArgument {
        let at = args
            .windows(2)
            .position(|w| w[0] == "--format" && w[1] == "json")?;
        let mut line = vec!["lola".to_string()];
        line.extend_from_slice(&args[..at]);
        line.push("--json".into());
        line.extend_from_slice(&args[at + 2..]);
        return Some(Hint {
            words:
                "--format is the capture's file format (pcap, pcapng); for a JSON report use --json"
                    .into(),
            fixed: Some(line),
        });
    }
    if error.kind() != clap::error::ErrorKind::UnknownArgument {
        return None;
    }
    // The token clap reports, as typed: `-nn` is reported as `-n`.
    let at = args.iter().position(|a| {
        let flag = a.split('=').next().unwrap_or(a);
        flag == invalid
            || (!invalid.starts_with("--")
                && invalid.len() == 2
                && a.starts_with(&invalid)
                && !a.starts_with("--"))
    })?;
    let token = args[at].clone();
    let (flag, inline) = match token.split_once('=') {
        Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
        _ => (token.clone(), None),
    };
    let next = args
        .get(at + 1)
        .filter(|v| !v.starts_with('-') || is_number(v));
    // `-c3`: a short flag with its value attached (but `-nn` is a spelling).
    let short_attached = !flag.starts_with("--")
        && flag.len() > 2
        && answer(&command, &flag, None).is_none()
        && !is_number(&flag);
    let (a, value, used) = if short_attached {
        let v = flag[2..].to_string();
        (answer(&command, &flag[..2], Some(&v))?, Some(v), 1)
    } else {
        let value = inline.as_deref().or(next.map(String::as_str));
        let a = answer(&command, &flag, value)?;
        match (a.takes_value, inline, next) {
            (false, _, _) => (a, None, 1),
            (true, Some(v), _) => (a, Some(v), 1),
            (true, None, Some(v)) => (a, Some(v.clone()), 2),
            (true, None, None) => (a, None, 1),
        }
    };
    let v = value.clone().unwrap_or_else(|| "N".into());
    let file = first_capture(&args, at).unwrap_or_else(|| "FILE".into());
    let fill = |s: &str| s.replace("{file}", &file).replace("{}", &v);
    let shown = if short_attached { &flag[..2] } else { &flag };
    let mut words = format!("{command} has no {shown}; ");
    let why = fill(a.why);
    let fixed = match a.fix {
        Fix::Use(with) => {
            words += &format!("use {why}");
            (value.is_some() || !a.takes_value || !with.iter().any(|w| w.contains("{}"))).then(
                || {
                    let mut line = vec!["lola".to_string()];
                    line.extend_from_slice(&args[..at]);
                    line.extend(with.iter().map(|w| fill(w)));
                    line.extend_from_slice(&args[at + used..]);
                    line
                },
            )
        }
        Fix::Drop => {
            words += &why;
            let mut line = vec!["lola".to_string()];
            line.extend_from_slice(&args[..at]);
            line.extend_from_slice(&args[at + used..]);
            Some(line)
        }
        Fix::Run(line) => {
            words += &why;
            (value.is_some() || !a.takes_value).then(|| line.iter().map(|w| fill(w)).collect())
        }
        Fix::Say => {
            words += &why;
            None
        }
    };
    Some(Hint { words, fixed })
}

/// `--count -1` (tcpdump's "no limit"): lola's word for no limit.
fn negative_count(command: &str, args: &[String]) -> Option<Hint> {
    let at = args.iter().position(|a| {
        a.split_once('=')
            .is_some_and(|(f, v)| is_count_flag(f) && v.starts_with('-'))
    });
    let (at, used, flag) = match at {
        Some(at) => (
            at,
            1,
            args[at].split('=').next().unwrap_or_default().to_string(),
        ),
        None => {
            let at = args
                .windows(2)
                .position(|w| is_count_flag(&w[0]) && w[1].starts_with('-') && is_number(&w[1]))?;
            (at, 2, args[at].clone())
        }
    };
    let (words, with): (&str, &[&str]) = match command {
        "check" | "exec" | "show-default" => (
            "counts are 0 or more; for any number use --at-least 0",
            &["--at-least", "0"],
        ),
        "listen" => (
            "counts are 0 or more; --datagrams 0 receives until interrupted",
            &["--datagrams", "0"],
        ),
        "capture" => (
            "counts are 0 or more; without -c lola capture records until --duration or Ctrl-C",
            &[],
        ),
        _ => return None,
    };
    let mut line = vec!["lola".to_string()];
    line.extend_from_slice(&args[..at]);
    line.extend(with.iter().map(|w| w.to_string()));
    line.extend_from_slice(&args[at + used..]);
    Some(Hint {
        words: format!("{flag} takes no negative number: {words}"),
        fixed: Some(line),
    })
}

fn is_count_flag(f: &str) -> bool {
    matches!(
        f,
        "--count"
            | "-c"
            | "--at-least"
            | "--at-most"
            | "--exactly"
            | "--datagrams"
            | "--max-frames"
    )
}

fn is_number(s: &str) -> bool {
    s.trim_start_matches('-').parse::<f64>().is_ok()
}

/// The subcommand: `check`, `exec`, ..., and `show-default`/`record` for
/// `lola expect …`.
fn command_of(args: &[String]) -> Option<String> {
    let mut words = args.iter().filter(|a| !a.starts_with('-'));
    let first = words.next()?;
    if first == "expect" {
        return words.next().cloned();
    }
    Some(first.clone())
}

/// The first positional argument after the subcommand that names a file
/// (for `lola expect record FILE`).
fn first_capture(args: &[String], before: usize) -> Option<String> {
    args.iter()
        .enumerate()
        .skip(1)
        .find(|(i, a)| {
            *i != before
                && !a.starts_with('-')
                && (a.ends_with(".pcap") || a.ends_with(".pcapng") || a.ends_with(".cap"))
        })
        .map(|(_, a)| a.clone())
}

/// A command line as a shell would need it typed: words quoted where they
/// hold anything but plain characters.
pub fn shell_line(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@+%".contains(c));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn hint_for(line: &str) -> Hint {
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        let mut all = vec![OsString::from("lola")];
        all.extend(args.clone());
        let err = match super::super::args::Cli::try_parse_from(all) {
            Ok(_) => panic!("{line} parses"),
            Err(e) => e,
        };
        hint(&args, &err).unwrap_or_else(|| panic!("no hint for {line}"))
    }

    #[test]
    fn port_on_check_is_the_servers_port() {
        let h = hint_for("check x.pcap --port 7456");
        assert_eq!(
            h.words,
            "check has no --port; use --dst-port 7456 (the server's port)"
        );
        assert_eq!(
            h.fixed.unwrap(),
            ["lola", "check", "x.pcap", "--dst-port", "7456"]
        );
    }

    #[test]
    fn nn_is_left_out() {
        let h = hint_for("check x.pcap -nn");
        assert_eq!(h.fixed.unwrap(), ["lola", "check", "x.pcap"]);
    }

    #[test]
    fn negative_count_means_any() {
        let h = hint_for("check x.pcap --count -1");
        assert_eq!(
            h.fixed.unwrap(),
            ["lola", "check", "x.pcap", "--at-least", "0"]
        );
    }

    #[test]
    fn shell_lines_quote_what_needs_it() {
        let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shell_line(&w(&["lola", "--flow", "udp and ip"])),
            "lola --flow 'udp and ip'"
        );
        assert_eq!(shell_line(&w(&["it's"])), r"'it'\''s'");
    }
}
