//! Outputs as safe as `tcpdump -w` when lola runs as root: in a sticky
//! world-writable directory (like `/tmp`), a symbolic link another user
//! planted is not followed, and a file or FIFO they planted is not opened,
//! whatever the machine's `fs.protected_*` sysctls say; every output
//! (`-o`, `--junit`, `--report`, `--emit`, `--svg`, `flow -o`,
//! `GITHUB_STEP_SUMMARY`) keeps the rule; a refusal is exit 2 naming the
//! link, its owner and the rule, before any work. Nothing lola writes to a
//! FIFO or a device is read back through it; an interrupted output leaves
//! no temporary file.
//!
//! The planted cases run as root in a private mount namespace (`unshare
//! -m`) on a tmpfs of their own, with the planting done by `nobody`
//! through `setpriv`.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command as StdCommand, Output, Stdio};
use std::time::{Duration, Instant};

use common::{have, in_ci, lola};

/// Root, `unshare` and `setpriv`, or a loud skip (a failure in CI).
fn can_plant() -> bool {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let ok = root
        && have("setpriv")
        && StdCommand::new("unshare")
            .args(["-m", "true"])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        assert!(!in_ci(), "root, unshare -m and setpriv are required in CI");
        eprintln!("SKIPPED: needs root, unshare -m and setpriv; this test did not run");
    }
    ok
}

/// Runs `script` with `sh` in a private mount namespace where `$B` is a
/// fresh tmpfs (mode 0755, root's) holding `$S`, a sticky world-writable
/// directory (mode 1777, root's), and `$R`, a root-only directory with a
/// root-owned `$R/victim`; `$AS_NOBODY cmd...` runs a command as nobody;
/// `$LOLA` is the binary under test, `$BUILD` its arguments for the seed
/// datagram and `$SEED` a capture to check.
fn in_shared_dir(script: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let setup = r#"
        mount -t tmpfs -o mode=0755 tmpfs "$B"
        S="$B/shared"; R="$B/root-only"
        mkdir -m 1777 "$S"; mkdir -m 0700 "$R"
        printf 'root secret' > "$R/victim"
        AS_NOBODY="setpriv --reuid 65534 --regid 65534 --clear-groups"
        SEED="$B/seed.pcap"
        BUILD="build --src 127.0.0.1:40000 --dst 127.0.0.1:7456"
        "$LOLA" $BUILD -o "$SEED" > /dev/null
    "#;
    let output = StdCommand::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-euc"])
        .arg(format!("{setup}\n{script}"))
        .env("B", dir.path())
        .env("LOLA", assert_cmd::cargo::cargo_bin("lola"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    eprintln!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The lines of `out` that start with `word`.
fn lines<'a>(out: &'a str, word: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.starts_with(word)).collect()
}

#[test]
fn a_link_planted_by_another_user_to_roots_file_is_refused_naming_link_owner_and_rule() {
    if !can_plant() {
        return;
    }
    let o = in_shared_dir(
        r#"
        $AS_NOBODY ln -s "$R/victim" "$S/out.pcap"
        set +e
        "$LOLA" $BUILD -o "$S/out.pcap" 2> "$B/err"
        echo "exit $?"
        echo "said $(cat "$B/err")"
        echo "victim $(cat "$R/victim")"
        "#,
    );
    let out = stdout(&o);
    assert!(o.status.success());
    assert_eq!(lines(&out, "exit"), ["exit 2"]);
    let said = lines(&out, "said")[0];
    for words in [
        "refusing to follow",
        "shared/out.pcap, a symbolic link owned by nobody (uid 65534)",
        "in the sticky world-writable directory",
        "protected_symlinks",
    ] {
        assert!(said.contains(words), "{said}");
    }
    assert_eq!(lines(&out, "victim"), ["victim root secret"]);
}

#[test]
fn a_dangling_link_planted_by_another_user_creates_nothing() {
    if !can_plant() {
        return;
    }
    let o = in_shared_dir(
        r#"
        $AS_NOBODY ln -s "$R/planted.pcap" "$S/out.pcap"
        set +e
        "$LOLA" $BUILD -o "$S/out.pcap" 2> /dev/null
        echo "exit $?"
        ls "$R"
        "#,
    );
    let out = stdout(&o);
    assert_eq!(lines(&out, "exit"), ["exit 2"]);
    assert!(!out.contains("planted.pcap"), "{out}");
}

#[test]
fn a_link_planted_in_a_middle_component_is_refused_too() {
    if !can_plant() {
        return;
    }
    let o = in_shared_dir(
        r#"
        $AS_NOBODY ln -s "$R" "$S/sub"
        set +e
        "$LOLA" $BUILD -o "$S/sub/x.pcap" 2> "$B/err"
        echo "exit $?"
        echo "said $(cat "$B/err")"
        # Missing directories after the link are not made through it.
        "$LOLA" check "$SEED" --junit "$S/sub/deeper/r.xml" > /dev/null 2>&1
        echo "junit exit $?"
        ls "$R"
        "#,
    );
    let out = stdout(&o);
    assert_eq!(lines(&out, "exit"), ["exit 2"]);
    assert_eq!(lines(&out, "junit"), ["junit exit 2"]);
    assert!(!out.contains("deeper"), "{out}");
    assert!(
        lines(&out, "said")[0].contains("shared/sub, a symbolic link owned by nobody"),
        "{out}"
    );
    assert!(
        !out.contains("x.pcap\n"),
        "nothing created in the root-only directory"
    );
}

#[test]
fn a_fifo_planted_by_another_user_is_refused_at_once_not_waited_on() {
    if !can_plant() {
        return;
    }
    let started = Instant::now();
    let o = in_shared_dir(
        r#"
        $AS_NOBODY mkfifo -m 0666 "$S/out.pcap"
        set +e
        timeout 20 "$LOLA" $BUILD -o "$S/out.pcap" 2> "$B/err"
        echo "exit $?"
        echo "said $(cat "$B/err")"
        "#,
    );
    let out = stdout(&o);
    assert_eq!(lines(&out, "exit"), ["exit 2"], "124 would be a hang");
    let said = lines(&out, "said")[0];
    assert!(
        said.contains("a FIFO owned by nobody (uid 65534)") && said.contains("protected_fifos"),
        "{said}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn a_file_planted_by_another_user_is_left_alone() {
    if !can_plant() {
        return;
    }
    let o = in_shared_dir(
        r#"
        $AS_NOBODY sh -c 'printf theirs > "$1"' sh "$S/out.pcap"
        set +e
        "$LOLA" $BUILD -o "$S/out.pcap" 2> "$B/err"
        echo "exit $?"
        echo "said $(cat "$B/err")"
        echo "file $(cat "$S/out.pcap")"
        "#,
    );
    let out = stdout(&o);
    assert_eq!(lines(&out, "exit"), ["exit 2"]);
    assert!(
        lines(&out, "said")[0].contains("protected_regular"),
        "{out}"
    );
    assert_eq!(lines(&out, "file"), ["file theirs"]);
}

#[test]
fn every_output_keeps_the_rule_and_links_of_the_caller_or_directory_owner_still_work() {
    if !can_plant() {
        return;
    }
    let o = in_shared_dir(
        r#"
        $AS_NOBODY ln -s "$R/victim" "$S/link"
        set +e
        for args in "check $SEED --junit $S/link" "check $SEED --emit $S/link" \
                    "check $SEED --report $S/link" "flow $SEED -o $S/link" \
                    "compare --port 0 --capture off --out-dir $B -o $S/link"; do
            "$LOLA" $args > /dev/null 2>&1
            echo "exit $? for $args" | sed "s|$B|B|g"
        done
        GITHUB_STEP_SUMMARY="$S/link" "$LOLA" check "$SEED" > /dev/null 2> "$B/err"
        echo "summary exit $?: $(grep -c 'refusing to follow' "$B/err")"
        echo "victim $(cat "$R/victim")"
        # Root's own link in the shared directory, and the directory owner's: followed.
        ln -s "$B/mine.pcap" "$S/mine"
        "$LOLA" $BUILD -o "$S/mine" > /dev/null
        echo "own link exit $? $(wc -c < "$B/mine.pcap")"
        mkdir -m 1777 "$B/theirs"; chown 65534 "$B/theirs"
        $AS_NOBODY ln -s "$B/owners.pcap" "$B/theirs/link"
        "$LOLA" $BUILD -o "$B/theirs/link" > /dev/null
        echo "owner's link exit $? $(wc -c < "$B/owners.pcap")"
        "#,
    );
    let out = stdout(&o);
    for args in [
        "check B/seed.pcap --junit B/shared/link",
        "check B/seed.pcap --emit B/shared/link",
        "check B/seed.pcap --report B/shared/link",
        "flow B/seed.pcap -o B/shared/link",
        "compare --port 0 --capture off --out-dir B -o B/shared/link",
    ] {
        assert!(
            out.contains(&format!("exit 2 for {args}\n")),
            "{args}: {out}"
        );
    }
    assert_eq!(
        lines(&out, "summary"),
        ["summary exit 0: 1"],
        "a warning, the verdict stands"
    );
    assert_eq!(lines(&out, "victim"), ["victim root secret"]);
    assert_eq!(lines(&out, "own link"), ["own link exit 0 92"]);
    assert_eq!(lines(&out, "owner's link"), ["owner's link exit 0 92"]);
}

#[test]
fn a_fifo_with_a_reader_gets_the_capture_and_run_exits() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("p.pcap");
    assert!(
        StdCommand::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let copy = dir.path().join("copy.pcap");
    let mut reader = StdCommand::new("sh")
        .args(["-c", "cat \"$1\" > \"$2\"", "sh"])
        .arg(&fifo)
        .arg(&copy)
        .spawn()
        .unwrap();
    let run = lola()
        .args(["run", "--port", "0", "--capture", "off", "-o"])
        .arg(&fifo)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let _ = reader.wait();
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(said.contains("PASS"), "{said}");
    assert_eq!(common::frames_of(&copy).len(), 1);
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

use std::os::unix::fs::FileTypeExt;

#[test]
fn dev_null_is_an_output_for_run_and_exec() {
    lola()
        .args(["run", "--port", "0", "--capture", "off", "-o", "/dev/null"])
        .timeout(Duration::from_secs(20))
        .assert()
        .success();
    let sandbox = StdCommand::new("unshare")
        .args(["-rn", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !sandbox {
        assert!(!in_ci(), "user namespaces are required in CI");
        eprintln!("SKIPPED: exec needs a private lo; the exec half did not run");
        return;
    }
    lola()
        .args([
            "exec",
            "-o",
            "/dev/null",
            "--any-payload",
            "--at-least",
            "0",
            "--",
        ])
        .args(["sh", "-c", "true"])
        .timeout(Duration::from_secs(20))
        .assert()
        .success();
}

/// A capture of `frames` copies of the seed frame, as lola writes it.
fn big_capture(path: &Path, frames: usize) {
    let seed = lola()
        .args([
            "build",
            "--src",
            "127.0.0.1:40000",
            "--dst",
            "127.0.0.1:7456",
        ])
        .args(["-o", "-"])
        .output()
        .unwrap()
        .stdout;
    let (header, record) = seed.split_at(24);
    let mut bytes = Vec::with_capacity(24 + record.len() * frames);
    bytes.extend_from_slice(header);
    for _ in 0..frames {
        bytes.extend_from_slice(record);
    }
    fs::write(path, bytes).unwrap();
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn sigint_or_sigterm_during_emit_leaves_the_old_file_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("big.pcap");
    big_capture(&capture, 400_000);
    let rows = dir.path().join("rows.ndjson");
    for signal in [libc::SIGINT, libc::SIGTERM] {
        fs::write(&rows, b"old rows\n").unwrap();
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("lola"))
            .arg("check")
            .arg(&capture)
            .arg("--emit")
            .arg(&rows)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the temporary file is there and growing.
        let deadline = Instant::now() + Duration::from_secs(30);
        let partial = loop {
            let part = names_in(dir.path())
                .into_iter()
                .find(|n| n.starts_with(".lola-"));
            if let Some(part) = part
                && fs::metadata(dir.path().join(&part)).is_ok_and(|m| m.len() > 0)
            {
                break part;
            }
            assert!(Instant::now() < deadline, "no temporary file appeared");
            std::thread::sleep(Duration::from_millis(5));
        };
        // SAFETY: kill(2) on the child's own pid.
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
        let status = child.wait().unwrap();
        assert!(!status.success(), "interrupted before the end ({partial})");
        assert_eq!(names_in(dir.path()), ["big.pcap", "rows.ndjson"]);
        assert_eq!(fs::read(&rows).unwrap(), b"old rows\n");
    }
}

#[test]
fn a_step_summary_naming_a_fifo_no_one_reads_is_a_warning_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("summary");
    assert!(
        StdCommand::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = lola()
        .arg("check")
        .arg(common::fixture("hello-lola.pcap"))
        .env("GITHUB_STEP_SUMMARY", &fifo)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot append the summary: is a FIFO no one reads"),
        "{stderr}"
    );
}

#[test]
fn sigint_during_emit_of_several_captures_leaves_no_parts_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.pcap"), dir.path().join("b.pcap"));
    big_capture(&a, 300_000);
    fs::copy(&a, &b).unwrap();
    let rows = dir.path().join("rows.ndjson");
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("lola"))
        .arg("check")
        .args([&a, &b])
        .arg("--emit")
        .arg(&rows)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the parts directory holds a growing part.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let parts = names_in(dir.path())
            .into_iter()
            .find(|n| n.starts_with(".lola-") && dir.path().join(n).is_dir());
        let growing = parts.is_some_and(|p| {
            fs::read_dir(dir.path().join(p))
                .map(|entries| {
                    entries
                        .flatten()
                        .any(|e| e.metadata().is_ok_and(|m| m.len() > 0))
                })
                .unwrap_or(false)
        });
        if growing {
            break;
        }
        assert!(Instant::now() < deadline, "no part appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: kill(2) on the child's own pid.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    assert!(!child.wait().unwrap().success());
    assert_eq!(names_in(dir.path()), ["a.pcap", "b.pcap"]);
}
