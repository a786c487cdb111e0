# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""MindSpore settings that might speed up the CPU train step, each timed beside the default.

Usage: python benchmarks/bench_settings.py [--arch resnet34] [--rounds 4] [--json FILE]

Every variant is train.py's GRAPH-mode step (batch 128, class-balanced focal loss, SGD) in a
process of its own with one setting changed: the CPU kernel thread pool, the jit level, the
oneDNN instruction-set cap, OpenMP threads. The processes take turns, one step each per round,
with PyTorch's step as the reference when it is installed. Figures are medians; "vs default"
is the default's step time over the variant's (above 1 = faster).
"""

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402
    RESULTS_DIR,
    Worker,
    WorkerError,
    format_table,
    machine_info,
    median,
    package_version,
    run_rounds,
    write_json,
)

logger = logging.getLogger("cbloss.bench")

# name -> (spec changes, environment changes); None removes a variable.
VARIANTS = {
    "default (oneDNN capped at AVX2)": ({}, {}),
    "cpu threads_num 2": ({"cpu_threads": 2}, {}),
    "cpu threads_num 1": ({"cpu_threads": 1}, {}),
    "jit_level O1": ({"context": {"jit_config": {"jit_level": "O1"}}}, {}),
    "jit_level O2": ({"context": {"jit_config": {"jit_level": "O2"}}}, {}),
    "OMP_NUM_THREADS=2": ({}, {"OMP_NUM_THREADS": "2"}),
    "oneDNN AVX512_CORE": ({}, {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}),
}


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--arch", default="resnet34", help="network of the step")
    parser.add_argument("--batch_size", type=int, default=128, help="images per step")
    parser.add_argument("--rounds", type=int, default=4, help="timed steps per variant")
    parser.add_argument("--variants", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--json",
        default=os.path.join(RESULTS_DIR, "bench_settings.json"),
        help="result file (the default is the committed latest run: it is replaced)",
    )
    args = parser.parse_args(argv)
    chosen = [v for v in args.variants.split(",") if v] or list(VARIANTS)
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        parser.error(f"variant {unknown[0]!r} is not known: use one of {', '.join(VARIANTS)}")

    # one worker per variant, plus PyTorch
    base = {
        "framework": "mindspore",
        "arch": args.arch,
        "mode": "GRAPH",
        "batch_size": args.batch_size,
        "warmup": 1,
        "seed": 0,
    }
    workers = {}
    for name in chosen:
        changes, env = VARIANTS[name]
        workers[name] = Worker({**base, **changes}, env=env)
    if package_version("torch"):
        workers["torch (reference)"] = Worker({**base, "framework": "torch"})
    ready = {}
    for name, worker in workers.items():
        try:
            logger.info("%s: ready after %.1f s", name, worker.start()["setup_seconds"])
            ready[name] = worker
        except WorkerError as err:
            logger.error("%s: could not start: %s", name, err)

    # rounds
    try:
        times, errors = run_rounds(ready, args.rounds)
    finally:
        for worker in workers.values():
            worker.close()

    # table
    medians = {name: median(t["wall"]) for name, t in times.items() if t["wall"]}
    reference = medians.get(chosen[0])
    torch_step = medians.get("torch (reference)")
    rows, records = [], {}
    for name in workers:
        if name not in medians:
            rows.append([name, "failed", "", ""])
            continue
        step = medians[name]
        records[name] = {"ms_per_step": 1000 * step, "images_per_s": args.batch_size / step}
        rows.append(
            [
                name,
                f"{1000 * step:.0f}",
                f"{reference / step:.2f}x" if reference else "",
                f"{torch_step / step:.2f}x" if torch_step else "",
            ]
        )
    print(
        format_table(
            [
                f"{args.arch} GRAPH step, batch {args.batch_size}",
                "ms/step",
                "vs default",
                "vs torch",
            ],
            rows,
        )
    )
    path = write_json(
        args.json,
        {"machine": machine_info(), "args": vars(args), "variants": records, "errors": errors},
    )
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
