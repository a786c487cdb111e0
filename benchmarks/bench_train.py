# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Train-step throughput against PyTorch, and the cost of the input pipeline.

Usage: python benchmarks/bench_train.py [--archs resnet34,resnet32] [--modes GRAPH,PYNATIVE]
       [--rounds 5] [--data_root DIR] [--no_torch] [--json FILE]

Part 1 times train.py's jitted step (forward, class-balanced focal loss, backward, SGD with
momentum) at batch 128 on 32x32 inputs for each arch and mode, and the same step in PyTorch
when it is installed, all in the same run: every configuration lives in a process of its own
and the processes take turns, one step each per round, so a change in the machine's load hits
them alike. Figures are medians over the rounds after warm-up; "vs torch" is our images/s over
PyTorch's (above 1 = faster).

Part 2, when real CIFAR-10 binaries are found: the time to build the ratio-100 long-tailed
subset, images/s of the augmentation pipeline alone, one training epoch's wall time over
(steps x the model-only step time) for --epoch_arch (the reference is the mean of model-only
steps on a fixed batch interleaved with the epoch's, one after every fourth, so both see the
same machine load), the part of the epoch spent waiting for batches, and
evaluation images/s on all 10,000 test images.
"""

import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402
    RESULTS_DIR,
    Worker,
    WorkerError,
    format_table,
    load_average,
    load_text,
    machine_info,
    median,
    package_version,
    run_rounds,
    spread,
    write_json,
)

logger = logging.getLogger("cbloss.bench")

DATA_FILES = ("data_batch_1.bin", "test_batch.bin")


def _parse(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--archs", default="resnet34,resnet32", help="comma-separated archs")
    parser.add_argument("--modes", default="GRAPH,PYNATIVE", help="GRAPH, PYNATIVE or both")
    parser.add_argument("--batch_size", type=int, default=128, help="images per step")
    parser.add_argument("--rounds", type=int, default=5, help="timed steps per configuration")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps after building")
    parser.add_argument("--no_torch", action="store_true", help="skip the PyTorch reference")
    parser.add_argument(
        "--data_root",
        default=None,
        help="folder with the CIFAR-10 .bin files (None: $CBLOSS_CIFAR10_DIR, then data/...)",
    )
    parser.add_argument(
        "--no_data", action="store_true", help="skip the input-pipeline part (part 2)"
    )
    parser.add_argument("--epoch_arch", default="resnet32", help="network of the epoch ratio")
    parser.add_argument("--epoch_mode", default="GRAPH", help="mode of the epoch ratio")
    parser.add_argument("--num_parallel_workers", type=int, default=2, help="data pipeline workers")
    parser.add_argument(
        "--json",
        default=os.path.join(RESULTS_DIR, "bench_train.json"),
        help="result file (the default is the committed latest run: it is replaced)",
    )
    args = parser.parse_args(argv)

    # checks, one line each
    args.archs = [a for a in args.archs.split(",") if a]
    args.modes = [m for m in args.modes.split(",") if m]
    bad_mode = [m for m in args.modes + [args.epoch_mode] if m not in ("GRAPH", "PYNATIVE")]
    if bad_mode:
        parser.error(f"mode {bad_mode[0]!r} is not allowed: use GRAPH or PYNATIVE")
    known = ("resnet18", "resnet32", "resnet34", "resnet50")
    bad_arch = [a for a in args.archs + [args.epoch_arch] if a not in known]
    if bad_arch:
        parser.error(f"arch {bad_arch[0]!r} is not allowed: use one of {', '.join(known)}")
    for name in ("batch_size", "rounds", "num_parallel_workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} {getattr(args, name)} is not allowed: use a number >= 1")
    if args.warmup < 0:
        parser.error(f"--warmup {args.warmup} is not allowed: use a number >= 0")
    return args


def _find_data(requested):
    """The folder holding the CIFAR-10 binaries, or None (with the reason logged)."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = (
        [requested]
        if requested
        else [
            os.environ.get("CBLOSS_CIFAR10_DIR"),
            os.path.join(repo, "data", "cifar10_dataset_directory"),
            os.path.join(repo, "data", "cifar-10-batches-bin"),
            os.path.join(repo, ".ci", "data", "cifar10"),
        ]
    )
    for folder in filter(None, candidates):
        if all(os.path.isfile(os.path.join(folder, name)) for name in DATA_FILES):
            return os.path.abspath(folder)
    logger.warning(
        "no CIFAR-10 binaries in %s: skipping the data-pipeline part (pass --data_root)",
        ", ".join(filter(None, candidates)) or "the default places",
    )
    return None


def _step_specs(args, have_torch):
    """name -> worker spec of every train-step configuration."""
    specs = {}
    for arch in args.archs:
        for mode in args.modes:
            specs[f"{arch} mindspore {mode}"] = {
                "framework": "mindspore",
                "arch": arch,
                "mode": mode,
            }
        if have_torch:
            specs[f"{arch} torch"] = {"framework": "torch", "arch": arch, "mode": "eager"}
    for spec in specs.values():
        spec.update(batch_size=args.batch_size, warmup=args.warmup, seed=0)
    return specs


def _start(specs):
    """Starts every worker at once, then waits for each; returns (ready workers, errors)."""
    workers = {name: Worker(spec) for name, spec in specs.items()}
    ready, errors = {}, {}
    for name, worker in workers.items():
        try:
            message = worker.start()
        except WorkerError as err:
            errors[name] = str(err)
            logger.error("%s: could not start: %s", name, err)
            continue
        ready[name] = worker
        logger.info("%s: ready after %.1f s", name, message["setup_seconds"])
    return ready, errors


def _step_rows(args, specs, times, errors):
    """Result records and table rows of part 1."""
    records, rows = {}, []
    for name, spec in specs.items():
        wall = times.get(name, {}).get("wall", [])
        cpu = times.get(name, {}).get("cpu", [])
        if not wall:
            records[name] = {**spec, "error": errors.get(name, "no timed step")}
            continue
        ms_step = 1000.0 * median(wall)
        low, high = spread(wall)
        records[name] = {
            **spec,
            "ms_per_step": ms_step,
            "images_per_s": args.batch_size * 1000.0 / ms_step,
            "min_ms": 1000.0 * low,
            "max_ms": 1000.0 * high,
            "cpu_per_wall": median([c / w for c, w in zip(cpu, wall)]),
            "steps_timed": len(wall),
        }

    for name, record in records.items():
        reference = records.get(f"{record['arch']} torch", {})
        ratio = None
        if record["framework"] == "mindspore" and "images_per_s" in reference:
            if "images_per_s" in record:
                ratio = record["images_per_s"] / reference["images_per_s"]
        record["vs_torch"] = ratio
        if "error" in record:
            rows.append([name, "failed", "", "", "", "", record["error"][:60]])
            continue
        rows.append(
            [
                name,
                f"{record['ms_per_step']:.0f}",
                f"{record['min_ms']:.0f}-{record['max_ms']:.0f}",
                f"{record['images_per_s']:.1f}",
                f"{record['cpu_per_wall']:.2f}",
                "" if ratio is None else f"{ratio:.2f}x",
                "",
            ]
        )
    return records, rows


def _data_part(args, data_root):
    """Subset build, pipeline, epoch ratio and evaluation figures, from one worker."""
    spec = {
        "kind": "epoch",
        "framework": "mindspore",
        "arch": args.epoch_arch,
        "mode": args.epoch_mode,
        "batch_size": args.batch_size,
        "warmup": args.warmup,
        "seed": 0,
        "data_root": data_root,
        "num_parallel_workers": args.num_parallel_workers,
    }
    worker = Worker(spec)
    try:
        worker.start()
        subset = worker.request({"task": "subset"})
        pipeline = worker.request({"task": "pipeline"})
        epoch = worker.request({"task": "epoch"})
        evaluation = worker.request({"task": "eval"})
    finally:
        worker.close()

    # the epoch is a sum of step times, so its reference is the mean step, not the median:
    # occasional slow steps (other users of the machine) weigh on both alike
    model_step = sum(epoch["reference"]) / len(epoch["reference"])
    return {
        "arch": args.epoch_arch,
        "mode": args.epoch_mode,
        "batch_size": args.batch_size,
        "num_parallel_workers": args.num_parallel_workers,
        "subset_build_s": subset["seconds"],
        "subset_images": subset["images"],
        "pipeline_images_per_s": pipeline["images"] / pipeline["seconds"],
        "epoch_wall_s": epoch["epoch_wall"],
        "epoch_steps": epoch["steps"],
        "model_only_ms_per_step": 1000.0 * model_step,
        "epoch_over_model_only": epoch["epoch_wall"] / (epoch["steps"] * model_step),
        "epoch_waiting_for_data_s": epoch["waited"],
        "eval_images": evaluation["images"],
        "eval_seconds": evaluation["seconds"],
        "eval_images_per_s": evaluation["images"] / evaluation["seconds"],
    }


def _data_rows(data):
    return [
        [
            "long-tailed subset build (ratio 100)",
            f"{1000 * data['subset_build_s']:.1f} ms",
            f"{data['subset_images']} images",
        ],
        [
            "augmentation pipeline alone",
            f"{data['pipeline_images_per_s']:.0f} images/s",
            f"{data['num_parallel_workers']} workers",
        ],
        [
            f"epoch wall / (steps x model-only step), {data['arch']} {data['mode']}",
            f"{data['epoch_over_model_only']:.3f}",
            f"{data['epoch_wall_s']:.1f} s / ({data['epoch_steps']} x "
            f"{data['model_only_ms_per_step']:.0f} ms)",
        ],
        [
            "time the epoch waited for batches",
            f"{data['epoch_waiting_for_data_s']:.2f} s",
            f"{100 * data['epoch_waiting_for_data_s'] / data['epoch_wall_s']:.1f} % of the epoch",
        ],
        [
            f"evaluation, {data['arch']} {data['mode']}",
            f"{data['eval_images_per_s']:.0f} images/s",
            f"{data['eval_images']} images in {data['eval_seconds']:.1f} s",
        ],
    ]


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    args = _parse(argv)
    started = time.time()
    info = machine_info()
    logger.info(
        "%s, %d cores, AVX-512 %s; mindspore %s, torch %s; load %s",
        info["cpu"],
        info["cores"],
        "yes" if info["avx512f"] else "no",
        info["mindspore"],
        info["torch"] or "not installed",
        load_text(info["load_average_at_start"]),
    )
    have_torch = package_version("torch") is not None and not args.no_torch
    if package_version("torch") is None and not args.no_torch:
        logger.warning("PyTorch is not installed (pip install torch==2.13.0): no reference")

    # Part 1: the train step, every configuration in turn each round.
    specs = _step_specs(args, have_torch)
    workers, errors = _start(specs)
    try:
        times, step_errors = run_rounds(
            workers,
            args.rounds,
            on_round=lambda index, got: logger.info(
                "round %d/%d: %s",
                index + 1,
                args.rounds,
                ", ".join(f"{name} {1000 * sec:.0f} ms" for name, sec in got.items()),
            ),
        )
    finally:
        for worker in workers.values():
            worker.close()
    errors.update(step_errors)
    records, rows = _step_rows(args, specs, times, errors)
    headers = [
        "train step, batch %d" % args.batch_size,
        "ms/step",
        "min-max",
        "images/s",
        "cpu/wall",
        "vs torch",
        "error",
    ]
    if not errors:
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    table = format_table(headers, rows)

    # Part 2: the input pipeline, on real data.
    data = None
    data_root = None if args.no_data else _find_data(args.data_root)
    if data_root is not None:
        try:
            data = _data_part(args, data_root)
        except WorkerError as err:
            logger.error("data-pipeline part failed: %s", err)

    # Report.
    info["load_average_at_end"] = load_average()
    info["seconds"] = round(time.time() - started, 1)
    print()
    print(
        f"{info['cpu']}, {info['cores']} cores; mindspore {info['mindspore']}, "
        f"torch {info['torch'] or '-'}; load {load_text(info['load_average_at_start'])} -> "
        f"{load_text(info['load_average_at_end'])}; {info['seconds']:.0f} s"
    )
    print(table)
    if data is not None:
        print()
        print(format_table(["input pipeline", "figure", "detail"], _data_rows(data)))
    path = write_json(
        args.json, {"machine": info, "args": vars(args), "train_step": records, "data": data}
    )
    print(f"\nwritten to {path}")
    return 1 if errors and not any("images_per_s" in r for r in records.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
