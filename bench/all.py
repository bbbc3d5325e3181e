"""Every bench in one go (`make bench`): run.py, scaleout.py and ui.py, one after the other,
each printing its figures as it goes; then all of them in one JSON file.

    python bench/all.py [--json bench/results.json] [--skip ui] [--skip scaleout]

A bench that fails is reported and the others still run; the JSON says which failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ("run", "scaleout", "ui")


def machine() -> dict[str, object]:
    """What the figures were measured on, and how busy it was when they were."""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    parser.add_argument("--skip", action="append", default=[], choices=BENCHES)
    args = parser.parse_args()
    results: dict[str, object] = {"machine_at_start": machine()}
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in BENCHES:
            if name in args.skip:
                continue
            out = Path(tmp) / f"{name}.json"
            print(f"== bench/{name}.py", flush=True)
            start = time.perf_counter()
            code = subprocess.call([sys.executable, str(HERE / f"{name}.py"), "--json", str(out)])
            if code != 0 or not out.exists():
                failed.append(name)
                print(f"== bench/{name}.py failed ({code})", flush=True)
                continue
            results[name] = json.loads(out.read_text())
            print(f"== bench/{name}.py: {time.perf_counter() - start:.0f} s", flush=True)
    results["machine_at_end"] = machine()
    results["failed"] = failed
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"figures written to {args.json}", flush=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
