//! The deliberate (and known) differences from tshark
//! (`tests/wireshark/differences.toml`), and the tally of the filter
//! comparison for `tests/wireshark.rs`.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::Run;

/// What a listed difference excuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Both accept a filter and select different frames.
    Filter,
    /// lola accepts a filter tshark refuses.
    Refusal,
    /// A field's value differs in a frame.
    Value,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// The least share of agreeing pairs among those both tools accept.
    agreement: f64,
    #[serde(default)]
    difference: Vec<Entry>,
}

/// One listed difference.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// What it excuses: "filter", "refusal", "value".
    kinds: Vec<String>,
    /// The fields it is about (`ip.*`: a prefix)...
    fields: Option<Vec<String>>,
    /// ...or the constructs of the generator ("octal", "slice", ...).
    constructs: Option<Vec<String>>,
    /// When given: each differing frame has one of these, a word of tshark's
    /// `frame.protocols` (`vxlan`, `dns`) or a kind of lola's (`tunnel`,
    /// `fragment`, `damaged`, `vlan`).
    frames: Option<Vec<String>>,
    /// When given: no differing frame has any of these words.
    unless: Option<Vec<String>>,
    /// When given: only on these captures (file names).
    captures: Option<Vec<String>>,
    /// When given (refusals): tshark's message contains this.
    tshark_says: Option<String>,
    /// Which change should remove it ("deliberate" when none will).
    cause: String,
    /// Why lola differs.
    reason: String,
    #[serde(skip)]
    used: Cell<usize>,
}

/// The table.
pub struct Differences {
    /// The least share of agreement, from the file.
    pub agreement: f64,
    entries: Vec<Entry>,
}

/// What a difference is about, to find it in the table.
pub struct About<'a> {
    /// Which class of difference.
    pub class: Class,
    /// The fields involved.
    pub fields: &'a [&'a str],
    /// The constructs involved.
    pub constructs: &'a [&'a str],
    /// The capture's file name.
    pub capture: &'a str,
    /// tshark's refusal, for a refusal.
    pub message: &'a str,
}

impl Differences {
    /// Reads and checks the table at `path`.
    pub fn read(path: &Path) -> Differences {
        let text = std::fs::read_to_string(path).unwrap();
        let file: File =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (i, e) in file.difference.iter().enumerate() {
            assert!(
                !e.kinds.is_empty()
                    && e.kinds
                        .iter()
                        .all(|k| ["filter", "refusal", "value"].contains(&k.as_str())),
                "difference {i}: kinds {:?}",
                e.kinds
            );
            assert!(
                e.fields.is_some() != e.constructs.is_some(),
                "difference {i}: fields or constructs"
            );
            assert!(
                !e.reason.trim().is_empty() && !e.cause.trim().is_empty(),
                "difference {i}: cause and reason"
            );
        }
        Differences {
            agreement: file.agreement,
            entries: file.difference,
        }
    }

    /// True when entries cover the difference `about` on each of `frames`
    /// (the properties of each differing frame; none for a refusal).
    pub fn lists<'p>(
        &self,
        about: &About<'_>,
        frames: impl IntoIterator<Item = &'p BTreeSet<String>>,
    ) -> bool {
        let frames: Vec<&BTreeSet<String>> = frames.into_iter().collect();
        if frames.is_empty() {
            return self.entry_for(about, None);
        }
        frames.into_iter().all(|p| self.entry_for(about, Some(p)))
    }

    fn entry_for(&self, about: &About<'_>, frame: Option<&BTreeSet<String>>) -> bool {
        let kind = match about.class {
            Class::Filter => "filter",
            Class::Refusal => "refusal",
            Class::Value => "value",
        };
        let has = |words: &Vec<String>| frame.is_some_and(|p| words.iter().any(|w| p.contains(w)));
        for e in &self.entries {
            if !e.kinds.iter().any(|k| k == kind) {
                continue;
            }
            let hit = match (&e.fields, &e.constructs) {
                (Some(fs), _) => about.fields.iter().any(|x| {
                    fs.iter().any(|f| match f.strip_suffix('*') {
                        Some(prefix) => x.starts_with(prefix),
                        None => x == f,
                    })
                }),
                (_, Some(cs)) => about.constructs.iter().any(|c| cs.iter().any(|x| x == c)),
                _ => false,
            };
            if !hit
                || e.captures
                    .as_ref()
                    .is_some_and(|c| !c.iter().any(|c| c == about.capture))
                || e.tshark_says
                    .as_ref()
                    .is_some_and(|m| !about.message.contains(m.as_str()))
                || e.frames.as_ref().is_some_and(|w| !has(w))
                || e.unless.as_ref().is_some_and(has)
            {
                continue;
            }
            e.used.set(e.used.get() + 1);
            return true;
        }
        false
    }

    /// How often each entry of `kind` excused a difference this run, by
    /// cause: the table of the differences that remain.
    pub fn usage(&self, kind: &str) -> String {
        let mut out = format!("listed {kind} differences excused, by entry:\n");
        for e in self
            .entries
            .iter()
            .filter(|e| e.kinds.iter().any(|k| k == kind) && e.used.get() > 0)
        {
            let what = e
                .fields
                .as_ref()
                .or(e.constructs.as_ref())
                .map(|v| v.join(" "))
                .unwrap_or_default();
            let what: String = what.chars().take(40).collect();
            out += &format!(
                "  {:>6}  {:<12} {what}: {}\n",
                e.used.get(),
                e.cause,
                e.reason.chars().take(90).collect::<String>()
            );
        }
        out
    }

    /// The entries of `kind` nothing needed this run (fixed, or not reached).
    pub fn unused(&self, kind: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.kinds.iter().any(|k| k == kind) && e.used.get() == 0)
            .map(|e| {
                let what = e
                    .fields
                    .as_ref()
                    .or(e.constructs.as_ref())
                    .map(|v| v.join(" "))
                    .unwrap_or_default();
                format!("{kind} {what} ({}: {})", e.cause, e.reason)
            })
            .collect()
    }
}

/// Counts of one row of the summary.
#[derive(Default, Clone, Copy)]
struct Tally {
    pairs: usize,
    agree: usize,
    differ_listed: usize,
    differ: usize,
    lola_only_listed: usize,
    lola_only: usize,
    tshark_only: usize,
    neither: usize,
}

impl Tally {
    fn row(&self, name: &str) -> String {
        format!(
            "{name:<24} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}\n",
            self.pairs,
            self.agree,
            self.differ_listed,
            self.differ,
            self.lola_only_listed,
            self.lola_only,
            self.tshark_only,
            self.neither
        )
    }
}

const HEADER: &str = "                           pairs  agree differ differ  lola-  lola- tshark   both\n                                        listed  !LIST  only   only   only  refuse\n                                                       listed !LIST\n";

/// The tally of the filter comparison.
#[derive(Default)]
pub struct FilterReport {
    /// (filter, capture) pairs compared.
    pub pairs: usize,
    total: Tally,
    compounds: Tally,
    per_field: BTreeMap<String, Tally>,
    per_construct: BTreeMap<String, Tally>,
    failures: Vec<String>,
    /// One example per construct: the filter and lola's words.
    lola_refuses: BTreeMap<String, (String, String)>,
}

enum Verdict {
    Agree,
    Differ(bool),
    LolaOnly(bool),
    TsharkOnly,
    Neither,
}

impl FilterReport {
    /// Adds the pairs of one capture.
    pub fn add(&mut self, run: &Run, table: &Differences) {
        // Atoms first: a compound is excused when each of its atoms that differs is.
        let mut atom_verdict: BTreeMap<usize, (bool, bool)> = BTreeMap::new(); // index -> (differs, listed)
        let mut order: Vec<usize> = (0..run.filters.len())
            .filter(|&k| run.filters[k].is_atom)
            .collect();
        order.extend((0..run.filters.len()).filter(|&k| !run.filters[k].is_atom));
        for k in order {
            let g = &run.filters[k];
            let verdict = match (&run.lola[k], &run.tshark[k]) {
                (Ok(l), Ok(t)) if l == t => Verdict::Agree,
                (Ok(l), Ok(t)) => {
                    let differing: Vec<&BTreeSet<String>> = l
                        .symmetric_difference(t)
                        .filter_map(|n| run.properties.get(n))
                        .collect();
                    let listed = if g.is_atom {
                        let a = &run.atoms[g.atoms[0]];
                        let about = About {
                            class: Class::Filter,
                            fields: &a.fields,
                            constructs: &a.constructs,
                            capture: &run.name,
                            message: "",
                        };
                        table.lists(&about, differing.iter().copied())
                    } else {
                        let culprits: Vec<bool> = g
                            .atoms
                            .iter()
                            .filter_map(|i| atom_verdict.get(i))
                            .filter(|(differs, _)| *differs)
                            .map(|(_, listed)| *listed)
                            .collect();
                        if culprits.is_empty() {
                            // Every test agrees alone, the combination does
                            // not (a tool's bug in combining): listed when an
                            // entry covers the compound's fields or constructs.
                            let mut fields: Vec<&str> = Vec::new();
                            let mut constructs: Vec<&'static str> = Vec::new();
                            for &i in &g.atoms {
                                fields.extend(run.atoms[i].fields.iter().copied());
                                constructs.extend(run.atoms[i].constructs.iter().copied());
                            }
                            let about = About {
                                class: Class::Filter,
                                fields: &fields,
                                constructs: &constructs,
                                capture: &run.name,
                                message: "",
                            };
                            table.lists(&about, differing.iter().copied())
                        } else {
                            culprits.iter().all(|&l| l)
                        }
                    };
                    if g.is_atom {
                        let a = &run.atoms[g.atoms[0]];
                        let props: Vec<String> = l
                            .symmetric_difference(t)
                            .filter_map(|n| run.properties.get(n))
                            .map(|p| p.iter().cloned().collect::<Vec<_>>().join(":"))
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect();
                        super::dump(&format!(
                            "filter\t{}\t{}\t{}\t{}\t{}\t{}",
                            run.name,
                            a.fields.join(","),
                            a.constructs.join(","),
                            listed,
                            g.text,
                            props.join(" ")
                        ));
                    }
                    if !listed {
                        let only = |a: &BTreeSet<u64>, b: &BTreeSet<u64>| {
                            a.difference(b).take(8).copied().collect::<Vec<_>>()
                        };
                        self.failures.push(format!(
                            "{}: {:?}: lola only {:?}, tshark only {:?}",
                            run.name,
                            g.text,
                            only(l, t),
                            only(t, l)
                        ));
                    }
                    Verdict::Differ(listed)
                }
                (Ok(_), Err(why)) => {
                    let listed = if g.is_atom {
                        let a = &run.atoms[g.atoms[0]];
                        let about = About {
                            class: Class::Refusal,
                            fields: &a.fields,
                            constructs: &a.constructs,
                            capture: &run.name,
                            message: why,
                        };
                        table.lists(&about, [])
                    } else {
                        let culprits: Vec<bool> = g
                            .atoms
                            .iter()
                            .filter_map(|i| atom_verdict.get(i))
                            .filter(|(refused, _)| *refused)
                            .map(|(_, listed)| *listed)
                            .collect();
                        !culprits.is_empty() && culprits.iter().all(|&l| l)
                    };
                    if g.is_atom {
                        let a = &run.atoms[g.atoms[0]];
                        super::dump(&format!(
                            "refusal\t{}\t{}\t{}\t{}\t{}\t{why}",
                            run.name,
                            a.fields.join(","),
                            a.constructs.join(","),
                            listed,
                            g.text
                        ));
                    }
                    if !listed {
                        self.failures.push(format!(
                            "{}: lola accepts {:?}, tshark refuses: {why}",
                            run.name, g.text
                        ));
                    }
                    Verdict::LolaOnly(listed)
                }
                (Err(why), Ok(_)) => {
                    if g.is_atom {
                        let a = &run.atoms[g.atoms[0]];
                        let key = a
                            .constructs
                            .first()
                            .copied()
                            .unwrap_or("(plain test)")
                            .to_string();
                        self.lola_refuses
                            .entry(key)
                            .or_insert_with(|| (g.text.clone(), why.clone()));
                    }
                    Verdict::TsharkOnly
                }
                (Err(_), Err(_)) => Verdict::Neither,
            };
            if g.is_atom {
                let flagged = match verdict {
                    Verdict::Differ(listed) | Verdict::LolaOnly(listed) => (true, listed),
                    _ => (false, true),
                };
                atom_verdict.insert(g.atoms[0], flagged);
                let a = &run.atoms[g.atoms[0]];
                for f in &a.fields {
                    count(self.per_field.entry(f.to_string()).or_default(), &verdict);
                }
                let constructs = if a.constructs.is_empty() {
                    vec!["(plain test)"]
                } else {
                    a.constructs.clone()
                };
                for c in constructs {
                    count(
                        self.per_construct.entry(c.to_string()).or_default(),
                        &verdict,
                    );
                }
            } else {
                count(&mut self.compounds, &verdict);
            }
            count(&mut self.total, &verdict);
            self.pairs += 1;
        }
    }

    /// The share of pairs both tools accept on which they agree.
    pub fn agreement(&self) -> f64 {
        let both = self.total.agree + self.total.differ + self.total.differ_listed;
        if both == 0 {
            1.0
        } else {
            self.total.agree as f64 / both as f64
        }
    }

    /// The unlisted differences, one line each.
    pub fn failures(&self) -> &[String] {
        &self.failures
    }

    /// The summary tables.
    pub fn summary(&self, seed: u64, skipped: &[(String, String)]) -> String {
        let mut s = format!(
            "filters vs tshark: seed {seed:#x}, {} pairs, agreement {:.3}% of {} both accept\n",
            self.pairs,
            self.agreement() * 100.0,
            self.total.agree + self.total.differ + self.total.differ_listed
        );
        s += HEADER;
        s += &self.total.row("all pairs");
        s += &self.compounds.row("combined filters");
        s += "per field (single tests):\n";
        for (f, t) in &self.per_field {
            s += &t.row(f);
        }
        s += "per construct (single tests):\n";
        for (c, t) in &self.per_construct {
            s += &t.row(c);
        }
        if !self.lola_refuses.is_empty() {
            s += "lola refuses, tshark accepts (allowed while the grammar grows), e.g.:\n";
            for (construct, (text, why)) in &self.lola_refuses {
                s += &format!("  {construct:<22} {text}  (lola: {why})\n");
            }
        }
        if !skipped.is_empty() {
            s += &format!("captures not compared ({}):\n", skipped.len());
            for (name, why) in skipped.iter().take(30) {
                s += &format!("  {name}: {}\n", why.lines().next().unwrap_or(""));
            }
        }
        s
    }
}

fn count(t: &mut Tally, v: &Verdict) {
    t.pairs += 1;
    match v {
        Verdict::Agree => t.agree += 1,
        Verdict::Differ(true) => t.differ_listed += 1,
        Verdict::Differ(false) => t.differ += 1,
        Verdict::LolaOnly(true) => t.lola_only_listed += 1,
        Verdict::LolaOnly(false) => t.lola_only += 1,
        Verdict::TsharkOnly => t.tshark_only += 1,
        Verdict::Neither => t.neither += 1,
    }
}
