"""Wall time of every notebook, in fast and/or full mode, as a Markdown table.

    python benchmarks/notebook_times.py --mode both            # all solution notebooks
    python benchmarks/notebook_times.py --mode fast notebooks/03_vae.ipynb

Each notebook runs top to bottom in a fresh kernel (like "Restart & Run All") with the
current environment; torch uses its default thread count unless OMP_NUM_THREADS is set.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(path: Path, fast: bool, timeout: int) -> float:
    """Execute ``path`` in a fresh kernel; return its wall time in seconds (raises on a failing cell)."""
    notebook = nbformat.read(path, as_version=4)
    os.environ["AIGC_COURSE_FAST"] = "1" if fast else "0"
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every solutions/NN_*.ipynb")
    parser.add_argument("--mode", choices=["fast", "full", "both"], default="fast")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    modes = ["fast", "full"] if args.mode == "both" else [args.mode]
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"torch threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print("| notebook | " + " | ".join(f"{m} mode (s)" for m in modes) + " |")
    print("|---|" + "---:|" * len(modes))
    for path in paths:
        cells = []
        for mode in modes:
            cells.append(f"{run_notebook(path, mode == 'fast', args.timeout):.0f}")
        print(f"| {path.name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
