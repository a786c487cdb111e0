# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""One benchmark configuration in a process of its own, driven over stdin and stdout.

Started by benchmarks/common.py's Worker with a JSON spec as its only argument. It builds the
configuration, runs the warm-up steps, then answers requests, one JSON object a line:
{"steps": n} runs n timed steps, {"task": name} runs one of the data measurements of kind
"epoch" (subset, pipeline, epoch, eval), {"quit": true} ends the process. Answers are tagged
lines on stdout; a failure is answered with {"error": "..."} so the driver can report it.

Spec keys: framework ("mindspore" or "torch"), arch, mode ("GRAPH" or "PYNATIVE"), batch_size,
warmup, seed, optionally context (extra ms.set_context arguments) and cpu_threads (MindSpore's
CPU kernel thread pool), and for kind "epoch" also data_root and num_parallel_workers.
"""

import json
import os
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
sys.path[:0] = [REPO_ROOT, BENCH_DIR]

from common import TAG, usable_cores  # noqa: E402

# The recipe the train step is timed with: the model zoo's SGD and the paper's focal loss on
# the CIFAR-10-LT ratio-100 class counts.
LT_COUNTS = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
LR, MOMENTUM, WEIGHT_DECAY, BETA, GAMMA = 0.01, 0.9, 5e-4, 0.9999, 2.0


def _say(message):
    """Writes one protocol line."""
    sys.stdout.write(TAG + json.dumps(message) + "\n")
    sys.stdout.flush()


class MindSporeStep:
    """The train step of train.py (TrainOneStepCell over the CB focal loss) on a fixed batch."""

    def __init__(self, spec):
        import mindspore as ms
        import numpy as np
        from mindspore import nn

        from CBloss import CBLoss
        from models.Resnet import get_network
        from train import train_step_cell

        # context, as train.py sets it on CPU
        mode = ms.GRAPH_MODE if spec["mode"] == "GRAPH" else ms.PYNATIVE_MODE
        ms.set_context(mode=mode, **spec.get("context", {}))
        ms.set_device("CPU")
        if spec.get("cpu_threads"):
            ms.device_context.cpu.op_tuning.threads_num(spec["cpu_threads"])
        ms.set_seed(spec["seed"])

        # network, loss, optimizer and the compiled step
        self.net = net = get_network(spec["arch"], len(LT_COUNTS))
        loss_fn = CBLoss(LT_COUNTS, loss_type="focal", beta=BETA, gamma=GAMMA)
        optimizer = nn.Momentum(
            net.trainable_params(), learning_rate=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY
        )
        self.step_cell = train_step_cell(net, loss_fn, optimizer, "O0")
        self.step_cell.set_train(True)

        # a fixed batch
        rng = np.random.default_rng(spec["seed"])
        shape = (spec["batch_size"], 3, 32, 32)
        self.images = ms.Tensor(rng.standard_normal(shape, dtype=np.float32))
        labels = rng.integers(0, len(LT_COUNTS), spec["batch_size"]).astype(np.int32)
        self.labels = ms.Tensor(labels)

    def __call__(self, images=None, labels=None):
        """One step; asnumpy() waits for the result, so the time covers the whole step."""
        images = self.images if images is None else images
        labels = self.labels if labels is None else labels
        return float(self.step_cell(images, labels).asnumpy())


class TorchStep:
    """The same step in PyTorch (benchmarks/torch_reference.py)."""

    def __init__(self, spec):
        from torch_reference import TorchTrainStep

        # the weights straight from the paper's formula: importing CBloss would bring
        # MindSpore and this project's oneDNN setting into the PyTorch process
        raw = [(1.0 - BETA) / (1.0 - BETA**count) for count in LT_COUNTS]
        weights = [value * len(raw) / sum(raw) for value in raw]
        self.step = TorchTrainStep(
            spec["arch"],
            weights,
            spec["batch_size"],
            lr=LR,
            momentum=MOMENTUM,
            weight_decay=WEIGHT_DECAY,
            gamma=GAMMA,
            threads=usable_cores(),
            seed=spec["seed"],
        )

    def __call__(self):
        return self.step()


class EpochRun:
    """train.py's epoch loop over the real CIFAR-10-LT pipeline, and the pieces around it.

    The pipeline is load_train_lt at ratio 100 with epoch_iterator, exactly as train.py uses
    them; both the epoch and the model-only steps convert each loss to a float, so they wait
    for every step in the same way.
    """

    def __init__(self, spec):
        from dataset import load_test, load_train_lt

        self.spec = spec
        self.model = MindSporeStep(spec)
        _, self.data = load_train_lt(
            data_root=spec["data_root"],
            dataset="cifar10",
            imb_ratio=100,
            batch_size=spec["batch_size"],
            seed=spec["seed"],
            num_parallel_workers=spec["num_parallel_workers"],
        )
        self.test = load_test(
            data_root=spec["data_root"],
            batch_size=256,
            num_parallel_workers=spec["num_parallel_workers"],
        )
        self.epoch_number = 0

    def __call__(self):
        """A model-only step on the fixed batch (the reference of the epoch ratio)."""
        return self.model()

    def task_subset(self):
        """Median time to read the labels and choose the subset, over five builds."""
        from dataset import get_img_num_per_cls, read_labels, select_lt_indices

        times = []
        for _ in range(5):
            start = time.perf_counter()
            labels = read_labels(self.spec["data_root"], "cifar10", "train")
            subset = select_lt_indices(labels, get_img_num_per_cls("cifar10", "exp", 100))
            times.append(time.perf_counter() - start)
        return {"seconds": sorted(times)[2], "images": int(subset.size)}

    def task_pipeline(self):
        """One epoch of the augmented pipeline with no model."""
        from dataset import epoch_iterator

        start = time.perf_counter()
        images = sum(batch[0].shape[0] for batch in epoch_iterator(self.data, 1, 10_000))
        return {"seconds": time.perf_counter() - start, "images": int(images)}

    def task_epoch(self):
        """One epoch fed by the pipeline, with a model-only step after every fourth step.

        The interleaved model-only steps on the fixed batch are the reference of the epoch
        ratio: taken during the epoch, they see the same load from other processes. The epoch
        time is the sum of the pipeline-fed steps (each from the end of the one before, so it
        includes waiting for the batch and creating the iterator), not of the reference steps;
        "waited" is the part of it spent waiting for batches.
        """
        from dataset import epoch_iterator

        self.epoch_number += 1
        fed, waited, reference, steps = 0.0, 0.0, [], 0
        mark = time.perf_counter()
        batches = iter(epoch_iterator(self.data, self.spec["seed"], self.epoch_number))
        while True:
            try:
                images, labels = next(batches)
            except StopIteration:
                break
            fetched = time.perf_counter()
            waited += fetched - mark
            self.model(images, labels)
            now = time.perf_counter()
            fed += now - mark
            steps += 1
            if steps % 4 == 0:
                self.model()
                reference.append(time.perf_counter() - now)
            mark = time.perf_counter()
        return {"epoch_wall": fed, "waited": waited, "steps": steps, "reference": reference}

    def task_eval(self):
        """train.py's evaluation: every test image through the network in inference mode."""
        from model_utils.evaluation import predict

        start = time.perf_counter()
        predictions, _ = predict(self.model.net, self.test)
        return {"seconds": time.perf_counter() - start, "images": int(predictions.size)}


def _build(spec):
    """The callable step of a spec."""
    if spec.get("kind") == "epoch":
        return EpochRun(spec)
    if spec["framework"] == "torch":
        return TorchStep(spec)
    return MindSporeStep(spec)


def _timed(step, count):
    """Wall and process CPU seconds of `count` calls of step."""
    wall, cpu = [], []
    for _ in range(count):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return {"wall": wall, "cpu": cpu}


def main():
    """Builds, warms up, then serves requests until told to quit or stdin closes."""
    spec = json.loads(sys.argv[1])
    try:
        started = time.perf_counter()
        step = _build(spec)
        for _ in range(spec["warmup"]):
            step()
        _say({"ready": True, "setup_seconds": time.perf_counter() - started})
    except Exception as err:  # noqa: BLE001 - reported to the driver, which names the config
        _say({"error": f"{type(err).__name__}: {err}".splitlines()[0][:300]})
        return 1

    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            break
        try:
            if "task" in request:
                _say(getattr(step, "task_" + request["task"])())
            else:
                _say(_timed(step, request["steps"]))
        except Exception as err:  # noqa: BLE001 - as above
            _say({"error": f"{type(err).__name__}: {err}".splitlines()[0][:300]})
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
