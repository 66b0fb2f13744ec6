"""Run every benchmark and print each target with its measured value and PASS/FAIL.

Each script runs in its own process (peak memory is per process), in this order:
overhead, throughput, batching, scale (long: ~15 min), recall and maps (use scale's run).

    python benchmarks/run.py            # full sizes
    python benchmarks/run.py --quick    # small sizes, a smoke test (~2 min)
    python benchmarks/run.py --only overhead throughput
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("overhead", "throughput", "batching", "scale", "recall", "maps")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    p.add_argument("--only", nargs="+", choices=SCRIPTS, default=list(SCRIPTS))
    args = p.parse_args()
    rows: list[dict] = []
    for name in (s for s in SCRIPTS if s in args.only):
        cmd = [sys.executable, str(HERE / f"{name}.py")] + (["--quick"] if args.quick else [])
        print(f"\n== {name}: {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=HERE.parent)
        got = []
        for line in proc.stdout:
            if line.startswith("RESULT "):
                got.append(json.loads(line[7:]))
            else:
                print(line, end="", flush=True)
        if proc.wait() != 0 or not got:
            got = [{"target": name, "value": float("nan"), "limit": "", "unit": "",
                    "passed": False, "error": f"exit status {proc.returncode}"}]  # fmt: skip
        print(f"   ({time.perf_counter() - start:.0f} s)")
        rows += got
    print("\n" + "=" * 100)
    for r in rows:
        verdict = "PASS" if r["passed"] else "FAIL"
        value = f"{r['value']:>12,.3f} {r['unit']:<8}"
        print(f"{verdict}  {r['target']:<56} {value} target {r['limit']}")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
