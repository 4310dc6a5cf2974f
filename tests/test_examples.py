"""Every gallery script in ``examples/`` and every notebook runs headless without error."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sklearn_normpen
from _subprocess import package_env

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def _env():
    return package_env()


def test_examples_are_present():
    # the gallery and this file's parametrisation depend on the folder being found
    assert (EXAMPLES / "README.txt").is_file()
    assert NOTEBOOKS, "examples/ should hold the workflow notebook"


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_example_script_runs(script, tmp_path):
    # run from an empty folder: an example must not depend on, or litter, the checkout
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(notebook, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # The kernel is a child process and inherits this environment: the package under test
    # on its path, and matplotlib's inline backend (not Agg) so the figures become outputs.
    monkeypatch.setenv("PYTHONPATH", _env()["PYTHONPATH"])
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(notebook, as_version=4)
    # stored without outputs, so the repository shows what the user will run
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure
    errors = [out for c in nb.cells if c.cell_type == "code" for out in c.outputs
              if out.output_type == "error"]
    assert not errors
    # the notebook draws its figures
    images = [out for c in nb.cells if c.cell_type == "code" for out in c.outputs
              if "image/png" in out.get("data", {})]
    assert len(images) >= 2
