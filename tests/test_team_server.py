"""Every capability against a real team MLflow server: ``mlflow server`` on 127.0.0.1, plain and with basic auth.

Two servers start once for the module (side by side: each takes several seconds), each with its own sqlite
backend store and its own artifact folder that the server proxies (``mlflow-artifacts:/``). One project per
server goes the whole loop through the Python API with ``MLFLOW_TRACKING_URI=http://127.0.0.1:PORT``:
baseline (twice), compare, promote, rollback, monitor, status. The auth server's account is one the test
creates through MLflow's own user API, so omgml talks to it as an ordinary user, not as the admin.

The failures: a closed port and a server that accepts connections but never answers each fail in seconds with
one line; a wrong password is "unauthorised" naming the variables to set; a registration the server forbids
(HTTP 403) after the runs are logged leaves the runs FAILED, no model version and no saved report.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from omgml.baseline.service import train_baseline
from omgml.monitor.service import monitor_batch
from omgml.project.init import init_project
from omgml.project.status import project_status
from omgml.registry.service import compare_models, promote_model, rollback_model
from omgml.tracking import TrackingError
from tests.conftest import VENV_BIN, run_cli

START_TIMEOUT_S = 120  # a cold `mlflow server` imports for ~10 s alone; two of them share a busy 2-core machine
FAIL_FAST_S = 12  # "within a few seconds": the probe and MLflow's request timeout are 5 s each
ADMIN = ("admin", "admin-" + secrets.token_hex(8))
USER = ("alice", "alice-" + secrets.token_hex(8))
TRAIN = ["alcohol", "flavanoids", "hue", "color_intensity", "proline", "malic_acid"]


@dataclass
class Server:
    uri: str
    root: Path
    process: subprocess.Popen
    auth: bool

    def client(self, account: tuple[str, str] | None = None):
        """An ``MlflowClient`` of this server, as ``account`` (the admin on an auth server, by default)."""
        from mlflow.tracking import MlflowClient

        account = account or ADMIN
        uri = self.uri
        if self.auth:  # credentials in the URI: this client must not depend on the test's environment
            uri = uri.replace("http://", f"http://{account[0]}:{account[1]}@")
        return MlflowClient(tracking_uri=uri, registry_uri=uri)

    def log(self) -> str:
        return (self.root / "server.log").read_text(errors="replace")[-3000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(root: Path, *, auth: bool) -> Server:
    root.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    command = [
        str(VENV_BIN / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
    ]
    if auth:
        # MLflow 3 ships no admin password and refuses to start without one and without a CSRF secret key.
        ini = root / "auth.ini"
        ini.write_text(
            "[mlflow]\ndefault_permission = READ\n"
            f"database_uri = sqlite:///{root / 'basic_auth.db'}\n"
            f"admin_username = {ADMIN[0]}\nadmin_password = {ADMIN[1]}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
            # each request's password check is a scrypt hash (a second on a busy machine): cache the good ones
            "auth_cache_ttl_seconds = 600\n"
        )
        env |= {"MLFLOW_AUTH_CONFIG_PATH": str(ini), "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16)}
        command += ["--app-name", "basic-auth"]
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(f"http://127.0.0.1:{port}", root, process, auth)


def _wait(server: Server, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"mlflow server exited with {server.process.returncode}:\n{server.log()}")
        try:
            urllib.request.urlopen(server.uri + "/health", timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"mlflow server did not answer /health in {START_TIMEOUT_S} s:\n{server.log()}")


def _stop(servers: list[Server]) -> None:
    """Both at once: uvicorn's graceful stop waits for idle keep-alive connections (this process's) for seconds."""
    running = [s for s in servers if s.process.poll() is None]
    for server in running:
        os.killpg(server.process.pid, signal.SIGTERM)  # its own session: the server and its uvicorn worker
    deadline = time.monotonic() + 5
    for server in running:
        try:
            server.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)  # its stores are this module's temporary files
            server.process.wait()


def _create_user(server: Server, account: tuple[str, str]) -> None:
    import base64

    request = urllib.request.Request(
        server.uri + "/api/2.0/mlflow/users/create",
        data=json.dumps({"username": account[0], "password": account[1]}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode(),
        },
        method="POST",
    )
    urllib.request.urlopen(request, timeout=60).close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(plain server, basic-auth server with user alice), started side by side and stopped at the end."""
    base = tmp_path_factory.mktemp("servers")
    started = [_start(base / "plain", auth=False), _start(base / "auth", auth=True)]
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        for server in started:
            _wait(server, deadline)
        _create_user(started[1], USER)
        yield tuple(started)
    finally:
        _stop(started)


@pytest.fixture
def tracking_env(monkeypatch):
    """Point omgml at a server: ``use(server, account)`` sets the URI and, on an auth server, the account."""

    def use(uri: str, account: tuple[str, str] | None = None) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        for var, value in zip(("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"), account or (None, None)):
            if value is None:
                monkeypatch.delenv(var, raising=False)
            else:
                monkeypatch.setenv(var, value)

    return use


def _wine() -> pd.DataFrame:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    return frame.sample(frac=1, random_state=0).reset_index(drop=True)


def _project(root: Path, name: str) -> Path:
    """A wine project: 100 rows to train on (all features, and a weaker table of two), 78 new labelled rows."""
    init_project(
        {"project_dir": str(root), "name": name, "task": "multiclass", "target": "cultivar", "metric": "accuracy"}
    )
    wine = _wine()
    (root / "data" / "batches").mkdir(parents=True, exist_ok=True)
    wine.iloc[:100][[*TRAIN, "cultivar"]].to_csv(root / "data/raw/train.csv", index=False)
    wine.iloc[:100][["malic_acid", "hue", "cultivar"]].to_csv(root / "data/raw/weak.csv", index=False)
    wine.iloc[100:][[*TRAIN, "cultivar"]].to_csv(root / "data/batches/new.csv", index=False)
    return root


def _train(root: Path, table: str):
    return train_baseline({"project_dir": str(root), "data_path": table, "cv": 3, "models": ["linear"]})


def _by_hand_accuracy(server: Server, model: str, batch: Path, account) -> float:
    """The champion's accuracy on the batch, loaded from the server by MLflow itself and scored by scikit-learn."""
    import mlflow.artifacts
    import mlflow.sklearn
    from sklearn.metrics import accuracy_score

    version = server.client(account).get_model_version_by_alias(model, "champion")
    estimator = mlflow.sklearn.load_model(
        mlflow.artifacts.download_artifacts(version.source, tracking_uri=server.client(account).tracking_uri)
    )
    frame = pd.read_csv(batch)
    y = frame.pop("cultivar").to_numpy()
    return accuracy_score(y, estimator.predict(frame[list(estimator.feature_names_in_)]))


def _whole_loop(server: Server, root: Path, account) -> None:
    """baseline x2, compare, promote, rollback, monitor and status against ``server``, checked through MlflowClient."""
    model = "wine-model"
    client = server.client(account)

    first = _train(root, "data/raw/train.csv")
    assert first.tracking.registered_model == model and first.tracking.model_version == "1", first.tracking.note
    assert first.tracking.uri == server.uri  # the server, as the report shows it (no password in it)
    run = client.get_run(first.tracking.parent_run_id)
    assert run.info.status == "FINISHED" and run.data.params["target"] == "cultivar"
    assert {f.path for f in client.list_artifacts(run.info.run_id, "report")} >= {"report/baseline_report.html"}
    version = client.get_model_version(model, "1")
    assert version.run_id == run.info.run_id and version.source.startswith("mlflow-artifacts:/"), version.source
    assert dict(client.get_registered_model(model).aliases) == {"baseline": "1", "champion": "1"}
    # The artifacts are the server's: in its artifact folder, not in the project's mlruns/ (nor a local store).
    assert list((server.root / "artifacts").rglob("MLmodel")), "the server holds no model artifact"
    assert not (root / "mlruns").exists() or not any(p.is_file() for p in (root / "mlruns").rglob("*"))
    assert not (root / "mlflow.db").exists()

    second = _train(root, "data/raw/weak.csv")
    assert second.tracking.model_version == "2"
    assert dict(client.get_registered_model(model).aliases) == {"baseline": "2", "champion": "1"}

    batch = root / "data/batches/new.csv"
    compared = compare_models(
        {"project_dir": str(root), "challengers": ["2"], "data": "data/batches/new.csv", "resamples": 200}
    )
    assert compared.champion.version == "1" and compared.challengers[0].model.version == "2"
    assert compared.champion.score == pytest.approx(_by_hand_accuracy(server, model, batch, account), abs=1e-12)

    promoted = promote_model({"project_dir": str(root), "ref": "2", "force": True, "reason": "team server test"})
    assert (promoted.version, promoted.previous) == ("2", "1")
    aliases = dict(client.get_registered_model(model).aliases)
    assert (aliases["champion"], aliases["previous"]) == ("2", "1")
    assert client.get_model_version(model, "2").tags["omgml.promotion_reason"] == "team server test"

    rolled = rollback_model({"project_dir": str(root)})
    assert (rolled.version, rolled.rolled_back) == ("1", "2")
    assert dict(client.get_registered_model(model).aliases)["champion"] == "1"

    monitored = monitor_batch({"project_dir": str(root), "batch": "data/batches/new.csv"})
    performance = monitored.performance
    assert performance is not None and performance.model_version == "1", monitored.notes
    assert performance.value == pytest.approx(_by_hand_accuracy(server, model, batch, account), abs=1e-12)
    assert performance.expected == pytest.approx(next(c for c in first.candidates if c.name == "linear").primary_mean)

    status = project_status({"project_dir": str(root)})
    tracking = status.tracking
    finished = client.search_runs([first.tracking.experiment_id], "attributes.status = 'FINISHED'")
    assert tracking.store_found and tracking.uri == server.uri, tracking.note
    assert tracking.runs == len(finished) >= 4  # two parents, their nested dummy and linear runs
    registered = next(m for m in tracking.registered_models if m.name == model)
    assert registered.versions == 2 and registered.aliases["champion"] == "1"
    assert tracking.best_run is not None and tracking.best_run.metric == "accuracy"


def test_the_whole_loop_against_a_plain_team_server(servers, tracking_env, tmp_path):
    plain, _ = servers
    tracking_env(plain.uri)
    _whole_loop(plain, _project(tmp_path / "wine", "Wine"), None)


def test_the_whole_loop_against_a_basic_auth_server_as_an_ordinary_user(servers, tracking_env, tmp_path, capfd):
    _, auth = servers
    tracking_env(auth.uri, USER)
    root = _project(tmp_path / "wine", "Wine")
    _whole_loop(auth, root, USER)
    # Credentials in the URI work too, and no report, saved file or printed line (MLflow prints run links
    # made of the URI) shows the password.
    tracking_env(auth.uri.replace("http://", f"http://{USER[0]}:{USER[1]}@"))
    capfd.readouterr()
    third = _train(root, "data/raw/train.csv")
    shown = auth.uri.replace("http://", f"http://{USER[0]}:***@")
    assert third.tracking.model_version == "3" and third.tracking.uri == shown
    status = project_status({"project_dir": str(root)})
    assert status.tracking.runs > 0 and status.tracking.uri == shown
    out, err = capfd.readouterr()
    assert out == "" and f"View run baseline at: {shown}" in err and USER[1] not in err
    saved = [p.read_text(errors="replace") for p in (root / ".omgml").rglob("*") if p.is_file()]
    assert saved and not any(USER[1] in text for text in saved)


def test_a_password_in_a_uri_or_in_the_environment_is_never_shown(monkeypatch):
    from omgml.tracking import redact

    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cr3t-from-env")
    text = "API request to https://bob:p%40ss:w@rd@mlflow.example.com/api failed (key s3cr3t-from-env); http://h:1/x"
    assert redact(text) == "API request to https://bob:***@mlflow.example.com/api failed (key ***); http://h:1/x"
    assert redact("http://bob@host:5000") == "http://bob@host:5000"  # a user name alone is not a secret
    with pytest.raises(TrackingError) as caught:
        raise TrackingError("at http://u:pw@h", "s3cr3t-from-env was refused", "fix http://u:pw@h")
    assert "pw" not in str(caught.value) and "s3cr3t" not in str(caught.value)


# --- failures: in seconds, one line, nothing half-logged ---------------------------------------------------------


def _runs(server: Server) -> int:
    client = server.client()
    ids = [e.experiment_id for e in client.search_experiments()]
    return len(client.search_runs(ids)) if ids else 0


def _timed_error(call) -> tuple[str, float]:
    start = time.monotonic()
    with pytest.raises(TrackingError) as caught:
        call()
    return str(caught.value), time.monotonic() - start


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections and never answers: a hung server, or a firewall swallowing replies."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def test_an_unreachable_server_fails_in_seconds_before_training_and_writes_nothing(tracking_env, tmp_path, silent_port):
    root = _project(tmp_path / "wine", "Wine")
    for uri in (f"http://127.0.0.1:{_free_port()}", f"http://127.0.0.1:{silent_port}"):
        tracking_env(uri)
        message, seconds = _timed_error(lambda: _train(root, "data/raw/train.csv"))
        assert seconds < FAIL_FAST_S and "\n" not in message, (seconds, message)
        assert f"MLflow tracking at {uri} (from MLFLOW_TRACKING_URI) cannot be reached" in message
        assert "Nothing was trained or logged" in message
        message, seconds = _timed_error(lambda: compare_models({"project_dir": str(root)}))
        assert seconds < FAIL_FAST_S and "could not be read" in message, (seconds, message)
        start = time.monotonic()
        status = project_status({"project_dir": str(root)})
        assert time.monotonic() - start < FAIL_FAST_S and "unreadable" in status.tracking.note
    assert not (root / ".omgml" / "reports" / "baseline").exists() or not any(
        (root / ".omgml" / "reports" / "baseline").iterdir()
    )
    assert not (root / "mlflow.db").exists() and not (root / "mlruns").exists()


def test_a_wrong_password_is_unauthorised_and_names_the_variables_and_nothing_is_logged(
    servers, tracking_env, tmp_path
):
    _, auth = servers
    root = _project(tmp_path / "wine", "Unauthorised")
    before = _runs(auth)
    tracking_env(auth.uri, (USER[0], "not-the-password"))
    message, seconds = _timed_error(lambda: _train(root, "data/raw/train.csv"))
    assert seconds < FAIL_FAST_S and "\n" not in message
    assert f"MLflow tracking at {auth.uri} answered unauthorised (HTTP 401) for user 'alice'" in message
    assert "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD" in message and "nothing was trained" in message
    assert "not-the-password" not in message
    message, _ = _timed_error(lambda: compare_models({"project_dir": str(root)}))
    assert "unauthorised (HTTP 401)" in message and "nothing was changed" in message
    assert "unauthorised (HTTP 401)" in project_status({"project_dir": str(root)}).tracking.note
    # monitor still validates and records the batch, and says why the champion was not scored
    monitored = monitor_batch({"project_dir": str(root), "batch": "data/batches/new.csv"})
    assert monitored.performance is None and any("unauthorised (HTTP 401)" in n for n in monitored.notes)
    tracking_env(auth.uri)  # no credentials at all
    message, _ = _timed_error(lambda: _train(root, "data/raw/train.csv"))
    assert "for no user name" in message and "MLFLOW_TRACKING_USERNAME is not set" in message
    assert _runs(auth) == before
    assert auth.client().get_experiment_by_name("Unauthorised") is None


def test_the_cli_says_unauthorised_in_one_line_exit_2_and_never_shows_the_password(servers, tmp_path):
    _, auth = servers
    root = _project(tmp_path / "wine", "Wine CLI")
    wrong = "wrong-" + secrets.token_hex(8)
    uri = auth.uri.replace("http://", f"http://{USER[0]}:{wrong}@")
    done = run_cli("baseline", "data/raw/train.csv", "--cv", "3", cwd=root, env={"MLFLOW_TRACKING_URI": uri})
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.startswith("omgml: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "unauthorised (HTTP 401) for user 'alice'" in done.stderr and "MLFLOW_TRACKING_PASSWORD" in done.stderr
    assert f"http://{USER[0]}:***@127.0.0.1" in done.stderr and wrong not in done.stderr


def test_a_registration_the_server_forbids_leaves_failed_runs_no_version_and_no_report(servers, tracking_env, tmp_path):
    """alice may log runs to her own experiment, but the registered model is the admin's (she only reads it)."""
    _, auth = servers
    admin = auth.client()
    admin.create_registered_model("locked-model")
    root = _project(tmp_path / "locked", "Locked")
    tracking_env(auth.uri, USER)
    message, _ = _timed_error(lambda: _train(root, "data/raw/train.csv"))
    assert "\n" not in message and "denied user 'alice' permission (HTTP 403)" in message, message
    assert "model-versions/create" in message and "marked FAILED, and no model version was registered" in message
    experiment = admin.get_experiment_by_name("Locked")
    runs = admin.search_runs([experiment.experiment_id])
    assert runs and {r.info.status for r in runs if "mlflow.parentRunId" not in r.data.tags} == {"FAILED"}
    assert all(r.info.status in ("FAILED", "FINISHED") for r in runs)  # nested runs ended before the failure
    assert admin.search_model_versions("name = 'locked-model'") == []
    models = admin.search_logged_models([experiment.experiment_id])
    assert models and {m.status.name for m in models} == {"FAILED"}
    reports = root / ".omgml" / "reports" / "baseline"
    assert not reports.exists() or not any(reports.iterdir())
