"""Every exercise page is an assignment that grades fairly (make assignments).

For each assignment, ``otter assign`` builds the student notebook and the
autograder, and otter grades: the solution, the untouched student notebook,
and prepared wrong submissions of a second student ID, each of which gets some
questions wrong (the first also copies the variant question's answer from
another student) and must keep the points of every other question. The second
student's whole solution is graded too unless those wrong submissions already
answer each question right at least once.
"""

import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import assignments  # noqa: E402

pytestmark = pytest.mark.slow
MASTERS = assignments.masters()
OTHER_ID = "alice"

# Prepared mistakes per assignment: the questions they must lose, and the text
# substitutions in the solution notebook that make them. The first one of each
# assignment also copies the variant question's answer from another student.
# Each assignment has a spec, tests/assignments/<name>.json: its variant
# question and how a copied answer is made (a substitution that computes it on
# another student's data), and prepared mistakes, each the questions it must
# lose and the substitutions in the solution notebook that make it. The first
# mistake also copies the variant question's answer.
SPECS = {
    path.stem: json.loads(path.read_text())
    for path in sorted((ROOT / "tests" / "assignments").glob("*.json"))
}
# CFS_ASSIGNMENTS=name,name checks only those (while writing a new one).
ONLY = [n for n in os.environ.get("CFS_ASSIGNMENTS", "").split(",") if n]
CHECKED = {n: p for n, p in MASTERS.items() if not ONLY or n in ONLY}


def test_every_assignment_has_a_spec():
    assert set(MASTERS) == set(SPECS), set(MASTERS) ^ set(SPECS)
    assert {"kmeans", "kmeans_from_scratch"} <= set(MASTERS)
    for name, spec in SPECS.items():
        assert spec["wrong"], f"{name} has no prepared wrong submission"


def _sources(path):
    return [
        (cell["cell_type"], "".join(cell["source"]))
        for cell in json.loads(Path(path).read_text())["cells"]
    ]


def _mutated(path, out, substitutions):
    """A copy of notebook `path` at `out`: each (old, new) replaced in one code cell."""
    nb = json.loads(Path(path).read_text())
    for old, new in substitutions:
        hits = 0
        for cell in nb["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and old in src:
                cell["source"] = src.replace(old, new, 1)
                hits += 1
        assert hits == 1, f"{old!r} is in {hits} cells of {path}, not exactly one"
    out.write_text(json.dumps(nb))
    return out


def _questions(master):
    """The names of the autograded questions of a master notebook."""
    return {
        match.group(1)
        for kind, src in _sources(master)
        if kind == "raw" and (match := re.search(r"^name:\s*(q\w+)", src, re.M))
    }


def _lost(spec, i):
    """The questions prepared wrong submission `i` must lose (the first one also
    copies the variant question's answer)."""
    copied = {spec["variant"]["question"]} if i == 0 else set()
    return set(spec["wrong"][i]["lose"]) | copied


def _kept_by_wrong(name):
    """Questions that some prepared wrong submission (OTHER_ID's) answers right."""
    questions, spec = _questions(MASTERS[name]), SPECS[name]
    return set().union(*(questions - _lost(spec, i) for i in range(len(spec["wrong"]))))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    with ThreadPoolExecutor(max_workers=2) as pool:
        built = dict(
            zip(
                CHECKED,
                pool.map(
                    lambda item: assignments.build(*item, out=out), CHECKED.items()
                ),
            )
        )
    jobs = {}
    for name, dest in built.items():
        solution = dest / "autograder" / f"{name}.ipynb"
        other = [('STUDENT_ID = "demo"', f'STUDENT_ID = "{OTHER_ID}"')]
        spec = SPECS[name]
        copied_answer = [tuple(spec["variant"]["replace"])]
        work = out / f"{name}-submissions"
        work.mkdir()
        jobs[name, "solution"] = solution
        if _kept_by_wrong(name) != _questions(MASTERS[name]):
            jobs[name, "other_id"] = _mutated(solution, work / f"{name}.ipynb", other)
        for i, mistake in enumerate(spec["wrong"]):
            folder = work / f"wrong{i}"
            folder.mkdir()
            subs = [tuple(pair) for pair in mistake["replace"]]
            jobs[name, f"wrong{i}"] = _mutated(
                solution,
                folder / f"{name}.ipynb",
                other + subs + (copied_answer if i == 0 else []),
            )
        jobs[name, "untouched"] = dest / "student" / f"{name}.ipynb"
    # Two grading processes, each importing otter once for all its submissions
    # (otter changes the working folder while it grades: not one per thread).
    # Leaving the block terminates them, also when a grading hangs past 900 s.
    with get_context("spawn").Pool(2) as pool:
        pending = {
            key: pool.apply_async(
                assignments.grade,
                (
                    assignments.autograder_zip(built[key[0]]),
                    notebook,
                    out / f"{key[0]}-{key[1]}-results",
                ),
            )
            for key, notebook in jobs.items()
        }
        results = {key: job.get(timeout=900) for key, job in pending.items()}
    return built, results


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_the_solution_gets_full_marks(graded, name):
    _, results = graded
    scores = results[name, "solution"]
    assert len(scores) >= 3, f"{name} has {len(scores)} autograded questions"
    assert set(scores) == _questions(MASTERS[name])
    lost = {q: out for q, (s, m, out) in scores.items() if s != m}
    assert not lost, f"{name} loses points: {lost}"
    # The second student's solution gets full marks on every question: graded
    # whole, or, when each question is answered right in one of the prepared
    # wrong submissions (all of them OTHER_ID's), question by question there.
    full = set()
    for kind in ["other_id"] + [f"wrong{i}" for i in range(len(SPECS[name]["wrong"]))]:
        full |= {q for q, (s, m, _) in results.get((name, kind), {}).items() if s == m}
    assert full == set(scores), (
        f"{name}: {OTHER_ID} never got full marks on {set(scores) - full}"
    )


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_the_untouched_student_notebook_gets_zero(graded, name):
    _, results = graded
    scores = results[name, "untouched"]
    assert scores and all(s == 0 for s, _, _ in scores.values()), scores


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_wrong_answers_and_a_copied_variant_lose_their_points(graded, name):
    _, results = graded
    spec = SPECS[name]
    for i in range(len(spec["wrong"])):
        lose = _lost(spec, i)
        scores = results[name, f"wrong{i}"]
        for q, (score, max_score, output) in scores.items():
            if q in lose:
                assert score < max_score, f"{name} wrong{i}: {q} kept its points"
                assert "Error" in output, output
            else:
                assert score == max_score, f"{name} wrong{i}: {q} lost points: {output}"


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_the_student_notebook_has_no_solution_and_no_hidden_test(graded, name):
    built, _ = graded
    master = _sources(MASTERS[name])
    student = "\n".join(
        src for _, src in _sources(built[name] / "student" / f"{name}.ipynb")
    )
    secret = []
    for kind, src in master:
        if kind != "code":
            continue
        inside = False
        for line in src.splitlines():
            if line.strip() == "# END SOLUTION":
                inside = False
            if inside and line.strip():
                secret.append(line.strip())
            if line.strip().startswith("# BEGIN SOLUTION"):
                inside = True
            if line.rstrip().endswith("# SOLUTION"):
                secret.append(line.split("# SOLUTION")[0].strip())
        if src.lstrip().startswith("# HIDDEN"):
            secret += re.findall(r"def (test_\w+)", src)
    assert secret, f"{name}: the scan found no solution line in the master"
    # Lines of a few characters (a closing bracket) prove nothing either way.
    leaked = [line for line in secret if len(line) >= 12 and line in student]
    assert not leaked, f"{name}: the student notebook shows {leaked}"
    assert "solution-start" not in student and "BEGIN SOLUTION" not in student


def test_two_students_get_different_data():
    from lib.coursework import student_blobs

    a, b = student_blobs("demo", "q4"), student_blobs(OTHER_ID, "q4")
    assert a.X.shape != b.X.shape or not (a.X == b.X).all()
