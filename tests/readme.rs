//! The README's transcripts are the real output of this version: every
//! ```` ```text ```` block whose commands can run here (no root, no live
//! capture, no Python seed scripts) is run, and its output compared with
//! the README's lines. Ports and capture times vary between runs and are
//! compared as `<port>` and `<time>`; a README line `  ...` stands for the
//! rest of the output. The root transcripts (`# lola compare`, `run` and
//! `send` with live capture, `doctor`) run where live capture may (CI),
//! with millisecond figures, hex header values and sysctl values hidden too.
//! `exec --expect` transcripts run where a private lo may be made (CI
//! included), with the kind of namespace (user or network: who runs the
//! test) hidden. The other `exec` transcripts (the seed's Python scripts,
//! with shell quoting), the unprivileged `doctor` and the two-terminal
//! `listen`/`send` are not run here (tests/sandbox.rs and tests/live.rs hold
//! their promises).

mod common;

use std::path::Path;

use common::{can_capture, fixture, in_ci, lola};

/// One `$ lola ...` command of a transcript and the lines after it, up to
/// the next `$ ` (with `$ echo $?` read as the exit code).
struct Transcript {
    line: usize,
    command: String,
    output: Vec<String>,
    exit: Option<i32>,
}

fn transcripts(readme: &str) -> Vec<Transcript> {
    transcripts_after(readme, "$ lola ")
}

/// The transcripts whose commands follow `prompt` (`$ lola ` or, run as
/// root, `# lola `).
fn transcripts_after(readme: &str, prompt: &str) -> Vec<Transcript> {
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
        if let Some(command) = line.strip_prefix(prompt) {
            // `$ lola listen    $ lola send`: two terminals side by side.
            if command.contains("$ lola") {
                continue;
            }
            let command = command.split("  #").next().unwrap_or(command).trim();
            open = true;
            found.push(Transcript {
                line: i + 1,
                command: command.to_string(),
                output: Vec::new(),
                exit: None,
            });
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

/// Ports (digits after `:` or in `on N...`) → `<port>`, RFC 3339 times →
/// `<time>`, the kind of a private lo's namespace → `<namespace>`.
fn normalize(line: &str) -> String {
    let mut out = String::new();
    let line = line
        .replace("private lo (user namespace)", "private lo (<namespace>)")
        .replace("private lo (network namespace)", "private lo (<namespace>)");
    let mut rest = line.as_str();
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
        if !digits.is_empty() && (out.ends_with(':') || out.ends_with("on ")) && digits.len() >= 4 {
            out += "<port>";
            rest = &rest[digits.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// What the command prints in `dir` (stdout then stderr), and its exit code.
fn run(dir: &Path, command: &str) -> (Vec<String>, i32) {
    let mut args: Vec<String> = shell_words(command);
    if args.first().map(String::as_str) == Some("run") {
        // The README's run uses the seed's port; the test must not collide.
        args.extend(["--port", "0", "--capture", "off"].map(String::from));
    }
    let out = lola()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        // A loaded test machine may be slow to answer; the window is not
        // what these transcripts are about (tests/expect.rs holds it).
        .env("LOLA_TIME_TOLERANCE", "1s")
        .args(&args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        text.lines().map(str::to_string).collect(),
        out.status.code().unwrap_or(-1),
    )
}

/// True when `lola exec` can make a private lo here; else says so (and
/// fails under CI=true).
fn private_lo() -> bool {
    let out = lola().args(["doctor", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let works = v["private"]["works"] == true;
    if !works {
        assert!(!in_ci(), "CI needs a private lo: {}", v["private"]);
        eprintln!("SKIPPED: the exec transcripts: no private lo here");
    }
    works
}

/// Splits a README command into words (no quoting is used in the ones run).
fn shell_words(command: &str) -> Vec<String> {
    command.split_whitespace().map(str::to_string).collect()
}

#[test]
fn readme_transcripts_are_the_real_output() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // What the transcripts read: the fixtures, and a capture cut short.
    std::fs::create_dir(dir.path().join("fixtures")).unwrap();
    for name in ["seed-tcp.pcap", "hello-lola.pcap", "reply.pcap"] {
        std::fs::copy(fixture(name), dir.path().join("fixtures").join(name)).unwrap();
    }
    // The expectation file the "Expectation files" transcript checks with: the README's own.
    let section = &readme[readme.find("## Expectation files").expect("the section")..];
    let start = section.find("```toml\n").expect("a TOML block") + "```toml\n".len();
    let toml = &section[start..start + section[start..].find("```").unwrap()];
    std::fs::write(dir.path().join("lola.toml"), toml).unwrap();
    let good = std::fs::read(fixture("hello-lola.pcap")).unwrap();
    let mut killed = good.clone();
    killed.extend_from_slice(&good[24..]);
    killed.extend_from_slice(&good[24..44]);
    std::fs::write(dir.path().join("killed.pcap"), killed).unwrap();
    // What `exec --expect` runs.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/reply.py");
    std::fs::copy(script, dir.path().join("reply.py")).unwrap();

    let exec = private_lo();
    let runnable = |c: &str| {
        ["run", "check ", "chek "]
            .iter()
            .any(|p| c.starts_with(p) || c == "run")
            || (exec && c.starts_with("exec ") && c.contains(" --expect "))
    };
    let mut checked = 0;
    let mut problems = Vec::new();
    for t in transcripts(&readme) {
        if !runnable(&t.command) {
            continue;
        }
        checked += 1;
        let (output, code) = run(dir.path(), &t.command);
        let shown: Vec<&String> = t.output.iter().take_while(|l| l.trim() != "...").collect();
        let elided = shown.len() < t.output.len();
        let got: Vec<String> = output.iter().map(|l| normalize(l)).collect();
        let want: Vec<String> = shown.iter().map(|l| normalize(l)).collect();
        let same = if elided {
            got.len() >= want.len() && got[..want.len()] == want[..]
        } else {
            got == want
        };
        if !same {
            problems.push(format!(
                "README.md:{}: `lola {}` prints\n{}\nbut the README shows\n{}",
                t.line,
                t.command,
                output.join("\n"),
                t.output.join("\n")
            ));
        }
        if let Some(exit) = t.exit
            && exit != code
        {
            problems.push(format!(
                "README.md:{}: `lola {}` exits {code}, the README says {exit}",
                t.line, t.command
            ));
        }
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
    assert_eq!(
        normalize("captured on a private lo (network namespace): 2 frames"),
        normalize("captured on a private lo (user namespace): 2 frames")
    );
    assert_ne!(
        normalize("captured on the host lo: 2 frames"),
        normalize("captured on a private lo (user namespace): 2 frames")
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
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut checked = 0;
    let mut problems = Vec::new();
    for t in transcripts_after(&readme, "# lola ") {
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
        let got: Vec<String> = text.lines().map(normalize_live).collect();
        let want: Vec<String> = t.output.iter().map(|l| normalize_live(l)).collect();
        if got != want {
            problems.push(format!(
                "README.md:{}: `lola {}` prints\n{}\nbut the README shows\n{}",
                t.line,
                t.command,
                text,
                t.output.join("\n")
            ));
        }
    }
    assert!(checked >= 4, "only {checked} root transcripts found");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
