"""lola's pytest plugin (registered through the ``pytest11`` entry point).

Inert until used: it adds the ``--lola-private`` option and the ``packets``
fixture, and does nothing else unless one of them is asked for.

* ``pytest --lola-private`` moves the session into a private user and network
  namespace with its own ``lo`` before any test runs (and before any thread
  starts), so that tests capture loopback without root; with pytest-xdist each
  worker gets a network namespace of its own, so parallel tests never see each
  other's frames.
* ``packets``: the test's own frames on ``lo``, from its start to its end,
  with ``packets.expect(filter, count=...)``, ``packets.forbid(filter)`` and
  ``packets.check("file.toml")``. A failed claim shows lola's evidence; the
  test's capture is kept as ``<tmp_path>/lola.pcapng`` and named in the
  report and in ``--junitxml`` (property ``lola_capture``).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any, Optional, Union

import pytest

import lola
from lola import LolaError, _lola

#: Set in the environment once the session is inside its private namespace,
#: so that xdist workers (its children) know to make one of their own.
PRIVATE_ENV = "LOLA_PRIVATE_SESSION"

HOW_TO_PRIVATE = (
    "run pytest --lola-private to record on a private lo without root "
    "(a user and network namespace of the session's own)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lola", "lola: loopback captures of each test")
    group.addoption(
        "--lola-private",
        action="store_true",
        default=False,
        help="run the session in a private user+network namespace with its own lo "
        "(no root needed; each xdist worker gets its own namespace)",
    )


def _reexec_private() -> None:
    """Starts pytest again through ``python -m lola._private``, which enters
    the namespace before the interpreter starts any thread."""
    argv = [sys.executable, "-m", "lola._private", *sys.argv]
    os.execv(sys.executable, argv)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: Any, args: Any) -> None:
    if not getattr(early_config.known_args_namespace, "lola_private", False):
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if os.environ.get(PRIVATE_ENV) and not worker:
        return  # re-executed by lola._private: already inside
    outside = os.getuid()
    try:
        _lola.enter_private()
    except LolaError as e:
        if threading.active_count() > 1 and not worker and not os.environ.get(PRIVATE_ENV):
            # A thread runs already: a new user namespace needs a
            # single-threaded process, so start again before any.
            _reexec_private()
        raise pytest.UsageError(f"--lola-private: {e}") from None
    os.environ[PRIVATE_ENV] = "1"
    _keep_user_name(outside)


def _keep_user_name(outside: int) -> None:
    """Inside a new user namespace this process is uid 0, whose name is
    root: pytest would put its temporary directories in root's
    (``/tmp/pytest-of-root``) and refuse them. They keep the caller's name."""
    if outside == 0 or os.getuid() == outside:
        return
    try:
        import pwd

        name = pwd.getpwuid(outside).pw_name
    except (ImportError, KeyError):
        name = str(outside)
    os.environ["LOGNAME"] = os.environ["USER"] = name


def pytest_report_header(config: pytest.Config) -> Optional[str]:
    if config.getoption("lola_private", False):
        return "lola: private lo (a user and network namespace of the session's own)"
    return None


class PacketsFailed(AssertionError):
    """A claim of the ``packets`` fixture that the test's frames broke."""


class Packets:
    """The test's own frames on ``lo``, from its start to now, and claims about them.

    Each claim judges the frames recorded so far, so make it after the
    traffic: ``packets.expect('udp.dstport == 5353 && data.text == "ping"', count=1)``.
    """

    def __init__(self, tap: Any, tmp_path: Path, node: pytest.Item) -> None:
        self._tap = tap
        self._tmp_path = tmp_path
        self._node = node
        self._capture: Optional[lola.Capture] = None
        #: Where the capture was kept, once it was (on a failure).
        self.kept: Optional[str] = None

    @property
    def capture(self) -> lola.Capture:
        """The frames so far, as a :class:`lola.Capture`."""
        self._capture = lola.Capture(self._tap.take())
        return self._capture

    def __len__(self) -> int:
        return len(self.capture)

    def frames(self) -> Any:
        """The frames so far as a ``pyarrow.Table`` (columns as ``--emit`` rows)."""
        return self.capture.frames()

    def keep(self) -> str:
        """Writes the frames so far to ``<tmp_path>/lola.pcapng`` and records
        its path as the JUnit property ``lola_capture``; returns the path."""
        capture = self._capture or self.capture
        path = capture.write(self._tmp_path / "lola.pcapng")
        if self.kept is None:
            self._node.user_properties.append(("lola_capture", path))
        self.kept = path
        return path

    def _judge(self, expect: lola.Expect, what: str) -> lola.Report:
        __tracebackhide__ = True
        capture = self.capture
        report = capture.check(expect)
        if not report.passed:
            path = self.keep()
            ladders = capture.ladders()
            raise PacketsFailed(
                f"lola: {what}\n{report.text.rstrip()}\n"
                + (f"{ladders.rstrip()}\n" if ladders.strip() else "")
                + f"capture kept: {path}"
            )
        return report

    def expect(
        self,
        filter: str,
        count: Union[int, str] = ">= 1",
        where: Union[None, str, list] = None,
        name: Optional[str] = None,
    ) -> lola.Report:
        """Asserts that ``count`` frames (a number, or ``">= 1"``,
        ``"1..=3"``) match ``filter`` (Wireshark's display-filter
        language) and satisfy every ``where``; returns the report."""
        __tracebackhide__ = True
        e: dict = {"name": name or filter, "match": filter, "count": count}
        if where is not None:
            e["where"] = [where] if isinstance(where, str) else list(where)
        return self._judge({"expect": [e]}, f"expected {count} frame(s) matching {filter}")

    def forbid(self, filter: str) -> lola.Report:
        """Asserts that no frame matches ``filter``."""
        __tracebackhide__ = True
        e = {"name": f"forbid: {filter}", "match": filter, "count": 0}
        return self._judge({"expect": [e]}, f"no frame may match {filter}")

    def check(self, expect: lola.Expect) -> lola.Report:
        """Asserts that the frames pass an expectation file (a path, relative
        to the test's folder when not found from here), its TOML text or a dict."""
        __tracebackhide__ = True
        if isinstance(expect, (str, os.PathLike)) and not (
            isinstance(expect, str) and ("\n" in expect or expect.lstrip().startswith("["))
        ):
            path = Path(expect)
            if not path.is_absolute() and not path.exists():
                beside = Path(str(self._node.path)).parent / path
                if beside.exists():
                    path = beside
            expect = path
        return self._judge(expect, f"expectation file {os.fspath(expect) if isinstance(expect, Path) else 'given'}")


@pytest.fixture
def packets(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The test's own frames on ``lo`` and claims about them (see :class:`Packets`)."""
    try:
        tap = lola._tap("lo")
    except LolaError as e:
        tap, why = None, str(e)
    if tap is None:
        pytest.fail(f"lola: cannot record lo: {why}; {HOW_TO_PRIVATE}", pytrace=False)
    tap.begin()
    p = Packets(tap, tmp_path, request.node)
    yield p
    report = getattr(request.node, "_lola_call_report", None)
    if report is not None and report.failed and p.kept is None:
        p.keep()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and "packets" in getattr(item, "fixturenames", ()):
        item._lola_call_report = report  # type: ignore[attr-defined]
        # The fixture's teardown keeps the capture after this report is
        # written: name the path where it will be.
        if report.failed:
            tmp = item.funcargs.get("tmp_path") if hasattr(item, "funcargs") else None
            if tmp is not None:
                report.sections.append(("lola", f"capture kept: {Path(tmp) / 'lola.pcapng'}"))
