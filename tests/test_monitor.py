"""monitor_batch on real batches: wine halves against a saved contract and profile, a planted shift, a webhook
server on 127.0.0.1, the champion scored on labelled batches, and the three faces."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from omgml import check_drift, init_project, monitor_batch, validate_data
from omgml.errors import ConfigError, InvalidInput, OmgmlError
from omgml.monitor.history import history_path, read_history
from omgml.workspace import STAMP_KEYS
from tests.conftest import run_cli

SHIFT = {"alcohol": 3.0, "flavanoids": 3.0, "hue": 1.0, "color_intensity": 5.0, "proline": 800.0}


def _wine():
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    return frame.sample(frac=1, random_state=0).reset_index(drop=True)


def _project(root: Path, *, monitor: str = "", metric: str = "accuracy") -> Path:
    """A wine project: the first 90 rows train it (contract and reference profile saved as 'wine'), the other 88
    are the clean batch, and the same rows with five features moved are the shifted one."""
    init_project(
        {"project_dir": str(root), "name": "Wine", "task": "multiclass", "target": "cultivar", "metric": metric}
    )
    if monitor:
        with (root / "omgml.toml").open("a") as f:
            f.write("\n[monitor]\n" + monitor)
    wine = _wine()
    (root / "data" / "batches").mkdir(parents=True, exist_ok=True)
    wine.iloc[:90].to_csv(root / "data/raw/train.csv", index=False)
    new = wine.iloc[90:].reset_index(drop=True)
    new.to_csv(root / "data/batches/clean.csv", index=False)
    new.assign(**{c: new[c] + d for c, d in SHIFT.items()}).to_csv(root / "data/batches/shifted.csv", index=False)
    validate_data({"project_dir": str(root), "data": "data/raw/train.csv", "save_contract": "wine"})
    check_drift({"project_dir": str(root), "reference": "data/raw/train.csv", "save_reference": "wine"})
    return root


def _monitor(root: Path, batch: str, **extra):
    return monitor_batch({"project_dir": str(root), "batch": f"data/batches/{batch}.csv", **extra})


# --- the webhook server -------------------------------------------------------------------------------------


class Hook:
    """An HTTP server on 127.0.0.1 that answers each POST with the next planned status (then 200)."""

    def __init__(self, statuses: list[int] | None = None, project: Path | None = None, location: str = "") -> None:
        self.statuses = list(statuses or [])
        self.posts: list[dict] = []
        self.history_lines_seen: list[int] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.posts.append(json.loads(body))
                if project is not None:
                    text = history_path(project).read_text() if history_path(project).exists() else ""
                    hook.history_lines_seen.append(len(text.splitlines()))
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/SECRET"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_server():
    made: list[Hook] = []

    def make(statuses=None, project=None, location="") -> Hook:
        made.append(Hook(statuses, project, location))
        return made[-1]

    yield make
    for hook in made:
        hook.close()


@pytest.fixture
def quick_backoff(monkeypatch):
    from omgml.monitor import webhook

    monkeypatch.setattr(webhook, "BACKOFF", (0.05, 0.1))


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed on leaving: nothing listens there


# --- rules and config ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monitor", "says"),
    [
        ('alerts = ["drift_share >= 0.3"]\n', "unknown metric 'drift_share'"),
        ('alerts = ["drifted_share => 0.3"]\n', "is not `metric op number`"),
        ('alerts = ["drifted_share >= lots"]\n', "'lots', which is not a number"),
        ('alerts = ["drifted_share >= nan"]\n', "not a finite number"),
        ('alerts = ["drifted_share"]\n', "is not `metric op number`"),
        ('webhook = "ftp://hooks.example.com/x"\n', "scheme is 'ftp'"),
        ('webhook = "https:///no-host"\n', "names no host"),
    ],
)
def test_a_malformed_rule_or_webhook_is_refused_at_load_with_the_valid_choices_and_nothing_written(
    tmp_path, monitor, says
):
    root = _project(tmp_path / "wine")
    reports = sorted((root / ".omgml" / "reports").rglob("*.json"))
    with (root / "omgml.toml").open("a") as f:
        f.write("\n[monitor]\n" + monitor)
    with pytest.raises(ConfigError) as caught:
        _monitor(root, "clean")
    text = str(caught.value)
    assert says in text and "\n" not in text
    if "alerts" in monitor:
        assert "validation_errors, validation_warnings, drifted_share, drifted_columns, performance_drop" in text
        assert ">= <= == != > <" in text
    assert "SECRET" not in text
    assert not history_path(root).exists()
    assert sorted((root / ".omgml" / "reports").rglob("*.json")) == reports


def test_a_clean_half_raises_no_alert_and_a_planted_shift_fires_the_drift_rule(tmp_path):
    root = _project(tmp_path / "wine", monitor='alerts = ["validation_errors > 0", "drifted_share >= 0.3"]\n')
    clean = _monitor(root, "clean")
    assert clean.ok and clean.fired == [] and [a.status for a in clean.alerts] == ["quiet", "quiet"]
    assert clean.validation.contract == ".omgml/contracts/wine.json" and clean.drift.reference == "wine"

    shifted = _monitor(root, "shifted")
    # proline 800 above its range breaks the contract too
    assert shifted.fired == ["validation_errors > 0", "drifted_share >= 0.3"] and not shifted.ok
    # the same numbers the two services give on their own
    drift = check_drift({"project_dir": str(root), "reference": "wine", "current": "data/batches/shifted.csv"})
    validation = validate_data({"project_dir": str(root), "data": "data/batches/shifted.csv", "contract": "wine"})
    assert shifted.drift.drifted_share == drift.drifted_share >= 0.3
    assert {c.column for c in shifted.drift.drifted} == set(SHIFT) == {c.column for c in drift.columns if c.drifted}
    assert shifted.validation.errors == validation.counts.error > 0
    assert shifted.alerts[1].value == drift.drifted_share

    history = read_history(root)
    assert [e.batch for e in history.entries] == ["data/batches/clean.csv", "data/batches/shifted.csv"]
    last = history.entries[-1]
    assert last.alerts == shifted.fired and last.dataset_drift is False  # 5 of 13 < the 50 % verdict
    assert last.reports["monitor"] == shifted.report_path and (root / shifted.report_path).is_file()
    assert (root / last.reports["drift"]).is_file() and (root / last.reports["validation"]).is_file()
    assert "<svg" in (root / shifted.html_path).read_text()
    assert [e.batch for e in shifted.recent] == [e.batch for e in history.entries]


def test_drift_persists_counts_consecutive_drifted_batches_and_a_clean_one_ends_the_run(tmp_path):
    root = _project(tmp_path / "wine", monitor='alerts = ["drift_persists >= 3"]\n')
    streaks, fired = [], []
    # the dataset verdict needs half the features drifted: move all of them
    wine = _wine().iloc[90:].reset_index(drop=True)
    features = [c for c in wine.columns if c != "cultivar"]
    wine.assign(**{c: wine[c] * 3 + 10 for c in features}).to_csv(root / "data/batches/moved.csv", index=False)
    for batch in ("moved", "moved", "moved", "clean", "moved"):
        report = _monitor(root, batch)
        streaks.append(report.alerts[0].value)
        fired.append(report.fired)
    assert streaks == [1, 2, 3, 0, 1]
    assert fired == [[], [], ["drift_persists >= 3"], [], []]
    assert [e.dataset_drift for e in read_history(root).entries] == [True, True, True, False, True]


def test_a_metric_not_measured_is_not_evaluated_and_never_fires(tmp_path):
    root = _project(tmp_path / "wine", monitor='alerts = ["performance_drop > -1", "drifted_columns >= 0"]\n')
    (root / ".omgml" / "references" / "wine.json").unlink()  # no reference: drift is not checked either
    report = _monitor(root, "clean")  # labelled, but no model is registered
    assert [a.status for a in report.alerts] == ["not_evaluated", "not_evaluated"]
    assert report.fired == [] and report.ok and report.drift is None and report.performance is None
    assert "no registered model" in report.alerts[0].reason and "no reference profile 'wine'" in report.alerts[1].reason
    assert read_history(root).entries[-1].dataset_drift is None


# --- the webhook --------------------------------------------------------------------------------------------


def test_each_fired_rule_is_posted_once_after_the_history_line_is_written(tmp_path, hook_server):
    hook = hook_server(project=tmp_path / "wine")
    rules = '["drifted_share >= 0.3", "drifted_columns >= 5", "validation_errors > 100"]'
    root = _project(tmp_path / "wine", monitor=f'alerts = {rules}\nwebhook = "{hook.url}"\n')
    report = _monitor(root, "shifted")
    assert report.fired == ["drifted_share >= 0.3", "drifted_columns >= 5"]
    assert [p["rule"] for p in hook.posts] == report.fired  # once per fired rule, none for the quiet one
    assert hook.history_lines_seen == [1, 1]  # the batch was in the history before the first POST
    first = hook.posts[0]
    assert first["batch"] == "data/batches/shifted.csv" and first["metric"] == "drifted_share"
    assert first["value"] == report.drift.drifted_share and first["threshold"] == 0.3 and first["op"] == ">="
    assert "drifted_share &gt;= 0.3 fired on data/batches/shifted.csv" in first["text"]  # Slack markup escaped
    assert [d.delivered for d in report.deliveries] == [True, True] and report.deliveries[0].attempts == 1
    assert report.webhook == f"http://127.0.0.1:{hook.server.server_address[1]}/…"  # the secret path is not shown
    saved = json.loads((root / report.report_path).read_text())
    assert [d["delivered"] for d in saved["deliveries"]] == [True, True]
    assert "SECRET" not in (root / report.report_path).read_text() + (root / report.html_path).read_text()


def test_a_hook_answering_500_twice_is_retried_until_it_takes_the_alert(tmp_path, hook_server):
    hook = hook_server([500, 503])
    root = _project(tmp_path / "wine", monitor=f'alerts = ["drifted_share >= 0.3"]\nwebhook = "{hook.url}"\n')
    report = _monitor(root, "shifted")  # the real backoff: 0.5 s, then 1 s
    assert len(hook.posts) == 3
    [delivery] = report.deliveries
    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (True, 3, 200)


def test_a_4xx_is_not_retried_and_is_reported(tmp_path, hook_server, quick_backoff):
    hook = hook_server([404])
    root = _project(tmp_path / "wine", monitor=f'alerts = ["drifted_share >= 0.3"]\nwebhook = "{hook.url}"\n')
    [delivery] = _monitor(root, "shifted").deliveries
    assert len(hook.posts) == 1
    assert (delivery.delivered, delivery.attempts, delivery.status_code) == (False, 1, 404)
    assert delivery.error == "HTTP 404 Not Found"


def test_a_redirect_to_a_non_http_url_is_not_followed(tmp_path, hook_server, quick_backoff):
    hook = hook_server([302], location="ftp://127.0.0.1/steal")
    root = _project(tmp_path / "wine", monitor=f'alerts = ["drifted_share >= 0.3"]\nwebhook = "{hook.url}"\n')
    [delivery] = _monitor(root, "shifted").deliveries
    assert len(hook.posts) == 1 and not delivery.delivered and delivery.status_code == 302
    assert "redirect to a non-http(s) URL refused" in delivery.error


def test_a_refused_connection_is_retried_twice_reported_and_loses_nothing(tmp_path, quick_backoff):
    url = f"http://127.0.0.1:{_refused_port()}/hook"
    rules = '["drifted_share >= 0.3", "drifted_columns >= 1"]'
    root = _project(tmp_path / "wine", monitor=f'alerts = {rules}\nwebhook = "{url}"\n')
    report = _monitor(root, "shifted")
    first, second = report.deliveries
    assert (first.delivered, first.attempts, first.status_code) == (False, 3, None)
    assert "ConnectionRefusedError" in first.error
    # a dead hook is not waited on once per rule
    assert (second.delivered, second.attempts) == (False, 0) and "not tried" in second.error
    assert any("2 of 2 alert(s) could not be posted" in n for n in report.notes)
    assert read_history(root).entries[-1].alerts == ["drifted_share >= 0.3", "drifted_columns >= 1"]
    done = run_cli("monitor", "data/batches/shifted.csv", cwd=root)
    assert done.returncode == 1, done.stderr  # the alert decides the exit code, not the webhook
    assert "not posted" in done.stdout and len(read_history(root).entries) == 2


# --- labels and bad input -----------------------------------------------------------------------------------


def test_labels_need_a_key_present_in_both_tables_and_unique_and_nothing_is_written_otherwise(tmp_path):
    root = _project(tmp_path / "wine")
    batch = _wine().iloc[90:].reset_index(drop=True).assign(id=lambda f: range(len(f)))
    batch.drop(columns=["cultivar"]).to_csv(root / "data/batches/ids.csv", index=False)
    batch[["id", "cultivar"]].to_csv(root / "data/batches/labels.csv", index=False)
    pd_labels = batch[["id", "cultivar"]]
    pd_labels.assign(id=0).to_csv(root / "data/batches/repeated.csv", index=False)
    pd_labels.rename(columns={"cultivar": "y"}).to_csv(root / "data/batches/no-target.csv", index=False)
    reports = sorted((root / ".omgml" / "reports").rglob("*.json"))
    cases = [
        ({"labels": "data/batches/labels.csv"}, "labels and key go together"),
        ({"labels": "data/batches/labels.csv", "key": "row"}, "The key column 'row' is not in the batch"),
        ({"labels": "data/batches/missing.csv", "key": "id"}, "does not exist"),
        ({"labels": "data/batches/repeated.csv", "key": "id"}, "The key 'id' repeats in the labels table"),
        ({"labels": "data/batches/no-target.csv", "key": "id"}, "target (omgml.toml) column 'cultivar' is not in"),
        ({"contract": "nope"}, "There is no contract named 'nope'"),
        ({"reference": "nope"}, "No saved reference profile named 'nope'"),
    ]
    for extra, says in cases:
        with pytest.raises(OmgmlError) as caught:
            _monitor(root, "ids", **extra)
        assert says in str(caught.value), str(caught.value)
    with pytest.raises(InvalidInput, match="The batch data/batches/none.csv does not exist"):
        _monitor(root, "none")
    assert not history_path(root).exists()
    assert sorted((root / ".omgml" / "reports").rglob("*.json")) == reports
    done = run_cli("monitor", "data/batches/ids.csv", "--labels", "data/batches/labels.csv", cwd=root)
    assert done.returncode == 2 and done.stderr.startswith("omgml: error: ") and done.stderr.count("\n") == 1


# --- performance against the champion ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A wine project whose champion is a cross-validated linear model (accuracy, so its noise has a formula)."""
    from omgml import train_baseline

    root = _project(tmp_path_factory.mktemp("trained") / "wine", monitor='alerts = ["performance_drop > 0.05"]\n')
    baseline = train_baseline(
        {"project_dir": str(root), "data_path": "data/raw/train.csv", "cv": 3, "models": ["linear"]}
    )
    wine = _wine().iloc[90:].reset_index(drop=True)
    shuffled = wine.assign(cultivar=np.random.default_rng(1).permutation(wine["cultivar"].to_numpy()))
    shuffled.to_csv(root / "data/batches/mislabelled.csv", index=False)
    ids = wine.assign(id=[f"r{i}" for i in range(len(wine))])
    ids.drop(columns=["cultivar"]).to_csv(root / "data/batches/unlabelled.csv", index=False)
    ids[["id", "cultivar"]].sample(frac=1, random_state=3).to_csv(root / "data/batches/labels.csv", index=False)
    return root, baseline


def _by_hand(root: Path, batch: str):
    """The champion's predictions and accuracy on a labelled batch, from MLflow and scikit-learn directly."""
    import mlflow.sklearn
    import pandas as pd
    from sklearn.metrics import accuracy_score

    from omgml.tracking import DEFAULT_TRACKING_URI, resolve_tracking_uri

    # Through the environment for this call only: mlflow.set_tracking_uri would stay set for every later test.
    with mock.patch.dict(os.environ, {"MLFLOW_TRACKING_URI": resolve_tracking_uri(root, DEFAULT_TRACKING_URI)}):
        model = mlflow.sklearn.load_model("models:/wine-model@champion")
    frame = pd.read_csv(root / f"data/batches/{batch}.csv")
    y = frame.pop("cultivar").to_numpy()
    return accuracy_score(y, model.predict(frame)), len(y)


def test_the_champion_on_a_labelled_batch_is_its_own_accuracy_against_the_logged_estimate(trained):
    root, baseline = trained
    best = next(c for c in baseline.candidates if c.name == baseline.best)
    report = _monitor(root, "clean")
    p = report.performance
    accuracy, rows = _by_hand(root, "clean")
    assert p.value == pytest.approx(accuracy, abs=1e-12) and p.labelled_rows == rows
    assert p.expected == pytest.approx(best.primary_mean) and p.expected_std == pytest.approx(best.primary_std)
    assert p.drop == pytest.approx(p.expected - accuracy)
    assert p.noise == pytest.approx(2 * np.hypot(p.expected_std, p.batch_std))
    assert p.significant is False and report.fired == [] and p.model_version == baseline.tracking.model_version


def test_mislabelled_rows_are_a_drop_beyond_noise_that_fires_the_performance_rule(trained):
    root, _ = trained
    report = _monitor(root, "mislabelled")
    p = report.performance
    accuracy, rows = _by_hand(root, "mislabelled")
    assert p.value == pytest.approx(accuracy, abs=1e-12) and accuracy < 0.6
    # the bootstrap std of an accuracy is the binomial one, sqrt(p(1 - p) / n); 200 resamples: within ~5 %
    assert p.batch_std == pytest.approx(np.sqrt(accuracy * (1 - accuracy) / rows), rel=0.2)
    assert p.significant is True and report.fired == ["performance_drop > 0.05"]
    assert report.alerts[0].value == p.drop
    assert "a drop beyond noise" in report.headline
    assert any("Retrain on recent data (performance dropped beyond noise)" in s for s in report.next_steps)
    assert read_history(root).entries[-1].performance.significant is True


def test_a_labels_file_joined_on_a_key_scores_like_labels_in_the_batch(trained):
    root, _ = trained
    inline = _monitor(root, "clean").performance
    joined = _monitor(root, "unlabelled", labels="data/batches/labels.csv", key="id").performance
    assert joined.value == inline.value and joined.labelled_rows == inline.labelled_rows == 88
    # integer keys in the batch, the same keys as text in a jsonl labels file: matched as text
    wine = _wine().iloc[90:].reset_index(drop=True)
    wine.assign(id=range(len(wine))).drop(columns=["cultivar"]).to_csv(root / "data/batches/int-ids.csv", index=False)
    wine.assign(id=[str(i) for i in range(len(wine))])[["id", "cultivar"]].to_json(
        root / "data/batches/text-ids.jsonl", orient="records", lines=True
    )
    typed = _monitor(root, "int-ids", labels="data/batches/text-ids.jsonl", key="id")
    assert typed.performance.value == inline.value and typed.performance.labelled_rows == 88
    assert "88 of 88 batch row(s) have a label in data/batches/text-ids.jsonl" in " ".join(typed.notes)
    unlabelled = _monitor(root, "unlabelled")
    assert unlabelled.performance is None and unlabelled.alerts[0].status == "not_evaluated"
    assert "--labels FILE --key COL" in unlabelled.alerts[0].reason


# --- the faces ----------------------------------------------------------------------------------------------


def test_cli_exit_codes_and_json_are_the_python_result(tmp_path):
    root = _project(tmp_path / "wine", monitor='alerts = ["drifted_share >= 0.3"]\n')
    clean = run_cli("monitor", "data/batches/clean.csv", "--json", cwd=root)
    assert clean.returncode == 0, clean.stderr
    result = json.loads(clean.stdout)
    assert result["kind"] == "monitor" and result["fired"] == []
    saved = json.loads((root / result["report_path"]).read_text())
    assert {k: v for k, v in saved.items() if k not in STAMP_KEYS} == result
    shifted = run_cli("monitor", "data/batches/shifted.csv", cwd=root)
    assert shifted.returncode == 1 and shifted.stdout.startswith("# Monitor: ALERT")
    assert run_cli("monitor", "data/batches/gone.csv", cwd=root).returncode == 2
    assert len(read_history(root).entries) == 2


@pytest.mark.anyio
async def test_the_mcp_tool_returns_the_report_and_appends_the_history(tmp_path, monkeypatch):
    from mcp import Client

    from omgml.mcp.server import build_server
    from omgml.monitor.models import MonitorReport
    from omgml.render import render

    root = _project(tmp_path / "wine", monitor='alerts = ["drifted_share >= 0.3"]\n')
    monkeypatch.setenv("OMGML_PROJECT_DIR", str(tmp_path))
    async with Client(build_server()) as client:
        result = await client.call_tool(
            "omgml_monitor_batch", {"project_dir": "wine", "batch": "data/batches/shifted.csv"}
        )
        outside = await client.call_tool("omgml_monitor_batch", {"project_dir": "wine", "batch": "../../etc/passwd"})
    assert result.is_error is False, result.content
    report = MonitorReport.model_validate(result.structured_content)
    assert report.fired == ["drifted_share >= 0.3"]
    assert result.content[0].text == render(report, "md", root)
    assert outside.is_error and "outside" in outside.content[0].text
    assert [e.batch for e in read_history(root).entries] == ["data/batches/shifted.csv"]


# --- the pieces ---------------------------------------------------------------------------------------------


def test_rules_compare_as_written_and_a_missing_value_is_never_a_fire():
    from omgml.config import parse_alert_rule
    from omgml.monitor.alerts import evaluate

    texts = ["drifted_share >= 0.3", "drifted_share > 0.3", "validation_errors == 2", "validation_errors != 2"]
    texts += ["validation_warnings < 1", "validation_warnings <= 0", "performance_drop>0.05"]
    rules = [parse_alert_rule(t) for t in texts]
    measured = {"drifted_share": 0.3, "validation_errors": 2.0, "validation_warnings": 0.0, "performance_drop": None}
    results = evaluate(rules, measured, {"performance_drop": "not measured: no labels"})
    assert [r.status for r in results] == ["fired", "quiet", "fired", "quiet", "fired", "fired", "not_evaluated"]
    assert results[-1].reason == "not measured: no labels" and results[-1].rule == "performance_drop>0.05"
    assert (
        results[0].reason == "drifted_share is 0.3, >= 0.3" and results[1].reason == "drifted_share is 0.3, not > 0.3"
    )


def test_the_drift_streak_counts_back_from_this_batch_and_unknown_ends_it():
    from omgml.monitor.alerts import drift_streak

    assert drift_streak([], True) == 1
    assert drift_streak([True, False, True, True], True) == 3
    assert drift_streak([True, None, True], True) == 2
    assert drift_streak([True, True], False) == 0
    assert drift_streak([True, True], None) is None


def test_the_trend_charts_flag_drift_errors_and_drops_beyond_noise():
    from omgml.monitor.history import BatchEntry, Performance
    from omgml.plots import recent_drift_chart, recent_errors_chart, recent_performance_chart

    def entry(i, share, drift, errors, drop=None):
        perf = None
        if drop is not None:
            perf = Performance(
                metric="accuracy", value=0.9 - drop, expected=0.9, drop=drop, model_version="1", labelled_rows=50,
                noise=0.1, significant=drop > 0.1,
            )  # fmt: skip
        return BatchEntry(
            time=f"2026-12-0{i}T10:00:00+00:00", batch=f"data/b{i}.csv", fingerprint="f", rows=50,
            validation_errors=errors, validation_warnings=0, drifted_share=share, dataset_drift=drift, performance=perf,
        )  # fmt: skip

    entries = [entry(1, 0.1, False, 0, 0.02), entry(2, None, None, 3), entry(3, 0.6, True, 0, 0.3)]
    drift = recent_drift_chart(entries)
    assert [b.label for b in drift.bars] == ["2026-12-01 10:00 b1.csv", "2026-12-03 10:00 b3.csv"]  # b2: unchecked
    assert [b.flagged for b in drift.bars] == [False, True] and drift.bars[1].width == pytest.approx(0.6 * drift.span)
    assert [b.flagged for b in recent_errors_chart(entries).bars] == [False, True, False]
    performance = recent_performance_chart(entries)
    assert [b.flagged for b in performance.bars] == [False, True] and all(b.mark is not None for b in performance.bars)


def test_hostile_column_names_stay_text_in_the_markdown_the_html_and_the_hook(tmp_path, hook_server):
    hook = hook_server()
    root = _project(tmp_path / "wine", monitor=f'alerts = ["drifted_columns >= 1"]\nwebhook = "{hook.url}"\n')
    hostile = "<img src=x onerror=alert(1)>|*x*"
    for name in ("train", "batch"):
        frame = _wine().iloc[:90] if name == "train" else _wine().iloc[90:]
        frame = frame.rename(columns={"proline": hostile})
        if name == "batch":
            frame[hostile] = frame[hostile] + 2000
        frame.to_csv(root / f"data/batches/{name}.csv", index=False)
    check_drift({"project_dir": str(root), "reference": "data/batches/train.csv", "save_reference": "hostile"})
    report = _monitor(root, "batch", reference="hostile")
    assert [c.column for c in report.drift.drifted] == [hostile]
    from omgml.render import render

    markdown = render(report, "md", root)
    html = (root / report.html_path).read_text()
    assert not re.search(r"(?<!\\)<img", markdown) and "\\<img src=x onerror=alert(1)\\>\\|\\*x\\*" in markdown
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;|*x*" in html
    assert [p["rule"] for p in hook.posts] == ["drifted_columns >= 1"]
