"""A csv parsed on two threads reads exactly as the sequential reader reads it: rows, types, ragged rows, numbers."""

from __future__ import annotations

import csv
import io
import queue
import threading

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omgml.data import csv_split, csv_table, tables
from omgml.data.csv_split import ordered_map, segments
from omgml.data.tables import SchemaChanged, open_table


@pytest.fixture
def tiny_segments(monkeypatch):
    """Segments of a few hundred bytes, so small files are cut many times; two threads even on one core."""
    monkeypatch.setattr(csv_split, "SEGMENT_BYTES", 256)
    monkeypatch.setattr(csv_table, "parse_threads", lambda: 2)


def read_both(path, monkeypatch, proven: int = 0):
    """(table, ragged rows) read on two threads, then sequentially; at least ``proven`` segments parsed on threads."""
    parse = csv_table.CsvTable._parse_segment
    outcomes = []
    monkeypatch.setattr(
        csv_table.CsvTable, "_parse_segment", lambda self, part: outcomes.append(parse(self, part)) or outcomes[-1]
    )
    split = open_table(path, repeated_names=True)
    assert split._splittable()
    parallel = (split.read_all(), split.ragged)
    assert sum(piece is not None for _, piece in outcomes) >= proven
    monkeypatch.setattr(csv_table.CsvTable, "_splittable", lambda self: False)
    sequential_table = open_table(path, repeated_names=True)
    return parallel, (sequential_table.read_all(), sequential_table.ragged)


TRICKY = [
    ["id", "text", "height", "n", "id"],
    ["1", "plain", "5'11\"", "1", "a"],
    ["2", "two\nlines, with a comma", "6'", "2", "b"],
    ["3", 'say ""hi""\nand "bye"', "5'2\"", "3", "c"],
    ["4", "", "", "", "d"],
]


def tricky_file(path, repeats: int = 60, delimiter: str = ",") -> None:
    """Quoted fields holding newlines, delimiters and quotes; ragged rows; blank lines; CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(TRICKY[0])
    for i in range(repeats):
        writer.writerows(TRICKY[1:])
        out.write(f"{i}{delimiter}x{delimiter}{i}\r\n" if i % 7 == 3 else "")  # ragged: 3 fields
        out.write("\r\n" if i % 11 == 5 else "")  # a blank line
    path.write_text(out.getvalue(), newline="")


@pytest.mark.parametrize(("name", "delimiter"), [("t.csv", ","), ("t.tsv", "\t"), ("semi.csv", ";")])
def test_tricky_csv_reads_the_same_on_two_threads(tmp_path, monkeypatch, tiny_segments, name, delimiter):
    tricky_file(tmp_path / name, delimiter=delimiter)
    (split, split_ragged), (sequential, sequential_ragged) = read_both(tmp_path / name, monkeypatch, proven=20)
    assert split.equals(sequential)
    assert split.num_rows == 240 and split.column_names == TRICKY[0]
    assert split_ragged == sequential_ragged and split_ragged.count == 9
    assert split.column("text").to_pylist()[1:3] == [TRICKY[2][1], TRICKY[3][1]]


def test_ragged_rows_keep_their_line_numbers_across_segments(tmp_path, monkeypatch, tiny_segments):
    lines = ["a,b"] + [f"{i},{i % 5}" for i in range(3000)]
    for line in (41, 1500, 2999):
        lines[line] = "1,2,3"
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    (split, ragged), (sequential, sequential_ragged) = read_both(tmp_path / "t.csv", monkeypatch, proven=50)
    assert split.equals(sequential) and split.num_rows == 2997
    assert ragged == sequential_ragged and ragged.examples == [42, 1501, 3000]  # 1-based file lines


def test_a_cut_inside_a_quoted_field_is_caught_and_read_sequentially(tmp_path, monkeypatch, tiny_segments):
    table = open_table(_write(tmp_path / "t.csv", "a,b\n" + "1,x\n" * 200))
    sentinel = table._sentinel().encode() + b"\n"
    assert table._parse_segment((8, memoryview(b'1,"open\n' + sentinel)))[1] is None  # the sentinel became text
    good = table._parse_segment((8, memoryview(b'1,"closed\nfield"\n2,y\n' + sentinel)))[1]
    assert good[0].to_pylist() == [{"a": 1, "b": "closed\nfield"}, {"a": 2, "b": "y"}] and good[2] == 2
    # A stray quote before a quoted field with a newline misleads the quote count at some cut: the proof catches it.
    rows = "".join(f'{i},5\'9"\n{i},"x\ny"\n' for i in range(100))
    _write(tmp_path / "s.csv", "a,b\n" + rows)
    reader = open_table(tmp_path / "s.csv")
    reader.read_all()
    assert reader._spare is None  # the segment buffers are let go when the sequential reader takes over
    (split, _), (sequential, _) = read_both(tmp_path / "s.csv", monkeypatch)
    assert split.equals(sequential) and split.num_rows == 200


def test_a_type_change_in_a_later_segment_widens_the_column(tmp_path, monkeypatch, tiny_segments):
    monkeypatch.setattr(csv_table, "CSV_BLOCK_BYTES", 1024)
    monkeypatch.setattr(csv_table, "READ_BLOCK_BYTES", 512)
    lines = ["a,b"] + [f"{i},{i}" for i in range(2000)] + ["oops,1.5"]
    table = open_table(_write(tmp_path / "t.csv", "\n".join(lines) + "\n"))
    assert table._splittable()
    with pytest.raises(SchemaChanged, match="column 'a' was read as int64"):
        for _ in table.batches():
            pass
    whole = table.read_all()
    assert whole.num_rows == 2001 and [str(f.type) for f in whole.schema] == ["string", "double"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["", "1", "2.5", "x", "a,b", 'q"q', "l1\nl2", " ", "\r\n"]), min_size=3, max_size=3),
        min_size=20,
        max_size=150,
    ),
    st.lists(st.integers(0, 119), max_size=5),
)
def test_any_csv_reads_the_same_on_two_threads(rows, strays):
    import tempfile
    from pathlib import Path

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["a", "b", "c"])
    for i, row in enumerate(rows):
        writer.writerow(row)
        if i in strays:
            out.write(f"{i},5'9\",z\n")
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(csv_split, "SEGMENT_BYTES", 64)
        monkeypatch.setattr(csv_table, "CSV_SPLIT_MIN_SEGMENTS", 0)
        monkeypatch.setattr(csv_table, "parse_threads", lambda: 2)
        path = _write(Path(folder) / "t.csv", out.getvalue())
        (split, split_ragged), (sequential, sequential_ragged) = read_both(path, monkeypatch)
        assert split.equals(sequential)
        assert split_ragged == sequential_ragged


# ---------------------------------------------------------------- the parts


def test_segments_end_after_newlines_and_cover_the_file(tmp_path):
    data = "".join(f'{i},"multi\nline {i}",x\n' for i in range(500)).encode()
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    parts = [(offset, bytes(view)) for offset, view in segments(path, b"S", size=300)]
    assert len(parts) > 10
    joined = b""
    for offset, part in parts:
        assert offset == len(joined) and part.endswith(b"\nS\n")
        body = part[: -len(b"S\n")]
        assert body.count(b'"') % 2 == 0  # every cut lies outside quoted fields here
        joined += body
    assert joined == data


def test_segments_read_into_spare_buffers_and_cover_the_file_still(tmp_path):
    data = "".join(f'{i},"multi\nline {i}",x\n' for i in range(500)).encode()
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    spare = queue.SimpleQueue()
    buffers, joined = set(), b""
    for offset, view in segments(path, b"S", size=300, spare=spare):
        assert offset == len(joined)
        joined += bytes(view)[: -len(b"S\n")]
        buffers.add(id(view.obj))
        spare.put(view.obj)
    assert joined == data and len(buffers) <= 2  # the last segment is the carry's own


def test_parsed_segments_keep_their_values_when_the_buffer_is_read_into_again(tmp_path, tiny_segments):
    path = tmp_path / "t.csv"
    tricky_file(path)
    table = open_table(path, repeated_names=True)
    offset, view = next(table._segments())
    _, (parsed, _, _) = table._parse_segment((offset, view))
    expected = parsed.to_pylist()
    assert table._spare.get_nowait() is view.obj
    view.obj[:] = b"\xff" * len(view.obj)
    assert parsed.to_pylist() == expected


def test_segments_give_up_on_a_record_longer_than_the_budget(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a\n" + b"x" * 5000)
    assert [(o, v is None) for o, v in segments(path, b"S", size=256)] == [(0, False), (2, True)]


def test_ordered_map_keeps_order_raises_in_turn_and_reads_ahead_boundedly():
    drawn = []

    def items():
        for i in range(100):
            drawn.append(i)
            yield i

    def work(i):
        if i == 7:
            raise ValueError("seven")
        return i * i, threading.current_thread().name

    results = ordered_map(work, items(), threads=2, ahead=4)
    assert next(results)[0] == 0 and len(drawn) == 4
    assert [next(results)[0] for _ in range(6)] == [1, 4, 9, 16, 25, 36]
    with pytest.raises(ValueError, match="seven"):
        next(results)
    assert len(drawn) <= 12


def test_threads_parse_only_large_utf8_files(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_table, "parse_threads", lambda: 2)
    small = open_table(_write(tmp_path / "s.csv", "a\n1\n"))
    assert not small._splittable()
    monkeypatch.setattr(csv_split, "SEGMENT_BYTES", 1)
    assert open_table(_write(tmp_path / "u.csv", "a\n1\n"))._splittable()
    latin = tmp_path / "l.csv"
    latin.write_bytes("city\nZürich\n".encode("latin-1"))
    assert not open_table(latin)._splittable()  # decoding holds the GIL: no gain
    monkeypatch.setattr(csv_table, "parse_threads", lambda: 1)
    assert not open_table(tmp_path / "u.csv")._splittable()


def _write(path, text: str):
    path.write_text(text, newline="")
    return path


def test_pyarrow_is_what_the_reader_returns(tmp_path, tiny_segments):
    table = open_table(_write(tmp_path / "t.csv", "a,b\n" + "1,x\n" * 300))
    assert all(isinstance(b, pa.RecordBatch) for b in table.batches())


def test_validation_reports_the_same_on_two_threads(tmp_path, monkeypatch, tiny_segments):
    from omgml.validation.service import validate_data

    lines = ["id,score,label,city"] + [f'{i},{i * 0.5},{i % 2},"c{i % 4}\nx"' for i in range(2000)]
    lines[700] = "1,2"  # ragged
    lines[900] = lines[901]  # a duplicate row
    _write(tmp_path / "t.csv", "\n".join(lines) + "\n")

    def report():
        found = validate_data({"project_dir": str(tmp_path), "data": "t.csv", "target": "label"})
        return found.model_dump(exclude={"report_path", "html_path", "created_at", "seconds"})

    split = report()
    monkeypatch.setattr(csv_table.CsvTable, "_splittable", lambda self: False)
    assert split == report()
    assert split["rows"] == 1999
    assert {f["check"] for f in split["findings"]} >= {"ragged_rows", "duplicate_rows"}


# ---------------------------------------------------------------- records longer than Arrow's read block


@pytest.mark.parametrize("split", [True, False])
def test_records_longer_than_the_read_block_are_read_in_larger_blocks(tmp_path, monkeypatch, split):
    monkeypatch.setattr(csv_table, "READ_BLOCK_BYTES", 256)
    monkeypatch.setattr(csv_split, "SEGMENT_BYTES", 8192)
    monkeypatch.setattr(csv_table, "parse_threads", lambda: 2)
    monkeypatch.setattr(csv_table, "CSV_SPLIT_MIN_SEGMENTS", 1 if split else 10**9)
    long_value = "word " * 600  # 3000 bytes: more than two 256-byte blocks, which Arrow refuses
    first = "a,b\n" + f'0,"{long_value}"\n'  # in the first block: the type probe grows its block too
    rows = "".join(f"{i},x{i}\n" for i in range(1, 2000)) + f'2000,"{long_value}\nsecond line"\n'
    table = open_table(_write(tmp_path / "t.csv", first + rows))
    assert table._splittable() is split
    whole = table.read_all()
    assert whole.num_rows == 2001 and table._read_block() == 4096
    assert (
        whole.column("b")[0].as_py() == long_value and whole.column("b")[2000].as_py() == long_value + "\nsecond line"
    )


def test_a_quote_never_closed_is_named_as_the_likely_cause(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_table, "READ_BLOCK_BYTES", 256)
    monkeypatch.setattr(csv_table, "MAX_READ_BLOCK_BYTES", 4096)
    text = (
        "a,b\n"
        + "".join(f"{i},x\n" for i in range(100))
        + '7,"never closed\n'
        + "".join(f"{i},y\n" for i in range(2000))
    )
    with pytest.raises(tables.DataError, match="has a record longer than 4096 bytes") as info:
        open_table(_write(tmp_path / "t.csv", text)).read_all()
    assert "a quote that opens a field and is never closed" in str(info.value)


def test_a_quoted_crlf_on_a_read_block_edge_keeps_its_line_feed(tmp_path, monkeypatch, tiny_segments):
    # Arrow drops the LF of a CR LF inside a quoted field when the pair straddles two read blocks
    # (apache/arrow#51368); the split reader parses such a segment as one block.
    monkeypatch.setattr(csv_table, "READ_BLOCK_BYTES", 64)
    monkeypatch.setattr(csv_split, "SEGMENT_BYTES", 4096)
    table = open_table(_write(tmp_path / "t.csv", "a,b\n" + "1,x\n" * 2000))
    head = b'1,"' + b"y" * (64 - 3 - 1)  # the CR is the last byte of the first 64-byte block
    data = head + b'\r\nsecond line"\n2,z\n' + table._sentinel().encode() + b"\n"
    assert data[63:65] == b"\r\n"
    rows = table._parse_segment((100, memoryview(data)))[1][0].to_pylist()
    assert rows == [{"a": 1, "b": "y" * 60 + "\r\nsecond line"}, {"a": 2, "b": "z"}]


@pytest.mark.parametrize("split", [False, True])
def test_a_header_with_a_quoted_newline_keeps_every_row(tmp_path, monkeypatch, tiny_segments, split):
    """Arrow's skip_rows counts lines, not records: skipping one line left half the header as a row of data."""
    path = tmp_path / "h.csv"
    rows = [[str(i), f"v{i}"] for i in range(300)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([["a|b\nc", 'say "x"\r\nthen'], *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    if not split:
        monkeypatch.setattr(csv_table.CsvTable, "_splittable", lambda self: False)
    table = open_table(path)
    assert table.schema.names == ["a|b\nc", 'say "x"\r\nthen']
    assert table._splittable() is split
    read = table.read_all()
    assert read.column(0).to_pylist() == list(range(300)) and read.column(1).to_pylist()[-1] == "v299"
    assert table.ragged.count == 0
