"""``assignments.grade`` retries a kernel that never started, and nothing else."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import assignments  # noqa: E402

otter_run = pytest.importorskip("otter.run")
NO_KERNEL = "RuntimeError: Kernel didn't respond in 60 seconds"


def _fake_otter(monkeypatch, outcomes):
    """otter.run.main that fails with each message of `outcomes` (None: grades)."""
    calls = []

    def main(notebook, *, autograder, output_dir, no_logo):
        calls.append(notebook)
        message = outcomes[len(calls) - 1]
        if message is not None:
            print(message)
            raise RuntimeError(message)
        tests = [{"name": "q1", "score": 1, "max_score": 1, "output": ""}]
        (Path(output_dir) / "results.json").write_text(json.dumps({"tests": tests}))

    monkeypatch.setattr(otter_run, "main", main)
    return calls


def test_a_kernel_that_never_started_is_graded_again(monkeypatch, tmp_path):
    calls = _fake_otter(monkeypatch, [NO_KERNEL, NO_KERNEL, None])
    scores = assignments.grade("a.zip", "sub.ipynb", tmp_path / "out")
    assert scores == {"q1": (1, 1, "")} and len(calls) == 3


def test_it_gives_up_after_three_attempts(monkeypatch, tmp_path):
    calls = _fake_otter(monkeypatch, [NO_KERNEL] * 4)
    with pytest.raises(RuntimeError, match="Kernel didn't respond") as err:
        assignments.grade("a.zip", "sub.ipynb", tmp_path / "out")
    assert "otter crashed on sub.ipynb" in str(err.value) and len(calls) == 3


def test_any_other_failure_is_raised_at_once(monkeypatch, tmp_path):
    calls = _fake_otter(monkeypatch, ["NameError: name 'x' is not defined", None])
    with pytest.raises(RuntimeError, match="name 'x' is not defined"):
        assignments.grade("a.zip", "sub.ipynb", tmp_path / "out")
    assert len(calls) == 1
