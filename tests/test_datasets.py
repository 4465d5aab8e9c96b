"""Partitioned datasets on one machine: a folder or glob of parquet files is one table in every tool.

The oracle is pyarrow.dataset itself (its own discovery of the same folder) and, for the tools, the same rows
written to one parquet file: validate, drift and baseline must give the same numbers on both.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from palmerpenguins import load_penguins

from omgml import check_drift, project_status, train_baseline, validate_data
from omgml.data.files import resolve_data
from omgml.data.tables import DataError, open_table
from omgml.errors import PathError
from omgml.workspace import Project
from tests.conftest import run_cli

PENGUINS = "data/raw/penguins"
SAME_ROWS = "data/raw/penguins.parquet"
GENTOO = "data/raw/gentoo.parquet"


def _write_penguins(folder: Path) -> pa.Table:
    """palmerpenguins written hive-partitioned by species and year; returns the rows as pyarrow reads them back."""
    frame = pa.Table.from_pandas(load_penguins(), preserve_index=False)
    ds.write_dataset(frame, folder, format="parquet", partitioning=["species", "year"], partitioning_flavor="hive")
    return ds.dataset(folder, format="parquet", partitioning="hive").to_table()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    from omgml import init_project

    root = tmp_path_factory.mktemp("datasets") / "proj"
    init_project({"project_dir": str(root), "name": "Penguins", "task": "binary", "target": "sex"})
    oracle = _write_penguins(root / PENGUINS)
    pq.write_table(oracle, root / SAME_ROWS)
    gentoo = oracle.filter(pc.equal(oracle["species"], "Gentoo")).drop_columns(["species"])
    pq.write_table(gentoo, root / GENTOO)
    return root


def test_a_folder_or_glob_reads_as_the_rows_pyarrow_finds(project):
    oracle = pq.read_table(project / SAME_ROWS)
    for source in (PENGUINS, PENGUINS + "/", PENGUINS + "/*/*/*.parquet", PENGUINS + "/**/*.parquet"):
        table = open_table(resolve_data(Project(project), source, "data"))
        assert table.num_rows == 344  # from the footers, before any row is read
        assert table.schema.field("species").type == pa.string() and table.schema.field("year").type == pa.int32()
        assert table.read_all().equals(oracle), source
    assert table.read_all(["year", "island"]).column_names == ["year", "island"]
    by_species = open_table(project / PENGUINS / "species=Adelie")
    assert by_species.num_rows == 152 and "species" not in by_species.column_names  # 152 Adelie in the data


def _same(report, *volatile: str) -> dict:
    return report.model_dump(mode="json", exclude={"report_path", "html_path", "headline", *volatile})


def test_validate_and_drift_give_the_numbers_of_one_file(project):
    common = {"project_dir": str(project)}
    folder = validate_data({**common, "data": PENGUINS})
    single = validate_data({**common, "data": SAME_ROWS})
    assert (folder.rows, folder.columns, folder.source) == (344, 8, PENGUINS)
    assert _same(folder, "source", "sha256") == _same(single, "source", "sha256")

    on_folder = check_drift({**common, "reference": PENGUINS, "current": PENGUINS + "/species=Gentoo"})
    on_files = check_drift({**common, "reference": SAME_ROWS, "current": GENTOO})
    assert (on_folder.rows_reference, on_folder.rows_current) == (344, 124)
    assert "year" in {c.column for c in on_folder.columns}  # a partition column is a column like any other
    assert _same(on_folder, "reference", "current", "notes", "next_steps") == _same(
        on_files, "reference", "current", "notes", "next_steps"
    )


def test_baseline_scores_a_dataset_as_the_same_rows_in_one_file(project):
    request = {"project_dir": str(project), "target": "sex", "models": ["linear"], "cv": 3, "register_model": False}
    folder = train_baseline({**request, "data_path": PENGUINS})
    single = train_baseline({**request, "data_path": SAME_ROWS})
    assert folder.data.path == PENGUINS and folder.data.rows_read == single.data.rows_read == 344
    assert folder.data.rows_used == single.data.rows_used
    scores = [[(r.name, r.primary_mean, r.primary_std) for r in report.leaderboard] for report in (folder, single)]
    assert scores[0] == scores[1] and scores[0][0][1] is not None


def test_cli_validates_a_folder_in_one_line_of_verdict(project):
    done, single = run_cli("validate", PENGUINS + "/", cwd=project), run_cli("validate", SAME_ROWS, cwd=project)
    assert done.returncode == single.returncode == 1, done.stderr  # 1: failed (sex, the target, has nulls)
    assert done.stdout.splitlines()[0] == "## omgml validate: FAILED" and f"`{PENGUINS}`: 344 rows" in done.stdout
    assert done.stdout.replace(PENGUINS, SAME_ROWS) == single.stdout
    missing = run_cli("validate", "data/raw/none/*.parquet", cwd=project)
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.strip().splitlines() == [
        (
            "omgml: error: data/raw/none/*.parquet matches no file. A glob or a folder is read as one table made of "
            "the parquet files it holds. Fix: check the pattern (data/events/*.parquet, data/events/**/*.parquet), "
            "or write the files first."
        )
    ]


def test_a_dataset_fingerprint_covers_its_file_names_and_contents(tmp_path):
    from omgml import init_project

    root = tmp_path / "proj"
    init_project({"project_dir": str(root), "name": "Penguins", "task": "binary", "target": "sex"})
    _write_penguins(root / PENGUINS)
    files = sorted((root / PENGUINS).rglob("*.parquet"))
    lines = "".join(
        f"{f.relative_to(root / PENGUINS).as_posix()}\0{hashlib.sha256(f.read_bytes()).hexdigest()}\n" for f in files
    )
    report = validate_data({"project_dir": str(root), "data": PENGUINS})
    assert report.sha256 == hashlib.sha256(lines.encode()).hexdigest()

    status = project_status({"project_dir": str(root)})
    listed = [f for f in status.data if f.path.startswith(PENGUINS)]
    assert [(f.path, f.rows, f.columns, f.sha256) for f in listed] == [(PENGUINS, 344, 8, report.sha256)]
    assert listed[0].note == "a dataset of 9 parquet file(s)" and listed[0].size_bytes == sum(
        f.stat().st_size for f in files
    )
    assert next(s for s in status.stages if s.name == "data processing").state != "stale"

    moved = files[0].parent.with_name("year=2010")  # a renamed partition changes the year column's values
    files[0].parent.rename(moved)
    assert validate_data({"project_dir": str(root), "data": PENGUINS}).sha256 != report.sha256
    fresh = project_status({"project_dir": str(root)})
    assert next(s for s in fresh.stages if s.name == "data processing").state != "stale"  # validated again
    pq.write_table(pq.read_table(files[1]).slice(0, 5), files[1])
    stage = next(s for s in project_status({"project_dir": str(root)}).stages if s.name == "data processing")
    assert stage.state == "stale" and stage.stale[0].file == PENGUINS


def test_monitor_takes_a_dataset_as_its_batch(tmp_path):
    from omgml import init_project, monitor_batch

    root = tmp_path / "proj"
    init_project({"project_dir": str(root), "name": "Penguins", "task": "binary", "target": "sex"})
    oracle = _write_penguins(root / PENGUINS)
    pq.write_table(oracle, root / SAME_ROWS)
    check_drift({"project_dir": str(root), "reference": SAME_ROWS, "save_reference": "penguins"})
    batch = PENGUINS + "/species=*/year=2009/*.parquet"
    report = monitor_batch({"project_dir": str(root), "batch": batch})
    assert (report.batch, report.rows) == (batch, oracle.filter(pc.equal(oracle["year"], 2009)).num_rows)
    assert report.fingerprint == validate_data({"project_dir": str(root), "data": batch}).sha256
    assert report.drift is not None and report.drift.features_tested == 7  # every column but the target


# --- bad input: one clear error naming the pattern, the column or the file, within seconds ----------------


def _refusal(tmp_path: Path, data: str) -> Exception:
    started = time.monotonic()
    with pytest.raises((DataError, PathError)) as info:
        validate_data({"project_dir": str(tmp_path), "data": data})
    with pytest.raises(type(info.value)) as drift:
        check_drift({"project_dir": str(tmp_path), "reference": data, "current": data})
    assert time.monotonic() - started < 10
    if isinstance(info.value, DataError):  # the same words from both tools (drift names absolute paths)
        assert str(drift.value).replace(str(tmp_path) + "/", "") == str(info.value)
    return info.value


def _parquet(path: Path, **columns) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)


def test_a_glob_that_matches_nothing_and_an_empty_folder(tmp_path):
    assert str(_refusal(tmp_path, "data/events/*.parquet")).startswith("data/events/*.parquet matches no file.")
    (tmp_path / "data" / "empty").mkdir(parents=True)
    assert str(_refusal(tmp_path, "data/empty")).startswith("data/empty is a folder with no table file in it.")
    (tmp_path / "data" / "empty" / "_SUCCESS").write_text("")  # a writer's marker is not a table
    assert str(_refusal(tmp_path, "data/empty/")).startswith("data/empty is a folder with no table file in it.")


def test_files_that_disagree_on_a_column_are_named(tmp_path):
    _parquet(tmp_path / "data/events/a.parquet", id=pa.array([1, 2], pa.int64()), x=[0.5, 1.5])
    _parquet(tmp_path / "data/events/b.parquet", id=pa.array(["3", "4"]), x=[2.5, 3.5])
    error = _refusal(tmp_path, "data/events")
    assert error.what == "The files of data/events disagree: column 'id' is int64 in a.parquet but string in b.parquet"
    assert error.what == _refusal(tmp_path, "data/events/*.parquet").what.replace("/*.parquet", "")

    _parquet(tmp_path / "data/broken/a.parquet", id=[1])
    (tmp_path / "data/broken/c.parquet").write_bytes(b"PAR1 not really")
    assert _refusal(tmp_path, "data/broken").what.startswith("data/broken/c.parquet is not a readable parquet file")

    _parquet(tmp_path / "data/more/a.parquet", id=[1], x=[0.5])
    _parquet(tmp_path / "data/more/b.parquet", id=[2])
    assert _refusal(tmp_path, "data/more").what.endswith("'x' is a column of a.parquet but not of b.parquet")

    # Types Arrow promotes without loss are one column: int32 and int64, nulls and text.
    _parquet(tmp_path / "data/ok/a.parquet", id=pa.array([1], pa.int32()), note=pa.array([None], pa.null()))
    _parquet(tmp_path / "data/ok/b.parquet", id=pa.array([2], pa.int64()), note=["x"])
    table = open_table(tmp_path / "data/ok").read_all()
    assert table.to_pydict() == {"id": [1, 2], "note": [None, "x"]} and table.schema.field("id").type == pa.int64()


def test_a_partition_key_that_repeats_a_column_and_text_files_are_refused(tmp_path):
    _parquet(tmp_path / "data/events/year=2024/a.parquet", year=[2023], x=[1.0])
    assert "the partition folder year=2024 names the column 'year'" in str(_refusal(tmp_path, "data/events"))
    (tmp_path / "data/csvs").mkdir()
    (tmp_path / "data/csvs/a.csv").write_text("x\n1\n")
    error = _refusal(tmp_path, "data/csvs")
    assert error.what == "data/csvs holds a.csv, a csv file" and "every file in it is parquet" in error.why


def test_a_glob_or_a_folder_cannot_lead_out_of_the_project(tmp_path):
    root, outside = tmp_path / "proj", tmp_path / "outside"
    _parquet(outside / "secret.parquet", x=[1])
    _parquet(root / "data/events/a.parquet", x=[2])
    assert "outside the project root" in str(_refusal(root, "../outside/*.parquet"))
    assert "outside the project root" in str(_refusal(root, "../*/*.parquet"))
    assert "climbs with '..' after a wildcard" in str(_refusal(root, "data/*/../events/*.parquet"))
    (root / "data/events/b.parquet").symlink_to(outside / "secret.parquet")
    for source in ("data/events", "data/events/*.parquet", "data/**/*.parquet"):
        assert str(_refusal(root, source)).startswith("The data file 'data/events/b.parquet' resolves to "), source
    (root / "data/events/b.parquet").unlink()
    (root / "data/events/year=2020").symlink_to(outside, target_is_directory=True)
    for source in ("data/events", "data/events/*/*.parquet"):
        error = str(_refusal(root, source))
        assert error.startswith("The data file 'data/events/year=2020") and "outside the project root" in error
