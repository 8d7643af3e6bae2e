//! Sixty-odd wrong command lines a tcpdump, tshark or nc user types, each
//! with the exit status lola must give and the fix its first line of
//! stderr must name. Every fix names flags the command has; every command
//! line a hint suggests (`try: lola …`) parses.
//!
//! `LOLA_MISTAKES_BEFORE=/path/to/older/lola` also runs the table against
//! that binary and writes the before/after table to
//! `target/cli-mistakes.md` (for a release note).

#[allow(dead_code, unused_imports)]
#[path = "../src/cli/args.rs"]
mod args;
#[allow(dead_code, unused_imports)]
#[path = "../src/cli/parse.rs"]
mod parse;

mod common;

use clap::{CommandFactory, Parser};

const F: &str = "fixtures/hello-lola.pcap";

/// (command line, exit status, words the first stderr line must hold).
fn cases() -> Vec<(Vec<String>, i32, &'static str)> {
    let c = |line: &str, code: i32, fix: &'static str| {
        let words = split(&line.replace("$F", F));
        (words, code, fix)
    };
    vec![
        c(
            "check $F --port 7456",
            2,
            "use --dst-port 7456 (the server's port)",
        ),
        c("check $F --dport 7456", 2, "--dst-port 7456"),
        c("check $F --dport=7456", 2, "--dst-port 7456"),
        c("check $F --port 0x1d20", 2, "--dst-port 0x1d20"),
        c("check $F --sport 40000", 2, "--src-port 40000"),
        c("check $F -c 1", 2, "--exactly 1"),
        c("check $F -c1", 2, "--exactly 1"),
        c("check $F --count -1", 2, "--at-least 0"),
        c("check $F --count=-1", 2, "--at-least 0"),
        c("check $F -nn", 2, "leave -n out"),
        c("check $F -n", 2, "leave -n out"),
        c("check $F -v", 2, "--emit -"),
        c("check $F -vvv", 2, "--emit -"),
        c("check $F -V", 2, "--emit -"),
        c("check $F -x", 2, "--emit -"),
        c("check $F -Y udp", 2, "lola expect record"),
        c(
            "check $F -Y 'udp.port == 7456'",
            2,
            "--flow 'udp.port == 7456'",
        ),
        c("check $F -R udp", 2, "lola expect record"),
        c("check $F --display-filter udp", 2, "lola expect record"),
        c(
            "check $F -f 'udp port 7456'",
            2,
            "lola capture -i lo --filter-port",
        ),
        c("check $F -i lo", 2, "lola capture -i lo"),
        c("check $F --to 127.0.0.1:7456", 2, "--dst 127.0.0.1:7456"),
        c("check $F --from 127.0.0.1", 2, "--src 127.0.0.1"),
        c("check $F -w out.ndjson", 2, "--emit out.ndjson"),
        c("check $F -o report.xml", 2, "--junit FILE"),
        c("check $F --format json", 2, "--json"),
        c("check $F -T json", 2, "--json"),
        c("check $F --no-color", 2, "--color never"),
        c("check $F --html r.html", 2, "--report r.html"),
        c("check $F --junitxml r.xml", 2, "--junit r.xml"),
        c("check $F --min 1", 2, "--at-least 1"),
        c("check $F --max 2", 2, "--at-most 2"),
        c("check $F --payload 'Hello Lola'", 2, "--message Hello Lola"),
        c(
            "check $F --payload 0x48656c6c6f",
            2,
            "--payload-hex 0x48656c6c6f",
        ),
        c("check $F --tcp", 2, "--allow-tcp"),
        c("check $F -s 0", 2, "leave -s out"),
        c("run --dport 7456", 2, "--port 7456"),
        c("run -i lo", 2, "--capture host"),
        c("run -c 3", 2, "it sends one datagram"),
        c("run -u", 2, "leave -u out"),
        c("run -6", 2, "--to '[::1]:7456'"),
        c("run --host", 2, "--capture host"),
        c("run -nn", 2, "leave -n out"),
        c("run -v", 2, "leave -v out"),
        c("run --format json", 2, "use --json"),
        c("send --port 9999", 2, "--to 127.0.0.1:9999"),
        c("send --sport 40000", 2, "--from 127.0.0.1:40000"),
        c("send -u", 2, "leave -u out"),
        c("send -l", 2, "lola listen"),
        c("listen -c 5", 2, "--datagrams 5"),
        c("listen --dport 7456", 2, "--port 7456"),
        c("listen -p 7456", 2, "--port 7456"),
        c("listen --count -1", 2, "--datagrams 0"),
        c("capture -w x.pcap --port 7456", 2, "--filter-port 7456"),
        c("capture -w x.pcap -c -1", 2, "without -c"),
        c("capture -w x.pcap -f udp", 2, "--filter-port P"),
        c("capture -w x.pcap -nn", 2, "leave -n out"),
        c("capture -w x.pcap -p", 2, "leave -p out"),
        c("capture -w x.pcap -s 0", 2, "leave -s out"),
        c("compare -w out", 2, "--out-dir out"),
        c("compare --dport 9", 2, "--port 9"),
        c("compare -i lo", 2, "--capture host"),
        c(
            "flow $F --svg out.svg",
            2,
            "use -o out.svg (the extension chooses the drawing",
        ),
        c("flow $F -w out.svg", 2, "-o out.svg"),
        c("flow $F -Y udp", 2, "lola expect record"),
        c("flow $F -i lo", 2, "lola capture -i lo"),
        c("flow $F --port 7456", 2, "lola check --dst-port P"),
        c("flow $F -c 3", 2, "it reads the whole capture"),
        c("diff -r $F $F", 2, "lola diff EXPECTED ACTUAL"),
        c("diff $F $F -o out.xml", 2, "--junit out.xml"),
        c("diff $F $F --port 7456", 2, "lola check --dst-port P"),
        c(
            "diff $F $F --ignore ip.ttl2",
            2,
            "did you mean --ignore ip.ttl?",
        ),
        c(
            "diff $F $F --ignore udp.dport",
            2,
            "did you mean --ignore udp.dstport?",
        ),
        c("exec --port 7456 -- true", 2, "--dst-port 7456"),
        c("exec -c 2 -- true", 2, "--exactly 2"),
        c("exec -i lo -- true", 2, "--host"),
        c(
            "exec --to 127.0.0.1:7456 -- true",
            2,
            "--dst 127.0.0.1:7456",
        ),
        c("expect show-default --port 7456", 2, "--dst-port 7456"),
        c("expect show-default -c 2", 2, "--exactly 2"),
        c("check $F --src-port 0x1z", 2, "0x0 to 0xffff"),
        // clap's own suggestion names the flag, not the hidden alias kept
        // for old command lines (--count).
        c(
            "check $F --cout 1",
            2,
            "a similar argument exists: '--exactly'",
        ),
        c(
            "capture -w x.pcap --cout 1",
            2,
            "a similar argument exists: '--max-frames'",
        ),
    ]
}

/// Words as a POSIX shell splits them (single quotes only).
fn split(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            '\\' if !quoted => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            ' ' if !quoted => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

/// The exit status and stderr of `lola` (or `binary`) on `args`, run in
/// `dir`.
fn run(binary: &std::path::Path, args: &[String], dir: &std::path::Path) -> (i32, String) {
    let mut cmd = std::process::Command::new(binary);
    cmd.args(args).current_dir(dir);
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The flags (`--x`) a command has, by the command's words (`check`,
/// `expect record`).
fn flags_of(words: &[&str]) -> Vec<String> {
    let mut cmd = args::Cli::command();
    cmd.build();
    let mut c = &cmd;
    for w in words {
        match c.find_subcommand(w) {
            Some(s) => c = s,
            None => return Vec::new(),
        }
    }
    c.get_arguments()
        .flat_map(|a| {
            a.get_long_and_visible_aliases()
                .unwrap_or_default()
                .into_iter()
                .map(|l| format!("--{l}"))
                .chain(
                    a.get_short_and_visible_aliases()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|s| format!("-{s}")),
                )
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every flag a first line offers as the fix (after the first `;`) exists:
/// in the command named there (`lola capture -i lo`), else in the command
/// that was run.
fn offered_flags_exist(command: &[String], first: &str) -> Result<(), String> {
    let Some((_, fix)) = first.split_once("; ") else {
        return Ok(());
    };
    let words: Vec<&str> = fix
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .collect();
    let mut own: Vec<&str> = vec![command[0].as_str()];
    if command[0] == "expect" {
        own.push(command[1].as_str());
    }
    let mut current = own.clone();
    for (i, w) in words.iter().enumerate() {
        if *w == "lola" {
            current = words[i + 1..]
                .iter()
                .take_while(|w| !w.starts_with('-') && !w.contains('.'))
                .copied()
                .take(2)
                .collect();
            if current.first() == Some(&"expect") {
                current.truncate(2);
            } else {
                current.truncate(1);
            }
            continue;
        }
        if w.starts_with("--")
            && w.len() > 2
            && w.chars().nth(2).is_some_and(|c| c.is_ascii_lowercase())
        {
            let flag = w
                .split('=')
                .next()
                .unwrap_or(w)
                .trim_end_matches([';', '.', '\'', '?']);
            let known = flags_of(&current);
            if !known.iter().any(|k| k == flag) {
                return Err(format!(
                    "{flag} is not a flag of lola {}",
                    current.join(" ")
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn every_mistake_gets_a_fix_that_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let lola = assert_cmd::cargo::cargo_bin("lola");
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut problems = Vec::new();
    for (args, code, fix) in &cases {
        let (got, stderr) = run(&lola, args, root);
        let first = stderr.lines().next().unwrap_or_default();
        let line = args.join(" ");
        if got != *code {
            problems.push(format!("lola {line}: exit {got}, not {code}: {stderr}"));
        }
        if !first.starts_with("lola: ") || !first.contains(fix) {
            problems.push(format!(
                "lola {line}: first line {first:?} does not say {fix:?}"
            ));
        }
        if let Err(e) = offered_flags_exist(args, first) {
            problems.push(format!("lola {line}: {first:?}: {e}"));
        }
        for tried in stderr
            .lines()
            .filter_map(|l| l.trim().strip_prefix("try: "))
        {
            let words = split(tried);
            if let Err(e) = args::Cli::try_parse_from(&words) {
                problems.push(format!(
                    "lola {line}: the suggested {tried:?} does not parse: {e}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    if let Some(before) = std::env::var_os("LOLA_MISTAKES_BEFORE") {
        let mut table = String::from(
            "| command line | exit before → after | first line before | first line after |\n|---|---|---|---|\n",
        );
        let mut fixed = 0;
        for (args, _, fix) in &cases {
            let (b_code, b_err) = run(std::path::Path::new(&before), args, root);
            let (a_code, a_err) = run(&lola, args, root);
            let b = b_err.lines().next().unwrap_or_default().replace('|', "\\|");
            let a = a_err.lines().next().unwrap_or_default().replace('|', "\\|");
            if !b.contains(fix) {
                fixed += 1;
            }
            table += &format!(
                "| `lola {}` | {b_code} → {a_code} | {b} | {a} |\n",
                args.join(" ").replace('|', "\\|")
            );
        }
        table += &format!(
            "\n{fixed} of {} first lines did not name the fix before.\n",
            cases.len()
        );
        std::fs::write(root.join("target/cli-mistakes.md"), table).unwrap();
    }
}

#[test]
fn a_hex_port_is_a_port() {
    common::lola()
        .args(["check", F, "--dst-port", "0x1d20", "--src-port", "0x9c40"])
        .assert()
        .code(0);
}

#[test]
fn flow_draws_what_the_extension_says() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("out.svg");
    common::lola()
        .args(["flow", F, "-o"])
        .arg(&svg)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{text}");
    let mmd = dir.path().join("out.mmd");
    common::lola()
        .args(["flow", F, "-o"])
        .arg(&mmd)
        .assert()
        .code(0);
    assert!(
        std::fs::read_to_string(&mmd)
            .unwrap()
            .contains("sequenceDiagram")
    );
}

#[test]
fn diff_ignore_takes_known_fields_only() {
    common::lola()
        .args([
            "diff",
            F,
            F,
            "--ignore",
            "ip.ttl",
            "--ignore",
            "udp.srcport",
        ])
        .assert()
        .code(0);
}

#[test]
fn without_privilege_the_hints_name_flags_the_command_has() {
    use common::sandbox::{Sandbox, drop_privileges, is_root};
    if !is_root() {
        eprintln!("SKIPPED: needs root to run as uid 65534");
        return;
    }
    let sandbox = Sandbox::new();
    let run = |args: &[&str]| {
        let words = drop_privileges();
        let out = std::process::Command::new(words[0])
            .args(&words[1..])
            .arg(&sandbox.lola)
            .args(args)
            .current_dir(sandbox.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = run(&["run", "--port", "0", "--capture", "host"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!stdout.contains("Just here on"), "{stdout}");
    assert!(stderr.contains("--capture private"), "{stderr}");
    let (code, _, stderr) = run(&["exec", "--host", "--", "true"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        !stderr.contains("--capture"),
        "exec has no --capture: {stderr}"
    );
    assert!(stderr.contains("without --host"), "{stderr}");
}

#[test]
fn version_names_the_build() {
    let out = common::lola().arg("--version").output().unwrap();
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    let expected = format!("lola {} (", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&expected), "{line}");
    assert!(
        line.trim_end().ends_with(')') && line.contains("linux"),
        "{line}"
    );
    let short = common::lola().arg("-V").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&short.stdout).trim(),
        format!("lola {}", env!("CARGO_PKG_VERSION"))
    );
}
