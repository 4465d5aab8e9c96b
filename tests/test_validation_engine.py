"""The engines under validation: hashing, kinds, the one-pass profile, leakage scores, and robust csv reading.

Oracles: pandas for counts, min/max and duplicates on the same data; scikit-learn for
balanced accuracy and R^2; exact set sizes for the distinct-count sketch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from omgml.data import csv_table, leakage, parquet_table
from omgml.data.kinds import KINDS, RULES, KindStats, infer_kind
from omgml.data.tables import SchemaChanged, open_table
from omgml.validation.column import ColumnProfile, ColumnRules
from omgml.validation.hashing import NULL_HASH, DistinctSketch, hash_array
from omgml.validation.profile import PassPlan, profile_table

# ---------------------------------------------------------------- hashing


def test_equal_values_hash_equal_across_types_and_slices():
    assert hash_array(pa.array([1, 2]))[1] == hash_array(pa.array([2.0]))[0] == hash_array(pa.array([2], pa.int8()))[0]
    assert hash_array(pa.array([True]))[0] == hash_array(pa.array([1]))[0]
    strings = pa.array(["", "a", None, "ab", "ba", "a"], type=pa.string())
    h = hash_array(strings)
    assert h[1] == h[5] and h[3] != h[4] and h[0] != h[2] and h[2] == NULL_HASH
    assert list(hash_array(strings.slice(1))) == list(h[1:])
    assert hash_array(pa.array(["ab"], pa.large_string()))[0] == h[3]
    stamp = pd.Timestamp("2024-01-01")
    assert hash_array(pa.array([stamp], pa.timestamp("ms")))[0] == hash_array(pa.array([stamp], pa.timestamp("ns")))[0]
    assert hash_array(pa.array([0.0]))[0] == hash_array(pa.array([-0.0]))[0]


def test_string_hashes_separate_many_distinct_values():
    values = [f"user_{i}" for i in range(200_000)] + ["x" * 300, "x" * 301]
    assert len(np.unique(hash_array(pa.array(values)))) == len(values)


def test_sketch_is_exact_below_k_and_close_above():
    sketch = DistinctSketch(k=2048)
    sketch.update(hash_array(pa.array(np.arange(1000) % 700)))
    assert sketch.exact and sketch.estimate() == 700
    rng = np.random.default_rng(3)
    values = rng.integers(0, 400_000, 600_000)
    big = DistinctSketch(k=2048)
    for part in np.array_split(values, 5):
        big.update(hash_array(pa.array(part)))
    truth = len(np.unique(values))
    assert abs(big.estimate() - truth) / truth < 0.08  # 1/sqrt(2048) = 2.2% standard error; 3.5 sigma


# ---------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    "stats, kind",
    [
        (KindStats("boolean", 10, 2), "boolean"),
        (KindStats("datetime", 10, 10), "datetime"),
        (KindStats("integer", 100, 100, all_distinct=True, span=100), "id_like"),
        (KindStats("integer", 100, 100, all_distinct=True, span=10_000), "integer"),
        (KindStats("integer", 100, 5, all_distinct=False, span=5), "integer"),
        (KindStats("float", 100, 100), "numeric"),
        (KindStats("string", 100, 100, all_distinct=True, mean_length=8), "id_like"),
        (KindStats("string", 100, 3, all_distinct=False, mean_length=4), "categorical"),
        (KindStats("string", 100, 90, all_distinct=False, mean_length=80), "text"),
        (KindStats("string", 100, 7, all_distinct=False, mean_length=3, numeric_text=100), "numeric"),
        (KindStats("string", 100, 7, all_distinct=False, mean_length=10, date_text=100), "datetime"),
        (KindStats("null", 0, 0), "text"),
    ],
)
def test_kind_rules(stats, kind):
    got, reason = infer_kind(stats)
    assert got == kind and reason


def test_every_kind_can_be_reached():
    assert {kind for _, kind, _ in RULES} == set(KINDS)


# ---------------------------------------------------------------- profile against pandas


def test_profile_counts_match_pandas(tmp_path):
    rng = np.random.default_rng(11)
    n = 5000
    frame = pd.DataFrame(
        {
            "f": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
            "i": rng.integers(-50, 50, n),
            "s": np.where(rng.random(n) < 0.05, None, rng.choice(["a", "b", "c"], n)),
            "hi": [f"k{v}" for v in rng.integers(0, 3000, n)],
        }
    )
    frame.to_parquet(tmp_path / "t.parquet")
    original = parquet_table.PARQUET_BATCH_ROWS
    parquet_table.PARQUET_BATCH_ROWS = 700  # many batches, so merging across batches is exercised
    try:
        profile = profile_table(open_table(tmp_path / "t.parquet"), PassPlan())
    finally:
        parquet_table.PARQUET_BATCH_ROWS = original
    by = {c.name: c for c in profile.columns}
    assert profile.rows == n
    for name in frame:
        assert by[name].nulls == frame[name].isna().sum()
    assert by["f"].min == frame["f"].min() and by["f"].max == frame["f"].max()
    assert by["i"].counts == frame["i"].value_counts().to_dict()
    assert by["s"].distinct == frame["s"].nunique() and by["s"].distinct_exact
    assert by["hi"].counts is None and not by["hi"].distinct_exact
    assert abs(by["hi"].distinct - frame["hi"].nunique()) / frame["hi"].nunique() < 0.08
    hashes = profile.row_hashes
    assert len(hashes) - len(np.unique(hashes)) == frame.duplicated().sum()


@pytest.mark.parametrize("kind", [pa.float64(), pa.float32()])
@pytest.mark.parametrize("huge", [1e20, 7.0])  # a whole number beyond int64, or none
def test_float_profile_counts_every_odd_value_as_numpy_does(kind, huge):
    rng = np.random.default_rng(5)
    pool = [np.nan, np.inf, -np.inf, huge, -(2.0**63), 3.0, -0.0, 2.5, -7.25]
    values = [pool[i] for i in rng.integers(0, len(pool), 4000)] + list(rng.normal(size=1000))
    is_null = rng.random(len(values)) < 0.1
    arr = pa.array(values, type=kind, mask=is_null)
    column = ColumnProfile(index=0, name="x", dtype=str(kind), physical="float")
    hashes = np.concatenate([column.update(arr.slice(start, 700), None) for start in range(0, len(arr), 700)])
    present = np.asarray(pa.array(values, type=kind).to_numpy(), dtype=np.float64)[~is_null]
    finite = present[np.isfinite(present)]
    assert column.nulls == is_null.sum() + np.isnan(present).sum() and column.nan == np.isnan(present).sum()
    assert column.inf == np.isinf(present).sum()
    assert (column.min, column.max) == (finite.min(), finite.max())
    assert column.fractional == (finite != np.floor(finite)).sum()
    assert list(hashes) == list(hash_array(arr))


@pytest.mark.parametrize("kind", [pa.int64(), pa.int8(), pa.uint64(), pa.bool_()])
def test_integer_counts_and_hashes_match_pandas_and_hash_array(kind):
    rng = np.random.default_rng(6)
    values = rng.integers(-20, 100, 5000) if kind not in (pa.uint64(), pa.bool_()) else rng.integers(0, 100, 5000)
    values[4000:] = values[4000:] * 10**6 // 100 if kind == pa.int64() else values[4000:]  # a wide span: hash table
    values = values % 2 == 1 if kind == pa.bool_() else values
    is_null = rng.random(len(values)) < 0.1
    is_null[700:1400] = True  # a batch of nulls only
    arr = pa.array(values, mask=is_null).cast(kind)
    physical = "boolean" if kind == pa.bool_() else "integer"
    column = ColumnProfile(index=0, name="x", dtype=str(kind), physical=physical)
    hashes = np.concatenate([column.update(arr.slice(start, 700), None) for start in range(0, len(arr), 700)])
    assert column.counts == pd.Series(values[~is_null]).value_counts().to_dict()
    assert list(hashes) == list(hash_array(arr))


def test_unseen_categories_past_the_cap_keep_the_most_frequent_and_zero_has_no_sign():
    column = ColumnProfile(index=0, name="x", dtype="int64", physical="integer")
    column.update(pa.array(list(range(1, 1001)) + [1001] * 5), ColumnRules(categories=(0,)))
    assert column.unseen_total == 1005 and len(column.unseen) == 1000 and column.unseen[1001] == 5
    floats = ColumnProfile(index=0, name="f", dtype="double", physical="float")
    floats.update(pa.array([0.0, -0.0, 1.5]), None)
    assert str(floats.min) == "0.0" and floats.dup_seen  # -0.0 equals 0.0: a repeated value


def test_unique_columns_are_tracked_exactly_across_batches(tmp_path):
    n = 3000
    frame = pd.DataFrame({"id": np.arange(n), "code": [f"c{i}" for i in range(n)], "v": np.arange(n) % 7})
    frame.loc[2999, "code"] = "c5"  # one repeat, far from the first
    frame.to_parquet(tmp_path / "t.parquet")
    original = parquet_table.PARQUET_BATCH_ROWS
    parquet_table.PARQUET_BATCH_ROWS = 1100
    try:
        profile = profile_table(open_table(tmp_path / "t.parquet"), PassPlan())
    finally:
        parquet_table.PARQUET_BATCH_ROWS = original
    by = {c.name: c for c in profile.columns}
    assert by["id"].all_distinct and by["id"].kind == "id_like" and by["id"].distinct == n
    assert by["code"].all_distinct is False and by["code"].distinct == n - 1 and by["code"].kind != "id_like"


# ---------------------------------------------------------------- leakage against scikit-learn


def test_leakage_scores_agree_with_scikit_learn():
    from sklearn.metrics import balanced_accuracy_score, r2_score

    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 400)
    codes = np.where(rng.random(400) < 0.8, y, rng.integers(0, 3, 400))
    train = rng.random(400) < 0.5
    prediction = leakage.predict_by_code(codes, y, train, classification=True)
    assert leakage.balanced_accuracy(y[~train], prediction[~train]) == pytest.approx(
        balanced_accuracy_score(y[~train], prediction[~train]), abs=1e-12
    )
    target = rng.normal(size=400)
    regression = leakage.predict_by_code(rng.integers(0, 10, 400), target, train, classification=False)
    assert leakage.r2(target[~train], regression[~train]) == pytest.approx(
        r2_score(target[~train], regression[~train]), abs=1e-12
    )


def test_leakage_flags_copies_not_noise_or_ids():
    rng = np.random.default_rng(9)
    n = 2000
    y = rng.integers(0, 2, n)
    sample = pa.table(
        {
            "y": y,
            "copy": np.where(y == 1, "pos", "neg"),
            "scaled": y * 3.5 + rng.normal(scale=0.01, size=n),
            "noise": rng.normal(size=n),
            "row_id": [f"r{i}" for i in range(n)],
        }
    )
    scores = {
        s.feature: s.score for s in leakage.score_features(sample, "y", ["copy", "scaled", "noise", "row_id"], True)
    }
    assert scores["copy"] == 1.0 and scores["scaled"] == 1.0
    assert scores["noise"] < 0.6 and scores["row_id"] == 0.5
    target = rng.normal(size=n)
    numeric = pa.table({"t": target, "near": target + rng.normal(scale=1e-3, size=n), "noise": rng.normal(size=n)})
    scores = {s.feature: s.score for s in leakage.score_features(numeric, "t", ["near", "noise"], False)}
    assert scores["near"] > 0.99 and scores["noise"] < 0.1


# ---------------------------------------------------------------- tables: types that change after the first block


def test_csv_types_are_settled_on_the_first_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_table, "READ_BLOCK_BYTES", 1 << 14)
    lines = ["a,b,c"] + [f"{i},,{i}" for i in range(3000)] + ["x,7,2.5"]  # ~30 kB: inside the 16 MB checked
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    table = open_table(tmp_path / "t.csv")
    assert [str(f.type) for f in table.schema] == ["string", "int64", "double"]
    assert sum(b.num_rows for b in table.batches()) == 3001  # no SchemaChanged: settled at open


def test_csv_column_with_text_after_the_first_block_is_widened(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_table, "READ_BLOCK_BYTES", 1 << 14)
    monkeypatch.setattr(csv_table, "CSV_BLOCK_BYTES", 1 << 15)
    lines = ["a,b,c"] + [f"{i},x{i},{i}" for i in range(20_000)] + ["oops,y,1.5"]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    table = open_table(tmp_path / "t.csv")
    assert str(table.schema.field("a").type) == "int64"
    with pytest.raises(SchemaChanged, match="column 'a' was read as int64 from the first rows"):
        for _ in table.batches():
            pass
    assert str(table.schema.field("a").type) == "string"
    whole = table.read_all()  # restarts by itself; c widens to double on the way
    assert whole.num_rows == 20_001 and str(whole.schema.field("c").type) == "double"
    profile = profile_table(open_table(tmp_path / "t.csv"), PassPlan())
    a = profile.column("a")
    assert (a.numeric_text, a.other_text, a.other_examples) == (20_000, 1, ["oops"])


def test_jsonl_with_mixed_value_kinds_is_read_as_text(tmp_path):
    (tmp_path / "t.jsonl").write_text('{"a": 1, "b": "x"}\n{"a": "t", "b": "y"}\n{"a": 2.5, "c": [1]}\n')
    table = open_table(tmp_path / "t.jsonl")
    assert table.read_all().to_pylist() == [
        {"a": "1", "b": "x", "c": None},
        {"a": "t", "b": "y", "c": None},
        {"a": "2.5", "b": None, "c": "[1]"},
    ]


def test_csv_with_repeated_header_names_reads_every_column(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,a\n1,2,3\n4,5,6\n")
    table = open_table(tmp_path / "t.csv", repeated_names=True)
    whole = table.read_all()
    assert whole.column_names == ["a", "b", "a"] and whole.column(2).to_pylist() == [3, 6]
    assert table.read_all(["b"]).column(0).to_pylist() == [2, 5]
