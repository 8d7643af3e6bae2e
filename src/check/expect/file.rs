//! Reading and writing expectation files (TOML).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::filter::Filter;
use super::{Bounds, Expect, ExpectationSet, SetError, Tolerance};
use crate::check::{ChecksumPolicy, Truncation};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    expect: Vec<RawExpect>,
    settings: Option<RawSettings>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    name: Spanned<String>,
    #[serde(rename = "match")]
    matches: Spanned<String>,
    count: Option<Spanned<RawCount>>,
    #[serde(rename = "where", default)]
    wheres: Vec<Spanned<String>>,
    after: Option<Spanned<String>>,
    within: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCount {
    Int(i64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    tolerance: Option<Spanned<String>>,
    #[serde(default)]
    forbid: Vec<Spanned<String>>,
    exclusive: Option<bool>,
    checksums: Option<Spanned<String>>,
    truncated: Option<Spanned<String>>,
}

/// Line and column (1-based) of byte `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..text.floor_char_boundary(at)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

struct Ctx<'t> {
    file: &'t str,
    text: &'t str,
}

impl Ctx<'_> {
    fn error(&self, at: usize, message: impl Into<String>) -> SetError {
        let (line, column) = line_col(self.text, at);
        SetError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A predicate in a TOML string at `span`: errors point into the file.
    fn filter(&self, s: &Spanned<String>) -> Result<Filter, SetError> {
        Filter::parse(s.get_ref()).map_err(|e| {
            let span = s.span();
            // Column inside the string: exact for strings without escapes
            // (literal '…' strings, or "…" with no backslash).
            let start = self.text[span.clone()]
                .char_indices()
                .nth(1)
                .map_or(span.start, |(i, _)| span.start + i);
            let at = self.text[start..]
                .char_indices()
                .nth(e.column - 1)
                .map_or(span.end, |(i, _)| start + i);
            // The predicate once, cut short: the message may quote it too.
            let text = s.get_ref();
            let shown = match text.char_indices().nth(60) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text.clone(),
            };
            self.error(at, format!("{shown}: {}", e.message))
        })
    }
}

fn start(span: Range<usize>) -> usize {
    span.start
}

/// Parses an expectation file's text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<ExpectationSet, SetError> {
    let cx = Ctx { file, text };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, start);
        cx.error(at, e.message().trim_end().replace('\n', " "))
    })?;
    if raw.expect.is_empty() {
        return Err(cx.error(0, "no [[expect]] table: nothing to check"));
    }
    let mut set = ExpectationSet::empty();
    // Each name once, and where it is: `after` is looked up here.
    let mut names: HashMap<&str, usize> = HashMap::with_capacity(raw.expect.len());
    for (i, r) in raw.expect.iter().enumerate() {
        let name = r.name.get_ref();
        if names.contains_key(name.as_str()) {
            return Err(cx.error(
                start(r.name.span()),
                format!("duplicate expectation name {name:?}"),
            ));
        }
        set.expects.push(cx.expect(r)?);
        names.insert(name, i);
    }
    cx.link_after(&raw.expect, &names, &mut set.expects)?;
    cx.check_cycles(&raw.expect, &set.expects)?;
    if let Some(s) = &raw.settings {
        cx.settings(s, &mut set)?;
    }
    Ok(set)
}

impl Ctx<'_> {
    /// One `[[expect]]` table; its `after` is linked later, by
    /// [`Ctx::link_after`], and its name told apart from the others' by
    /// [`parse`].
    fn expect(&self, r: &RawExpect) -> Result<Expect, SetError> {
        let name = r.name.get_ref().clone();
        if name.is_empty() {
            return Err(self.error(start(r.name.span()), "name is empty"));
        }
        let count = self.count(r.count.as_ref())?;
        let within = match &r.within {
            None => None,
            Some(w) => Some(
                humantime::parse_duration(w.get_ref())
                    .map_err(|e| self.error(start(w.span()), format!("within: {e}")))
                    .and_then(|d| {
                        if d > super::MAX_DURATION {
                            Err(self.error(
                                start(w.span()),
                                "within: longer than any capture (at most 31 years)",
                            ))
                        } else {
                            Ok(d)
                        }
                    })?,
            ),
        };
        Ok(Expect {
            name,
            matches: self.filter(&r.matches)?,
            count,
            wheres: r
                .wheres
                .iter()
                .map(|w| self.filter(w))
                .collect::<Result<_, _>>()?,
            after: None,
            within,
        })
    }

    /// An expectation's `count` (exactly 1 when absent).
    fn count(&self, count: Option<&Spanned<RawCount>>) -> Result<Bounds, SetError> {
        let Some(c) = count else {
            return Ok(Bounds::exactly(1));
        };
        let parsed = match c.get_ref() {
            RawCount::Int(n) => u64::try_from(*n).ok().map(Bounds::exactly),
            RawCount::Text(t) => Bounds::parse(t),
        };
        parsed.ok_or_else(|| {
            self.error(
                start(c.span()),
                "count is a number, or \"N\", \">= N\", \"> N\", \"<= N\", \"< N\", \"N..=M\"",
            )
        })
    }

    /// Resolves each `after` name to the expectation it names; `within`
    /// without `after` is an error.
    fn link_after(
        &self,
        raw: &[RawExpect],
        names: &HashMap<&str, usize>,
        expects: &mut [Expect],
    ) -> Result<(), SetError> {
        for (i, r) in raw.iter().enumerate() {
            if let Some(after) = &r.after {
                let j = names
                    .get(after.get_ref().as_str())
                    .copied()
                    .ok_or_else(|| {
                        self.error(
                            start(after.span()),
                            format!("after names no expectation: {:?}", after.get_ref()),
                        )
                    })?;
                if j == i {
                    return Err(
                        self.error(start(after.span()), "an expectation cannot follow itself")
                    );
                }
                expects[i].after = Some(j);
            } else if let Some(w) = &r.within {
                return Err(self.error(
                    start(w.span()),
                    "within needs after: the expectation it is timed from",
                ));
            }
        }
        Ok(())
    }

    /// Fails when following `after` from some expectation comes back round
    /// (naming the first such expectation in the file), in one walk over
    /// the `after` links: each is followed once, however long the chains.
    fn check_cycles(&self, raw: &[RawExpect], expects: &[Expect]) -> Result<(), SetError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Unseen,
            /// On the walk from the expectation being looked at.
            OnWalk,
            /// Its chain ends without coming back round.
            Ends,
        }
        let mut mark = vec![Mark::Unseen; expects.len()];
        let mut walk = Vec::new();
        for (i, r) in raw.iter().enumerate() {
            let mut at = Some(i);
            while let Some(j) = at {
                match mark[j] {
                    Mark::Ends => break,
                    Mark::OnWalk => {
                        let span = r.after.as_ref().map_or(0, |a| start(a.span()));
                        return Err(self.error(span, "after makes a cycle"));
                    }
                    Mark::Unseen => {
                        mark[j] = Mark::OnWalk;
                        walk.push(j);
                        at = expects[j].after;
                    }
                }
            }
            for j in walk.drain(..) {
                mark[j] = Mark::Ends;
            }
        }
        Ok(())
    }

    /// The `[settings]` table, into `set`.
    fn settings(&self, s: &RawSettings, set: &mut ExpectationSet) -> Result<(), SetError> {
        if let Some(t) = &s.tolerance {
            set.tolerance = Tolerance::parse(t.get_ref()).ok_or_else(|| {
                self.error(
                    start(t.span()),
                    "tolerance is a duration (\"2ms\") or a percentage (\"25%\")",
                )
            })?;
        }
        set.forbid = s
            .forbid
            .iter()
            .map(|f| self.filter(f))
            .collect::<Result<_, _>>()?;
        set.exclusive = s.exclusive.unwrap_or(false);
        if let Some(c) = &s.checksums {
            set.checksums = c
                .get_ref()
                .parse::<ChecksumPolicy>()
                .map_err(|e| self.error(start(c.span()), e))?;
        }
        if let Some(t) = &s.truncated {
            set.truncated = t
                .get_ref()
                .parse::<Truncation>()
                .map_err(|e| self.error(start(t.span()), e))?;
        }
        Ok(())
    }
}

/// A TOML string holding `s`: a literal string when it can be one.
pub(crate) fn quote(s: &str) -> String {
    if !s.contains('\'') && !s.contains('\n') {
        format!("'{s}'")
    } else {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

fn duration_text(d: Duration) -> String {
    humantime::format_duration(d).to_string().replace(' ', "")
}

/// The set as an expectation file, `comment` lines first.
pub fn to_toml(set: &ExpectationSet, comment: &str) -> String {
    let mut s = String::new();
    for line in comment.lines() {
        let _ = writeln!(s, "# {line}");
    }
    for e in &set.expects {
        let _ = writeln!(s, "\n[[expect]]");
        let _ = writeln!(s, "name = {}", quote(&e.name));
        let _ = writeln!(s, "match = {}", quote(e.matches.text()));
        let _ = writeln!(s, "count = {}", e.count.to_toml());
        if !e.wheres.is_empty() {
            let list: Vec<String> = e.wheres.iter().map(|w| quote(w.text())).collect();
            let _ = writeln!(s, "where = [{}]", list.join(", "));
        }
        if let Some(j) = e.after {
            let _ = writeln!(s, "after = {}", quote(&set.expects[j].name));
        }
        if let Some(w) = e.within {
            let _ = writeln!(s, "within = \"{}\"", duration_text(w));
        }
    }
    let _ = writeln!(s, "\n[settings]");
    let _ = writeln!(s, "tolerance = \"{}\"", set.tolerance);
    let list: Vec<String> = set.forbid.iter().map(|f| quote(f.text())).collect();
    let _ = writeln!(s, "forbid = [{}]", list.join(", "));
    let _ = writeln!(s, "exclusive = {}", set.exclusive);
    let policy = match set.checksums {
        ChecksumPolicy::Strict => "strict",
        ChecksumPolicy::Lenient => "lenient",
        ChecksumPolicy::Ignore => "ignore",
    };
    let _ = writeln!(s, "checksums = \"{policy}\"");
    if set.truncated == Truncation::JudgeCompleteFrames {
        let _ = writeln!(s, "truncated = \"judge-complete-frames\"");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn a_written_set_reads_back_the_same() {
        let set = ExpectationSet::from_expectation(&crate::Expectation::seed());
        let text = to_toml(&set, "the seed");
        let back = parse("x.toml", &text).unwrap();
        assert_eq!(to_toml(&back, "the seed"), text);
    }

    fn error(text: &str) -> (usize, usize, String) {
        let e = parse("x.toml", text).unwrap_err();
        (e.line, e.column, e.message)
    }

    fn expect(name: &str, after: Option<&str>) -> String {
        let after = after.map_or(String::new(), |a| format!("after = '{a}'\n"));
        format!("[[expect]]\nname = '{name}'\nmatch = 'udp'\n{after}")
    }

    #[test]
    fn an_after_that_comes_back_round_is_refused_where_it_is_first_reached() {
        // a → b → c → b: `a` is not in the cycle, but following it comes
        // back round; it is the first such expectation in the file.
        let text = [
            expect("a", Some("b")),
            expect("b", Some("c")),
            expect("c", Some("b")),
        ]
        .concat();
        assert_eq!(error(&text), (4, 9, "after makes a cycle".to_string()));
        let text = [
            expect("a", None),
            expect("b", Some("c")),
            expect("c", Some("b")),
        ]
        .concat();
        assert_eq!(error(&text), (7, 9, "after makes a cycle".to_string()));
        let text = expect("a", Some("a"));
        assert_eq!(
            error(&text),
            (4, 9, "an expectation cannot follow itself".to_string())
        );
    }

    #[test]
    fn a_long_chain_of_after_is_linked_in_order() {
        let mut text = expect("e0", None);
        for i in 1..2000 {
            text += &expect(&format!("e{i}"), Some(&format!("e{}", i - 1)));
        }
        // Written last, followed first: no cycle.
        text += &expect("head", None);
        text = text.replacen(
            "name = 'e0'\nmatch = 'udp'\n",
            "name = 'e0'\nmatch = 'udp'\nafter = 'head'\n",
            1,
        );
        let set = parse("x.toml", &text).unwrap();
        assert_eq!(set.expects[0].after, Some(2000));
        assert!((1..2000).all(|i| set.expects[i].after == Some(i - 1)));
        let text = text + &expect("e7", None);
        assert_eq!(error(&text).2, "duplicate expectation name \"e7\"");
    }
}
