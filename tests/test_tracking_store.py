"""A new project's sqlite store is a copy of an empty store MLflow built once per version in the user cache."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest
from sklearn import datasets

from omgml.tracking import empty_store_cache, seed_local_store
from tests.conftest import REPO, VENV_BIN


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A private user cache (never the real one) holding the empty store, built once for the module."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("XDG_CACHE_HOME", str(home / "xdg"))
        first = home / "first" / "mlflow.db"
        first.parent.mkdir()
        assert seed_local_store(f"sqlite:///{first}")  # builds the cache, then copies it
        yield empty_store_cache()


def verify_schema(store) -> None:
    """MLflow's own schema check: raises on any revision but the installed MLflow's head."""
    import sqlalchemy
    from mlflow.store.db.utils import _verify_schema

    engine = sqlalchemy.create_engine(f"sqlite:///{store}")
    try:
        _verify_schema(engine)
    finally:
        engine.dispose()


def mlflow_accepts(store) -> list[str]:
    """The schema check, then a client call through MLflow's store (which adds experiment 0 on a new one)."""
    from mlflow.tracking import MlflowClient

    verify_schema(store)
    uri = f"sqlite:///{store}"
    return [e.name for e in MlflowClient(tracking_uri=uri, registry_uri=uri).search_experiments()]


def test_the_cache_is_per_mlflow_version_and_under_xdg_cache_home(cache, monkeypatch):
    import mlflow

    assert cache.parts[-4:] == ("omgml", "mlflow-store", mlflow.__version__, "empty.db")
    assert cache.is_relative_to(os.environ["XDG_CACHE_HOME"])
    monkeypatch.setattr("importlib.metadata.version", lambda name: "0.0.1" if name == "mlflow" else "")
    assert empty_store_cache() == cache.parents[1] / "0.0.1" / "empty.db"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert empty_store_cache().is_relative_to(os.path.join(os.environ["HOME"], ".cache"))


def test_a_new_store_is_a_copy_mlflow_accepts_with_no_project_path_in_the_cache(cache, tmp_path, monkeypatch):
    store = tmp_path / "mlflow.db"
    assert seed_local_store(f"sqlite:///{store}")
    with sqlite3.connect(cache) as db:  # experiment 0 is made by MLflow on first open, with this project's path
        assert db.execute("select count(*) from experiments").fetchone() == (0,)
    monkeypatch.chdir(tmp_path)  # MLflow puts experiment 0's artifacts under the working directory
    assert mlflow_accepts(store) == ["Default"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]  # no temp file left behind


def test_an_existing_store_or_a_server_is_left_alone(cache, tmp_path):
    store = tmp_path / "mlflow.db"
    store.write_bytes(b"")
    assert not seed_local_store(f"sqlite:///{store}")
    assert store.read_bytes() == b""
    assert not seed_local_store("http://localhost:5000")
    assert not seed_local_store(f"sqlite:///{tmp_path / 'missing' / 'mlflow.db'}")  # MLflow makes the folder


@pytest.mark.parametrize("damage", ["garbage", "old revision"])
def test_a_damaged_or_outdated_cache_is_rebuilt(cache, tmp_path, monkeypatch, damage):
    if damage == "garbage":
        cache.write_bytes(b"not a database at all")
    else:
        with sqlite3.connect(cache) as db:
            db.execute("update alembic_version set version_num = '451aebb31d03'")  # MLflow 1.x's first
    store = tmp_path / "mlflow.db"
    assert seed_local_store(f"sqlite:///{store}")
    verify_schema(cache)  # rebuilt: at the installed head again
    monkeypatch.chdir(tmp_path)
    assert mlflow_accepts(store) == ["Default"]


def test_an_unusable_cache_leaves_the_store_to_mlflow(cache, tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    project = tmp_path / "p"
    project.mkdir()
    assert not seed_local_store(f"sqlite:///{project / 'mlflow.db'}")
    assert list(project.iterdir()) == []


def test_a_first_baseline_prints_no_mlflow_or_alembic_info_line(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    frame = datasets.load_iris(as_frame=True).frame
    frame[frame.target < 2].to_csv(project / "iris.csv", index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "OMGML_", "XDG_"))}
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO / "server"), OMP_NUM_THREADS="1")
    done = subprocess.run(  # noqa: PLW1510 -- the return code is asserted with the output
        [str(VENV_BIN / "omgml"), "baseline", "iris.csv", "--target", "target", "--cv", "2"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    for line in ("Creating initial MLflow database tables", "Context impl", "Will assume", "Running upgrade"):
        assert line not in output
    assert (tmp_path / "home" / ".cache" / "omgml" / "mlflow-store").is_dir()  # the first use built the cache
    assert "p" in mlflow_accepts(project / "mlflow.db")


def test_mlflow_skips_rechecking_our_pins_and_still_checks_other_models():
    """MLflow's requirement check scans every installed package (0.7-1 s); omgml's pins are this environment's."""
    import logging
    from importlib.metadata import version

    from mlflow.utils import environment

    from omgml.tracking import _pins_not_rechecked, model_requirements

    for pin in model_requirements():  # why skipping is safe: each is the installed version
        package, pinned = pin.split("==")
        assert version(package) == pinned, pin
    warned: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: warned.append(record.getMessage())
    logger = logging.getLogger("mlflow.utils.requirements_utils")
    logger.addHandler(handler)
    try:
        with _pins_not_rechecked():
            environment.warn_dependency_requirement_mismatches(["scikit-learn==0.0.1"])
        assert warned == []
        environment.warn_dependency_requirement_mismatches(["scikit-learn==0.0.1"])  # the user's own models
    finally:
        logger.removeHandler(handler)
    assert len(warned) == 1 and "required: scikit-learn==0.0.1" in warned[0], warned
