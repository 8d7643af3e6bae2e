//! Build script: the long `--version` line, `0.2.0 (commit abc1234
//! 2026-12-05, x86_64-unknown-linux-gnu)`, from git when the source is a
//! checkout, and `0.2.0 (x86_64-unknown-linux-gnu)` when it is not (a
//! tarball, a crate from crates.io). The date is the commit's, so two builds
//! of one commit say the same.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let target = std::env::var("TARGET").unwrap_or_default();
    // Only a checkout of this package counts: a tarball unpacked inside
    // some other repository must not borrow that repository's commit.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let ours = git(&["-C", &manifest, "rev-parse", "--show-toplevel"])
        .is_some_and(|top| std::path::Path::new(&top) == std::path::Path::new(&manifest));
    let commit = ours
        .then(|| git(&["-C", &manifest, "log", "-1", "--format=%h %cs"]))
        .flatten();
    let long = match commit {
        Some(c) => format!("{version} (commit {c}, {target})"),
        None => format!("{version} ({target})"),
    };
    println!("cargo:rustc-env=LOLA_LONG_VERSION={long}");
    if ours {
        for path in ["HEAD", "packed-refs"] {
            if let Some(p) = git(&["-C", &manifest, "rev-parse", "--git-path", path]) {
                let p = std::path::Path::new(&manifest).join(p);
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
        if let Some(head) = git(&["-C", &manifest, "symbolic-ref", "-q", "HEAD"])
            && let Some(p) = git(&["-C", &manifest, "rev-parse", "--git-path", &head])
        {
            let p = std::path::Path::new(&manifest).join(p);
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
