"""lola for Python: judge captures with the engine of ``lola check``, read
their frames as Arrow tables, record loopback traffic, and test network
code with pytest (the ``packets`` fixture and ``--lola-private``).

Every decision is taken by the Rust library inside (``lola._lola``); this
package only shapes arguments and results.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

from . import _lola
from ._lola import LolaError

__all__ = [
    "LolaError",
    "Report",
    "ExecResult",
    "Capture",
    "check",
    "frames",
    "exec",
    "capture",
    "enter_private",
    "__version__",
]

__version__: str = _lola.version()

PathLike = Union[str, "os.PathLike[str]"]
Expect = Union[None, PathLike, str, Mapping[str, Any]]


def _expect_args(expect: Expect) -> Dict[str, Any]:
    """The expectation as the extension takes it: a path, TOML text, or a
    dict as JSON. A string is a path when no such TOML table starts it and
    a file of that name exists, else TOML text."""
    if expect is None:
        return {}
    if isinstance(expect, Mapping):
        return {"expect_json": json.dumps(expect)}
    if isinstance(expect, os.PathLike):
        return {"expect_path": os.fspath(expect)}
    if isinstance(expect, str):
        if "\n" in expect or expect.lstrip().startswith("["):
            return {"expect_text": expect}
        return {"expect_path": expect}
    raise TypeError(
        f"expect: a path, TOML text or a dict, not {type(expect).__name__}"
    )


class Expectation:
    """One expectation's (or rule's) result in a :class:`Report`."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self._doc = dict(doc)
        #: Its name (a rule's is ``forbid: RULE`` or ``exclusive``).
        self.name: str = doc["name"]
        #: ``"pass"`` or ``"fail"``.
        self.verdict: str = doc["verdict"]
        #: Frames that held (an expectation) or broke it (a rule).
        self.count: int = doc.get("held", doc.get("count", 0))
        #: Their frame numbers (the first ten).
        self.frames: List[int] = list(doc.get("frames", []))
        #: Why it failed, one sentence each.
        self.failures: List[str] = list(doc.get("failures", []))
        #: The closest frames, one line each.
        self.evidence: List[str] = list(doc.get("evidence", []))

    @property
    def passed(self) -> bool:
        """True when it held."""
        return self.verdict == "pass"

    def __repr__(self) -> str:
        return f"<Expectation {self.name!r} {self.verdict}>"


class Report:
    """What ``lola check`` reports about one capture."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._doc: Optional[Dict[str, Any]] = None

    @property
    def passed(self) -> bool:
        """True when the capture passed."""
        return bool(self._inner.passed)

    @property
    def verdict(self) -> str:
        """``"pass"`` or ``"fail"``, as the ``--json`` document says."""
        return str(self.document["verdict"])

    @property
    def text(self) -> str:
        """The terminal report (what ``lola check`` prints), without colour."""
        return str(self._inner.text)

    @property
    def document(self) -> Dict[str, Any]:
        """The ``--json`` document, parsed."""
        if self._doc is None:
            self._doc = json.loads(self.to_json())
        return self._doc

    @property
    def expectations(self) -> List[Expectation]:
        """Each expectation's and rule's result, in file order (an
        expectation file's report; the built-in check has none: see
        :attr:`document`)."""
        doc = self.document
        return [Expectation(e) for e in doc.get("expectations", []) + doc.get("rules", [])]

    def to_json(self) -> str:
        """The ``--json`` document, as ``lola check --json`` prints it."""
        return str(self._inner.to_json())

    def junit(self) -> str:
        """The JUnit XML document (``--junit``)."""
        return str(self._inner.junit())

    def html(self) -> str:
        """The HTML report, as ``--report`` writes it: the built-in check's or
        the expectation file's, with a ladder for each conversation."""
        return str(self._inner.html())

    def markdown(self) -> str:
        """The Markdown step summary, as the CLI appends it to
        ``$GITHUB_STEP_SUMMARY``: the built-in check's or the expectation
        file's."""
        return str(self._inner.markdown())

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<lola.Report {self.verdict}>"


def check(path: PathLike, expect: Expect = None, **flags: Any) -> Report:
    """Judges the capture at ``path`` as ``lola check`` does.

    ``expect`` is an expectation file (a path), its TOML text, or a dict of
    the same tables (``{"expect": [{"name": "ping", "match": "udp", "count": 1}]}``);
    without it the built-in check runs, with the flags of ``lola check``:
    ``dst_port``, ``message``, ``count``, ``at_least``, ``allow_tcp``,
    ``checksums`` (``"strict"`` or ``"lenient"``).

    Raises :class:`LolaError` when the capture or the expectation cannot be read.
    """
    return Report(_lola.check(os.fspath(path), **_expect_args(expect), **flags))


def _table(columns: Mapping[str, Any]) -> Any:
    """The columns the extension made, as a pyarrow.Table (no copy of rows
    through Python objects: each column is built from its buffers)."""
    try:
        import pyarrow as pa
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "lola.frames needs pyarrow: pip install 'lola[arrow]' (or pip install pyarrow)"
        ) from e
    rows = int(columns["rows"])
    names, arrays = [], []
    for c in columns["columns"]:
        lists = c["lists"]
        valid = pa.py_buffer(c["valid"]) if c["valid"] is not None else None
        items_valid = None if lists is not None else valid
        length = rows
        if lists is not None:
            # The items: one per value, all valid.
            length = int.from_bytes(c["lists"][-4:], "little")
        kind = c["type"]
        if kind.startswith("uint") or kind == "time":
            ty = pa.timestamp("ns", tz="UTC") if kind == "time" else getattr(pa, kind)()
            values = pa.Array.from_buffers(ty, length, [items_valid, pa.py_buffer(c["data"])])
        elif kind == "bool":
            values = pa.Array.from_buffers(pa.bool_(), length, [items_valid, pa.py_buffer(c["data"])])
        elif kind == "text":
            values = pa.Array.from_buffers(
                pa.string(), length,
                [items_valid, pa.py_buffer(c["offsets"]), pa.py_buffer(c["data"])],
            )
        elif kind == "dictionary":
            words = len(c["offsets"]) // 4 - 1
            dictionary = pa.Array.from_buffers(
                pa.string(), words, [None, pa.py_buffer(c["offsets"]), pa.py_buffer(c["data"])]
            )
            indices = pa.Array.from_buffers(pa.int32(), length, [items_valid, pa.py_buffer(c["indices"])])
            values = pa.DictionaryArray.from_arrays(indices, dictionary)
        else:  # pragma: no cover - the extension makes no other
            raise LolaError(f"column {c['name']}: unknown type {kind}")
        if lists is not None:
            values = pa.ListArray.from_buffers(
                pa.list_(values.type), rows, [valid, pa.py_buffer(lists)], children=[values]
            )
        names.append(c["name"])
        arrays.append(values)
    table = pa.Table.from_arrays(arrays, names=names)
    return table.replace_schema_metadata({"schema": "lola.frame.v1"})


def frames(path: PathLike) -> Any:
    """Every frame of the capture at ``path`` as a ``pyarrow.Table``, one
    row per frame, its columns named like the rows of ``lola check --emit``
    (``frame``, ``time``, ``flow``, ``ip.src``, ``udp.dstport``, ...).

    Polars (``polars.from_arrow``) and DuckDB read the table without copying
    rows through Python objects. Needs ``pyarrow``.
    """
    return _table(_lola.frames(os.fspath(path)))


class ExecResult:
    """What ``lola exec`` came to: how the program ended, the capture it
    wrote and the check's :class:`Report`."""

    def __init__(self, inner: Any) -> None:
        #: How the program ended, in words (``exited with status 0``).
        self.ending: str = inner.ending
        #: True when the program's failure decides the result.
        self.exit_failed: bool = inner.exit_failed
        #: True when the program ended well and the capture passed.
        self.passed: bool = inner.passed
        #: The capture written.
        self.output: str = os.fspath(inner.output)
        #: Frames written.
        self.frames: int = inner.frames
        #: Which ``lo`` was recorded: ``host`` or ``private``.
        self.place: str = inner.place
        #: The check of the capture.
        self.report: Report = Report(inner.report)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"<lola.ExecResult {self.ending}; {self.report.verdict}>"


def exec(  # noqa: A001 - the name of the command
    argv: Sequence[str],
    expect: Expect = None,
    timeout: Optional[float] = None,
    output: PathLike = "exec.pcap",
    host: bool = False,
    ignore_exit: bool = False,
) -> ExecResult:
    """Runs ``argv`` as ``lola exec`` does: on a private ``lo`` (``host=True``:
    the host's), recorded to ``output`` and judged against ``expect`` (as in
    :func:`check`; else the built-in check), stopped after ``timeout`` seconds."""
    inner = _lola.exec(
        [os.fspath(a) for a in argv],
        os.fspath(output),
        timeout=timeout,
        host=host,
        ignore_exit=ignore_exit,
        **_expect_args(expect),
    )
    return ExecResult(inner)


class Capture:
    """The loopback frames recorded by :func:`capture` (or the ``packets``
    fixture), held in memory as a pcapng."""

    def __init__(self, recorded: Any) -> None:
        self._recorded = recorded

    def __len__(self) -> int:
        return len(self._recorded)

    def frames(self) -> Any:
        """The frames as a ``pyarrow.Table``, as :func:`frames` reads a file."""
        return _table(self._recorded.columns())

    def check(self, expect: Expect = None) -> Report:
        """The frames judged against ``expect`` (as in :func:`check`)."""
        return Report(self._recorded.check(**_expect_args(expect)))

    def write(self, path: PathLike) -> str:
        """Writes the capture to ``path`` as pcapng (whole or not at all); returns the path."""
        self._recorded.write(os.fspath(path))
        return os.fspath(path)

    def ladders(self, width: int = 72) -> str:
        """Each conversation's summary line and ladder, as ``lola flow`` draws them."""
        return str(self._recorded.ladders(width))

    def pcapng(self) -> bytes:
        """The capture's bytes (pcapng)."""
        return bytes(self._recorded.bytes())


_taps: Dict[str, Any] = {}


def _tap(interface: str = "lo") -> Any:
    """This process's recording of ``interface``, opened once."""
    tap = _taps.get(interface)
    if tap is None:
        tap = _taps[interface] = _lola.Tap(interface)
    return tap


class _Recording:
    """The value of ``with lola.capture() as cap``: the frames so far."""

    def __init__(self, interface: str) -> None:
        self._tap = _tap(interface)
        self._tap.begin()
        self._capture: Optional[Capture] = None

    def _take(self) -> Capture:
        self._capture = Capture(self._tap.take())
        return self._capture

    def frames(self) -> Any:
        return (self._capture or self._take()).frames()

    def check(self, expect: Expect = None) -> Report:
        return (self._capture or self._take()).check(expect)

    def write(self, path: PathLike) -> str:
        return (self._capture or self._take()).write(path)

    def __len__(self) -> int:
        return len(self._capture or self._take())


@contextlib.contextmanager
def capture(interface: str = "lo") -> Iterator[_Recording]:
    """Records the traffic on ``interface`` while the block runs: this
    process's, its threads' and its child processes' (on the host ``lo``,
    everybody's). Needs ``CAP_NET_RAW`` there: root, or a private namespace
    (:func:`enter_private`, or ``pytest --lola-private``).

    >>> with lola.capture() as cap:           # doctest: +SKIP
    ...     sock.sendto(b"ping", ("127.0.0.1", port))
    >>> cap.check({"expect": [{"name": "ping", "match": 'data.text == "ping"', "count": 1}]}).passed
    True
    """
    recording = _Recording(interface)
    yield recording
    recording._take()


def enter_private() -> str:
    """Moves this process into a private user and network namespace with
    ``lo`` up, for the rest of its life (call it before any thread starts);
    returns ``"user"`` or ``"network"`` (as root, a network namespace alone).
    Raises :class:`LolaError` saying why and how to fix it where the kernel
    forbids it."""
    return str(_lola.enter_private())
