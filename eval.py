# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Evaluates a checkpoint on every test image: top-1, per-class and many/medium/few accuracy.

Usage: python eval.py [--checkpoint_path FILE] [--key value ...]; `--help` lists every key.
"""

import json
import logging
import os
import sys

from model_utils.config import get_config
from model_utils.errors import UserInputError

logger = logging.getLogger("cbloss.eval")


def evaluate(config):
    """Loads the checkpoint, predicts the whole test set and writes the results.

    Writes `eval_results.json`, `predictions.npz` (predicted and true label per image) and
    `confusion_matrix.png` into `<output_dir>/<run name>/eval/`.

    Returns:
        dict: the figures of model_utils.evaluation.summarize plus "checkpoint" and "out_dir".
    """
    import numpy as np

    from dataset import ensure_dataset, get_img_num_per_cls, load_test
    from model_utils.checkpoints import resolve_checkpoint, saved_run_name
    from model_utils.device_adapter import init_context
    from model_utils.evaluation import format_group, predict, summarize
    from model_utils.plots import plot_confusion
    from model_utils.run_files import run_name, write_atomic
    from models.Resnet import get_network, load_checkpoint_strict

    # Checkpoint and network.
    checkpoint = resolve_checkpoint(config.model_root, config.checkpoint_path)
    if not os.path.isfile(checkpoint):
        raise UserInputError(
            f"checkpoint_path: {checkpoint} does not exist; train first (python train.py) or "
            "pass --checkpoint_path FILE"
        )
    init_context(config)
    net = get_network(config.arch, config.num_classes)
    load_checkpoint_strict(net, checkpoint)

    # Every test image; the groups use the training counts of the configured subset.
    ensure_dataset(config.data_root, config.dataset, download=config.download)
    test_ds = load_test(
        data_root=config.data_root,
        dataset=config.dataset,
        batch_size=config.eval_batch_size,
        num_parallel_workers=config.num_parallel_workers,
    )
    predictions, labels = predict(net, test_ds)
    counts = get_img_num_per_cls(config.dataset, config.imb_type, config.imb_ratio)
    result = summarize(
        predictions,
        labels,
        config.num_classes,
        counts,
        config.many_shot_thr,
        config.few_shot_thr,
    )

    # The model zoo's line, then the exact figure and the long-tail breakdown.
    print(f"Test set: Accuracy: {result['top1']:.0f}%")
    print(f"Top-1 accuracy: {result['top1']:.2f}% on {result['num_images']} test images")
    print(
        f"many-shot {format_group(result['many'])}, medium-shot {format_group(result['medium'])}, "
        f"few-shot {format_group(result['few'])}"
    )
    print(f"{'class':>5} {'train images':>12} {'test images':>11} {'accuracy':>9}")
    support = np.bincount(labels, minlength=config.num_classes)
    for cls, accuracy in enumerate(result["per_class"]):
        shown = "n/a" if accuracy is None else f"{accuracy:.2f}%"
        print(f"{cls:>5} {counts[cls]:>12} {support[cls]:>11} {shown:>9}")

    # Files next to the outputs of the run that wrote the checkpoint (named in it by train.py),
    # else of the run the settings describe.
    out_dir = os.path.join(
        config.output_dir, saved_run_name(checkpoint) or run_name(config), "eval"
    )
    os.makedirs(out_dir, exist_ok=True)
    result.update(checkpoint=os.path.abspath(checkpoint), out_dir=out_dir)
    write_atomic(os.path.join(out_dir, "eval_results.json"), json.dumps(result, indent=1))
    np.savez(os.path.join(out_dir, "predictions.npz"), predictions=predictions, labels=labels)
    plot_confusion(result["confusion"], os.path.join(out_dir, "confusion_matrix.png"))
    logger.info("results written to %s", out_dir)
    return result


def main(argv=None):
    """Parses the config (exit 2 on bad input), then evaluates; user mistakes are one line."""
    config = get_config(argv, description=__doc__.splitlines()[0])
    from model_utils.entry import run_job

    return run_job(evaluate, config)


if __name__ == "__main__":
    sys.exit(main())
