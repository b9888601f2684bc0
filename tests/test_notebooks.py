"""The notebooks in notebooks/ run top to bottom in smoke mode (few steps, embedded or
synthetic data) on the CPU backend, through a real Jupyter kernel (nbclient)."""

import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import REPO

NOTEBOOKS = sorted(glob.glob(os.path.join(REPO, "notebooks", "*.ipynb")))


def test_the_three_notebooks_exist():
  names = {os.path.basename(p) for p in NOTEBOOKS}
  assert {"quickstart_tpu.ipynb", "mode_collapse.ipynb", "custom_dataset.ipynb"} <= names


# The quickstart runs in the default suite; the other two (about a minute each on 2 cores)
# with -m slow.
DEFAULT_NOTEBOOKS = {"quickstart_tpu.ipynb"}
CASES = [pytest.param(p, id=os.path.basename(p)[:-6],
                      marks=() if os.path.basename(p) in DEFAULT_NOTEBOOKS else pytest.mark.slow) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", CASES)
def test_notebook_runs_in_smoke_mode(path, tmp_path, monkeypatch):
  nb = nbformat.read(path, as_version=4)
  for cell in nb.cells:  # stored clean: outputs are produced live, never committed
    if cell.cell_type == "code":
      assert not cell.outputs and cell.execution_count is None, f"{path} is stored with outputs"
  # The kernel inherits this environment: smoke mode, the repository's recipes, and the
  # 8 fake CPU devices set up in conftest.
  monkeypatch.setenv("JAXGAN_NOTEBOOK_SMOKE", "1")
  monkeypatch.setenv("JAXGAN_ROOT", REPO)
  monkeypatch.setenv("MPLBACKEND", "Agg")
  NotebookClient(nb, timeout=600, kernel_name="python3",
                 resources={"metadata": {"path": str(tmp_path)}}).execute()
  assert (tmp_path / "runs").is_dir()
