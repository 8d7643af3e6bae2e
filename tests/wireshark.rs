//! Same names, same meanings: lola's display filters and field values
//! against tshark's, on every capture in `fixtures/` (with `fixtures/corpus/`,
//! real captures from tcpdump's and libpcap's tests) and, when
//! `LOLA_CORPUS` names a folder, on every capture under it too.
//!
//! A seeded generator (`tests/wireshark/gen.rs`) writes display filters over
//! the registry's fields with values found in each capture; lola evaluates
//! them with its expectation engine (the path `lola check --expect` takes),
//! tshark with one tap per filter (`tests/wireshark/filters.lua`, one run per
//! capture for all its filters). Every disagreement, and every filter lola
//! accepts that tshark refuses, must be listed with its reason in
//! `tests/wireshark/differences.toml`.
//!
//! Knobs: `LOLA_DIFF_SEED` (the generator's seed, printed in the summary),
//! `LOLA_DIFF_PAIRS` (how many (filter, capture) pairs; 3000 under
//! `CI=true`, 1200 otherwise), `LOLA_CORPUS`, `LOLA_DIFF_DUMP=FILE` (appends
//! every difference, listed or not, one tab-separated line each, to study
//! them). `cargo test --test wireshark -- --nocapture` prints the summary
//! tables.

mod common;
#[path = "wireshark/generate.rs"]
mod generate;
#[path = "wireshark/table.rs"]
mod table;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::OnceLock;

use common::{have, in_ci};
use generate::{Generated, Rng, Val, Values};
use lola::check::expect::{ExpectationSet, Filter, check_reader_with_set};
use lola::packet::decode::Transport;
use lola::packet::fields::{FIELDS, Field, FrameView};
use table::{About, Class, Differences};

const DEFAULT_SEED: u64 = 0x2026_1205;

fn seed() -> u64 {
    match std::env::var("LOLA_DIFF_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("LOLA_DIFF_SEED={s}: not a number"))
        }
        Err(_) => DEFAULT_SEED,
    }
}

fn target_pairs() -> usize {
    match std::env::var("LOLA_DIFF_PAIRS") {
        Ok(n) => n.trim().parse().expect("LOLA_DIFF_PAIRS: a number"),
        Err(_) if in_ci() => 3000,
        Err(_) => 1200,
    }
}

/// Every capture the comparison runs on.
fn captures() -> Vec<PathBuf> {
    let mut out = common::capture_fixtures(false);
    out.extend(captures_under(&common::fixture("corpus")));
    if let Ok(dir) = std::env::var("LOLA_CORPUS") {
        out.extend(captures_under(Path::new(&dir)));
    }
    out
}

fn captures_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = entry.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The name a capture goes by in reports and in the table: its file name.
fn name_of(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// What lola saw in one frame.
#[derive(Default)]
struct LolaFrame {
    /// Each tshark-known field's values as `tshark -T fields` writes them.
    texts: Vec<String>,
    /// What kind of frame it is for lola: tunnel, fragment, damaged, vlan.
    kinds: Vec<&'static str>,
}

/// One pass of lola's engine over a capture with `filters` as
/// expectations: each frame's matches, texts and kinds.
struct LolaPass {
    frames: BTreeMap<u64, LolaFrame>,
    /// Per filter: the frames it matched.
    matched: Vec<BTreeSet<u64>>,
    values: Values,
}

fn tshark_fields() -> Vec<&'static Field> {
    FIELDS.iter().filter(|f| f.tshark).collect()
}

fn lola_pass(capture: &Path, filters: &[Option<Filter>]) -> Result<LolaPass, String> {
    let template = ExpectationSet::parse("t", "[[expect]]\nname = \"t\"\nmatch = 'frame.number'\n")
        .map_err(|e| e.to_string())?;
    let mut set = template.clone();
    set.expects.clear();
    let mut index = HashMap::new();
    for (i, f) in filters.iter().enumerate() {
        if let Some(f) = f {
            let mut e = template.expects[0].clone();
            e.name = i.to_string();
            e.matches = f.clone();
            index.insert(e.name.clone(), i);
            set.expects.push(e);
        }
    }
    let fields = tshark_fields();
    let mut pass = LolaPass {
        frames: BTreeMap::new(),
        matched: vec![BTreeSet::new(); filters.len()],
        values: Values::new(),
    };
    let reader = lola::capture::CaptureReader::open(capture).map_err(|e| e.to_string())?;
    let mut sink = |v: &FrameView<'_, '_>, names: &[&str]| {
        for n in names {
            pass.matched[index[*n]].insert(v.number);
        }
        let p = v.packet;
        let mut kinds = Vec::new();
        if p.encapsulation.is_some() {
            kinds.push("tunnel");
        }
        if p.ip.as_ref().is_some_and(|ip| ip.frag.is_some())
            || matches!(p.transport, Transport::Fragment(_))
        {
            kinds.push("fragment");
        }
        if !p.problems.is_empty() {
            kinds.push("damaged");
        }
        if p.link.as_ref().is_some_and(|l| !l.vlans.is_empty()) {
            kinds.push("vlan");
        }
        let texts = fields.iter().map(|f| f.tshark_text(v)).collect();
        for f in FIELDS {
            for i in 0..8 {
                let Some(x) = f.get(v, i) else { break };
                let kept = pass.values.entry(f.name).or_default();
                let x = Val::of(&x);
                if kept.len() < generate::KEEP && !kept.contains(&x) {
                    kept.push(x);
                }
            }
        }
        pass.frames.insert(v.number, LolaFrame { texts, kinds });
    };
    check_reader_with_set(
        reader,
        &capture.display().to_string(),
        &set,
        true,
        &mut sink,
    )
    .map_err(|e| e.to_string())?;
    Ok(pass)
}

/// tshark's fields of one capture: per frame, `frame.protocols` and each
/// tshark-known field of the registry (`-E occurrence=a`).
struct TsharkFields {
    frames: BTreeMap<u64, (String, Vec<String>)>,
}

/// tshark's verdict on a filter over a capture: the frames it matches, or
/// why it refuses the filter.
type Verdict = Result<BTreeSet<u64>, String>;

/// The preferences tshark runs with: checksums verified (as lola verifies
/// them: `ip.checksum.status == "Good"` means what it means to a Wireshark
/// user who turned verification on, the only way Wireshark has a verdict)
/// and the data dissector's "show data as text" (without which tshark knows
/// `data.text` but gives it no value).
const TSHARK_PREFS: &[&str] = &[
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "data.show_as_text:TRUE",
];

/// One tshark run over `capture` (its start-up is most of its time): the
/// registry's fields of every frame (`-T fields`), and each of `filters`
/// evaluated by a tap of its own (`tests/wireshark/filters.lua`).
fn tshark_run(
    capture: &Path,
    filters: &[String],
    dir: &Path,
) -> Result<(TsharkFields, Vec<Verdict>), String> {
    let stem = name_of(capture);
    let list = dir.join(format!("{stem}.filters"));
    let out_path = dir.join(format!("{stem}.out"));
    std::fs::write(
        &list,
        filters.iter().map(|f| format!("{f}\n")).collect::<String>(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wireshark/filters.lua");
    let fields = tshark_fields();
    let mut cmd = StdCommand::new("tshark");
    cmd.args(["-n", "-r"])
        .arg(capture)
        .args(TSHARK_PREFS)
        .arg("-X")
        .arg(format!("lua_script:{}", script.display()))
        .args([
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "separator=/t",
            "-e",
            "frame.protocols",
        ]);
    for f in &fields {
        cmd.args(["-e", f.name]);
    }
    let out = cmd
        .env("LOLA_FILTERS", &list)
        .env("LOLA_OUT", &out_path)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    if !out.status.success() || lines.len() != filters.len() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr
            .lines()
            .filter(|l| !l.starts_with("Running as user"))
            .collect::<Vec<_>>()
            .join(" ");
        return Err(format!("tshark: {}", why.trim()));
    }
    // frame.number is one of the registry's fields (tshark prints a field
    // named twice once).
    let at = fields
        .iter()
        .position(|f| f.name == "frame.number")
        .unwrap();
    let mut frames = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut cols = line.split('\t');
        let protocols = cols.next().unwrap_or("").to_string();
        let values: Vec<String> = cols.map(str::to_string).collect();
        let number: u64 = values
            .get(at)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("tshark -T fields: {line:?}"))?;
        frames.insert(number, (protocols, values));
    }
    let verdicts = lines
        .iter()
        .map(|l| match l.split_once('\t') {
            Some(("M", frames)) => Ok(frames
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect()),
            Some((_, why)) => Err(why.to_string()),
            None => Err(l.to_string()),
        })
        .collect();
    Ok((TsharkFields { frames }, verdicts))
}

/// Everything known about one capture after both tools ran.
struct Run {
    name: String,
    atoms: Vec<generate::Atom>,
    filters: Vec<Generated>,
    lola: Vec<Verdict>,
    tshark: Vec<Verdict>,
    /// Per frame: lola's kinds and tshark's `frame.protocols` words.
    properties: BTreeMap<u64, BTreeSet<String>>,
    /// Per frame: (lola's texts, tshark's texts), in `tshark_fields()` order.
    values: BTreeMap<u64, (Vec<String>, Vec<String>)>,
    /// Frames only one tool saw.
    unpaired: Vec<u64>,
}

/// The comparison, computed once for the tests of this file.
struct Outcome {
    runs: Vec<Run>,
    /// Captures one of the tools could not read, with why.
    skipped: Vec<(String, String)>,
    seed: u64,
}

fn outcome() -> Option<&'static Outcome> {
    static OUTCOME: OnceLock<Option<Outcome>> = OnceLock::new();
    OUTCOME.get_or_init(compute).as_ref()
}

fn compute() -> Option<Outcome> {
    if !have("tshark") {
        return None;
    }
    let seed = seed();
    let captures = captures();
    let per_capture = target_pairs().div_ceil(captures.len().max(1)).max(4);
    // Pass 1: the values each capture holds (and the pool of all of them).
    let firsts: Vec<(PathBuf, Result<LolaPass, String>)> = captures
        .iter()
        .map(|c| (c.clone(), lola_pass(c, &[])))
        .collect();
    let mut all = Values::new();
    for (_, pass) in &firsts {
        if let Ok(p) = pass {
            for (k, vs) in &p.values {
                let kept = all.entry(k).or_default();
                for v in vs {
                    if kept.len() < 4 * generate::KEEP && !kept.contains(v) {
                        kept.push(v.clone());
                    }
                }
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    let jobs: Vec<(PathBuf, LolaPass)> = firsts
        .into_iter()
        .filter_map(|(c, p)| p.ok().map(|p| (c, p)))
        .collect();
    let mut skipped: Vec<(String, String)> = captures
        .iter()
        .filter(|c| !jobs.iter().any(|(j, _)| j == *c))
        .map(|c| (name_of(c), "lola refuses the capture".to_string()))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<Run, (String, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((capture, first)) = jobs.get(i) else {
                            break;
                        };
                        done.push(run_one(capture, first, &all, seed, per_capture, dir.path()));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut runs = Vec::new();
    for r in results {
        match r {
            Ok(run) => runs.push(run),
            Err(why) => skipped.push(why),
        }
    }
    runs.sort_by(|a, b| a.name.cmp(&b.name));
    Some(Outcome {
        runs,
        skipped,
        seed,
    })
}

fn run_one(
    capture: &Path,
    first: &LolaPass,
    all: &Values,
    seed: u64,
    per_capture: usize,
    dir: &Path,
) -> Result<Run, (String, String)> {
    let name = name_of(capture);
    let mut rng = Rng::new(seed ^ fnv(&name));
    let mut atoms = Vec::new();
    let mut filters = Vec::new();
    while filters.len() < per_capture {
        let (a, f) = generate::filters(&mut rng, &first.values, all, 2);
        let base = atoms.len();
        atoms.extend(a);
        filters.extend(f.into_iter().map(|mut g| {
            g.atoms.iter_mut().for_each(|i| *i += base);
            g
        }));
    }
    let texts: Vec<String> = filters.iter().map(|g| g.text.clone()).collect();
    let parsed: Vec<Result<Filter, String>> = texts
        .iter()
        .map(|t| Filter::parse(t).map_err(|e| e.to_string()))
        .collect();
    let (fields, tshark) = tshark_run(capture, &texts, dir).map_err(|e| (name.clone(), e))?;
    let accepted: Vec<Option<Filter>> = parsed.iter().map(|p| p.as_ref().ok().cloned()).collect();
    let second = lola_pass(capture, &accepted).map_err(|e| (name.clone(), e))?;
    let lola = parsed
        .iter()
        .zip(second.matched)
        .map(|(p, m)| p.as_ref().map(|_| m).map_err(Clone::clone))
        .collect();
    let mut properties = BTreeMap::new();
    let mut values = BTreeMap::new();
    let mut unpaired = Vec::new();
    let numbers: BTreeSet<u64> = second
        .frames
        .keys()
        .chain(fields.frames.keys())
        .copied()
        .collect();
    for n in numbers {
        match (second.frames.get(&n), fields.frames.get(&n)) {
            (Some(l), Some((protocols, theirs))) => {
                let mut p: BTreeSet<String> = protocols.split(':').map(str::to_string).collect();
                p.extend(l.kinds.iter().map(|k| k.to_string()));
                properties.insert(n, p);
                values.insert(n, (l.texts.clone(), theirs.clone()));
            }
            _ => unpaired.push(n),
        }
    }
    Ok(Run {
        name,
        atoms,
        filters,
        lola,
        tshark,
        properties,
        values,
        unpaired,
    })
}

/// FNV-1a of a name: each capture's filters depend on the seed and its name only.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn differences() -> Differences {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wireshark/differences.toml");
    Differences::read(&path)
}

/// Lola's filters select the frames tshark's do, on every capture both read;
/// lola accepts no filter tshark refuses; the exceptions are listed.
#[test]
fn filters_select_the_frames_tshark_selects() {
    let Some(outcome) = outcome() else { return };
    let table = differences();
    let mut report = table::FilterReport::default();
    for run in &outcome.runs {
        report.add(run, &table);
    }
    let failures = report.failures();
    let mut summary = report.summary(outcome.seed, &outcome.skipped);
    for e in table
        .unused("filter")
        .into_iter()
        .chain(table.unused("refusal"))
    {
        summary += &format!("listed but not needed this run: {e}\n");
    }
    eprintln!("{summary}");
    assert!(
        report.pairs >= if in_ci() { 2000 } else { 1 },
        "only {} (filter, capture) pairs\n{summary}",
        report.pairs
    );
    assert!(
        failures.is_empty(),
        "{} unlisted differences from tshark (seed {:#x}: LOLA_DIFF_SEED={:#x} repeats the run):\n{}\n{summary}",
        failures.len(),
        outcome.seed,
        outcome.seed,
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let agreement = report.agreement();
    assert!(
        agreement >= table.agreement,
        "agreement {:.2}% < {:.2}% of the pairs both tools accept\n{summary}",
        agreement * 100.0,
        table.agreement * 100.0
    );
}

/// For every field tshark knows, lola's values (as `--emit` and `tshark -T
/// fields` write them) equal tshark's, frame by frame; the exceptions are listed.
#[test]
fn field_values_equal_tshark_s() {
    let Some(outcome) = outcome() else { return };
    let table = differences();
    let fields = tshark_fields();
    let mut per_field: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut compared = 0;
    for run in &outcome.runs {
        for (n, (ours, theirs)) in &run.values {
            let props = &run.properties[n];
            for ((f, o), t) in fields.iter().zip(ours).zip(theirs) {
                compared += 1;
                let e = per_field.entry(f.name).or_default();
                if o == t {
                    e.0 += 1;
                } else if table.lists(
                    &About {
                        class: Class::Value,
                        fields: &[f.name],
                        constructs: &[],
                        capture: &run.name,
                        message: "",
                    },
                    [props],
                ) {
                    e.1 += 1;
                } else {
                    e.2 += 1;
                    failures.push(format!(
                        "{} frame {n}: {}: lola {o:?}, tshark {t:?} [{}]",
                        run.name,
                        f.name,
                        join(props)
                    ));
                    dump(&format!(
                        "value\t{}\t{n}\t{}\t{o}\t{t}\t{}",
                        run.name,
                        f.name,
                        join(props)
                    ));
                }
            }
        }
        let about = About {
            class: Class::Value,
            fields: &["frame.number"],
            constructs: &[],
            capture: &run.name,
            message: "",
        };
        if !run.unpaired.is_empty() && !table.lists(&about, []) {
            failures.push(format!(
                "{}: frames {:?} seen by one tool only",
                run.name, run.unpaired
            ));
        }
    }
    let mut summary = format!(
        "field values: {compared} compared\n{:<22} {:>7} {:>7} {:>9}\n",
        "field", "agree", "listed", "unlisted"
    );
    for (f, (a, l, u)) in &per_field {
        summary += &format!("{f:<22} {a:>7} {l:>7} {u:>9}\n");
    }
    summary += &table.usage("value");
    for e in table.unused("value") {
        summary += &format!("listed but not needed this run: {e}\n");
    }
    eprintln!("{summary}");
    assert!(compared > 1000, "{compared}");
    assert!(
        failures.is_empty(),
        "{} unlisted field values differ from tshark's:\n{}\n{summary}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The harness: a tap per filter sees the frames `tshark -Y` shows.
#[test]
fn a_tap_sees_the_frames_dash_y_shows() {
    if !have("tshark") {
        return;
    }
    let capture = common::fixture("corpus/tests_ldp-common-session.pcap");
    let filters = [
        "udp",
        "tcp.len > 0 && vlan.id",
        "!(ip.ttl == 1) || tcp.flags.syn == 1",
        "ip.ttl == 300",
    ];
    let texts: Vec<String> = filters.iter().map(|s| s.to_string()).collect();
    let dir = tempfile::tempdir().unwrap();
    let (_, tapped) = tshark_run(&capture, &texts, dir.path()).unwrap();
    for (f, tap) in filters.iter().zip(tapped) {
        let out = StdCommand::new("tshark")
            .args(["-n", "-r"])
            .arg(&capture)
            .args(TSHARK_PREFS)
            .args(["-Y", f, "-T", "fields", "-e", "frame.number"])
            .output()
            .unwrap();
        let shown: Result<BTreeSet<u64>, ()> = if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| l.parse().unwrap())
                .collect())
        } else {
            Err(())
        };
        assert_eq!(tap.map_err(|_| ()), shown, "{f}");
    }
}

/// With `LOLA_DIFF_DUMP=FILE`, appends `line` to FILE (to study the differences).
fn dump(line: &str) {
    use std::io::Write as _;
    if let Ok(path) = std::env::var("LOLA_DIFF_DUMP") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(f, "{line}").unwrap();
    }
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(":")
}
