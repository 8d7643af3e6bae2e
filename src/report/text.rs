//! Findings as terminal text: the report of `lola check` and of `lola
//! diff`, with the verdict word in colour when asked. The typed values are
//! the judging layer's ([`Report`], [`DiffReport`]); the words are made here.

use std::borrow::Cow;
use std::fmt;

use crate::check::Verdict;
use crate::check::expect::SetReport;
use crate::check::golden::{DiffReport, FrameDiff};
use crate::check::{Note, Report};
use crate::packet::summary::plural;

impl Report {
    /// Writes the report as text, in `style`.
    ///
    /// ```
    /// use lola::check::Note;
    /// use lola::report::text::TextStyle;
    /// let report = lola::check_file("fixtures/seed-ipv4.pcap".as_ref(), &lola::Expectation::seed()).unwrap();
    /// // A front end may add its own words to notes, and colour to the verdict.
    /// let hint = |n: &Note| match n {
    ///     Note::PartialChecksums { .. } => format!("{n}; see the manual"),
    ///     _ => n.to_string(),
    /// };
    /// let mut text = String::new();
    /// report.write_text(&mut text, &TextStyle { color: false, note: &hint, frames: 50 }).unwrap();
    /// assert!(text.starts_with("PASS fixtures/seed-ipv4.pcap"));
    /// assert!(text.ends_with("; see the manual\n"), "{text}");
    /// ```
    pub fn write_text(&self, f: &mut impl fmt::Write, style: &TextStyle<'_>) -> fmt::Result {
        if self.passed() {
            writeln!(
                f,
                "{} {}: {} ({} matched in {}), no TCP on its endpoints",
                paint_verdict("PASS", true, style.color),
                printable(&self.file),
                self.expected,
                self.matched_count,
                plural(self.frames, "frame")
            )?;
        } else {
            writeln!(
                f,
                "{} {}: expected {}",
                paint_verdict("FAIL", false, style.color),
                printable(&self.file),
                self.expected
            )?;
            for reason in &self.failures {
                writeln!(f, "  {reason}")?;
            }
        }
        for (lines, count) in [
            (&self.matched, self.matched_count),
            (&self.offending, self.offending_count),
            (&self.tcp, self.tcp_count),
        ] {
            let shown = lines.len().min(style.frames);
            for line in &lines[..shown] {
                writeln!(f, "  {line}")?;
            }
            let more = count.saturating_sub(shown as u64);
            if more > 0 {
                // The JSON report holds what the list kept; --emit every frame.
                let all = if (lines.len() as u64) < count {
                    "--emit FILE for all"
                } else {
                    "--json or --emit FILE for all"
                };
                writeln!(f, "  … and {} ({all})", plural(more, "more frame"))?;
            }
        }
        if !self.passed() {
            for line in &self.near_misses {
                writeln!(f, "  {line}")?;
            }
        }
        let o = &self.other;
        let fragments = if o.fragments == 1 {
            "fragment"
        } else {
            "fragments"
        };
        let others: Vec<String> = [
            (o.udp, "UDP"),
            (o.tcp, "TCP"),
            (o.icmp, "ICMP"),
            (o.fragments, fragments),
            (o.other, "other"),
            (o.damaged, "damaged"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if !others.is_empty() {
            writeln!(f, "  other frames: {}", others.join(", "))?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {}", (style.note)(note))?;
        }
        Ok(())
    }
}

/// How [`Report::write_text`] renders: colour for the verdict word, and the
/// words of each note (a front end adds its own hints, such as flag names).
pub struct TextStyle<'a> {
    /// Colour the verdict word (ANSI escapes).
    pub color: bool,
    /// The words for a note.
    pub note: &'a dyn Fn(&Note) -> String,
    /// How many lines each list of frames shows (`--frames`); a line says
    /// how many more there are.
    pub frames: usize,
}

impl TextStyle<'_> {
    /// No colour, notes as they display.
    pub fn plain() -> TextStyle<'static> {
        TextStyle {
            color: false,
            note: &|n: &Note| n.to_string(),
            frames: crate::check::LIST_CAP,
        }
    }
}

impl fmt::Display for SetReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f, false)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f, &TextStyle::plain())
    }
}

/// A verdict word (`PASS`, `SAME`, `FAIL`, ...), bold green when good and
/// bold red when not, with `color`; as it is without.
///
/// ```
/// use lola::report::text::paint_verdict;
/// assert_eq!(paint_verdict("PASS", true, false), "PASS");
/// assert_eq!(paint_verdict("FAIL", false, true), "\x1b[1m\x1b[31mFAIL\x1b[0m");
/// ```
pub fn paint_verdict(word: &str, good: bool, color: bool) -> String {
    if !color {
        return word.to_string();
    }
    let hue = if good {
        anstyle::AnsiColor::Green
    } else {
        anstyle::AnsiColor::Red
    };
    let style = anstyle::Style::new().bold().fg_color(Some(hue.into()));
    format!("{style}{word}{style:#}")
}

impl fmt::Display for DiffReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f, false)
    }
}

fn claim_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "ok  ",
        Verdict::Fail => "FAIL",
        Verdict::Error => "ERROR",
    }
}

impl SetReport {
    /// Writes the report of an expectation file as text; with `color`, the
    /// verdict word in colour (as the built-in check's).
    ///
    /// ```
    /// use lola::check::expect::{ExpectationSet, check_file_with_set};
    /// let set = ExpectationSet::parse("hello.toml", "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456'\ncount = 1\n").unwrap();
    /// let report = check_file_with_set("fixtures/seed-ipv4.pcap".as_ref(), &set).unwrap();
    /// let mut text = String::new();
    /// report.write_text(&mut text, false).unwrap();
    /// assert!(text.starts_with("PASS fixtures/seed-ipv4.pcap: 1 claim held in 1 frame\n"), "{text}");
    /// ```
    pub fn write_text(&self, f: &mut impl fmt::Write, color: bool) -> fmt::Result {
        // The shape of every verdict line: `PASS file: what`, as the
        // built-in check's.
        let claims = (self.expectations.len() + self.rules.len()) as u64;
        let failed = self.expectations.iter().map(|e| e.verdict);
        let failed = failed.chain(self.rules.iter().map(|r| r.verdict));
        let failed = failed.filter(|v| !v.passed()).count() as u64;
        let frames = plural(self.frames, "frame");
        if self.passed() {
            let held = plural(claims, "claim");
            writeln!(
                f,
                "{} {}: {held} held in {frames}",
                paint_verdict("PASS", true, color),
                printable(&self.file)
            )?;
        } else if failed > 0 {
            let of = if claims == 1 { "claim" } else { "claims" };
            writeln!(
                f,
                "{} {}: {failed} of {claims} {of} failed in {frames}",
                paint_verdict("FAIL", false, color),
                printable(&self.file)
            )?;
        } else {
            writeln!(
                f,
                "{} {}: {frames}",
                paint_verdict("FAIL", false, color),
                printable(&self.file)
            )?;
        }
        for e in &self.expectations {
            let frames = if e.held == 1 { "frame" } else { "frames" };
            writeln!(
                f,
                "  {}  {}: {} {frames} held (count {})",
                claim_word(e.verdict),
                e.name,
                e.held,
                e.count
            )?;
            write_claim_details(f, &e.failures, &e.evidence, e.more_evidence)?;
        }
        for r in &self.rules {
            let frames = if r.count == 1 { "frame" } else { "frames" };
            if r.verdict.passed() {
                writeln!(f, "  {}  {}", claim_word(r.verdict), r.name)?;
            } else {
                writeln!(
                    f,
                    "  {}  {}: {} {frames}",
                    claim_word(r.verdict),
                    r.name,
                    r.count
                )?;
            }
            let more = r.count.saturating_sub(r.evidence.len() as u64);
            write_claim_details(f, &r.failures, &r.evidence, more)?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}

/// Under a claim's line: why it failed, the frames it shows, and how
/// many more it holds than it shows.
fn write_claim_details(
    f: &mut impl fmt::Write,
    failures: &[String],
    evidence: &[String],
    more: u64,
) -> fmt::Result {
    for why in failures {
        writeln!(f, "          {why}")?;
    }
    for line in evidence {
        writeln!(f, "            {line}")?;
    }
    if more > 0 {
        writeln!(f, "            … and {more} more")?;
    }
    Ok(())
}

impl DiffReport {
    /// Writes the report as text; with `color`, the verdict word in colour.
    ///
    /// ```
    /// let golden = "fixtures/seed-ipv4.pcap".as_ref();
    /// let report = lola::check::golden::diff_files(golden, golden, &Default::default()).unwrap();
    /// let mut text = String::new();
    /// report.write_text(&mut text, true).unwrap();
    /// assert!(text.starts_with("\x1b[1m\x1b[32mPASS\x1b[0m fixtures/seed-ipv4.pcap"), "{text}");
    /// ```
    pub fn write_text(&self, f: &mut impl fmt::Write, color: bool) -> fmt::Result {
        let frames = |n: u64| format!("{n} {}", if n == 1 { "frame" } else { "frames" });
        if self.same() {
            writeln!(
                f,
                "{} {} and {}: the same, {} equal field by field",
                paint_verdict("PASS", true, color),
                printable(&self.expected),
                printable(&self.actual),
                frames(self.expected_frames)
            )?;
        } else {
            writeln!(
                f,
                "{} {} and {}: different, {} of {} differ",
                paint_verdict("FAIL", false, color),
                printable(&self.expected),
                printable(&self.actual),
                self.differing,
                frames(self.expected_frames.max(self.actual_frames))
            )?;
            if self.expected_frames != self.actual_frames {
                writeln!(
                    f,
                    "  frame count: {} in {}, {} in {}",
                    self.expected_frames,
                    printable(&self.expected),
                    self.actual_frames,
                    printable(&self.actual)
                )?;
            }
        }
        for d in &self.differences {
            match d {
                FrameDiff::Changed { frame, fields } => {
                    for x in fields {
                        writeln!(
                            f,
                            "  frame {frame}: {} {} → {}",
                            x.field,
                            shown(&x.left),
                            shown(&x.right)
                        )?;
                    }
                }
                FrameDiff::Missing { frame, summary } => writeln!(
                    f,
                    "  frame {frame}: missing in {} (expected {summary})",
                    printable(&self.actual)
                )?,
                FrameDiff::Extra { frame, summary } => writeln!(
                    f,
                    "  frame {frame}: extra in {} ({summary})",
                    printable(&self.actual)
                )?,
            }
        }
        if self.differing > self.differences.len() as u64 {
            writeln!(
                f,
                "  ... and {} more frames",
                self.differing - self.differences.len() as u64
            )?;
        }
        if !self.allowed.is_empty() {
            writeln!(f, "  allowed to differ: {}", self.allowed.join("; "))?;
        }
        Ok(())
    }
}

fn shown(v: &str) -> &str {
    if v.is_empty() { "(absent)" } else { v }
}

/// A name (a file, a program's argument) made safe to show on a terminal:
/// every control character is written as an escape (`\x1b`, `\n`,
/// `\u{9b}`), as `ls` and ripgrep do, so that a name is shown, never
/// obeyed. Names without control characters are borrowed as they are.
///
/// ```
/// use lola::report::text::printable;
/// assert_eq!(printable("\x1b[2Jx.pcap"), "\\x1b[2Jx.pcap");
/// assert_eq!(printable("a\nb\tc\u{9b}"), "a\\nb\\tc\\u{9b}");
/// assert!(matches!(printable("plain.pcap"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn printable(name: &str) -> Cow<'_, str> {
    if !name.chars().any(char::is_control) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text for a terminal, with every control character that is not a line
/// break, a tab or a colour (an SGR sequence, `ESC [ … m`, as lola's own
/// colours are) escaped as [`printable`] does: whatever a name or a payload
/// smuggled into a line cannot move the cursor, clear the screen or set the
/// window title.
///
/// ```
/// use lola::report::text::terminal_text;
/// assert_eq!(terminal_text("\x1b[1mPASS\x1b[0m \x1b[2Jx\n"), "\x1b[1mPASS\x1b[0m \\x1b[2Jx\n");
/// assert_eq!(terminal_text("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
/// ```
pub fn terminal_text(text: &str) -> Cow<'_, str> {
    let is_sgr = |rest: &str| {
        let Some(body) = rest.strip_prefix("\x1b[") else {
            return 0;
        };
        let n = body
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b';')
            .count();
        if body.as_bytes().get(n) == Some(&b'm') {
            n + 3
        } else {
            0
        }
    };
    let needs = text
        .char_indices()
        .any(|(i, c)| c.is_control() && c != '\n' && c != '\t' && is_sgr(&text[i..]) == 0);
    if !needs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < text.len() {
        let sgr = is_sgr(&text[i..]);
        if sgr > 0 {
            out.push_str(&text[i..i + sgr]);
            i += sgr;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or_default();
        if c == '\n' || c == '\t' {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            out.push_str(&printable(c.encode_utf8(&mut buf)));
        }
        i += c.len_utf8();
    }
    Cow::Owned(out)
}
