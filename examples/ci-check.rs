//! A regression check another project could keep in its own repository,
//! using only lola's public API: run the seed's exchange on a free port,
//! write the capture, check it, hold it against a golden capture, and exit
//! like `lola run` does (0 pass, 1 fail, 2 could not run).
//!
//! cargo run --example ci-check -- [GOLDEN.pcap]

use std::path::PathBuf;
use std::process::ExitCode;

use lola::check::frame_diff::DiffRules;
use lola::harness::{CaptureMode, RunOptions};
use lola::{ChecksumPolicy, Count, Expectation};

fn main() -> ExitCode {
    match check(std::env::args().nth(1).map(PathBuf::from)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("ci-check: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn check(golden: Option<PathBuf>) -> lola::Result<bool> {
    let dir = std::env::temp_dir().join(format!("lola-ci-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| lola::Error::Io {
        path: dir.clone(),
        source,
    })?;
    let options = RunOptions {
        to: "127.0.0.1:0".parse().expect("a literal address"),
        output: dir.join("hello-lola.pcap"),
        capture: CaptureMode::Auto,
        ..RunOptions::default()
    };
    let outcome = lola::harness::run(&options, |_| {})?;
    print!("{}", outcome.report);
    if let Some(live) = &outcome.live {
        print!("{}", live.report);
    }

    // The same file, checked again with an expectation built by hand.
    let expectation = Expectation::seed()
        .dst_port(outcome.exchange.received.dst.port())
        .count(Count::Exactly(1))
        .checksums(ChecksumPolicy::Strict);
    let again = lola::check_file(&options.output, &expectation)?;

    let same = match golden {
        Some(golden) => {
            let rules = DiffRules {
                ephemeral_server: true,
                ..DiffRules::default()
            };
            let diff = lola::check::golden::diff_files(&golden, &options.output, &rules)?;
            print!("{diff}");
            diff.same()
        }
        None => true,
    };
    let _ = std::fs::remove_dir_all(&dir);
    Ok(outcome.passed() && again.passed() && same)
}
