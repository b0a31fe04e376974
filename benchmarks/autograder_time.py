"""How long the autograder of each assignment takes on one submission.

Builds every assignment (book/_ext/assignments.py) into a temporary folder and
times ``otter run`` on its solution notebook, the whole command (otter's own
start-up included), a few times in turn. The budget is 2 minutes on 2 cores.

    .venv/bin/python benchmarks/autograder_time.py [--repeat 3] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import assignments  # noqa: E402

BUDGET_S = 120


def time_run(zip_path, notebook, folder):
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("otter")), "run", "-a", str(zip_path)]
        + ["-o", str(folder), str(notebook)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="time these assignments only"
    )
    args = parser.parse_args()
    masters = assignments.masters()
    unknown = sorted(set(args.only or ()) - set(masters))
    if unknown:
        parser.error(f"--only: no assignment named {unknown}; known: {sorted(masters)}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        built = {
            name: assignments.build(name, path, out=out)
            for name, path in masters.items()
            if not args.only or name in args.only
        }
        times = {name: [] for name in built}
        for r in range(args.repeat):  # in turn, so that noise spreads evenly
            for name, dest in built.items():
                times[name].append(
                    time_run(
                        assignments.autograder_zip(dest),
                        dest / "autograder" / f"{name}.ipynb",
                        out / f"run-{name}-{r}",
                    )
                )
    print(f"{'assignment':<24} {'best (s)':>9} {'worst (s)':>10}   budget {BUDGET_S} s")
    for name, ts in sorted(times.items()):
        flag = "" if max(ts) <= BUDGET_S else "  OVER BUDGET"
        print(f"{name:<24} {min(ts):9.1f} {max(ts):10.1f}{flag}")


if __name__ == "__main__":
    main()
