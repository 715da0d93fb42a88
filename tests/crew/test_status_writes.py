"""Nothing but the workflow writes a tracker status (and nothing but the pipeline an asset's).

Reads every project module's syntax tree and fails on an assignment to `.status`
or `.state`, or a `status=` / `state=` keyword passed to a call that writes
(create, update, update_or_create, get_or_create, bulk_update, save).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["config", "crew", "media_pipeline"]
WORKFLOW = ROOT / "crew" / "workflow"
WRITERS = {
    *(path.relative_to(ROOT).as_posix() for path in WORKFLOW.glob("*.py")),
    # The pipeline owns the status of assets, jobs and uploads.
    "media_pipeline/pipeline.py",
    "media_pipeline/services.py",
    "media_pipeline/tasks.py",
    "media_pipeline/uploads.py",
}
WRITE_CALLS = {"create", "update", "update_or_create", "get_or_create", "bulk_create", "save"}
FIELDS = {"status", "state"}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Attribute) and sub.attr in FIELDS:
                        found.append(f"{path}:{node.lineno} assigns .{sub.attr}")
        if isinstance(node, ast.Call):
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            if name in WRITE_CALLS:
                for kw in node.keywords:
                    if kw.arg in FIELDS:
                        found.append(f"{path}:{node.lineno} passes {kw.arg}= to {name}()")
                    if kw.arg == "defaults" and isinstance(kw.value, ast.Dict):
                        for key in kw.value.keys:
                            if isinstance(key, ast.Constant) and key.value in FIELDS:
                                found.append(f"{path}:{node.lineno} passes {key.value} in defaults")
    return found


def project_modules() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                files.append(path)
    return files


def test_it_rejects_status_writes_outside_the_workflow() -> None:
    violations = []
    for path in project_modules():
        rel = path.relative_to(ROOT).as_posix()
        if rel in WRITERS:
            continue
        violations += _violations(path)
    assert violations == []


def test_the_guard_catches_a_status_write(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "def f(r, qs):\n"
        "    r.status = 'approved'\n"
        "    qs.update(status='published')\n"
        "    qs.update_or_create(pk=1, defaults={'state': 'done'})\n",
        encoding="utf-8",
    )
    assert len(_violations(sneaky)) == 3


def test_the_workflow_is_where_statuses_are_written() -> None:
    # The guard must be looking at the right place: the shared compare-and-swap moves.
    assert _violations(WORKFLOW / "core.py"), "the workflow should hold the status writes"
