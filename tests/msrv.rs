//! The minimum Rust version is stated once (`rust-version` in Cargo.toml),
//! repeated in the README's install section and in docs/cli.md, and built: `cargo check --locked --all-targets`
//! with that toolchain (`rustup run 1.93`), in a target directory of its own
//! (`target/msrv`) so it never waits for the main build's lock. `.ci/run`
//! installs the toolchain; without it the build is skipped, loudly, except
//! under CI=true, where it fails.

mod common;

use std::path::Path;
use std::process::Command;

use common::{in_ci, text};

/// The toolchain this test builds with; Cargo.toml must say the same.
const MSRV: &str = "1.93";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `cargo ARGS` with `toolchain`, through rustup, free of what the running
/// `cargo test` put in the environment for its own toolchain.
fn cargo(toolchain: &str, args: &[&str]) -> Command {
    let mut c = Command::new("rustup");
    c.args(["run", toolchain, "cargo"])
        .args(args)
        .current_dir(manifest_dir());
    for var in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTUP_TOOLCHAIN",
        "CARGO_TARGET_DIR",
    ] {
        c.env_remove(var);
    }
    // Installing toolchains is .ci/run's job, never a test's.
    c.env("RUSTUP_AUTO_INSTALL", "0");
    c
}

/// A version such as `1.85` or `1.85.0` as numbers, to compare.
fn version(v: &str) -> Vec<u64> {
    let mut parts: Vec<u64> = v
        .split('.')
        .map(|p| p.parse().unwrap_or_else(|_| panic!("version {v:?}")))
        .collect();
    parts.resize(3, 0);
    parts
}

/// Cargo.toml's `rust-version`.
fn stated() -> String {
    let manifest = std::fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap();
    let value: toml::Table = toml::from_str(&manifest).unwrap();
    value["package"]["rust-version"]
        .as_str()
        .expect("rust-version in Cargo.toml")
        .to_string()
}

#[test]
fn the_stated_minimum_is_the_one_built_and_the_docs_say_it() {
    assert_eq!(stated(), MSRV, "Cargo.toml's rust-version");
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("with Rust {MSRV} or later")),
        "the README's install section names {MSRV}"
    );
    let readme = std::fs::read_to_string(manifest_dir().join("docs/cli.md")).unwrap();
    let section = &readme[readme.find("## Minimum Rust version").expect("the section")..];
    assert!(
        section.contains(&format!("lola builds with Rust {MSRV} or later"))
            && section.contains(&format!("`rust-version = \"{MSRV}\"`")),
        "docs/cli.md's Minimum Rust version section names {MSRV}"
    );
}

/// No dependency (normal, dev or build, on any platform) asks for more
/// than lola states, so the statement cannot drift below what they need.
#[test]
fn no_dependency_needs_a_newer_rust() {
    let o = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(manifest_dir())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let metadata: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    assert!(packages.len() > 50, "the whole dependency graph");
    let ours = version(&stated());
    let above: Vec<String> = packages
        .iter()
        .filter(|p| {
            p["rust_version"]
                .as_str()
                .is_some_and(|v| version(v) > ours)
        })
        .map(|p| format!("{} {} needs {}", p["name"], p["version"], p["rust_version"]))
        .collect();
    assert!(above.is_empty(), "rust-version {}: {above:?}", stated());
}

#[test]
fn builds_with_the_minimum_rust_version() {
    let installed = cargo(MSRV, &["--version"]).output();
    if !installed.as_ref().is_ok_and(|o| o.status.success()) {
        let why = installed.map_or_else(|e| e.to_string(), |o| text(&o));
        assert!(
            !in_ci(),
            "the {MSRV} toolchain is required in CI (CI=true): {why}"
        );
        eprintln!(
            "SKIPPED: no {MSRV} toolchain (rustup toolchain install {MSRV} --profile minimal): {why}"
        );
        return;
    }
    let target = manifest_dir().join("target/msrv");
    let o = cargo(MSRV, &["check", "--locked", "--all-targets", "--quiet"])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(o.status.success(), "cargo +{MSRV} check: {}", text(&o));
}
