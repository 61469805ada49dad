"""The import contracts in .importlinter (layers, no cycles, what channels and the webhook path may
not reach) hold, counting imports inside functions; and they bite: an upward import fails them."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--no-cache", "--no-logo", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_every_import_contract_is_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_lazy_upward_import_breaks_the_layers_and_makes_a_cycle(tmp_path):
    # Given a copy of chalicelib whose models (the foundation) import the ingest worker inside a function
    shutil.copytree(ROOT / "chalicelib", tmp_path / "chalicelib", ignore=shutil.ignore_patterns("__pycache__", "web"))
    for package in ("infra", "tests", "bench"):  # the other root packages, empty here
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    models = tmp_path / "chalicelib" / "models.py"
    models.write_text(models.read_text() + "\n\ndef _upward():\n    from chalicelib import pipeline  # noqa\n")
    # When the contracts are checked
    result = _lint(tmp_path)
    # Then every contract it reaches is broken (channels and the webhook path only through models),
    # naming the import
    assert result.returncode != 0
    assert "chalicelib.models -> chalicelib.pipeline" in result.stdout
    broken = [line.removesuffix(" BROKEN") for line in result.stdout.splitlines() if line.endswith(" BROKEN")]
    assert broken == ["No import cycles in chalicelib (modules and packages, any depth)",
                      "Layers: use cases ▸ domain ▸ adapters ▸ foundation",
                      "channels/* are pure: no outbound, store, queues or AWS clients",
                      "Webhook path (cold start) never reaches the classifier"], result.stdout
