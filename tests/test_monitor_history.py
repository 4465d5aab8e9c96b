"""The monitoring history survives crashes and concurrent appends."""

from __future__ import annotations

import multiprocessing

from omgml.monitor.history import BatchEntry, DriftedColumn, append_entry, history_path, read_history


def _entry(i: int) -> BatchEntry:
    return BatchEntry(
        batch=f"data/batches/{i}.csv",
        fingerprint=f"{i:08x}",
        rows=100 + i,
        validation_errors=i % 2,
        validation_warnings=0,
        drifted_share=0.25,
        drifted=[DriftedColumn(column="x|`<b>", measure="wasserstein", effect=0.3)],
    )


def test_entries_read_back_in_order_with_the_version_stamped(tmp_path):
    for i in range(3):
        append_entry(tmp_path, _entry(i))
    history = read_history(tmp_path)
    assert [e.rows for e in history.entries] == [100, 101, 102]
    assert history.entries[0].drifted[0].column == "x|`<b>"
    assert all(e.omgml_version for e in history.entries) and history.notes == []
    assert [e.rows for e in read_history(tmp_path, last=2).entries] == [101, 102]


def test_a_torn_last_line_is_skipped_with_a_note_and_the_next_append_starts_a_new_line(tmp_path):
    append_entry(tmp_path, _entry(0))
    path = history_path(tmp_path)
    whole = _entry(1).model_dump_json()
    with path.open("a") as f:
        f.write(whole[: len(whole) // 2])  # a crash mid-append
    torn = read_history(tmp_path)
    assert [e.rows for e in torn.entries] == [100]
    assert "line 2 skipped: its write was cut off" in torn.notes[0]
    append_entry(tmp_path, _entry(2))
    after = read_history(tmp_path)
    assert [e.rows for e in after.entries] == [100, 102]
    assert "line 2 skipped: it is not a history entry" in after.notes[0]


def test_no_history_is_an_empty_one(tmp_path):
    assert read_history(tmp_path).entries == []
    assert not (tmp_path / ".omgml").exists()


def _append_many(root: str, start: int) -> None:
    for i in range(start, start + 50):
        append_entry(root, _entry(i))


def test_concurrent_appends_never_interleave(tmp_path):
    workers = [multiprocessing.Process(target=_append_many, args=(str(tmp_path), k * 50)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    history = read_history(tmp_path)
    assert history.notes == []
    assert sorted(e.rows for e in history.entries) == [100 + i for i in range(200)]
