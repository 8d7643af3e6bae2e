//! Every `--json` document of `check` and `diff` validates against the
//! published JSON Schema in `docs/schema/`, which is generated from the
//! Rust types (`lola::report::schema`) and must be current: after a change of the
//! types, regenerate with `LOLA_BLESS=1 cargo test --test schema`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use common::{fixture, in_ci, lola};

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema")
}

#[test]
fn published_schemas_are_generated_from_the_types() {
    for (name, schema) in lola::report::schema::all() {
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        let path = schema_dir().join(name);
        if std::env::var_os("LOLA_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let published = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; bless with LOLA_BLESS=1", path.display()));
        assert_eq!(published, text, "{name} is stale; bless with LOLA_BLESS=1");
    }
}

/// Validates each of `documents` against `schema` with python3's
/// jsonschema; skipped where it is missing, except in CI.
fn assert_valid(schema: &str, documents: &[(String, Vec<u8>)]) {
    let ok = StdCommand::new("python3")
        .args(["-c", "import jsonschema"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !in_ci(),
            "python3 jsonschema is missing (.ci/run installs it)"
        );
        eprintln!("skipped: python3 jsonschema is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut args = Vec::new();
    for (i, (name, doc)) in documents.iter().enumerate() {
        let path = dir.path().join(format!("{i}.json"));
        std::fs::write(&path, doc).unwrap();
        args.push(format!("{}={}", name, path.display()));
    }
    let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
bad = 0
for arg in sys.argv[2:]:
    name, path = arg.rsplit("=", 1)
    for e in cls(schema).iter_errors(json.load(open(path))):
        bad += 1
        print(f"{name}: {e.message} at {list(e.absolute_path)}")
sys.exit(1 if bad else 0)
"#;
    let out = StdCommand::new("python3")
        .arg("-c")
        .arg(script)
        .arg(schema_dir().join(schema))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json_of(args: &[&str]) -> Vec<u8> {
    let out = lola().args(args).output().unwrap();
    assert!(!out.stdout.is_empty(), "no document from {args:?}");
    out.stdout
}

#[test]
fn every_check_document_validates() {
    let mut docs = Vec::new();
    let mut names: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
            .collect();
    names.sort();
    // The built-in check's set as an expectation file: `--expect` documents.
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("lola.toml");
    std::fs::write(&set, json_of(&["expect", "show-default"])).unwrap();
    let set = set.to_str().unwrap();
    for name in &names {
        let file = fixture(name);
        let file = file.to_str().unwrap();
        docs.push((name.clone(), json_of(&["check", file, "--json"])));
        docs.push((
            format!("{name} --expect"),
            json_of(&["check", "--expect", set, file, "--json"]),
        ));
    }
    // Several files at once, one of them unreadable.
    let (a, b, bad) = (
        fixture("seed-ipv4.pcap"),
        fixture("seed-tcp.pcap"),
        fixture("bad-magic.pcap"),
    );
    docs.push((
        "several".into(),
        json_of(&[
            "check",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            bad.to_str().unwrap(),
            "--json",
        ]),
    ));
    // Against an expectation file: one capture, and several with one unreadable.
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("l.toml");
    std::fs::write(
        &toml,
        "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456'\n\
         [[expect]]\nname = \"reply\"\nmatch = 'udp.srcport == 7456'\nafter = \"hello\"\n\
         [settings]\nforbid = ['tcp']\nexclusive = true\n",
    )
    .unwrap();
    let (toml, reply) = (toml.to_str().unwrap(), fixture("reply.pcap"));
    let set_one = json_in(
        dir.path(),
        &["check", "--json", "--expect", toml, reply.to_str().unwrap()],
    );
    let set_many = json_in(
        dir.path(),
        &[
            "check",
            "--json",
            "--expect",
            toml,
            reply.to_str().unwrap(),
            b.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
    );
    docs.push(("--expect, one".into(), set_one));
    docs.push(("--expect, several".into(), set_many));
    assert!(docs.len() > 40);
    assert_valid("check.schema.json", &docs);
}

#[test]
fn every_diff_document_validates() {
    let path = |n: &str| fixture(n).to_str().unwrap().to_string();
    let docs = vec![
        (
            "same".to_string(),
            json_of(&[
                "diff",
                &path("hello-lola.pcap"),
                &path("seed-ipv4.pcap"),
                "--json",
            ]),
        ),
        (
            "different".to_string(),
            json_of(&[
                "diff",
                &path("seed-ipv4.pcap"),
                &path("seed-ipv4-twice.pcap"),
                "--json",
            ]),
        ),
        (
            "exact".to_string(),
            json_of(&[
                "diff",
                &path("hello-lola.pcap"),
                &path("seed-ipv4.pcap"),
                "--json",
                "--exact",
            ]),
        ),
        (
            "error".to_string(),
            json_of(&[
                "diff",
                &path("seed-ipv4.pcap"),
                &path("bad-magic.pcap"),
                "--json",
            ]),
        ),
    ];
    assert_valid("diff.schema.json", &docs);
}

/// stdout of `lola ARGS` run in `dir`, whatever the exit code.
fn json_in(dir: &Path, args: &[&str]) -> Vec<u8> {
    lola().current_dir(dir).args(args).output().unwrap().stdout
}

#[test]
fn every_other_document_validates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let flows: Vec<(String, Vec<u8>)> = [
        "seed-tcp.pcap",
        "seed-ipv4-no-listener.pcap",
        "other-flows.pcap",
    ]
    .iter()
    .map(|f| {
        let path = fixture(f);
        (
            f.to_string(),
            json_of(&["flow", path.to_str().unwrap(), "--json"]),
        )
    })
    .collect();
    assert_valid("flow.schema.json", &flows);
    let build = json_in(
        d,
        &[
            "build", "--src", "[::1]:1", "--dst", "[::1]:2", "-o", "b.pcapng", "--json",
        ],
    );
    assert_valid("build.schema.json", &[("build".into(), build)]);
    let run_off = json_in(d, &["run", "--port", "0", "--capture", "off", "--json"]);
    let run_auto = json_in(d, &["run", "--port", "0", "-o", "auto.pcap", "--json"]);
    std::fs::write(d.join("blocked"), b"").unwrap();
    let run_error = json_in(d, &["run", "--port", "0", "-o", "blocked/x.pcap", "--json"]);
    // With --expect: the written capture against a file it fails.
    std::fs::write(
        d.join("none.toml"),
        "[[expect]]\nname = 'none'\nmatch = 'tcp'\n",
    )
    .unwrap();
    let run_set = json_in(
        d,
        &[
            "run",
            "--port",
            "0",
            "--capture",
            "off",
            "--expect",
            "none.toml",
            "--json",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&run_set).unwrap();
    assert_eq!(doc["verdict"], "fail", "the expectation file failed");
    assert_eq!(doc["expect"]["expectations"][0]["name"], "none");
    assert_valid(
        "run.schema.json",
        &[
            ("run --capture off".into(), run_off),
            ("run (live where it may)".into(), run_auto),
            ("run, exit 2".into(), run_error),
            ("run --expect".into(), run_set),
        ],
    );
    let compare = json_in(d, &["compare", "--port", "0", "--capture", "off", "--json"]);
    assert_valid("compare.schema.json", &[("compare".into(), compare)]);
    let doctor = json_in(d, &["doctor", "--json"]);
    assert_valid("doctor.schema.json", &[("doctor".into(), doctor)]);
    let exec = json_in(d, &["exec", "--json", "-o", "e.pcap", "--", "true"]);
    let exec_error = json_in(d, &["exec", "--json", "-o", "blocked/e.pcap", "--", "true"]);
    std::fs::write(d.join("l.toml"), "[[expect]]\nname = 'x'\nmatch = 'udp'\n").unwrap();
    let exec_set = json_in(
        d,
        &[
            "exec", "--json", "-o", "s.pcap", "--expect", "l.toml", "--", "true",
        ],
    );
    assert_valid(
        "exec.schema.json",
        &[
            ("exec true".into(), exec),
            ("exec, exit 2".into(), exec_error),
            ("exec --expect".into(), exec_set),
        ],
    );
}
