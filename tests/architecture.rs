//! The layers of ARCHITECTURE.md, kept by a test rather than by memory.
//!
//! Every `crate::`, `super::` and `self::` path in the library's code (not
//! its comments or `#[cfg(test)]` modules) is read and resolved to the module
//! that defines it, following the `pub use` re-exports of each `mod.rs`.
//! The test then fails, naming the file, the line and both ends, when
//!
//! - a layer imports a layer above it (the order is [`LAYERS`]);
//! - a module reaches an item through the crate root's re-exports;
//! - two modules import each other, directly or around a longer circle (a
//!   `mod.rs` is the facade of its children: its edges to them do not count);
//! - a layer's `mod.rs` has no doc comment saying what it owns and may use;
//! - a source file holds more than [`MAX_LINES`] lines before its tests;
//! - the judging layer builds words for people or machines (colour, JSON
//!   documents, JUnit);
//! - the command or kernel layer defines a JSON document.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The library's layers, bottom to top. An import may point down or sideways
/// (within a layer), never up. The binary (`src/main.rs`, `src/cli/`) sits
/// above them all and reaches them through `lola::`.
const LAYERS: [&str; 7] = [
    "error", "capture", "packet", "host", "check", "harness", "report",
];

/// The most lines of code a source file may hold before its `#[cfg(test)]`
/// module.
const MAX_LINES: usize = 800;

/// Items the crate root defines itself (not re-exports) that any layer may use.
const ROOT_ITEMS: [&str; 1] = ["SCHEMA_VERSION"];

type Module = Vec<String>;

struct Source {
    /// `src/…` relative path.
    path: String,
    module: Module,
    /// The code before the first `#[cfg(test)]`, comments blanked out.
    code: String,
    /// The code before the first `#[cfg(test)]`, as written.
    raw: String,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every library source file (the binary's files are outside the layers).
fn sources() -> Vec<Source> {
    let mut files = Vec::new();
    walk(&src(), &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "main.rs" || rel.starts_with("cli/") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        let before_tests = match text.find("\n#[cfg(test)]") {
            Some(i) => &text[..i + 1],
            None => &text[..],
        };
        let mut module: Module = rel
            .trim_end_matches(".rs")
            .split('/')
            .map(String::from)
            .collect();
        if module.last().is_some_and(|m| m == "mod" || m == "lib") {
            module.pop();
        }
        out.push(Source {
            path: format!("src/{rel}"),
            module,
            code: blank_comments(before_tests),
            raw: before_tests.to_string(),
        });
    }
    out
}

/// The text with comments replaced by spaces (newlines kept, so that byte
/// offsets still give line numbers) and string literals emptied, so that a
/// path in a comment or a message is not taken for an import.
fn blank_comments(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            let end = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let end = text[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'r' && (b[i + 1..].starts_with(b"\"") || b[i + 1..].starts_with(b"#")) {
            // A raw string: r"…", r#"…"#.
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let close = format!("\"{}", "#".repeat(hashes));
            let start = i + 2 + hashes;
            let end = text[start..]
                .find(&close)
                .map_or(b.len(), |n| start + n + close.len());
            blank(&mut out, start, end.saturating_sub(close.len()));
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i + 1, j.min(b.len()));
            i = j + 1;
        } else if b[i] == b'\'' {
            // A char literal ('"', '\'', '{') or a lifetime ('a).
            if b.get(i + 2) == Some(&b'\'') {
                blank(&mut out, i + 1, i + 2);
                i += 3;
            } else if b.get(i + 1) == Some(&b'\\') {
                let end = b[i + 2..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map_or(b.len(), |n| i + 2 + n);
                blank(&mut out, i + 1, end);
                i = end + 1;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// One path the code names: where it starts (`crate`, `super`, `self`) and
/// its segments, with the line it is on.
struct PathUse {
    line: usize,
    segments: Vec<String>,
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Reads a path at `i` (after its first `::`), expanding brace groups:
/// `crate::{a::b, c::{d, e}}` is three paths.
fn read_tree(b: &[u8], mut i: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut segments = prefix;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'{' {
            i += 1;
            loop {
                while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'}' {
                    return i + 1;
                }
                i = read_tree(b, i, segments.clone(), out);
            }
        }
        let start = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        if start == i {
            out.push(segments);
            return i;
        }
        segments.push(String::from_utf8_lossy(&b[start..i]).into_owned());
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if b[j..].starts_with(b"::") {
            i = j + 2;
            continue;
        }
        // `x as y`: the alias names nothing new.
        if b[j..].starts_with(b"as ") {
            j += 3;
            while j < b.len() && (b[j].is_ascii_whitespace() || is_ident(b[j])) {
                j += 1;
            }
            i = j;
        }
        out.push(segments);
        return i;
    }
}

/// Every `crate::`, `super::` and `self::` path in the code, made absolute
/// (from the crate root) for the module `module`.
fn paths(code: &str, module: &Module, is_mod_rs: bool) -> Vec<PathUse> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    for key in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(n) = code[from..].find(key) {
            let at = from + n;
            from = at + key.len();
            if at > 0 && (is_ident(b[at - 1]) || b[at - 1] == b':') {
                continue;
            }
            let line = code[..at].matches('\n').count() + 1;
            // The directory module a relative path starts from.
            let base: Module = match key {
                "crate::" => Vec::new(),
                "self::" if is_mod_rs => module.clone(),
                "self::" => module.clone(),
                _ if is_mod_rs => module[..module.len().saturating_sub(1)].to_vec(),
                _ => module[..module.len().saturating_sub(1)].to_vec(),
            };
            let mut found = Vec::new();
            read_tree(b, at + key.len(), Vec::new(), &mut found);
            for mut segments in found {
                // `super::super::x`
                let mut base = base.clone();
                while segments.first().is_some_and(|s| s == "super") {
                    segments.remove(0);
                    base.pop();
                }
                let mut full = base;
                full.extend(segments.into_iter().filter(|s| s != "self"));
                out.push(PathUse {
                    line,
                    segments: full,
                });
            }
        }
    }
    out
}

/// The modules that exist, and for each directory module the names its
/// `mod.rs` re-exports from a child (`pub use child::{A, B}`), by child.
struct Crate {
    modules: BTreeSet<Module>,
    reexports: BTreeMap<Module, BTreeMap<String, Module>>,
}

impl Crate {
    fn new(sources: &[Source]) -> Crate {
        let modules: BTreeSet<Module> = sources.iter().map(|s| s.module.clone()).collect();
        let mut reexports: BTreeMap<Module, BTreeMap<String, Module>> = BTreeMap::new();
        for s in sources
            .iter()
            .filter(|s| s.path.ends_with("mod.rs") || s.path == "src/lib.rs")
        {
            let b = s.code.as_bytes();
            let mut from = 0;
            while let Some(n) = s.code[from..].find("pub use ") {
                let at = from + n + "pub use ".len();
                from = at;
                let mut found = Vec::new();
                read_tree(b, at, Vec::new(), &mut found);
                let stmt_end = s.code[at..].find(';').map_or(s.code.len(), |e| at + e);
                let stmt = &s.code[at..stmt_end];
                for segments in found {
                    let Some(first) = segments.first() else {
                        continue;
                    };
                    let mut child = s.module.clone();
                    child.push(first.clone());
                    if first == "crate" || first == "self" || !modules.contains(&child) {
                        continue;
                    }
                    let name = segments.last().unwrap().clone();
                    let mut target = child;
                    for seg in &segments[1..] {
                        let mut deeper = target.clone();
                        deeper.push(seg.clone());
                        if modules.contains(&deeper) {
                            target = deeper;
                        }
                    }
                    // `pub use child::x as y`: the alias is the name users see.
                    let alias = stmt.split(&format!("{name} as ")).nth(1).map(|rest| {
                        rest.trim_start()
                            .split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                            .unwrap_or("")
                            .to_string()
                    });
                    let key = alias.filter(|a| !a.is_empty()).unwrap_or(name);
                    reexports
                        .entry(s.module.clone())
                        .or_default()
                        .insert(key, target);
                }
            }
        }
        Crate { modules, reexports }
    }

    /// The module that defines what `segments` names.
    fn resolve(&self, segments: &[String]) -> Module {
        let mut module: Module = Vec::new();
        for seg in segments {
            let mut deeper = module.clone();
            deeper.push(seg.clone());
            if self.modules.contains(&deeper) {
                module = deeper;
                continue;
            }
            match self.reexports.get(&module).and_then(|r| r.get(seg)) {
                Some(target) => {
                    // A re-export may point at another re-export.
                    let mut rest = target.clone();
                    rest.push(seg.clone());
                    let resolved = self.resolve(&rest);
                    module = if resolved.len() >= target.len() {
                        resolved
                    } else {
                        target.clone()
                    };
                }
                None => break,
            }
        }
        module
    }
}

fn layer_of(module: &[String]) -> Option<usize> {
    let first = module.first()?;
    LAYERS.iter().position(|l| l == first)
}

fn name(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

/// `(from, to)` → the first place the code makes that import.
type Edges = BTreeMap<(Module, Module), (String, usize)>;

fn edges(sources: &[Source], krate: &Crate) -> (Edges, Vec<String>) {
    let mut edges = Edges::new();
    let mut problems = Vec::new();
    for s in sources {
        let is_mod_rs = s.path.ends_with("mod.rs") || s.path == "src/lib.rs";
        for p in paths(&s.code, &s.module, is_mod_rs) {
            if s.path == "src/lib.rs" {
                continue;
            }
            let target = krate.resolve(&p.segments);
            if target.is_empty() {
                let item = p.segments.first().cloned().unwrap_or_default();
                if !ROOT_ITEMS.contains(&item.as_str()) {
                    problems.push(format!(
                        "{}:{}: `crate::{}` goes through the crate root's re-exports: name the layer's own path",
                        s.path,
                        p.line,
                        p.segments.join("::")
                    ));
                }
                continue;
            }
            if target == s.module || target.starts_with(&s.module) && is_mod_rs {
                continue;
            }
            edges
                .entry((s.module.clone(), target))
                .or_insert((s.path.clone(), p.line));
        }
    }
    (edges, problems)
}

#[test]
fn imports_point_down_the_layers() {
    let sources = sources();
    let krate = Crate::new(&sources);
    let (edges, mut problems) = edges(&sources, &krate);
    for ((from, to), (path, line)) in &edges {
        let (Some(a), Some(b)) = (layer_of(from), layer_of(to)) else {
            continue;
        };
        if b > a {
            problems.push(format!(
                "{path}:{line}: `{}` imports `{}`: layer {} (#{}) may not use layer {} (#{}) above it",
                name(from),
                name(to),
                LAYERS[a],
                a + 1,
                LAYERS[b],
                b + 1
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} wrong arrows:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn no_two_modules_import_each_other() {
    let sources = sources();
    let krate = Crate::new(&sources);
    let (edges, _) = edges(&sources, &krate);
    // Strongly connected components (Tarjan), over modules; an edge from a
    // module to one of its own descendants is structure, not a dependency.
    let mut graph: BTreeMap<&Module, Vec<&Module>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        if to.starts_with(from) {
            continue;
        }
        graph.entry(from).or_default().push(to);
        graph.entry(to).or_default();
    }
    let circles = strongly_connected(&graph);
    let mut problems = Vec::new();
    for circle in circles.iter().filter(|c| c.len() > 1) {
        let members: BTreeSet<&Module> = circle.iter().copied().collect();
        let mut lines = Vec::new();
        for ((from, to), (path, line)) in &edges {
            if members.contains(from) && members.contains(to) && !to.starts_with(from) {
                lines.push(format!("  {path}:{line}: {} → {}", name(from), name(to)));
            }
        }
        problems.push(format!(
            "an import circle through {}:\n{}",
            circle
                .iter()
                .map(|m| name(m))
                .collect::<Vec<_>>()
                .join(", "),
            lines.join("\n")
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn strongly_connected<'a>(graph: &BTreeMap<&'a Module, Vec<&'a Module>>) -> Vec<Vec<&'a Module>> {
    struct State<'a> {
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        next: usize,
        out: Vec<Vec<&'a Module>>,
    }
    fn visit<'a>(v: &'a Module, graph: &BTreeMap<&'a Module, Vec<&'a Module>>, st: &mut State<'a>) {
        st.index.insert(v, st.next);
        st.low.insert(v, st.next);
        st.next += 1;
        st.stack.push(v);
        st.on_stack.insert(v);
        for &w in &graph[v] {
            if !st.index.contains_key(w) {
                visit(w, graph, st);
                let low = st.low[v].min(st.low[w]);
                st.low.insert(v, low);
            } else if st.on_stack.contains(w) {
                let low = st.low[v].min(st.index[w]);
                st.low.insert(v, low);
            }
        }
        if st.low[v] == st.index[v] {
            let mut component = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            st.out.push(component);
        }
    }
    let mut st = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for &v in graph.keys() {
        if !st.index.contains_key(v) {
            visit(v, graph, &mut st);
        }
    }
    st.out
}

#[test]
fn every_layer_is_a_folder_that_says_what_it_owns() {
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap();
    for layer in LAYERS {
        assert!(
            lib.contains(&format!("pub mod {layer};")),
            "src/lib.rs does not declare the layer {layer}"
        );
        if layer == "error" {
            continue;
        }
        let path = src().join(layer).join("mod.rs");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            text.starts_with("//!") && text.contains("May use"),
            "src/{layer}/mod.rs must open with a doc comment saying what the layer owns and what it \"May use\""
        );
    }
    // Nothing but the layers (and the binary) at the top of src/.
    for entry in fs::read_dir(src()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let stem = name.trim_end_matches(".rs");
        assert!(
            LAYERS.contains(&stem) || ["lib", "main", "cli"].contains(&stem),
            "src/{name} belongs in a layer's folder (ARCHITECTURE.md)"
        );
    }
}

#[test]
fn no_source_file_is_too_long_to_hold_in_ones_head() {
    let mut files = Vec::new();
    walk(&src(), &mut files);
    let mut long = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        let lines = match text.find("\n#[cfg(test)]") {
            Some(i) => text[..i].lines().count(),
            None => text.lines().count(),
        };
        if lines > MAX_LINES {
            long.push(format!(
                "{}: {lines} lines before its tests",
                file.strip_prefix(src()).unwrap().display()
            ));
        }
    }
    assert!(
        long.is_empty(),
        "split by concern, to at most {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_judge_builds_no_words() {
    // check/ returns typed values; text, colour, JSON documents and JUnit
    // are report/'s. (Display of a single finding is the finding's own name
    // for itself, as etherparse's errors have one.)
    for s in sources()
        .iter()
        .filter(|s| s.module.first().is_some_and(|m| m == "check"))
    {
        for (n, (line, raw)) in s.code.lines().zip(s.raw.lines()).enumerate() {
            let escape = !raw.trim_start().starts_with("//")
                && (raw.contains("\\x1b") || raw.contains("\\u{1b}"));
            for word in ["anstyle", "anstream", "serde_json::json!", "junit"] {
                assert!(
                    !line.contains(word) && !escape,
                    "{}:{}: the judging layer uses `{}`; words for people and machines belong in report/",
                    s.path,
                    n + 1,
                    if escape { "an ANSI escape" } else { word }
                );
            }
        }
    }
}

#[test]
fn the_commands_and_the_kernel_write_no_documents() {
    // harness/ and host/ return typed outcomes; the `--json` documents that
    // show them (and the schemas made from those) are report/'s.
    for s in sources().iter().filter(|s| {
        s.module
            .first()
            .is_some_and(|m| m == "harness" || m == "host")
    }) {
        for (n, line) in s.code.lines().enumerate() {
            assert!(
                !line.contains("serde_json") && !line.contains("Document"),
                "{}:{}: a JSON document outside report/; fill it in report/json/ from the typed outcome",
                s.path,
                n + 1
            );
        }
    }
}

#[test]
fn the_reader_understands_paths() {
    let code = blank_comments(
        "use crate::{a::b, c::{d, e as f}};\n// crate::nope\nlet s = \"crate::nope\";\nuse super::g;\n",
    );
    let found: Vec<Vec<String>> = paths(&code, &vec!["x".into(), "y".into()], false)
        .into_iter()
        .map(|p| p.segments)
        .collect();
    let want: Vec<Vec<String>> = [
        vec!["a", "b"],
        vec!["c", "d"],
        vec!["c", "e"],
        vec!["x", "g"],
    ]
    .iter()
    .map(|v| v.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(found, want);
}
