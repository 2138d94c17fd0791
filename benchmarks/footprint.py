"""What a new user's install costs: a fresh clone, a fresh virtual environment, the README's
install, then the demo.

    python benchmarks/footprint.py [--repo .]

Prints the environment's size on disk, whether torch is in it, and the demo's CPU time
(user + system, every process) and wall time; the last line is one JSON object. Targets
(issue 12): at most 600 MB, no torch, at most 25 s of CPU for the demo.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def size_mb(folder: Path) -> float:
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
    return total / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        clone, venv = Path(work) / "papersift", Path(work) / "venv"
        subprocess.run(["git", "clone", "-q", str(args.repo), str(clone)], check=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "-q", "."], cwd=clone, check=True)
        environment_mb = size_mb(venv)
        has_torch = subprocess.run([str(python), "-c", "import torch"],
                                   capture_output=True).returncode == 0
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([str(venv / "bin" / "papersift"), "demo", "--quiet", "--out",
                        str(Path(work) / "demo")], check=True,
                       env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"})
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"environment: {environment_mb:.0f} MB, torch installed: {has_torch}")
    print(f"demo (615 papers, 3 days): {cpu:.1f} s of CPU, {wall:.1f} s wall")
    print(json.dumps({"environment_mb": round(environment_mb), "torch": has_torch,
                      "demo_cpu_seconds": round(cpu, 1), "demo_wall_seconds": round(wall, 1)}))


if __name__ == "__main__":
    main()
