# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Trains a classifier on long-tailed CIFAR with the class-balanced loss and evaluates every epoch.

Usage: python train.py [--config_path FILE] [--key value ...]; `--help` lists every key.
"""

import logging
import math
import os
import sys
import time

from model_utils.config import get_config
from model_utils.errors import UserInputError

logger = logging.getLogger("cbloss.train")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the epoch and the step."""


def train_step_cell(net, loss_fn, optimizer, amp_level):
    """The jitted step: forward, loss, backward and optimizer update in one graph.

    `nn.TrainOneStepCell` was the fastest step measured on CPU, and under data parallelism it
    averages gradients across ranks by itself. Mixed precision goes through MindSpore's amp
    with dynamic loss scaling.
    """
    import mindspore as ms
    from mindspore import nn

    if amp_level == "O0":
        return nn.TrainOneStepCell(nn.WithLossCell(net, loss_fn), optimizer)
    return ms.amp.build_train_network(
        net,
        optimizer,
        loss_fn,
        level=amp_level,
        loss_scale_manager=ms.amp.DynamicLossScaleManager(),
    )


def _optimizer(net, config, rates):
    """SGD with momentum; the head bias leaves weight decay when head_bias_decay is false."""
    import mindspore as ms
    from mindspore import nn

    from models.Resnet import head_bias_name

    params = net.trainable_params()
    skip = set() if config.head_bias_decay else {head_bias_name(net)}
    groups = [
        {"params": [p for p in params if p.name not in skip], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.name in skip], "weight_decay": 0.0},
    ]
    return nn.Momentum(
        [group for group in groups if group["params"]],
        learning_rate=ms.Tensor(rates),
        momentum=config.momentum,
    )


def _loss_value(output):
    """The scalar loss of a step; loss-scaled steps return (loss, overflow, scale)."""
    if isinstance(output, (tuple, list)):
        output = output[0]
    return float(output.asnumpy())


def _resolve_amp(amp_level, target):
    """Mixed precision is slower on CPU and O2 raises there: fall back to O0 and say so."""
    if amp_level != "O0" and target == "CPU":
        logger.warning("amp_level=%s is not supported on CPU; training in float32 (O0)", amp_level)
        return "O0"
    return amp_level


def _log_weights(counts, loss_fn):
    """Shows counts and weights: with large counts and a small beta the weights are all near 1."""
    logger.info("training images per class: %s (total %d)", list(counts), sum(counts))
    weights = ", ".join(f"{w:.4f}" for w in loss_fn.weights)
    logger.info("class-balanced weights: [%s]", weights)
    spread = max(loss_fn.weights) / min(loss_fn.weights)
    if spread < 1.05:
        logger.warning(
            "class-balanced weights differ by less than 5%% (max/min %.3f): with these counts "
            "and beta the loss is barely re-weighted; a beta closer to 1 re-weights more",
            spread,
        )


def _resume_state(config, name, train_step, records_path):
    """Loads the newest per-epoch checkpoint of the run; returns (next epoch, kept rows)."""
    import mindspore as ms

    from model_utils.checkpoints import epoch_checkpoints
    from model_utils.run_files import read_metrics, write_metrics

    found = epoch_checkpoints(config.model_root, name)
    if not found:
        logger.info(
            "resume: no checkpoint of run %s in %s; starting at epoch 1", name, config.model_root
        )
        return 1, []
    epoch, path = found[-1]
    params = ms.load_checkpoint(path)
    missing, _ = ms.load_param_into_net(train_step, params)
    if missing:
        raise UserInputError(f"resume: {path} lacks parameters {missing[:5]}; is it this run's?")
    rows = [row for row in read_metrics(records_path) if row["epoch"] <= epoch]
    write_metrics(records_path, rows)
    if epoch >= config.epoch_num:
        logger.info(
            "resume: %s is epoch %d and the run has %d epochs: nothing left to train "
            "(raise epoch_num to go on)",
            path,
            epoch,
            config.epoch_num,
        )
    else:
        logger.info(
            "resumed from %s: continuing at epoch %d of %d", path, epoch + 1, config.epoch_num
        )
    return epoch + 1, rows


# ---- Distributed-run records: the shard each rank read and its parameters' digests ----


def _sampled_indices(data):
    """Record indices the pipeline's source sampler draws from, or None if it has none."""
    node = data
    while node.children:
        node = node.children[0]
    return getattr(getattr(node, "sampler", None), "indices", None)


def _trainable_digest(net):
    """SHA-256 of the trainable parameters: name, then raw bytes, in name order.

    Data-parallel ranks hold identical trainable parameters; batch-norm moving statistics are
    left out because each rank computes them on its own shard.
    """
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for param in sorted(net.trainable_params(), key=lambda p: p.name):
        digest.update(param.name.encode("utf-8"))
        digest.update(np.ascontiguousarray(param.asnumpy()).tobytes())
    return digest.hexdigest()


def _write_rank_shard(run_dir, rank, group_size, train_ds):
    """Writes subset_indices_rank<rank>.txt: the subset records this rank's sampler reads."""
    from dataset import write_index_file

    indices = _sampled_indices(train_ds)
    if indices is None:
        logger.warning("rank %d: the pipeline's sampler lists no indices; no shard file", rank)
        return
    path = os.path.join(run_dir, f"subset_indices_rank{rank}.txt")
    digest = write_index_file(path, indices, note=f"shard of rank {rank} of {group_size}")
    logger.info(
        "rank %d reads %d subset images (sha256 %s), listed in %s", rank, len(indices), digest, path
    )


def _write_rank_params(run_dir, rank, group_size, net, initial):
    """Writes params_rank<rank>.json with the digests of the parameters before and after."""
    import json

    from model_utils.run_files import write_atomic

    record = {
        "rank": rank,
        "group_size": group_size,
        "trainable_parameters": len(net.trainable_params()),
        "initial_sha256": initial,
        "final_sha256": _trainable_digest(net),
    }
    path = os.path.join(run_dir, f"params_rank{rank}.json")
    write_atomic(path, json.dumps(record, indent=1) + "\n")
    logger.info(
        "rank %d final trainable parameters sha256 %s (%s)", rank, record["final_sha256"], path
    )


def train(config):
    """Runs the whole job described by `config`; returns the final summary dict."""
    import mindspore as ms
    import numpy as np
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from CBloss import CBLoss
    from dataset import ensure_dataset, epoch_iterator, load_test, load_train_lt
    from model_utils.checkpoints import (
        epoch_checkpoint_path,
        prune_epoch_checkpoints,
        resolve_checkpoint,
        save_atomic,
    )
    from model_utils.device_adapter import init_context
    from model_utils.evaluation import format_group, predict, summarize
    from model_utils.logging_setup import setup_logging
    from model_utils.lr_schedule import learning_rates
    from model_utils.plots import plot_confusion, plot_curves, plot_per_class
    from model_utils.run_files import append_metrics, run_name, save_config
    from models.Resnet import get_network, maybe_load_pretrained

    # Device and seeds.
    target, rank, group_size = init_context(config, distributed=config.run_distribute)
    is_main = rank == 0
    ms.set_seed(config.seed)
    np.random.seed(config.seed)

    # The data first: a run that cannot start leaves no run folder behind.
    ensure_dataset(config.data_root, config.dataset, download=config.download and is_main)
    name = run_name(config)
    run_dir = os.path.join(config.output_dir, name)
    os.makedirs(run_dir, exist_ok=True)
    setup_logging(rank, group_size, os.path.join(run_dir, f"train_rank{rank}.log"))
    logger.info("run %s on %s (%s mode), outputs in %s", name, target, config.mode, run_dir)
    if is_main:
        save_config(config, os.path.join(run_dir, "config.yaml"))

    # Data: the long-tailed subset (sharded per rank) and the complete test set.
    counts, train_ds = load_train_lt(
        data_root=config.data_root,
        dataset=config.dataset,
        imb_type=config.imb_type,
        imb_ratio=config.imb_ratio,
        batch_size=config.batch_size,
        seed=config.seed,
        num_shards=group_size if group_size > 1 else None,
        shard_id=rank if group_size > 1 else None,
        num_parallel_workers=config.num_parallel_workers,
        index_file=os.path.join(run_dir, "subset_indices.txt") if is_main else None,
    )
    test_ds = load_test(
        data_root=config.data_root,
        dataset=config.dataset,
        batch_size=config.eval_batch_size,
        num_parallel_workers=config.num_parallel_workers,
    )
    steps = train_ds.get_dataset_size()
    if steps == 0:
        raise UserInputError(
            f"batch_size={config.batch_size} exceeds the {sum(counts)} training images "
            f"per shard; allowed: batch_size <= images per rank"
        )
    if group_size > 1:
        _write_rank_shard(run_dir, rank, group_size, train_ds)

    # Network, loss, optimizer and the compiled train step.
    net = get_network(config.arch, config.num_classes, head_bias_prior=config.head_bias_prior)
    maybe_load_pretrained(net, config.pretrained_model)
    loss_fn = CBLoss(counts, loss_type=config.loss_type, beta=config.beta, gamma=config.gamma)
    _log_weights(counts, loss_fn)
    rates = learning_rates(
        config.lr_schedule,
        config.LR,
        config.epoch_num,
        steps,
        warmup_epochs=config.warmup_epochs,
        milestones=config.lr_milestones,
        factors=config.lr_factors,
    )
    optimizer = _optimizer(net, config, rates)
    amp_level = _resolve_amp(config.amp_level, target)
    train_step = train_step_cell(net, loss_fn, optimizer, amp_level)

    # Resume, when asked, from the newest per-epoch checkpoint.
    records_path = os.path.join(run_dir, "metrics.jsonl")
    start_epoch, records = 1, []
    if config.resume:
        start_epoch, records = _resume_state(config, name, train_step, records_path)
    elif is_main and os.path.exists(records_path):
        os.remove(records_path)
    best = max((row["top1"] for row in records), default=-1.0)
    best_path = resolve_checkpoint(config.model_root, config.checkpoint_path)

    # Distributed runs: digest of the starting parameters, to compare with the final one.
    initial_digest = _trainable_digest(net) if group_size > 1 else None

    # Epochs: train, evaluate, save.
    show_bar = config.progress_bar and is_main and sys.stdout.isatty()
    step_times, result, started = [], None, time.time()
    for epoch in range(start_epoch, config.epoch_num + 1):
        balanced = config.reweight == "always" or epoch >= config.drw_epoch
        loss_fn.use_balanced(balanced)
        train_step.set_train(True)
        losses, epoch_start = [], time.time()
        with (
            logging_redirect_tqdm(),
            tqdm(total=steps, desc=f"epoch {epoch}", disable=not show_bar, leave=False) as bar,
        ):
            batches = epoch_iterator(train_ds, config.seed, epoch)
            for step, (images, labels) in enumerate(batches, start=1):
                tick = time.time()
                value = _loss_value(train_step(images, labels))
                step_times.append(time.time() - tick)
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"loss became {value} at epoch {epoch}, step {step}; training stopped, "
                        f"checkpoints up to epoch {epoch - 1} are intact (try a lower LR)"
                    )
                losses.append(value)
                bar.update(1)
                if step % config.log_step == 0 or step == steps:
                    logger.info(
                        "Train Epoch: %d [%d/%d (%.0f%%)]\tLoss: %.6f\tavg %.6f\tlr %.6g\t"
                        "%.0f ms/step",
                        epoch,
                        step,
                        steps,
                        100.0 * step / steps,
                        value,
                        np.mean(losses),
                        rates[(epoch - 1) * steps + step - 1],
                        1000 * np.mean(step_times[-step:]),
                    )
        train_seconds = time.time() - epoch_start

        # Evaluation and outputs: rank 0 only; the other ranks go on to the next epoch.
        if not is_main:
            continue
        save_atomic(
            train_step,
            epoch_checkpoint_path(config.model_root, name, epoch),
            append_dict={"epoch_num": epoch, "run_name": name},
        )
        prune_epoch_checkpoints(config.model_root, name, config.keep_checkpoint_max)
        predictions, labels = predict(net, test_ds)
        result = summarize(
            predictions,
            labels,
            config.num_classes,
            counts,
            config.many_shot_thr,
            config.few_shot_thr,
        )
        if result["top1"] > best:
            best = result["top1"]
            save_atomic(net, best_path, append_dict={"epoch_num": epoch, "run_name": name})
        row = {
            "epoch": epoch,
            "lr": float(rates[epoch * steps - 1]),
            "train_loss": float(np.mean(losses)),
            "balanced_weights": balanced,
            "top1": result["top1"],
            "num_images": result["num_images"],
            "best_top1": best,
            "many": result["many"],
            "medium": result["medium"],
            "few": result["few"],
            "per_class": result["per_class"],
            "ms_per_step": 1000.0 * train_seconds / steps,
            "images_per_s": steps * config.batch_size * group_size / train_seconds,
            "epoch_seconds": time.time() - epoch_start,
        }
        records.append(row)
        append_metrics(records_path, row)
        logger.info(
            "epoch %d/%d: loss %.4f, top-1 %.2f%% on %d images (best %.2f%%), many %s, "
            "medium %s, few %s, %.0f ms/step, %.1f images/s",
            epoch,
            config.epoch_num,
            row["train_loss"],
            result["top1"],
            result["num_images"],
            best,
            format_group(result["many"]),
            format_group(result["medium"]),
            format_group(result["few"]),
            row["ms_per_step"],
            row["images_per_s"],
        )
        logger.info(
            "per-class top-1: %s",
            " ".join("n/a" if v is None else f"{v:.1f}" for v in result["per_class"]),
        )

    # Pictures and the summary.
    summary = {"run_dir": run_dir, "total_seconds": time.time() - started}
    if is_main and records:
        plot_curves(records, os.path.join(run_dir, "curves.png"))
        plot_per_class(records[-1]["per_class"], counts, os.path.join(run_dir, "per_class.png"))
        if result is not None:
            plot_confusion(result["confusion"], os.path.join(run_dir, "confusion_matrix.png"))
        summary.update(
            best_top1=best,
            last_top1=records[-1]["top1"],
            mean_ms_per_step=1000.0 * float(np.mean(step_times)) if step_times else None,
        )
        logger.info(
            "done: best top-1 %.2f%% (chosen on the test set, saved at %s), last %.2f%%, "
            "%.0f s in all, %s ms/step on average",
            best,
            best_path,
            summary["last_top1"],
            summary["total_seconds"],
            "n/a" if summary["mean_ms_per_step"] is None else f"{summary['mean_ms_per_step']:.0f}",
        )
    if group_size > 1:
        _write_rank_params(run_dir, rank, group_size, net, initial_digest)
    return summary


def main(argv=None):
    """Parses the config (exit 2 on bad input), then trains; user mistakes are one line."""
    config = get_config(argv, description=__doc__.splitlines()[0])
    from model_utils.entry import run_job

    return run_job(train, config, failures=((TrainingDiverged, 3),))


if __name__ == "__main__":
    sys.exit(main())
