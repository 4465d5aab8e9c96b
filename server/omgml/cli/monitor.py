"""CLI command for monitoring: ``omgml monitor BATCH [--labels FILE --key COL]``.

Exit codes, for cron and CI: 0 no alert rule fired, 1 an alert rule fired (omgml.toml ``[monitor] alerts``),
2 input that cannot be monitored (a missing file, a malformed rule or webhook, labels without a key).
A webhook that cannot be reached is reported in the output and does not change the exit code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omgml.args import ProjectDir
from omgml.cli._common import HtmlCopy, HtmlOption, JsonFlag, ReplaceHtmlFlag, argument, emit, option, with_progress
from omgml.monitor.models import Batch, LabelKey, Labels, MonitorContract, MonitorReference


def monitor(
    batch: Annotated[str, argument(Batch)],
    labels: Annotated[str | None, option(Labels)] = None,
    key: Annotated[str | None, option(LabelKey)] = None,
    contract: Annotated[str | None, option(MonitorContract)] = None,
    reference: Annotated[str | None, option(MonitorReference)] = None,
    project_dir: Annotated[Path, option(ProjectDir, "--project-dir")] = Path("."),
    as_json: JsonFlag = False,
    html: HtmlOption = None,
    replace_html: ReplaceHtmlFlag = False,
) -> None:
    """Monitor a new BATCH: validation, drift, the champion's performance, alert rules; exit 1 on an alert."""
    from omgml.monitor.service import monitor_batch

    request = {
        "project_dir": str(project_dir),
        "batch": batch,
        "labels": labels,
        "key": key,
        "contract": contract,
        "reference": reference,
    }
    html_copy = HtmlCopy.of(html, replace_html, as_json)
    report = with_progress(monitor_batch, request)
    emit(report, as_json, project_dir, html_copy)
    if report.fired:
        raise typer.Exit(code=1)
