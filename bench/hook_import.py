"""What importing each ready-made hook in hooks/ costs at a Lambda cold start, against
``import boto3`` alone.

Run by hand (never in CI): ``python bench/hook_import.py [RUNS]``. Every measurement is a fresh
``python -c`` process that times one import statement with ``time.perf_counter`` (the
interpreter's own start-up is left out). The statements take turns, run after run, so a busy
spell of this shared machine hits them all alike; the table gives the median of RUNS runs
(default 21) and each median as a multiple of ``import boto3``'s from the same run.

The rows:

* ``import boto3``: the baseline; a hook pays it anyway, when it makes its CodeDeploy client.
* each handler file, imported as Lambda does (hooks/ first on ``sys.path``);
* ``import bluegreen`` and ``import bluegreen.hooks``, to see where a handler's time goes;
* each handler then boto3: what the cold start pays before the first report.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "hooks"
DEFAULT_RUNS = 21


def statements() -> dict[str, str]:
    handlers = sorted(p.stem for p in HOOKS.glob("*.py") if not p.name.startswith("_"))
    rows = {"import boto3": "import boto3"}
    rows |= {f"import {name} (hooks/)": f"import {name}" for name in handlers}
    rows["import bluegreen"] = "import bluegreen"
    rows["import bluegreen.hooks"] = "import bluegreen.hooks"
    rows |= {f"import {name}, then boto3": f"import {name}; import boto3" for name in handlers}
    return rows


def time_import(statement: str) -> float:
    code = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(HOOKS)!r})\n"
        "start = time.perf_counter()\n"
        f"{statement}\n"
        "print(time.perf_counter() - start)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_RUNS
    rows = statements()
    samples: dict[str, list[float]] = {label: [] for label in rows}
    for _ in range(runs):
        for label, statement in rows.items():
            samples[label].append(time_import(statement))
    medians = {label: statistics.median(values) for label, values in samples.items()}
    baseline = medians["import boto3"]
    print(f"{runs} fresh processes per row, Python {sys.version.split()[0]}")
    print(f"{'statement':<44} {'min':>9} {'median':>9} {'max':>9} {'x boto3':>8}")
    for label, seconds in medians.items():
        low, high = min(samples[label]), max(samples[label])
        print(
            f"{label:<44} {low * 1000:>6.1f} ms {seconds * 1000:>6.1f} ms "
            f"{high * 1000:>6.1f} ms {seconds / baseline:>8.2f}"
        )


if __name__ == "__main__":
    main()
