//! `lola._lola`: the Python extension module. Thin: each function hands
//! its arguments to one call of the `lola` library and its typed outcome
//! back; the Python package (`python/lola/`) shapes them for users.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::AtomicI32;
use std::time::Duration;

use lola::capture::{CaptureFrame, CaptureReader, Format};
use lola::check::expect::{CheckReport, ExpectationSet, SetReport, check_reader_with_set};
use lola::check::flow::Flows;
use lola::report::columns::{Column, Columns, Data};
use lola::{ChecksumPolicy, Count, Expectation};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

create_exception!(
    _lola,
    LolaError,
    PyException,
    "An error of lola's, in its one line."
);

fn err(e: impl std::fmt::Display) -> PyErr {
    LolaError::new_err(e.to_string())
}

/// The expectation the built-in check's options describe.
fn expectation(
    dst_port: Option<u16>,
    message: Option<&str>,
    count: Option<u64>,
    at_least: Option<u64>,
    allow_tcp: bool,
    checksums: Option<&str>,
) -> PyResult<Expectation> {
    let mut e = Expectation::seed();
    if let Some(p) = dst_port {
        e = e.dst_port(p);
    }
    if let Some(m) = message {
        e = e.payload(m.as_bytes().to_vec());
    }
    if let Some(n) = count {
        e = e.count(Count::Exactly(n));
    }
    if let Some(n) = at_least {
        e = e.count(Count::AtLeast(n));
    }
    if let Some(c) = checksums {
        e = e.checksums(c.parse::<ChecksumPolicy>().map_err(err)?);
    }
    Ok(e.allow_tcp(allow_tcp))
}

/// An expectation file's set from its path, its TOML text, or a JSON
/// document of the same tables (a Python dict, dumped).
fn expectation_set(
    path: Option<PathBuf>,
    text: Option<&str>,
    json: Option<&str>,
) -> PyResult<Option<ExpectationSet>> {
    Ok(match (path, text, json) {
        (Some(path), _, _) => Some(ExpectationSet::read(&path).map_err(err)?),
        (None, Some(text), _) => Some(ExpectationSet::parse("<expect>", text).map_err(err)?),
        (None, None, Some(json)) => {
            let value: serde_json::Value = serde_json::from_str(json).map_err(err)?;
            let text = toml::to_string(&value).map_err(|e| err(format!("<expect>: {e}")))?;
            Some(ExpectationSet::parse("<expect>", &text).map_err(err)?)
        }
        (None, None, None) => None,
    })
}

/// What an expectation set is called in a report's title: its path, or
/// `<expect>` for TOML text or JSON (as errors in them name it).
fn expect_label(expect_path: Option<&PathBuf>) -> String {
    expect_path.map_or_else(|| "<expect>".to_string(), |p| p.display().to_string())
}

/// Where a report's ladders come from.
enum Ladders {
    /// The capture file, read again when a picture is asked for (as the
    /// CLI reads it for `--report`).
    File(PathBuf),
    /// A capture a `Tap` took, held in memory, read again when a picture
    /// is asked for.
    Recorded(Py<Recorded>),
}

impl Ladders {
    /// Every conversation with its payloads, as `--report` draws them;
    /// None for a capture that is not a regular file (any more).
    fn flows(&self) -> PyResult<Option<Cow<'_, Flows>>> {
        match self {
            Ladders::File(path) if path.is_file() => {
                let reader = CaptureReader::open(path).map_err(err)?;
                let flows = lola::check::flow::flows_with_payloads(reader).map_err(err)?;
                Ok(Some(Cow::Owned(flows)))
            }
            Ladders::File(_) => Ok(None),
            Ladders::Recorded(recorded) => {
                let reader = recorded.get().reader()?;
                let flows = lola::check::flow::flows_with_payloads(reader).map_err(err)?;
                Ok(Some(Cow::Owned(flows)))
            }
        }
    }
}

/// A judged capture: lola check's report.
#[pyclass(module = "lola._lola", frozen)]
struct Report {
    report: CheckReport,
    ladders: Ladders,
    /// An expectation file's report's title: the command that judged, as
    /// the CLI's `--report` and step summary title it.
    title: String,
}

#[pymethods]
impl Report {
    /// True when the capture passed.
    #[getter]
    fn passed(&self) -> bool {
        self.report.passed()
    }

    /// The terminal report, without colour.
    #[getter]
    fn text(&self) -> String {
        match &self.report {
            CheckReport::Builtin(r) => r.to_string(),
            CheckReport::Set(r) => r.to_string(),
        }
    }

    /// The `--json` document.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.report).map_err(err)
    }

    /// The JUnit XML document (`--junit`), one suite.
    fn junit(&self) -> String {
        let name = format!("lola check {}", self.report.file());
        let suite =
            lola::report::junit::Suite::new(name, lola::report::junit::report_cases(&self.report))
                .with_property("capture", self.report.file());
        lola::report::junit::to_xml(&[suite])
    }

    /// The HTML report (`--report`): the built-in check's, or the
    /// expectation file's, with the capture's ladders.
    fn html(&self) -> PyResult<String> {
        self.picture(lola::report::html::check, lola::report::html::expectations)
    }

    /// The Markdown step summary (what `GITHUB_STEP_SUMMARY` is given).
    fn markdown(&self) -> PyResult<String> {
        self.picture(
            lola::report::markdown::check,
            lola::report::markdown::expectations,
        )
    }
}

impl Report {
    /// The report drawn by `builtin` or `set` (one of the report layer's
    /// pairs), with the capture's ladders.
    fn picture(
        &self,
        builtin: fn(&lola::check::Report, Option<&Flows>) -> String,
        set: fn(&str, &SetReport, Option<&Flows>) -> String,
    ) -> PyResult<String> {
        let flows = self.ladders.flows()?;
        Ok(match &self.report {
            CheckReport::Builtin(r) => builtin(r, flows.as_deref()),
            CheckReport::Set(r) => set(&self.title, r, flows.as_deref()),
        })
    }
}

/// `lola check PATH`: the built-in check with its options, or an
/// expectation set (a file, TOML text, or JSON).
#[pyfunction]
#[pyo3(signature = (path, expect_path=None, expect_text=None, expect_json=None, dst_port=None, message=None, count=None, at_least=None, allow_tcp=false, checksums=None))]
#[allow(clippy::too_many_arguments)]
fn check(
    py: Python<'_>,
    path: PathBuf,
    expect_path: Option<PathBuf>,
    expect_text: Option<&str>,
    expect_json: Option<&str>,
    dst_port: Option<u16>,
    message: Option<&str>,
    count: Option<u64>,
    at_least: Option<u64>,
    allow_tcp: bool,
    checksums: Option<&str>,
) -> PyResult<Report> {
    let e = expectation(dst_port, message, count, at_least, allow_tcp, checksums)?;
    let title = format!("lola check --expect {}", expect_label(expect_path.as_ref()));
    let set = expectation_set(expect_path, expect_text, expect_json)?;
    let report = py
        .detach(|| CheckReport::of_file(&path, &e, set.as_ref()))
        .map_err(err)?;
    Ok(Report {
        report,
        ladders: Ladders::File(path),
        title,
    })
}

/// Columns as plain Python values: a list of dicts with the buffers as bytes.
fn columns_out<'py>(py: Python<'py>, table: Columns) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("rows", table.rows)?;
    let list = PyList::empty(py);
    for Column {
        name,
        data,
        valid,
        lists,
    } in table.columns
    {
        let c = PyDict::new(py);
        c.set_item("name", name)?;
        c.set_item("valid", valid.map(|v| PyBytes::new(py, &v)))?;
        c.set_item("lists", lists.map(|l| i32_bytes(py, &l)).transpose()?)?;
        match data {
            Data::Uint { width, bytes } => {
                c.set_item("type", format!("uint{}", width as u32 * 8))?;
                c.set_item("data", PyBytes::new(py, &bytes))?;
            }
            Data::Time(bytes) => {
                c.set_item("type", "time")?;
                c.set_item("data", PyBytes::new(py, &bytes))?;
            }
            Data::Bool(bits) => {
                c.set_item("type", "bool")?;
                c.set_item("data", PyBytes::new(py, &bits))?;
            }
            Data::Text { offsets, data } => {
                c.set_item("type", "text")?;
                c.set_item("offsets", i32_bytes(py, &offsets)?)?;
                c.set_item("data", PyBytes::new(py, &data))?;
            }
            Data::Dictionary {
                indices,
                offsets,
                data,
            } => {
                c.set_item("type", "dictionary")?;
                c.set_item("indices", i32_bytes(py, &indices)?)?;
                c.set_item("offsets", i32_bytes(py, &offsets)?)?;
                c.set_item("data", PyBytes::new(py, &data))?;
            }
        }
        list.append(c)?;
    }
    out.set_item("columns", list)?;
    Ok(out)
}

/// `xs` as little-endian bytes, written straight into a Python `bytes`.
fn i32_bytes<'py>(py: Python<'py>, xs: &[i32]) -> PyResult<Bound<'py, PyBytes>> {
    PyBytes::new_with(py, xs.len() * 4, |bytes| {
        for (b, x) in bytes.chunks_exact_mut(4).zip(xs) {
            b.copy_from_slice(&x.to_le_bytes());
        }
        Ok(())
    })
}

/// Every frame of the capture at `path`, by column (`lola.frames`).
#[pyfunction]
fn frames<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let table = py
        .detach(|| lola::report::columns::frames_file(&path))
        .map_err(err)?;
    columns_out(py, table)
}

/// A capture held in memory (pcapng bytes): what a `Tap` took.
#[pyclass(module = "lola._lola", frozen)]
struct Recorded {
    bytes: Vec<u8>,
    frames: usize,
}

impl Recorded {
    fn reader(&self) -> PyResult<CaptureReader<&[u8]>> {
        CaptureReader::new(&self.bytes[..], "lola.pcapng").map_err(err)
    }
}

#[pymethods]
impl Recorded {
    /// How many frames it holds.
    fn __len__(&self) -> usize {
        self.frames
    }

    /// The frames by column.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let reader = self.reader()?;
        let table = lola::report::columns::frames_reader(reader, "lola.pcapng").map_err(err)?;
        columns_out(py, table)
    }

    /// The capture held against an expectation set (its TOML text, a path
    /// or JSON), or the built-in check's options.
    #[pyo3(signature = (expect_path=None, expect_text=None, expect_json=None))]
    fn check(
        slf: &Bound<'_, Self>,
        expect_path: Option<PathBuf>,
        expect_text: Option<&str>,
        expect_json: Option<&str>,
    ) -> PyResult<Report> {
        let this = slf.get();
        let title = format!("lola check --expect {}", expect_label(expect_path.as_ref()));
        let ladders = || Ladders::Recorded(slf.clone().unbind());
        let Some(set) = expectation_set(expect_path, expect_text, expect_json)? else {
            let reader = this.reader()?;
            let e = Expectation::seed();
            let report = lola::check::check_reader(reader, "lola.pcapng", &e).map_err(err)?;
            return Ok(Report {
                report: CheckReport::Builtin(Box::new(report)),
                ladders: ladders(),
                title,
            });
        };
        let reader = this.reader()?;
        let report = check_reader_with_set(reader, "lola.pcapng", &set, false, &mut |_, _| {})
            .map_err(err)?;
        Ok(Report {
            report: CheckReport::Set(Box::new(report)),
            ladders: ladders(),
            title,
        })
    }

    /// Writes the capture to `path` (pcapng), whole or not at all.
    fn write(&self, path: PathBuf) -> PyResult<()> {
        lola::capture::write_file_atomically(&path, &self.bytes).map_err(err)
    }

    /// Each conversation as `lola flow` draws it: its summary line and
    /// its ladder, `width` columns wide.
    #[pyo3(signature = (width=72))]
    fn ladders(&self, width: usize) -> PyResult<String> {
        let flows = lola::check::flow::flows(self.reader()?).map_err(err)?;
        let mut text = String::new();
        for c in &flows.conversations {
            text.push_str(&lola::report::ladder::summary_line(c));
            text.push('\n');
            text.push_str(&lola::report::ladder::ladder(c, width, false));
        }
        Ok(text)
    }

    /// The pcapng bytes.
    fn bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.bytes)
    }
}

/// A recording of `lo` this process keeps open, taken in slices.
#[pyclass(module = "lola._lola", unsendable)]
struct Tap {
    tap: lola::host::live::Tap,
    slice: Vec<lola::host::live::LiveFrame>,
    since: Duration,
}

#[pymethods]
impl Tap {
    /// Starts recording every frame on `interface`.
    #[new]
    #[pyo3(signature = (interface="lo"))]
    fn new(interface: &str) -> PyResult<Tap> {
        let tap = lola::host::live::Tap::open(interface).map_err(err)?;
        Ok(Tap {
            tap,
            slice: Vec::new(),
            since: Duration::ZERO,
        })
    }

    /// Starts a new slice now: what the kernel holds is let go.
    fn begin(&mut self, py: Python<'_>) -> PyResult<()> {
        let tap = &mut self.tap;
        py.detach(|| tap.discard()).map_err(err)?;
        self.slice.clear();
        self.since = lola::host::exchange::now();
        Ok(())
    }

    /// Every frame of the slice so far, as a capture in memory.
    fn take(&mut self, py: Python<'_>) -> PyResult<Recorded> {
        let tap = &mut self.tap;
        let frames = py.detach(|| tap.take()).map_err(err)?;
        let since = self.since;
        self.slice
            .extend(frames.into_iter().filter(|f| f.timestamp >= since));
        let comment = Some("captured on lo by lola".to_string());
        let kept: Vec<CaptureFrame<'_>> = self
            .slice
            .iter()
            .map(|f| CaptureFrame {
                timestamp: f.timestamp,
                data: Cow::Borrowed(&f.data[..]),
                comment: comment.clone(),
                flags: Some(f.flags).filter(|&flags| flags != 0),
            })
            .collect();
        let mut bytes = Vec::new();
        lola::capture::encode_capture(&mut bytes, Format::PcapNg, &kept).map_err(err)?;
        Ok(Recorded {
            bytes,
            frames: kept.len(),
        })
    }

    /// Frames the kernel dropped for want of room since the start.
    fn dropped(&mut self) -> PyResult<u64> {
        Ok(self.tap.statistics().map_err(err)?.dropped)
    }
}

/// Now, in ns since the epoch, as the kernel stamps captured frames.
#[pyfunction]
fn now_ns() -> u64 {
    lola::host::exchange::now().as_nanos() as u64
}

/// Moves this process into a private user and network namespace with `lo`
/// up (single-threaded processes only); returns where it is.
#[pyfunction]
fn enter_private() -> PyResult<String> {
    match lola::host::sandbox::enter_private() {
        Ok(isolation) => Ok(format!("{isolation:?}").to_lowercase()),
        Err(blocked) => Err(err(format!(
            "cannot make a private lo: {blocked}; fix: {}",
            blocked.fix()
        ))),
    }
}

/// True when this process may capture on its `lo` (root, `CAP_NET_RAW`, or
/// a private namespace).
#[pyfunction]
fn has_net_raw() -> bool {
    lola::host::sandbox::has_net_raw()
}

/// What `lola exec` returns: how the program ended and the check's report.
#[pyclass(module = "lola._lola", frozen)]
struct Executed {
    #[pyo3(get)]
    ending: String,
    #[pyo3(get)]
    exit_failed: bool,
    #[pyo3(get)]
    passed: bool,
    #[pyo3(get)]
    output: PathBuf,
    #[pyo3(get)]
    frames: u64,
    #[pyo3(get)]
    place: String,
    report: Py<Report>,
}

#[pymethods]
impl Executed {
    /// The check of the capture.
    #[getter]
    fn report(&self, py: Python<'_>) -> Py<Report> {
        self.report.clone_ref(py)
    }
}

/// `lola exec ARGV`: the program on a private `lo`, recorded and judged.
#[pyfunction]
#[pyo3(signature = (argv, output, expect_path=None, expect_text=None, expect_json=None, timeout=None, host=false, ignore_exit=false))]
#[allow(clippy::too_many_arguments)]
fn exec(
    py: Python<'_>,
    argv: Vec<String>,
    output: PathBuf,
    expect_path: Option<PathBuf>,
    expect_text: Option<&str>,
    expect_json: Option<&str>,
    timeout: Option<f64>,
    host: bool,
    ignore_exit: bool,
) -> PyResult<Executed> {
    use lola::harness::exec::ExecOptions;
    let mut options = ExecOptions::new(argv.into_iter().map(Into::into).collect());
    options.output = output;
    let label = expect_label(expect_path.as_ref());
    options.set = expectation_set(expect_path, expect_text, expect_json)?;
    options.timeout = match timeout {
        Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
        Some(t) => return Err(err(format!("timeout {t}: a positive number of seconds"))),
        None => None,
    };
    options.host = host;
    options.ignore_exit = ignore_exit;
    options.format = Format::for_path(&options.output);
    let stop = AtomicI32::new(0);
    let outcome = py
        .detach(|| lola::harness::exec::exec(&options, &stop))
        .map_err(err)?;
    let path = outcome.output.clone();
    Ok(Executed {
        ending: outcome.ending.to_string(),
        exit_failed: outcome.exit_failed(),
        passed: outcome.passed(),
        frames: outcome.written.frames as u64,
        place: outcome.place.name().to_string(),
        output: path.clone(),
        report: Py::new(
            py,
            Report {
                title: format!("lola exec --expect {label} -- {}", outcome.name()),
                report: outcome.report,
                ladders: Ladders::File(path),
            },
        )?,
    })
}

/// The version of the lola library inside.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _lola(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("LolaError", m.py().get_type::<LolaError>())?;
    m.add_class::<Report>()?;
    m.add_class::<Recorded>()?;
    m.add_class::<Tap>()?;
    m.add_class::<Executed>()?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(frames, m)?)?;
    m.add_function(wrap_pyfunction!(exec, m)?)?;
    m.add_function(wrap_pyfunction!(now_ns, m)?)?;
    m.add_function(wrap_pyfunction!(enter_private, m)?)?;
    m.add_function(wrap_pyfunction!(has_net_raw, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
