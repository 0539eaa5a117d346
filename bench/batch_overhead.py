"""What Ray adds to a batch against --local, on this machine: a script, not a test.

    .venv/bin/python bench/batch_overhead.py                 # 8 runs, 32 and 128 px
    .venv/bin/python bench/batch_overhead.py --runs 4 --sizes 64

For each size, the same grid of runs (one seed each, noise start, the full random VGG19
weights, 80 MB, as a real batch sends them) three ways, interleaved in one process:
- local: engine/batch.py's LocalRunner, one run after another, one torch thread;
- ray-1cpu: a private Ray cluster here (`--ray local`) with one CPU, so one task at a time
  with one thread: the same work as local, so the difference is what Ray adds;
- ray-2cpu: the same cluster with both CPUs: two tasks at once (what a cluster is for).
Reported: the cluster's start-up and shutdown (ray.init, ray.shutdown), each batch's wall
time and seconds per run, the first batch on a fresh cluster apart (its workers import
torch), and the load average (`uptime`) before and after. Writes bench/results/batch-overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only, before Ray

import torch  # noqa: E402

from engine.batch import LocalRunner, run_batch  # noqa: E402
from engine.batch_inputs import read_inputs, read_weights  # noqa: E402
from engine.batch_spec import expand  # noqa: E402
from engine.vgg import random_state_dict  # noqa: E402
from tests.engine.helpers import painting, photo  # noqa: E402


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def make_spec(folder: Path, weights: Path, size: int, steps: int, runs: int):
    return expand({"content": "photo.png", "styles": ["a.png"], "weights": str(weights),
                   "init": "noise", "size": size, "steps": steps, "style_weight": 50,
                   "grid": {"seed": list(range(runs))}}, folder)  # fmt: skip


def timed_batch(spec, runner, out: Path) -> float:
    started = time.perf_counter()
    result = run_batch(spec, runner, out)
    assert result.count("done") == len(spec.jobs), [r.error for r in result.records]
    return time.perf_counter() - started


def ray_session(cpus: int, specs: dict, folder: Path, repeats: int) -> dict:
    import ray

    from engine.cluster import RayRunner

    started = time.perf_counter()
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False,
             logging_level="WARNING")  # fmt: skip
    startup = time.perf_counter() - started
    figures = {"startup_s": round(startup, 2), "sizes": {}}
    first = True
    for size, spec in specs.items():
        walls = []
        for repeat in range(repeats + (1 if first else 0)):
            runner = RayRunner(read_weights(spec), read_inputs(spec))
            wall = timed_batch(spec, runner, folder / f"ray{cpus}-{size}-{repeat}")
            if first:  # a fresh cluster's workers start and import torch: kept apart
                figures["first_batch_s"] = round(wall, 2)
                first = False
                continue
            walls.append(wall)
        figures["sizes"][size] = {"wall_s": [round(w, 2) for w in walls],
                                  "per_run_s": round(statistics.median(walls) / len(spec.jobs),
                                                     3)}  # fmt: skip
    started = time.perf_counter()
    ray.shutdown()
    figures["shutdown_s"] = round(time.perf_counter() - started, 2)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--sizes", default="32,128")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--output", type=Path, default=ROOT / "bench/results/batch-overhead.json")
    args = parser.parse_args()
    torch.set_num_threads(1)  # what each Ray task gets (OMP_NUM_THREADS=1 per CPU)
    figures = {"load_before": load(), "cores": os.cpu_count(), "runs": args.runs,
               "steps": args.steps}  # fmt: skip
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        photo(128, 96).save(folder / "photo.png")
        painting(128, 128).save(folder / "a.png")
        weights = folder / "vgg19.pth"
        torch.save(random_state_dict("vgg19", seed=0), weights)
        specs = {int(s): make_spec(folder, weights, int(s), args.steps, args.runs)
                 for s in args.sizes.split(",")}  # fmt: skip
        local = {}
        for size, spec in specs.items():
            walls = []
            for repeat in range(args.repeats):
                runner = LocalRunner(read_weights(spec), read_inputs(spec))
                walls.append(timed_batch(spec, runner, folder / f"local-{size}-{repeat}"))
            local[size] = {"wall_s": [round(w, 2) for w in walls],
                           "per_run_s": round(statistics.median(walls) / args.runs, 3)}  # fmt: skip
        figures["local"] = local
        figures["ray_1cpu"] = ray_session(1, specs, folder, args.repeats)
        figures["ray_2cpu"] = ray_session(2, specs, folder, args.repeats)
    figures["load_after"] = load()
    for size in specs:
        base = local[size]["per_run_s"]
        one, two = figures["ray_1cpu"]["sizes"][size], figures["ray_2cpu"]["sizes"][size]
        figures.setdefault("summary", {})[size] = {
            "ray_1cpu_overhead_per_run_s": round(one["per_run_s"] - base, 3),
            "ray_1cpu_over_local": round(one["per_run_s"] / base, 2),
            "ray_2cpu_over_local": round(two["per_run_s"] / base, 2),
        }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
