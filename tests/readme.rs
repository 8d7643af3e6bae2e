//! The transcripts of the README and of every page under docs/ are the real
//! output of this version: every ```` ```text ```` block of commands is run,
//! and its output compared with the page's lines. Ports and capture times vary between runs and are
//! compared as `<port>` and `<time>` (a port is 4 or more digits after `:`,
//! after `on `, or after `', ` in a Python address tuple). Where a page
//! leaves output out, it says so with `...`, matched by one rule:
//!
//! - a line that is only `...` (indented or not) stands for any run of
//!   lines, none included;
//! - `...` inside a line, as a word of its own (a space or the line's edge
//!   on both sides), stands for any text; `on 7456...` is not one.
//!
//! The root transcripts (`# lola compare`, `run` and `send` with live
//! capture, `doctor`) run where live capture may (CI), with millisecond
//! figures, hex header values and sysctl values hidden too; so do the
//! unprivileged `exec` and `doctor` ones, run as uid 65534, and the
//! two-terminal `listen`/`send` block, run in a network namespace of its own.

mod common;

use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread;
use std::time::{Duration, Instant};

use common::sandbox::{Sandbox, root_for, userns_allowed};
use common::{can_capture, fixture, have_with, in_ci, lola};

/// One `$ lola ...` command of a transcript and the lines after it, up to
/// the next `$ ` (with `$ echo $?` read as the exit code).
struct Transcript {
    /// The page it is on (`README.md`, `docs/capture.md`, ...).
    page: String,
    line: usize,
    command: String,
    output: Vec<String>,
    exit: Option<i32>,
}

fn transcripts(page: &Page) -> Vec<Transcript> {
    transcripts_after(page, "$ lola ")
}

/// The transcripts whose commands follow `prompt` (`$ lola ` or, run as
/// root, `# lola `).
fn transcripts_after(page: &Page, prompt: &str) -> Vec<Transcript> {
    let readme = page.text.as_str();
    let mut found: Vec<Transcript> = Vec::new();
    let mut in_text = false;
    // The transcript the lines belong to, within the current block.
    let mut open = false;
    for (i, line) in readme.lines().enumerate() {
        if line.starts_with("```") {
            in_text = line == "```text" && !in_text;
            open = false;
            continue;
        }
        if !in_text {
            continue;
        }
        if line == "$ echo $?" {
            continue;
        }
        let other_prompt = line.starts_with("$ ") || line.starts_with("# ");
        if let Some(command) = line.strip_prefix(prompt) {
            // `$ lola listen    $ lola send`: two terminals side by side.
            if command.contains("$ lola") {
                continue;
            }
            let command = command.split("  #").next().unwrap_or(command).trim();
            open = true;
            found.push(Transcript {
                page: page.name.clone(),
                line: i + 1,
                command: command.to_string(),
                output: Vec::new(),
                exit: None,
            });
        } else if other_prompt {
            // `$ lola doctor` then `# lola doctor`: the next transcript.
            open = false;
        } else if let Some(last) = found.last_mut().filter(|_| open) {
            let after_echo = readme.lines().nth(i.wrapping_sub(1)) == Some("$ echo $?");
            match line.parse::<i32>() {
                Ok(code) if after_echo => last.exit = Some(code),
                _ => last.output.push(line.to_string()),
            }
        }
    }
    found
}

/// Ports (digits after `:`, in `on N...` or in Python's `('127.0.0.1',
/// N)`) → `<port>`, RFC 3339 times → `<time>`.
fn normalize(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() == 4
            && rest[4..].starts_with('-')
            && rest.len() >= 27
            && rest.as_bytes()[10] == b'T'
        {
            let time_len = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
            out += "<time>";
            rest = &rest[time_len..];
            continue;
        }
        let after = [":", "on ", "', "].iter().any(|p| out.ends_with(p));
        if after && digits.len() >= 4 {
            out += "<port>";
            rest = &rest[digits.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// True when the output lines `got` are the README's lines `want` (both
/// normalised), with `...` read as the module documentation says.
fn lines_match(want: &[String], got: &[String]) -> bool {
    match want.split_first() {
        None => got.is_empty(),
        Some((w, rest)) if w.trim() == "..." => {
            (0..=got.len()).any(|skip| lines_match(rest, &got[skip..]))
        }
        Some((w, rest)) => {
            got.first().is_some_and(|g| line_matches(w, g)) && lines_match(rest, &got[1..])
        }
    }
}

/// True when `got` is the line `want`, where each `...` standing as a word
/// of its own stands for any text.
fn line_matches(want: &str, got: &str) -> bool {
    let mut parts = elided_parts(want);
    let first = parts.remove(0);
    let Some(mut rest) = got.strip_prefix(first) else {
        return false;
    };
    let Some(last) = parts.pop() else {
        return rest.is_empty();
    };
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// The text of `line` around each `...` that is a word of its own (a space
/// or the line's edge on both sides), e.g. `["frame 1 ", " TCP"]`.
fn elided_parts(line: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (at, dots) in line.match_indices("...") {
        let alone = (at == 0 || line[..at].ends_with(' '))
            && line[at + dots.len()..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ');
        if alone && at >= start {
            parts.push(&line[start..at]);
            start = at + dots.len();
        }
    }
    parts.push(&line[start..]);
    parts
}

/// What differs between the README's transcript `t` and what its command
/// printed (exit `code`), each line compared after `norm`.
fn differences(
    t: &Transcript,
    printed: &str,
    code: Option<i32>,
    norm: fn(&str) -> String,
) -> Vec<String> {
    let mut problems = Vec::new();
    let got: Vec<String> = printed.lines().map(norm).collect();
    let want: Vec<String> = t.output.iter().map(|l| norm(l)).collect();
    if !lines_match(&want, &got) {
        problems.push(format!(
            "{}:{}: `lola {}` prints\n{printed}\nbut the page shows\n{}",
            t.page,
            t.line,
            t.command,
            t.output.join("\n")
        ));
    }
    if let Some(exit) = t.exit.filter(|e| Some(*e) != code) {
        problems.push(format!(
            "{}:{}: `lola {}` exits {code:?}, the page says {exit}",
            t.page, t.line, t.command
        ));
    }
    problems
}

/// What the command prints in `dir` (stdout then stderr), and its exit code.
fn run(dir: &Path, command: &str) -> (String, Option<i32>) {
    let mut args: Vec<String> = shell_words(command);
    if args.first().map(String::as_str) == Some("run") {
        // The README's run uses the seed's port; the test must not collide.
        args.extend(["--port", "0", "--capture", "off"].map(String::from));
    }
    let out = lola()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(&args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (text, out.status.code())
}

/// Splits a README command into words (no quoting is used in the ones run).
fn shell_words(command: &str) -> Vec<String> {
    command.split_whitespace().map(str::to_string).collect()
}

#[test]
fn readme_transcripts_are_the_real_output() {
    let dir = tempfile::tempdir().unwrap();
    // What the transcripts read: the fixtures, and a capture cut short.
    std::fs::create_dir(dir.path().join("fixtures")).unwrap();
    for name in ["seed-tcp.pcap", "hello-lola.pcap", "reply.pcap"] {
        std::fs::copy(fixture(name), dir.path().join("fixtures").join(name)).unwrap();
    }
    // The expectation file the guide's transcripts check with: the guide's own.
    std::fs::write(dir.path().join("lola.toml"), expectation_file()).unwrap();
    let good = std::fs::read(fixture("hello-lola.pcap")).unwrap();
    let mut killed = good.clone();
    killed.extend_from_slice(&good[24..]);
    killed.extend_from_slice(&good[24..44]);
    std::fs::write(dir.path().join("killed.pcap"), killed).unwrap();

    let runnable = |c: &str| {
        ["run", "check ", "chek "]
            .iter()
            .any(|p| c.starts_with(p) || c == "run")
    };
    let mut checked = 0;
    let mut problems = Vec::new();
    for t in pages().iter().flat_map(transcripts) {
        if !runnable(&t.command) {
            continue;
        }
        checked += 1;
        let (output, code) = run(dir.path(), &t.command);
        problems.extend(differences(&t, &output, code, normalize));
    }
    assert!(checked >= 4, "only {checked} transcripts found");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn normalize_hides_ports_and_times_only() {
    assert_eq!(
        normalize(
            "FROM: 127.0.0.1:46135 DATA: x  2026-11-25T10:13:46.978267Z  Just here on 7456..."
        ),
        "FROM: 127.0.0.1:<port> DATA: x  <time>  Just here on <port>..."
    );
    assert_eq!(
        normalize("found 0 matching datagrams in 8 frames"),
        "found 0 matching datagrams in 8 frames"
    );
}

/// What varies between two live runs beyond ports and times: figures in
/// milliseconds, header values in hex (IPv4 id, checksums), and column
/// padding that follows their width.
fn normalize_live(line: &str) -> String {
    let mut out = String::new();
    for word in normalize(line).split_whitespace() {
        let is_ms = word.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.len() == 3
                && b.bytes().all(|c| c.is_ascii_digit())
        });
        let is_hex = word.len() == 6 && word.starts_with("0x");
        let port = word.len() >= 4 && word.bytes().all(|c| c.is_ascii_digit());
        if !out.is_empty() {
            out.push(' ');
        }
        out += if is_ms {
            "<ms>"
        } else if is_hex {
            "<hex>"
        } else if port {
            "<port>"
        } else {
            word
        };
    }
    out
}

/// The transcripts run as root (`# lola …`: live capture on the host lo,
/// and what `lola doctor` finds here) are the real output too; they need
/// CAP_NET_RAW, which CI has.
#[test]
fn root_transcripts_are_the_real_output() {
    if !can_capture() {
        return;
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    for t in pages().iter().flat_map(|p| transcripts_after(p, "# lola ")) {
        let mut args = shell_words(&t.command);
        match args.first().map(String::as_str) {
            // The seed's port may be taken by a parallel test: a free one.
            Some("run" | "compare") => args.extend(["--port", "0"].map(String::from)),
            Some("send" | "doctor") => {}
            _ => continue,
        }
        checked += 1;
        let dir = tempfile::tempdir().unwrap();
        let out = lola()
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .args(&args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        problems.extend(differences(&t, &text, out.status.code(), normalize_live));
    }
    assert!(checked >= 4, "only {checked} root transcripts found");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn elisions_match_any_lines_and_any_text() {
    let lines = |ls: &[&str]| ls.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let got = lines(&["a", "b 1 c", "d", "e"]);
    assert!(lines_match(&lines(&["a", "...", "e"]), &got));
    assert!(lines_match(&lines(&["a", "b ... c", "  ..."]), &got));
    assert!(lines_match(
        &lines(&["...", "a", "...", "d", "e", "..."]),
        &got
    ));
    assert!(
        !lines_match(&lines(&["a", "...", "d"]), &got),
        "d is not last"
    );
    assert!(!lines_match(&lines(&["a", "b ... x", "..."]), &got));
    assert!(
        !lines_match(&lines(&["a", "b 1 c"]), &got),
        "no ... at the end"
    );
    assert!(line_matches(
        "frame 1 ... TCP ... end",
        "frame 1 12:00 TCP [SYN] end"
    ));
    assert!(line_matches(
        "... frames; wrote x ...",
        "9 frames; wrote x (9 bytes)"
    ));
    assert!(!line_matches(
        "... frames; wrote x ...",
        "9 frames; wrote y (9 bytes)"
    ));
    assert!(!line_matches(
        "frame 1 ... UDP ... end",
        "frame 1 12:00 TCP [SYN] end"
    ));
    // Words that end in dots are text: the server's own line is not an elision.
    assert!(!line_matches("Just here on 7456...", "Just here on 7456"));
}

/// The README's words for the unprivileged transcripts (`$ lola exec …`,
/// `$ lola doctor`) are what they print as uid 65534, each command line run
/// whole by `sh` in a directory holding the seed's scripts, as a terminal
/// shows it (stdout and stderr interleaved).
#[test]
fn unprivileged_transcripts_are_the_real_output() {
    if !root_for("running the transcripts as uid 65534") {
        return;
    }
    if !userns_allowed(&Sandbox::new()) {
        return;
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    // Each page in a directory of its own: what one page writes (a draft,
    // a lola.toml) is never what another page's transcript finds.
    for page in pages() {
        let s = Sandbox::new();
        let path = format!(
            "{}:{}",
            s.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // The page's `lola.toml` (a TOML block that says it is) is in the
        // directory from where the page shows it on, as a reader would save it.
        let configs: Vec<(usize, &str)> = blocks(&page, "toml")
            .into_iter()
            .filter(|(_, b)| b.starts_with("# lola.toml"))
            .collect();
        for t in transcripts(&page) {
            if !(t.command.starts_with("exec ") || t.command == "doctor") {
                continue;
            }
            if let Some((_, config)) = configs.iter().rev().find(|(line, _)| *line < t.line) {
                std::fs::write(s.path().join("lola.toml"), config).unwrap();
            }
            checked += 1;
            let o = s
                .as_nobody(&[], "sh")
                .args(["-c", &format!("exec 2>&1; lola {}", t.command)])
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                // A loaded test machine may be slow to answer; the reply's window
                // is not what these transcripts are about (tests/expect.rs holds it).
                .env("LOLA_TIME_TOLERANCE", "1s")
                .output()
                .unwrap();
            // Only setpriv or sh would write to stderr: shown, never expected.
            let printed = String::from_utf8_lossy(&o.stdout) + String::from_utf8_lossy(&o.stderr);
            problems.extend(differences(&t, &printed, o.status.code(), normalize_live));
        }
    }
    assert!(
        checked >= 4,
        "only {checked} unprivileged transcripts found"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// The expectation-file guide's own file: the first TOML block of
/// `docs/expectations.md`.
fn expectation_file() -> String {
    let guide = page("docs/expectations.md").text;
    let start = guide.find("```toml\n").expect("a TOML block") + "```toml\n".len();
    guide[start..start + guide[start..].find("```").unwrap()].to_string()
}

/// A page of the documentation: README.md or one of docs/*.md.
struct Page {
    name: String,
    text: String,
}

fn page(name: &str) -> Page {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    Page {
        name: name.to_string(),
        text,
    }
}

/// README.md, then every page under docs/, in name order: the transcripts
/// of all of them are run.
fn pages() -> Vec<Page> {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let mut names: Vec<String> = std::fs::read_dir(docs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    names.sort();
    std::iter::once("README.md".to_string())
        .chain(names)
        .map(|n| page(&n))
        .collect()
}

/// The two-terminal block: the commands on its first line, the lines of
/// each terminal under them. A terminal's column starts where its `$ `
/// does; the left one's lines end before the right one's column.
struct TwoTerminals {
    line: usize,
    commands: [String; 2],
    output: [Vec<String>; 2],
}

fn two_terminals(readme: &str) -> TwoTerminals {
    let lines: Vec<&str> = readme.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("$ lola ") && l[2..].contains("$ lola "))
        .expect("the two-terminal block");
    let column = 2 + lines[at][2..].find("$ lola ").unwrap();
    let (left, right) = lines[at].split_at(column);
    let command = |side: &str| side.trim().trim_start_matches("$ lola ").to_string();
    let mut output: [Vec<String>; 2] = Default::default();
    for line in lines[at + 1..].iter().take_while(|l| !l.starts_with("```")) {
        let (l, r) = line.split_at(column.min(line.len()));
        for (i, part) in [l, r].into_iter().enumerate() {
            if !part.trim().is_empty() {
                output[i].push(part.trim_end().to_string());
            }
        }
    }
    TwoTerminals {
        line: at + 1,
        commands: [command(left), command(right)],
        output,
    }
}

/// A process that holds a network namespace of its own, with its lo up.
struct Netns(Child);

impl Netns {
    fn new() -> Netns {
        let mut holder = Command::new("unshare")
            .args([
                "-n",
                "sh",
                "-c",
                "ip link set lo up && echo up && exec sleep 120",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut up = String::new();
        BufRead::read_line(&mut BufReader::new(holder.stdout.take().unwrap()), &mut up).unwrap();
        assert_eq!(up, "up\n", "unshare -n with lo up");
        Netns(holder)
    }

    /// `lola ARGS`, as uid 65534, in this namespace (`unshare` exec'd the
    /// holder: its pid is the namespace's).
    fn lola(&self, s: &Sandbox, args: &str) -> Command {
        let pid = self.0.id().to_string();
        let mut c = s.as_nobody(&["nsenter", "-t", &pid, "-n", "--"], &s.lola);
        c.args(shell_words(args)).env("NO_COLOR", "1");
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `c` with stdout and stderr on one pipe, as a terminal shows them;
/// its lines arrive on the receiver, which ends when the pipe closes.
fn spawn_lines(mut c: Command) -> (Child, Receiver<String>) {
    let (reader, writer) = io::pipe().unwrap();
    c.stdout(writer.try_clone().unwrap()).stderr(writer);
    let child = c.spawn().unwrap();
    // The command holds the pipe's write end until dropped: the reader
    // would never see the end.
    drop(c);
    let (tx, rx) = channel();
    thread::spawn(move || {
        for line in BufRead::lines(BufReader::new(reader)) {
            if line.map(|l| tx.send(l)).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The lines on `rx` until it ends, or what came before `child` was killed
/// at the deadline.
fn lines_until_end(rx: &Receiver<String>, child: &mut Child, deadline: Instant) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(RecvTimeoutError::Disconnected) => return lines,
            Err(RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                lines.push("(still running at the deadline: killed)".into());
                return lines;
            }
        }
    }
}

/// The two-terminal `lola listen` / `lola send` block, run as the README
/// shows it: the default port 7456, in a network namespace of the test's
/// own (so the port is free and parallel tests never see the datagram), as
/// uid 65534; `send` starts once `listen` said it is listening.
#[test]
fn two_terminal_transcript_is_the_real_output() {
    if !root_for("the network namespace of the two-terminal transcript") || !have_with("ip", "-V") {
        return;
    }
    let capture = page("docs/capture.md");
    let block = two_terminals(&capture.text);
    let s = Sandbox::new();
    let ns = Netns::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut listen, rx) = spawn_lines(ns.lola(&s, &block.commands[0]));
    // It is listening once it said so; then the second terminal sends.
    let mut listened: Vec<String> = rx
        .recv_timeout(Duration::from_secs(30))
        .into_iter()
        .collect();
    let (mut send, send_rx) = spawn_lines(ns.lola(&s, &block.commands[1]));
    let sent = lines_until_end(&send_rx, &mut send, deadline);
    listened.extend(lines_until_end(&rx, &mut listen, deadline));
    let codes = [listen.wait().unwrap().code(), send.wait().unwrap().code()];
    for (i, got) in [listened, sent].iter().enumerate() {
        let want: Vec<String> = block.output[i].iter().map(|l| normalize(l)).collect();
        let normal: Vec<String> = got.iter().map(|l| normalize(l)).collect();
        assert!(
            lines_match(&want, &normal) && codes[i] == Some(0),
            "{}:{}: `lola {}` exits {:?} and prints\n{}\nbut the page shows\n{}",
            capture.name,
            block.line,
            block.commands[i],
            codes[i],
            got.join("\n"),
            block.output[i].join("\n")
        );
    }
}

/// The page that holds the field reference.
const FIELD_PAGE: &str = "docs/expectations.md";

/// The field reference is the registry itself: one row per field
/// of `lola::packet::fields::FIELDS`, in its order, with its type, whether
/// tshark knows it, and its `about` line. `LOLA_BLESS=1` rewrites the table.
#[test]
fn the_field_reference_is_the_registry() {
    let readme = page(FIELD_PAGE).text;
    let header = "| field | type | tshark | meaning |\n|---|---|---|---|\n";
    let start = readme
        .find(header)
        .expect("docs/expectations.md has a field reference")
        + header.len();
    let end = start + readme[start..].find("\n\n").unwrap_or(readme.len() - start) + 1;
    let table: String = lola::packet::fields::FIELDS
        .iter()
        .map(|f| {
            let ty = serde_json::to_value(f.ty).unwrap();
            let known = if f.tshark { "yes" } else { "lola" };
            format!(
                "| `{}` | {} | {known} | {} |\n",
                f.name,
                ty.as_str().unwrap(),
                f.about.replace('|', "\\|")
            )
        })
        .collect();
    if std::env::var_os("LOLA_BLESS").is_some() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIELD_PAGE);
        let mut text = readme.clone();
        text.replace_range(start..end, &table);
        std::fs::write(path, text).unwrap();
        return;
    }
    let written = &readme[start..end];
    for (want, got) in table.lines().zip(written.lines()) {
        assert_eq!(got, want, "field reference; bless with LOLA_BLESS=1");
    }
    assert_eq!(
        written.lines().count(),
        table.lines().count(),
        "field reference: one row per field; bless with LOLA_BLESS=1"
    );
}

/// The fenced blocks of `lang` on a page, with the line each starts on.
fn blocks<'a>(page: &'a Page, lang: &str) -> Vec<(usize, &'a str)> {
    let fence = format!("```{lang}\n");
    let mut found = Vec::new();
    let mut rest = page.text.as_str();
    let mut offset = 0;
    while let Some(at) = rest.find(&fence) {
        let start = at + fence.len();
        let len = rest[start..].find("```").unwrap_or(rest.len() - start);
        let line = page.text[..offset + start].lines().count() + 1;
        found.push((line, &rest[start..start + len]));
        offset += start + len;
        rest = &rest[start + len..];
    }
    found
}

/// A directory laid out as a fresh clone, as far as the examples need it:
/// `fixtures/`, the seed's scripts, and the guide's `lola.toml`.
fn clone_layout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copied = Command::new("cp")
        .arg("-r")
        .arg(root.join("fixtures"))
        .arg(root.join("tests/scripts"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(copied.success());
    std::fs::write(dir.path().join("lola.toml"), expectation_file()).unwrap();
    dir
}

/// Every shell example of the README and docs/ made of lola's commands
/// (`lola`, `mkdir`, `cp`, `for` lines) runs as written in a fresh clone's
/// layout: each line exits 0 (the example passes) or 1 (it shows a
/// failure), never 2 (it could not run) or anything else. Then every SQL
/// example runs on DuckDB over the rows they wrote, and returns rows.
#[test]
fn shell_and_sql_examples_run_as_written() {
    let dir = clone_layout();
    let bin = assert_cmd::cargo::cargo_bin("lola");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    let mut problems = Vec::new();
    let pages = pages();
    for page in &pages {
        for (line, block) in blocks(page, "sh") {
            let commands: Vec<&str> = block
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            let ours = |l: &&str| {
                ["lola ", "mkdir ", "cp ", "for "]
                    .iter()
                    .any(|p| l.starts_with(p))
            };
            if commands.is_empty() || !commands.iter().all(ours) {
                continue;
            }
            for command in commands {
                ran += 1;
                let out = Command::new("sh")
                    .args(["-c", command])
                    .current_dir(dir.path())
                    .env("PATH", &path)
                    .env("NO_COLOR", "1")
                    .output()
                    .unwrap();
                if !matches!(out.status.code(), Some(0 | 1)) {
                    problems.push(format!(
                        "{}:{line}: `{command}` exits {:?}\n{}",
                        page.name,
                        out.status.code(),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
        }
    }
    assert!(ran >= 8, "only {ran} example commands found");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));

    let duckdb = Command::new("python3")
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    if !duckdb {
        assert!(
            !in_ci(),
            "CI needs the duckdb Python package (.ci/run installs it)"
        );
        return;
    }
    let mut queries = 0;
    for page in &pages {
        for (line, block) in blocks(page, "sql") {
            for query in block.split(';').filter(|q| {
                q.lines()
                    .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
            }) {
                queries += 1;
                let script = "import duckdb, sys\nrows = duckdb.sql(sys.argv[1]).fetchall()\nassert rows, 'no rows'\nprint(len(rows))";
                let out = Command::new("python3")
                    .args(["-c", script, query])
                    .current_dir(dir.path())
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}:{line}: the query\n{query}\nfails on DuckDB:\n{}",
                    page.name,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    assert!(queries >= 2, "only {queries} SQL examples found");
}
