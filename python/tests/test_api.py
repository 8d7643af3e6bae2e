"""lola.exec and lola.capture: the commands as calls."""

import socket
import sys

import lola

SEND = "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'Hello Lola', ('127.0.0.1', 7456))"


def test_exec_records_the_program_and_judges_it(tmp_path):
    result = lola.exec([sys.executable, "-c", SEND], output=tmp_path / "exec.pcapng", timeout=30)
    assert result.ending == "exited with status 0", result
    assert result.passed and result.report.passed, result.report.text
    assert result.frames >= 1 and result.place == "private"
    assert lola.check(result.output).passed, "the capture it wrote is the one it judged"
    silent = lola.exec([sys.executable, "-c", "pass"], output=tmp_path / "quiet.pcap")
    assert not silent.passed and "found 0 matching datagrams" in silent.report.text


def test_exec_with_an_expectation_dict(tmp_path):
    expect = {"expect": [{"name": "hello", "match": 'not icmp && data.text == "Hello Lola"', "count": 1}]}
    result = lola.exec([sys.executable, "-c", SEND], expect=expect, output=tmp_path / "e.pcap")
    assert result.passed, result.report.text
    assert [e.name for e in result.report.expectations] == ["hello"]


def test_capture_records_the_code_inside_it(tmp_path):
    with lola.capture() as cap:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.sendto(b"inside", s.getsockname())
    s.sendto(b"outside", s.getsockname())
    report = cap.check({"expect": [{"name": "inside", "match": 'data.text == "inside"', "count": 1},
                                   {"name": "outside", "match": 'data.text == "outside"', "count": 0}]})
    assert report.passed, report.text
    # Its pictures draw the capture held in memory, under the set's title.
    html = report.html()
    assert "<title>lola check --expect &lt;expect&gt;</title>" in html
    assert "UDP · 6 B &quot;inside&quot;" in html  # the ladder's arrow
    assert report.markdown().startswith("### lola check --expect")
    assert 'L->>R: UDP · 6 B "inside"' in report.markdown()
    path = cap.write(tmp_path / "cap.pcapng")
    assert lola.frames(path).column("data.text").to_pylist() == ["inside"]
    assert cap.frames().num_rows == len(cap) == 1
