"""The validation checks' ids, readable without numpy (the faces' argument descriptions list them).

``omgml.validation.checks.CHECKS`` is the registry; a test keeps these names in step with it.
"""

CHECK_IDS: tuple[str, ...] = (
    "empty_dataset",
    "duplicate_column_names",
    "ragged_rows",
    "missing_column",
    "unexpected_column",
    "dtype_mismatch",
    "single_column",
    "target_nulls",
    "all_null_column",
    "null_rate",
    "duplicate_keys",
    "duplicate_rows",
    "infinite_values",
    "out_of_range",
    "unseen_category",
    "mixed_types",
    "category_variants",
    "unparseable_dates",
    "target_leakage",
    "train_test_overlap",
    "label_conflict",
    "class_imbalance",
    "constant_column",
    "id_like_column",
)
TARGET_CHECK_IDS: tuple[str, ...] = ("target_nulls", "target_leakage", "label_conflict", "class_imbalance")
"""The checks that need a target column."""
