"""lola.frames holds what `lola check --emit` writes: one row per frame, the
same keys, the same values."""

import json
import subprocess

import pytest

import lola
from conftest import FIXTURES
from test_parity import CAPTURES

pa = pytest.importorskip("pyarrow")

#: Row keys that are constant per file (kept as table metadata, not columns).
CONSTANT = {"schema", "file", "expect"}


def emitted(lola_cli, capture):
    done = subprocess.run([lola_cli, "check", "-q", "--emit", "-", str(capture)],
                          capture_output=True, text=True)
    if done.returncode == 2:
        return None
    return [json.loads(line) for line in done.stdout.splitlines()]


def same(table_value, row_value):
    if isinstance(row_value, list) and not isinstance(table_value, list):
        return [table_value] == row_value
    if not isinstance(row_value, list) and isinstance(table_value, list):
        return table_value == [row_value]
    return table_value == row_value


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_frames_are_the_emitted_rows(lola_cli, capture):
    rows = emitted(lola_cli, capture)
    if rows is None:
        with pytest.raises(lola.LolaError):
            lola.frames(capture)
        return
    table = lola.frames(capture)
    assert table.num_rows == len(rows)
    columns = table.drop_columns([c for c in ["time"] if c in table.column_names]).to_pydict()
    keys = set()
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key in CONSTANT:
                continue
            if value is not None:
                keys.add(key)
            if key == "time":
                assert table.column("time").type == pa.timestamp("ns", tz="UTC")
                assert table.column("time").cast(pa.int64())[i].as_py() == row["time_ns"]
                continue
            got = columns[key][i] if key in columns else None
            assert same(got, value), f"frame {i + 1} {key}: table {got!r}, row {value!r}"
        for key in columns:
            if key not in row and key not in ("time",):
                assert columns[key][i] is None, f"frame {i + 1} {key}: {columns[key][i]!r} where the row has none"
    assert keys <= set(table.column_names), f"missing columns: {keys - set(table.column_names)}"


def test_a_tunnel_field_is_a_list_and_ports_are_narrow():
    table = lola.frames(FIXTURES / "seed-ipv4-no-listener.pcap")
    assert table.column("udp.dstport").type == pa.uint16()
    assert table.column("ip.ttl").type == pa.list_(pa.uint8())
    assert table.column("ip.ttl").to_pylist() == [[64], [64, 64]]
    assert table.column("ip.src").type == pa.list_(pa.dictionary(pa.int32(), pa.string()))
    seed = lola.frames(FIXTURES / "seed-ipv4.pcap")
    assert pa.types.is_dictionary(seed.column("ip.src").type)
    assert seed.column("ip.src").to_pylist() == ["127.0.0.1"]
