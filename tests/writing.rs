//! Writing like `tcpdump -w` without destroying what was there: a regular
//! file is replaced whole (or not at all), a symbolic link's target is
//! written and the link kept, a device, FIFO or socket is written in place.
//!
//! Tests that need root (device nodes, mounts, other users) make their
//! changes inside a private mount namespace (`unshare -m`) on a tmpfs of
//! their own, so the machine's real `/dev` is never at risk; without root
//! or `unshare` they say they were skipped (and fail under CI=true).

mod common;

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::time::{Duration, Instant};

use common::{can_unshare, have, in_ci, lola};
use lola::capture::{CaptureFrame, Format, check_writable, write_capture};
use predicates::str::contains;

const BUILD: [&str; 5] = [
    "build",
    "--src",
    "127.0.0.1:40000",
    "--dst",
    "127.0.0.1:7456",
];

/// The bytes `lola build` writes for the seed datagram (as `-o -` does).
fn seed_capture() -> Vec<u8> {
    let output = lola().args(BUILD).args(["-o", "-"]).output().unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout.len(), 24 + 16 + 52);
    output.stdout
}

/// Names in `dir`, sorted: temporary files would show here.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `script` with `sh` in a private mount namespace whose mounts vanish
/// with it; `$LOLA` is the binary under test, `$1`... are `args`.
fn in_private_namespace(script: &str, args: &[&OsStr]) -> Output {
    let output = StdCommand::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-euc", script, "sh"])
        .args(args)
        .env("LOLA", assert_cmd::cargo::cargo_bin("lola"))
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_regular_file_is_replaced_whole_with_mode_0666_less_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hello.pcap");
    fs::write(&path, b"the old capture").unwrap();
    let mut old = fs::File::open(&path).unwrap();
    let status = StdCommand::new("sh")
        .args(["-c", "umask 027 && exec \"$0\" \"$@\""])
        .arg(assert_cmd::cargo::cargo_bin("lola"))
        .args(BUILD)
        .arg("-o")
        .arg(&path)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(fs::read(&path).unwrap(), seed_capture());
    assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o640);
    // Renamed into place: a reader of the old file still reads it whole.
    let mut before = String::new();
    old.read_to_string(&mut before).unwrap();
    assert_eq!(before, "the old capture");
    assert_eq!(names_in(dir.path()), ["hello.pcap"]);
}

#[test]
fn a_symlink_is_followed_and_its_target_replaced_with_the_link_kept() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("data")).unwrap();
    fs::create_dir_all(dir.path().join("links")).unwrap();
    let target = dir.path().join("data/target.pcap");
    fs::write(&target, b"old").unwrap();
    let old_inode = fs::metadata(&target).unwrap().ino();
    let link = dir.path().join("links/link.pcap");
    symlink("../data/target.pcap", &link).unwrap();
    lola()
        .args(BUILD)
        .arg("-o")
        .arg(&link)
        .assert()
        .success()
        .stdout(contains("wrote"));
    assert_eq!(
        fs::read_link(&link).unwrap(),
        Path::new("../data/target.pcap")
    );
    assert_eq!(fs::read(&target).unwrap(), seed_capture());
    assert_ne!(
        fs::metadata(&target).unwrap().ino(),
        old_inode,
        "replaced by a rename, not rewritten in place"
    );
    assert_eq!(names_in(&dir.path().join("data")), ["target.pcap"]);
    assert_eq!(names_in(&dir.path().join("links")), ["link.pcap"]);
}

#[test]
fn a_dangling_symlink_creates_its_target() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("elsewhere")).unwrap();
    let link = dir.path().join("new.pcap");
    symlink("elsewhere/created.pcap", &link).unwrap();
    lola().args(BUILD).arg("-o").arg(&link).assert().success();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read(dir.path().join("elsewhere/created.pcap")).unwrap(),
        seed_capture()
    );
}

#[test]
fn a_chain_of_symlinks_is_followed_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b", "c"] {
        fs::create_dir(dir.path().join(sub)).unwrap();
    }
    // a/first -> ../b/second -> /abs/c/last.pcap (absolute), last not there yet
    let last = dir.path().join("c/last.pcap");
    symlink("../b/second", dir.path().join("a/first")).unwrap();
    symlink(&last, dir.path().join("b/second")).unwrap();
    lola()
        .args(BUILD)
        .arg("-o")
        .arg(dir.path().join("a/first"))
        .assert()
        .success();
    assert_eq!(fs::read(&last).unwrap(), seed_capture());
    for link in ["a/first", "b/second"] {
        let meta = fs::symlink_metadata(dir.path().join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} is still a link");
    }
    assert_eq!(names_in(&dir.path().join("a")), ["first"]);
    assert_eq!(names_in(&dir.path().join("b")), ["second"]);
}

#[test]
fn loops_directories_and_missing_directories_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    symlink("loop-b", at("loop-a")).unwrap();
    symlink("loop-a", at("loop-b")).unwrap();
    fs::create_dir(at("dir")).unwrap();
    symlink("dir", at("to-dir")).unwrap();
    symlink("missing/x.pcap", at("into-nothing")).unwrap();
    for (name, words) in [
        ("loop-a", "too many levels of symbolic links"),
        ("to-dir", "is a directory"),
        ("dir", "is a directory"),
        ("into-nothing", "no such file or directory"),
    ] {
        lola()
            .args(BUILD)
            .arg("-o")
            .arg(at(name))
            .assert()
            .code(2)
            .stderr(format!("lola: {}: {words}\n", at(name).display()));
    }
    assert_eq!(
        names_in(dir.path()),
        ["dir", "into-nothing", "loop-a", "loop-b", "to-dir"]
    );
    assert!(names_in(&at("dir")).is_empty());
}

#[test]
fn a_fifo_is_written_through_to_its_reader() {
    if !have("tcpdump") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.pcap");
    let status = StdCommand::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let mut reader = StdCommand::new("tcpdump")
        .args(["-nn", "-r"])
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let written = lola()
        .args(BUILD)
        .arg("-o")
        .arg(&fifo)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    // Should lola have replaced the FIFO, tcpdump would wait for a writer forever.
    let deadline = Instant::now() + Duration::from_secs(20);
    while reader.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if reader.try_wait().unwrap().is_none() {
        reader.kill().unwrap();
    }
    let read = reader.wait_with_output().unwrap();
    assert!(written.status.success(), "{}", text(&written.stderr));
    assert!(
        text(&read.stdout).contains("IP 127.0.0.1.40000 > 127.0.0.1.7456: UDP, length 10"),
        "tcpdump read: {}{}",
        text(&read.stdout),
        text(&read.stderr)
    );
    assert!(read.status.success(), "{}", text(&read.stderr));
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(names_in(dir.path()), ["pipe.pcap"]);
}

#[test]
fn a_unix_socket_is_connected_to_and_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("listener.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    // Not blocking: should lola replace the socket, nobody would connect.
    listener.set_nonblocking(true).unwrap();
    let reader = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => return Err(e),
            }
        };
        stream.set_nonblocking(false)?;
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes)?;
        Ok(bytes)
    });
    lola()
        .args(BUILD)
        .arg("-o")
        .arg(&path)
        .timeout(Duration::from_secs(20))
        .assert()
        .success();
    assert_eq!(reader.join().unwrap().unwrap(), seed_capture());
    assert!(fs::metadata(&path).unwrap().file_type().is_socket());
}

#[test]
fn a_character_device_is_written_through_and_stays_a_device() {
    if !can_unshare() {
        return;
    }
    // A /dev of our own: the machine's /dev/null is never touched.
    let out = in_private_namespace(
        r#"mount -t tmpfs tmpfs /dev
           mknod /dev/null c 1 3
           mknod /dev/full c 1 7
           "$LOLA" build --src 127.0.0.1:40000 --dst 127.0.0.1:7456 -o /dev/null
           stat -c '%F %t:%T' /dev/null
           if "$LOLA" build --src 127.0.0.1:40000 --dst 127.0.0.1:7456 -o /dev/full 2>/dev/null; then
               echo "/dev/full accepted the capture"
           fi
           stat -c '%F %t:%T' /dev/full
           ls -A /dev"#,
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "wrote /dev/null (pcap, 1 frame, 92 bytes): 127.0.0.1:40000 → 127.0.0.1:7456 UDP 52 Len=10\n\
         character special file 1:3\n\
         character special file 1:7\n\
         full\nnull\n"
    );
}

#[test]
fn a_full_device_says_no_space_left_naming_it() {
    if !can_unshare() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = in_private_namespace(
        r#"mount -t tmpfs tmpfs "$1"
           mknod "$1/full" c 1 7
           exec "$LOLA" build --src 127.0.0.1:40000 --dst 127.0.0.1:7456 -o "$1/full""#,
        &[dir.path().as_os_str()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim_end(),
        format!(
            "lola: {}/full: no space left on device",
            dir.path().display()
        )
    );
}

#[test]
fn a_block_device_is_refused_and_left_alone() {
    if !can_unshare() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = in_private_namespace(
        r#"mount -t tmpfs tmpfs "$1"
           mknod "$1/disk" b 7 0
           if "$LOLA" build --src 127.0.0.1:40000 --dst 127.0.0.1:7456 -o "$1/disk"; then
               echo accepted
           fi
           stat -c '%F %t:%T' "$1/disk"
           ls -A "$1""#,
        &[dir.path().as_os_str()],
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "block special file 7:0\ndisk\n");
    assert!(text(&out.stderr).contains(&format!(
        "lola: {}/disk: is a block device; captures go to files, character devices, FIFOs or sockets",
        dir.path().display()
    )));
}

#[test]
fn dev_stdout_writes_into_the_pipe_and_stays_a_link() {
    if !can_unshare() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let piped = dir.path().join("piped");
    // A /dev of our own with the usual link, as udev makes it.
    let out = in_private_namespace(
        r#"mount -t tmpfs tmpfs /dev
           ln -s /proc/self/fd/1 /dev/stdout
           "$LOLA" build --src 127.0.0.1:40000 --dst 127.0.0.1:7456 -o /dev/stdout | cat > "$1"
           readlink /dev/stdout
           ls -A /dev"#,
        &[piped.as_os_str()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "/proc/self/fd/1\nstdout\n");
    let bytes = fs::read(&piped).unwrap();
    let seed = seed_capture();
    // `lola build` prints its summary line on stdout after the capture
    // unless told the capture went there (capture::is_standard_output).
    assert_eq!(&bytes[..seed.len()], &seed[..], "the capture comes first");
}

#[test]
fn a_symlink_to_another_file_system_is_written_beside_its_target() {
    if !can_unshare() {
        return;
    }
    // The temporary file must sit beside the target: renamed from the
    // link's directory it would fail with EXDEV.
    let dir = tempfile::tempdir().unwrap();
    let out = in_private_namespace(
        r#"mkdir "$1/other"
           mount -t tmpfs tmpfs "$1/other"
           ln -s other/target.pcap "$1/link.pcap"
           "$LOLA" build --src 127.0.0.1:40000 --dst 127.0.0.1:7456 -o "$1/link.pcap" > /dev/null
           ls -A "$1/other"
           od -An -tx1 -N4 "$1/other/target.pcap""#,
        &[dir.path().as_os_str()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "target.pcap\n d4 c3 b2 a1\n");
    assert_eq!(names_in(dir.path()), ["link.pcap", "other"]);
}

#[test]
fn a_full_disk_fails_naming_the_file_keeping_the_old_one_and_no_temporary() {
    if !can_unshare() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 20,000 bytes of payload: more than the 8 KiB the file system holds.
    let big = "x".repeat(20_000);
    let out = in_private_namespace(
        r#"mount -t tmpfs -o size=8k tmpfs "$1"
           "$LOLA" build --src 127.0.0.1:40000 --dst 127.0.0.1:7456 -o "$1/old.pcap" > /dev/null
           cp "$1/old.pcap" "$1.before"
           for name in old.pcap new.pcap; do
               if "$LOLA" build --src 127.0.0.1:40000 --dst 127.0.0.1:7456 --message "$2" -o "$1/$name"; then
                   echo "$name written"
               fi
           done
           cmp "$1/old.pcap" "$1.before" && echo "old.pcap intact"
           ls -A "$1""#,
        &[dir.path().as_os_str(), OsStr::new(&big)],
    );
    fs::remove_file(format!("{}.before", dir.path().display())).ok();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "old.pcap intact\nold.pcap\n");
    let stderr = text(&out.stderr);
    for name in ["old.pcap", "new.pcap"] {
        let line = format!(
            "lola: {}/{name}: no space left on device",
            dir.path().display()
        );
        assert!(stderr.contains(&line), "{stderr}");
    }
}

#[test]
fn an_unwritable_directory_fails_with_permission_denied_for_another_user() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        assert!(!in_ci(), "root is required in CI (CI=true)");
        eprintln!("SKIPPED: runuser needs root; this test did not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let out = StdCommand::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(assert_cmd::cargo::cargo_bin("lola"))
        .args(BUILD)
        .arg("-o")
        .arg(dir.path().join("x.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!("lola: {}/x.pcap: permission denied\n", dir.path().display())
    );
    assert!(names_in(dir.path()).is_empty());
}

// check_writable: the library's answer before any work is done.

/// Runs `f` on a thread of its own in a private mount namespace: mounts it
/// makes vanish when the thread ends, and nothing else sees them. `None`
/// (skipped loudly; a failure in CI) where unshare is not permitted.
fn on_private_mount_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let outcome = std::thread::spawn(move || {
        // SAFETY: unshare and mount with constant arguments; CLONE_NEWNS
        // applies to this thread only (it implies CLONE_FS, which a thread
        // may unshare).
        unsafe {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let root = c"/";
            if libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(f())
    })
    .join()
    .unwrap();
    match outcome {
        Ok(value) => Some(value),
        Err(e) => {
            assert!(!in_ci(), "a private mount namespace is required in CI: {e}");
            eprintln!("SKIPPED: cannot unshare the mount namespace ({e}); this test did not run");
            None
        }
    }
}

fn mount_tmpfs(at: &Path, flags: libc::c_ulong, options: &str) {
    use std::os::unix::ffi::OsStrExt;
    let target = std::ffi::CString::new(at.as_os_str().as_bytes()).unwrap();
    let options = std::ffi::CString::new(options).unwrap();
    // SAFETY: NUL-terminated strings alive for the call.
    let rc = unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            flags,
            options.as_ptr().cast(),
        )
    };
    assert_eq!(
        rc,
        0,
        "mount tmpfs on {at:?}: {}",
        std::io::Error::last_os_error()
    );
}

/// The words of check_writable's error, or "ok".
fn verdict(path: &Path) -> String {
    match check_writable(path) {
        Ok(()) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn check_writable_refuses_a_read_only_file_system_but_not_its_devices() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_path_buf();
    let checked = on_private_mount_thread(move || {
        mount_tmpfs(&base, 0, "");
        fs::write(base.join("old.pcap"), b"old").unwrap();
        let status = StdCommand::new("mknod")
            .arg(base.join("null"))
            .args(["c", "1", "3"])
            .status()
            .unwrap();
        assert!(status.success());
        // Remounted read-only, as a full or failing disk often is.
        mount_tmpfs(&base, libc::MS_REMOUNT | libc::MS_RDONLY, "");
        ["new.pcap", "old.pcap", "null"]
            .iter()
            .map(|name| (name.to_string(), verdict(&base.join(name))))
            .collect::<Vec<_>>()
    });
    let Some(checked) = checked else { return };
    let at = |name: &str| dir.path().join(name).display().to_string();
    assert_eq!(
        checked,
        [
            (
                "new.pcap".to_string(),
                format!("{}: read-only file system", at("new.pcap"))
            ),
            (
                "old.pcap".to_string(),
                format!("{}: read-only file system", at("old.pcap"))
            ),
            ("null".to_string(), "ok".to_string()),
        ]
    );
}

#[test]
fn check_writable_says_no_space_left_on_a_full_file_system() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_path_buf();
    let checked = on_private_mount_thread(move || {
        mount_tmpfs(&base, 0, "size=8k");
        let before = verdict(&base.join("x.pcap"));
        // Fill it: write until the file system refuses.
        let mut filler = fs::File::create(base.join("filler")).unwrap();
        let chunk = [0u8; 1024];
        while std::io::Write::write_all(&mut filler, &chunk).is_ok() {}
        drop(filler);
        let after = verdict(&base.join("x.pcap"));
        let frame = CaptureFrame {
            timestamp: Duration::ZERO,
            data: std::borrow::Cow::Owned(vec![0; 60]),
            comment: None,
            flags: None,
        };
        let written = write_capture(&base.join("x.pcap"), Format::Pcap, &[frame])
            .map(|_| ())
            .map_err(|e| e.to_string());
        (before, after, written, names_in(&base))
    });
    let Some((before, after, written, names)) = checked else {
        return;
    };
    let full = format!(
        "{}: no space left on device",
        dir.path().join("x.pcap").display()
    );
    assert_eq!(before, "ok");
    assert_eq!(after, full);
    assert_eq!(written, Err(full), "the writer agrees");
    assert_eq!(names, ["filler"], "no temporary file left");
}

#[test]
fn check_writable_answers_for_another_user() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_path_buf();
    let checked = on_private_mount_thread(move || {
        mount_tmpfs(&base, 0, "mode=0755");
        let root_only = base.join("root-only");
        let theirs = base.join("nobodys");
        let sticky = base.join("sticky");
        for (sub, mode) in [(&root_only, 0o755), (&theirs, 0o755), (&sticky, 0o1777)] {
            fs::create_dir(sub).unwrap();
            fs::set_permissions(sub, fs::Permissions::from_mode(mode)).unwrap();
        }
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        fs::write(sticky.join("roots.pcap"), b"root's").unwrap();
        fs::set_permissions(sticky.join("roots.pcap"), fs::Permissions::from_mode(0o666)).unwrap();
        let status = StdCommand::new("mkfifo")
            .args(["-m", "0644"])
            .arg(base.join("fifo"))
            .status()
            .unwrap();
        assert!(status.success());
        // Become nobody on this thread only (the raw system calls, not
        // libc's wrappers, which would change every thread of the process).
        // SAFETY: plain system calls with constant arguments.
        unsafe {
            assert_eq!(
                libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()),
                0
            );
            assert_eq!(libc::syscall(libc::SYS_setresgid, 65534, 65534, 65534), 0);
            assert_eq!(libc::syscall(libc::SYS_setresuid, 65534, 65534, 65534), 0);
        }
        [
            root_only.join("x.pcap"),
            theirs.join("x.pcap"),
            sticky.join("new.pcap"),
            sticky.join("roots.pcap"),
            base.join("fifo"),
            PathBuf::from("/dev/null"),
        ]
        .iter()
        .map(|p| verdict(p))
        .collect::<Vec<_>>()
    });
    let Some(checked) = checked else { return };
    let at = |name: &str| dir.path().join(name).display().to_string();
    assert_eq!(
        checked,
        [
            format!("{}: permission denied", at("root-only/x.pcap")),
            "ok".to_string(),
            "ok".to_string(),
            format!("{}: permission denied", at("sticky/roots.pcap")),
            format!("{}: permission denied", at("fifo")),
            "ok".to_string(),
        ]
    );
}
