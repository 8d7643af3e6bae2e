"""lola.check gives the verdict and the --json document of `lola check`, on
every fixture of the repository, with the built-in check and with the
expectation files the repository holds (the README's and docs' examples)."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

import lola
from conftest import FIXTURES, REPO, lola_binary

CAPTURES = sorted(
    p for p in FIXTURES.rglob("*") if p.suffix in (".pcap", ".pcapng", ".cap") and p.is_file()
)


def held_expectation_files():
    """Every TOML block with an [[expect]] table in the README and docs/."""
    texts = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for block in re.findall(r"```toml\n(.*?)```", doc.read_text(), re.S):
            if "[[expect]]" in block:
                texts.append((f"{doc.name}#{len(texts)}", block))
    # What the CLI writes as expectation files: the built-in check's, and
    # those recorded from captures.
    binary = lola_binary()
    show = subprocess.run([binary, "expect", "show-default"], capture_output=True, text=True)
    texts.append(("show-default", show.stdout))
    for name in ("seed-ipv4.pcap", "seed-ipv4-no-listener.pcap", "hello-lola-ipv6.pcapng"):
        done = subprocess.run([binary, "expect", "record", str(FIXTURES / name)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        texts.append((f"recorded-{name}", done.stdout))
    return texts


EXPECTATIONS = held_expectation_files()


def cli(lola_cli, *args):
    done = subprocess.run([lola_cli, "check", "--json", *args], capture_output=True, text=True)
    return done.returncode, done.stdout


def python_side(path, expect=None):
    try:
        report = lola.check(path, expect)
    except lola.LolaError:
        return 2, None
    return (0 if report.passed else 1), report


def test_there_are_captures_and_expectation_files():
    assert len(CAPTURES) > 100
    assert len(EXPECTATIONS) >= 5, EXPECTATIONS


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_builtin_check_agrees_with_the_cli(lola_cli, capture):
    code, out = cli(lola_cli, str(capture))
    ours, report = python_side(str(capture))
    assert ours == code, f"lola check exits {code}; lola.check says {ours}"
    if report is not None:
        assert json.loads(report.to_json()) == json.loads(out)
        assert report.verdict == json.loads(out)["verdict"]


@pytest.mark.parametrize("name,text", EXPECTATIONS, ids=[n for n, _ in EXPECTATIONS])
def test_expectation_files_agree_with_the_cli(lola_cli, tmp_path, name, text):
    file = tmp_path / "expect.toml"
    file.write_text(text)
    try:
        lola.check(str(CAPTURES[0]), text)
    except lola.LolaError as e:
        # A block the CLI refuses too (an example of a mistake).
        code, _ = cli(lola_cli, "--expect", str(file), str(CAPTURES[0]))
        assert code == 2, f"{name}: lola.check refused it ({e}), lola check did not"
        return
    for capture in CAPTURES:
        code, out = cli(lola_cli, "--expect", str(file), str(capture))
        by_path, report = python_side(str(capture), file)
        by_text, _ = python_side(str(capture), text)
        assert (by_path, by_text) == (code, code), f"{name} on {capture.name}"
        if report is not None:
            assert json.loads(report.to_json()) == json.loads(out), f"{name} on {capture.name}"


def test_a_dict_is_the_same_expectation_as_its_toml():
    text = '[[expect]]\nname = "hello"\nmatch = "udp.dstport == 7456"\ncount = 1\nwhere = [\'data.text == "Hello Lola"\']\n'
    as_dict = {"expect": [{"name": "hello", "match": "udp.dstport == 7456", "count": 1,
                           "where": ['data.text == "Hello Lola"']}]}
    seed = str(FIXTURES / "seed-ipv4.pcap")
    assert lola.check(seed, as_dict).to_json() == lola.check(seed, text).to_json()
    wrong = {"expect": [{"name": "hello", "match": "udp.dstport == 7457", "count": 1}]}
    report = lola.check(seed, wrong)
    assert not report.passed and report.verdict == "fail"
    assert report.expectations[0].name == "hello" and not report.expectations[0].passed


def test_the_reports_are_the_cli_reports(lola_cli, tmp_path):
    seed = FIXTURES / "seed-ipv4.pcap"
    report = lola.check(seed)
    text = subprocess.run([lola_cli, "check", "--color", "never", str(seed)], capture_output=True, text=True).stdout
    # The CLI adds the flag that would change a note's verdict (its words
    # stay at the CLI's edge); the rest is the same text.
    assert report.text == re.sub(r"; --checksums strict fails it", "", text)
    assert report.junit().startswith("<?xml") and 'name="capture"' in report.junit()
    assert "<html" in report.html()


def test_the_pictures_are_the_cli_pictures(lola_cli, tmp_path):
    """report.html() is the file `--report` writes, byte for byte, and
    report.markdown() what the step summary is given: the built-in check's
    and an expectation file's (whose title names the file)."""
    seed = FIXTURES / "seed-ipv4.pcap"
    expect = tmp_path / "hello.toml"
    expect.write_text('[[expect]]\nname = "hello"\nmatch = "udp.dstport == 7456"\ncount = 1\n')
    for args, report in (([], lola.check(seed)), (["--expect", str(expect)], lola.check(seed, expect))):
        html, summary = tmp_path / "r.html", tmp_path / "summary.md"
        summary.write_text("")
        env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
        done = subprocess.run([lola_cli, "check", "-q", "--report", str(html), *args, str(seed)],
                              env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert report.html() == html.read_text(), args
        assert report.markdown() + "\n" == summary.read_text(), args
        assert "Hello Lola" in report.html()
    assert f"lola check --expect {expect}" in report.html()


def test_a_bad_expectation_is_an_error_naming_the_place():
    with pytest.raises(lola.LolaError, match=r"<expect>:\d+:\d+"):
        lola.check(FIXTURES / "seed-ipv4.pcap", "[[expect]]\nname = 'x'\nmatch = 'udp.dstport =='\n")
