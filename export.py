# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Exports a checkpoint to ONNX, MINDIR or AIR and checks the file against the network's output.

Usage: python export.py [--ckpt_file FILE] [--file_format ONNX] [--key value ...]; `--help`
lists every key.
"""

import logging
import os
import sys

from model_utils.config import get_config
from model_utils.errors import UserInputError

logger = logging.getLogger("cbloss.export")

# Largest absolute difference of any logit to MindSpore's output that an export may have.
TOLERANCE = 1e-4

# Synthetic images the check runs through both models, in batches of export_batch_size.
CHECK_IMAGES = 8

EXTENSIONS = {"ONNX": ".onnx", "MINDIR": ".mindir", "AIR": ".air"}
IMAGE_SHAPE = (3, 32, 32)


class ExportCheckError(RuntimeError):
    """The written file does not reproduce the network; the message is one line."""


def export_path(file_name, file_format):
    """`file_name` with the format's extension, unless it already ends with it."""
    extension = EXTENSIONS[file_format]
    if file_name.lower().endswith(extension):
        return file_name
    return file_name + extension


def checkpoint_to_export(config):
    """The checkpoint named by ckpt_file, else model_root/checkpoint_path; it must exist."""
    from model_utils.checkpoints import resolve_checkpoint

    if config.ckpt_file:
        checkpoint, key = config.ckpt_file, "ckpt_file"
    else:
        checkpoint = resolve_checkpoint(config.model_root, config.checkpoint_path)
        key = "checkpoint_path"
    if not os.path.isfile(checkpoint):
        raise UserInputError(
            f"{key}: {checkpoint} does not exist; train first (python train.py) or pass "
            "--ckpt_file FILE"
        )
    return checkpoint


def synthetic_batches(batch_size, seed, num_images=CHECK_IMAGES):
    """Seeded standard-normal images (roughly what normalised CIFAR looks like).

    Returns:
        list[numpy.ndarray]: ceil(num_images / batch_size) float32 arrays of shape
        (batch_size, 3, 32, 32); ONNX fixes the batch size, so every batch has it.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    count = max(1, -(-num_images // batch_size))
    return [
        rng.standard_normal((batch_size, *IMAGE_SHAPE)).astype(np.float32) for _ in range(count)
    ]


def build_network(config, checkpoint):
    """A fresh network in eval mode with every parameter from the checkpoint.

    Fresh because MindSpore fails to export the same instance to ONNX twice; eval mode because
    batch norm must use its moving statistics in the exported graph and in the reference.
    """
    from models.Resnet import get_network, load_checkpoint_strict

    net = get_network(config.arch, config.num_classes)
    load_checkpoint_strict(net, checkpoint)
    net.set_train(False)
    return net


def onnx_outputs(path, batches):
    """Checks the ONNX file's structure, then runs the batches through onnxruntime."""
    import onnx
    import onnxruntime

    try:
        onnx.checker.check_model(path)
    except onnx.checker.ValidationError as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ExportCheckError(f"onnx.checker rejects the exported graph: {reason}") from err
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    return [session.run(None, {input_name: batch})[0] for batch in batches]


def mindir_outputs(path, batches):
    """Loads the MINDIR file back as a graph and runs the batches through it."""
    import mindspore as ms

    graph = ms.nn.GraphCell(ms.load(path))
    return [graph(ms.Tensor(batch)).asnumpy() for batch in batches]


def max_difference(expected, actual):
    """Largest absolute difference over all batches; shapes must agree, values be finite.

    Non-finite outputs are an error because NaN compares false with any tolerance.
    """
    import numpy as np

    worst = 0.0
    for want, got in zip(expected, actual):
        if want.shape != got.shape:
            raise ExportCheckError(f"exported output shape {got.shape}, network {want.shape}")
        if not (np.all(np.isfinite(want)) and np.all(np.isfinite(got))):
            raise ExportCheckError("non-finite outputs (NaN or Inf): the export cannot be checked")
        worst = max(worst, float(np.max(np.abs(want.astype(np.float64) - got))))
    return worst


def export_model(config):
    """Writes `<file_name>.<format>` and checks it reproduces the checkpoint's network.

    The file is written under a temporary name in the same folder and renamed onto the target
    only after the check passes, so a failure keeps the old file (MindSpore also writes its
    files read-only, which a rename does not mind).

    Returns:
        dict: "path", "file_format", "size_bytes", "max_abs_diff" (None when not checked) and
        "num_images".

    Raises:
        UserInputError: missing or unfitting checkpoint, or AIR off Ascend.
        ExportCheckError: the file's output differs from the network's by more than TOLERANCE.
    """
    import mindspore as ms

    from model_utils.device_adapter import init_context

    # Inputs and device: everything that can be wrong is found before anything is written.
    checkpoint = checkpoint_to_export(config)
    target, _, _ = init_context(config)
    if config.file_format == "AIR" and target != "Ascend":
        raise UserInputError(
            f"file_format: AIR can only be exported on Ascend (device_target here: {target}); "
            "use --file_format MINDIR or ONNX"
        )

    # Reference outputs of the network on seeded synthetic images.
    batches = synthetic_batches(config.export_batch_size, config.seed)
    reference = build_network(config, checkpoint)
    expected = [reference(ms.Tensor(batch)).asnumpy() for batch in batches]

    # Export a fresh copy of the network under a temporary name next to the target.
    path = export_path(config.file_name, config.file_format)
    folder, base = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{base}.{os.getpid()}.tmp{EXTENSIONS[config.file_format]}")
    try:
        ms.export(
            build_network(config, checkpoint),
            ms.Tensor(batches[0]),
            file_name=temporary,
            file_format=config.file_format,
        )

        # Check the file: run it and compare with the reference.
        if config.file_format == "AIR":
            logger.warning("AIR has no runtime here to load it back: %s is not checked", path)
            difference = None
        else:
            run = onnx_outputs if config.file_format == "ONNX" else mindir_outputs
            difference = max_difference(expected, run(temporary, batches))
            if difference > TOLERANCE:
                raise ExportCheckError(
                    f"{config.file_format} output differs from MindSpore's by {difference:.3e} "
                    f"(> {TOLERANCE:g}); {path} was not written"
                )

        # Only a checked file replaces the target.
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)

    # Result.
    size = os.path.getsize(path)
    num_images = len(batches) * config.export_batch_size
    shown = "not checked" if difference is None else f"{difference:.3e}"
    logger.info("exported %s from %s", os.path.abspath(path), checkpoint)
    print(f"Exported {path}: {config.file_format}, {size / 2**20:.1f} MiB ({size} bytes)")
    print(f"Max abs difference to MindSpore on {num_images} synthetic images: {shown}")
    return {
        "path": path,
        "file_format": config.file_format,
        "size_bytes": size,
        "max_abs_diff": difference,
        "num_images": num_images,
    }


def main(argv=None):
    """Parses the config (exit 2 on bad input), then exports; failures are one line.

    Exit codes: 0 exported and checked, 2 bad input (config, checkpoint, AIR off Ascend),
    1 the exported file failed its check.
    """
    config = get_config(argv, description=__doc__.splitlines()[0])
    from model_utils.entry import run_job

    def modelarts_pre_process():
        """On ModelArts a relative file_name goes to output_path, which is copied back."""
        if not os.path.isabs(config.file_name):
            config.file_name = os.path.join(config.output_path, config.file_name)

    return run_job(
        export_model,
        config,
        failures=((ExportCheckError, 1),),
        pre_process=modelarts_pre_process,
    )


if __name__ == "__main__":
    sys.exit(main())
