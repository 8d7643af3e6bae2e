"""The pytest plugin: the `packets` fixture's claims, what a failure shows,
the capture kept, the JUnit property, isolation between xdist workers, and
capture without root under --lola-private. Each session runs in a
subprocess, as a user's would."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import lola
from conftest import run_pytest

FAILING = textwrap.dedent('''
    import socket

    def test_pong_expected(packets):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.sendto(b"ping", ("127.0.0.1", port))
        packets.expect(f"udp.dstport == {port}", count=1, where='data.text == "pong"')
''')


def test_a_failed_claim_shows_the_evidence_and_keeps_the_capture(tmp_path):
    (tmp_path / "test_fail.py").write_text(FAILING)
    junit = tmp_path / "junit.xml"
    done = run_pytest(["--lola-private", f"--junitxml={junit}", f"--basetemp={tmp_path / 'tmp'}"], tmp_path)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    # The failed expectation, why, the closest frame, the ladder, the file.
    assert "lola: expected 1 frame(s) matching udp.dstport ==" in out, out
    assert "FAIL  udp.dstport ==" in out, out
    assert "0 frames held" in out or "held, expected" in out, out
    assert 'data.text == "pong"' in out, out
    assert '"ping"' in out, "the closest frame, with its payload:\n" + out
    assert "capture kept: " in out, out
    kept = out.split("capture kept: ")[1].split()[0]
    assert Path(kept).name == "lola.pcapng" and Path(kept).is_file(), kept
    assert lola.check(kept, {"expect": [{"name": "ping", "match": 'data.text == "ping"', "count": 1}]}).passed
    properties = {p.get("name"): p.get("value") for p in ET.parse(junit).iter("property")}
    assert properties.get("lola_capture") == kept, properties


def test_claims_that_hold_pass_and_forbid_fails_on_a_match(tmp_path):
    (tmp_path / "test_claims.py").write_text(textwrap.dedent('''
        import socket
        import pytest

        def send(payload):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.sendto(payload, s.getsockname())
            return s.getsockname()[1]

        def test_holds(packets):
            port = send(b"ping")
            r = packets.expect(f'udp.dstport == {port} && data.text == "ping"', count=1)
            assert r.passed
            packets.forbid("tcp")
            assert len(packets) == 1
            assert packets.frames().column("udp.dstport").to_pylist() == [port]

        def test_forbid(packets):
            send(b"ping")
            packets.forbid("udp")

        def test_file(packets, tmp_path):
            port = send(b"ping")
            (tmp_path / "echo.toml").write_text(
                f'[[expect]]\\nname = "ping"\\nmatch = "udp.dstport == {port}"\\ncount = 1\\n')
            packets.check(tmp_path / "echo.toml")

        def test_only_this_tests_frames(packets):
            assert len(packets) == 0, "the frames of the tests before are not this test's"
    '''))
    done = run_pytest(["--lola-private", "-p", "no:randomly"], tmp_path)
    out = done.stdout
    assert "1 failed, 3 passed" in out, out + done.stderr
    assert "FAILED test_claims.py::test_forbid" in out
    assert "no frame may match udp" in out


ISOLATION = textwrap.dedent('''
    import os, socket, time
    from pathlib import Path
    import pytest

    BARRIER = Path(os.environ["LOLA_TEST_BARRIER"])

    def meet(name):
        """Waits until both tests run at once (in two workers)."""
        (BARRIER / name).touch()
        deadline = time.monotonic() + 30
        while len(list(BARRIER.iterdir())) < 2:
            assert time.monotonic() < deadline, "the other test never ran alongside"
            time.sleep(0.01)

    @pytest.mark.parametrize("me,other", [("alpha", "bravo"), ("bravo", "alpha")])
    def test_sees_only_its_own(packets, me, other):
        meet(me)
        # The same port in both tests: in one namespace the second bind
        # would fail; each worker's own lo tells them apart.
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        receiver.bind(("127.0.0.1", 47999))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(20):
            s.sendto(me.encode(), ("127.0.0.1", 47999))
            time.sleep(0.01)
        packets.expect(f'udp.dstport == 47999 && data.text == "{me}"', count=20)
        packets.forbid(f'data.text == "{other}"')
''')


def test_parallel_workers_see_only_their_own_traffic(tmp_path):
    pytest.importorskip("xdist")
    (tmp_path / "test_iso.py").write_text(ISOLATION)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    os.environ["LOLA_TEST_BARRIER"] = str(barrier)
    try:
        done = run_pytest(["--lola-private", "-n", "2"], tmp_path)
    finally:
        del os.environ["LOLA_TEST_BARRIER"]
    assert "2 passed" in done.stdout, done.stdout + done.stderr
    assert sorted(p.name for p in barrier.iterdir()) == ["alpha", "bravo"]


def test_the_private_session_captures_without_cap_net_raw_outside():
    """Under --lola-private the session records lo whoever runs it; as
    root, the session is started again as nobody to prove it."""
    # A folder nobody may use, outside pytest's own (which is private to its user).
    tmp_path = Path(tempfile.mkdtemp(prefix="lola-private-"))
    os.chmod(tmp_path, 0o777)
    (tmp_path / "test_private.py").write_text(textwrap.dedent('''
        import socket
        from lola import _lola

        def test_records(packets):
            assert _lola.has_net_raw()
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.sendto(b"unprivileged", s.getsockname())
            packets.expect('data.text == "unprivileged"', count=1)
    '''))
    prefix = []
    # Root outside any private session (in one, uid 0 is the caller mapped).
    if os.geteuid() == 0 and not os.environ.get("LOLA_PRIVATE_SESSION"):
        setpriv = shutil.which("setpriv")
        if setpriv is None or not _nobody_can_run(sys.executable):
            pytest.fail("as root this test runs the session as nobody: it needs setpriv and a "
                        "Python (venv) nobody may run, as .ci/run makes")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "LOLA_PRIVATE"))}
    env["HOME"] = str(tmp_path)
    without = subprocess.run(prefix + [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    if prefix:
        assert "1 error" in without.stdout and "--lola-private" in without.stdout, without.stdout
    done = subprocess.run(prefix + [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--lola-private"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "1 passed" in done.stdout, done.stdout + done.stderr


def _nobody_can_run(python):
    done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-c", "import lola"],
                          capture_output=True, text=True, cwd="/")
    return done.returncode == 0
