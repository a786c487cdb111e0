# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Per-step learning rates for the three schedules, computed once before training.

MindSpore's optimizers take a list with one rate per step and index it with their own
`global_step`, which the checkpoint carries: a resumed run continues on the same curve.
"""

import math

import numpy as np


def learning_rates(
    schedule,
    base_lr,
    epochs,
    steps_per_epoch,
    warmup_epochs=5,
    milestones=(160, 180),
    factors=(0.01, 0.0001),
):
    """The learning rate of every training step.

    Args:
        schedule (str): "constant" (base_lr throughout, the model zoo's behaviour),
            "warmup_step" (linear warm-up from 0 over warmup_epochs, then base_lr times
            factors[i] from epoch milestones[i] on; epochs are 1-based) or "cosine" (the same
            warm-up, then a half cosine from base_lr down to 0 at the last step).
        base_lr (float): peak learning rate.
        epochs (int): number of training epochs.
        steps_per_epoch (int): optimizer steps per epoch.
        warmup_epochs (int): length of the warm-up in epochs (0: none).
        milestones (Sequence[int]): epochs where the warmup_step schedule steps down.
        factors (Sequence[float]): multipliers of base_lr from each milestone on.

    Returns:
        np.ndarray: float32, shape (epochs * steps_per_epoch,).
    """
    total = epochs * steps_per_epoch
    step = np.arange(total, dtype=np.float64)
    epoch = step // steps_per_epoch + 1
    if schedule == "constant":
        return np.full(total, base_lr, dtype=np.float32)

    # Warm-up: the first step already moves, the last warm-up step reaches base_lr.
    warmup_steps = warmup_epochs * steps_per_epoch
    rates = np.full(total, base_lr, dtype=np.float64)
    if warmup_steps:
        rates = np.where(step < warmup_steps, base_lr * (step + 1) / warmup_steps, rates)

    # After warm-up: step-down or cosine.
    if schedule == "warmup_step":
        for milestone, factor in zip(milestones, factors):
            rates = np.where(epoch >= milestone, base_lr * factor, rates)
    elif schedule == "cosine":
        span = max(total - warmup_steps, 1)
        progress = np.clip((step - warmup_steps) / span, 0.0, 1.0)
        cosine = 0.5 * base_lr * (1.0 + np.cos(math.pi * progress))
        rates = np.where(step < warmup_steps, rates, cosine)
    else:
        raise ValueError(f"lr_schedule={schedule!r}; choose constant, warmup_step or cosine")
    return rates.astype(np.float32)
