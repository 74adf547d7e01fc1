"""The house's floor plan, checked by import-linter's contracts (pyproject.toml, [tool.importlinter]): the floors of
components/ import only downwards, task kinds never import each other, components/ never imports the pipeline or the
server, the server imports only components.core of ours and no training stack, benches never import tests, and no
import loops. Each contract is shown to break on a deliberately wrong import in a copy of the tree."""
import os
import shutil
import subprocess
import sys

import pytest

from tests import ROOT

LINT_IMPORTS = os.path.join(os.path.dirname(sys.executable), "lint-imports")
PACKAGES = ("components", "pipeline", "serving", "bench", "tests")


def lint_imports(root: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": root}  # the copy's packages, ahead of the editable install's
    return subprocess.run([LINT_IMPORTS, "--no-cache", "--no-logo", "--config", os.path.join(root, "pyproject.toml")],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " KEPT" in result.stdout and " BROKEN" not in result.stdout


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory):
    """The packages and pyproject.toml, without caches: small and fast to copy."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(os.path.join(ROOT, package), root / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(os.path.join(ROOT, "pyproject.toml"), root)
    return root


WRONG_IMPORTS = [  # (file, the import added to it, the contract it breaks)
    ("components/core/features.py", "import pipeline.cli", "components/ never imports the pipeline"),
    ("components/nn/crf.py", "from components.tasks.classification import model",
     "components/ floors import only the floors below them"),
    ("components/training/loop.py", "import components.tasks.masked_lm.masking",
     "components/ floors import only the floors below them"),
    ("components/tasks/causal_lm/packing.py", "from components.tasks.masked_lm import masking",
     "task kinds never import each other"),
    ("serving/metrics.py", "import components.training.loop", "the server imports nothing of ours but"),
    ("serving/errors.py", "import serving.server", "no import loops"),
    ("bench/harness.py", "import tests.generated_data", "the pipeline and the benches never import the tests"),
]


@pytest.mark.parametrize("path,line,contract", WRONG_IMPORTS, ids=[w[0] for w in WRONG_IMPORTS])
def test_a_wrong_import_breaks_its_contract(tree_copy, path, line, contract):
    target = tree_copy / path
    original = target.read_text(encoding="utf-8")
    target.write_text(f"{line}  # deliberately wrong\n{original}", encoding="utf-8")
    try:
        result = lint_imports(str(tree_copy))
    finally:
        target.write_text(original, encoding="utf-8")
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith(" BROKEN")]
    assert any(row.startswith(contract) for row in broken), result.stdout
