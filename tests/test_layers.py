"""The layers `make lint` checks with import-linter (pyproject.toml) hold for the top-level modules too, which
import-linter cannot take as roots: errors.py imports nothing of ours but domain/, and extensions.py (the composition
root) nothing of the web layer or the entry points above it."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ABOVE_EXTENSIONS = {"app", "wsgi", "devserver", "serving", "cli", "web", "browserkit", "contract"}


def imported(module: str) -> set[str]:
    """The top-level names a module of ours imports."""
    tree = ast.parse((ROOT / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def ours() -> set[str]:
    """Every top-level package and module of the service."""
    return {p.stem for p in ROOT.glob("*.py")} | {p.parent.name for p in ROOT.glob("*/__init__.py")}


def test_errors_imports_nothing_of_ours_but_the_domain():
    assert imported("errors") & ours() <= {"domain"}


def test_the_composition_root_imports_nothing_above_it():
    assert not imported("extensions") & ABOVE_EXTENSIONS


def test_every_package_is_in_a_layer():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layered = {name.strip() for layer in config["contracts"][0]["layers"] for name in layer.split("|")}
    top_modules = {"app", "wsgi", "devserver", "extensions", "errors", "gunicorn.conf"}
    beside = {"tests", "bench", "support", "sandbox", "examples", "conformance", "deploy"}  # not the service
    unlayered = ours() - layered - top_modules - beside
    assert not unlayered, f"add {sorted(unlayered)} to a layer in pyproject.toml's import-linter contract"
    assert set(config["root_packages"]) == layered


def test_what_gunicorns_master_imports_leaves_prometheus_for_the_workers():
    # prometheus-client picks its multiprocess storage when first imported: the master sets PROMETHEUS_MULTIPROC_DIR
    # after loading our settings and worker class, so neither may import it (an empty scrape otherwise).
    probe = "import sys, serving.gunicorn_settings, serving.worker; print('prometheus_client' in sys.modules)"
    ran = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False"

