# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Shared pieces of the benchmarks: machine and load info, statistics, worker processes, JSON.

Each measured configuration runs in a worker process of its own (benchmarks/workers.py), so
that per-process settings such as ONEDNN_MAX_CPU_ISA or thread counts cannot leak between
configurations, and PyTorch never shares a process (or oneDNN's instruction-set cap) with
MindSpore. The workers are driven in rounds, one step each in turn, so that a change in the
load from other users of the machine hits every configuration alike.
"""

import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
RESULTS_DIR = os.path.join(BENCH_DIR, "results")

# Lines of a worker's stdout that belong to the protocol start with this tag; MindSpore and
# PyTorch may print other lines there.
TAG = "@@bench "


def usable_cores():
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0))


def load_average():
    """The 1, 5 and 15 minute load averages, rounded to 2 decimals."""
    return [round(value, 2) for value in os.getloadavg()]


def cpu_model():
    """The processor's model name from /proc/cpuinfo, or the platform's guess."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags():
    """The instruction-set flags of the first processor, as a set."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def machine_info():
    """What the results depend on: processor, cores, load, Python and package versions."""
    flags = cpu_flags()
    info = {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "avx512f": "avx512f" in flags,
        "python": platform.python_version(),
        "load_average_at_start": load_average(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    for package in ("mindspore", "torch", "numpy"):
        info[package] = package_version(package)
    return info


def package_version(name):
    """Installed version of a package, or None, without importing it."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def median(values):
    """Median of a non-empty sequence, or None for an empty one."""
    return statistics.median(values) if values else None


def spread(values):
    """(min, max) of a sequence, or (None, None) for an empty one."""
    return (min(values), max(values)) if values else (None, None)


def load_text(load):
    """'1.23 / 2.34 / 3.45' for a list of three load averages."""
    return " / ".join(f"{value:.2f}" for value in load)


class WorkerError(RuntimeError):
    """A worker process failed; the message carries the last line of its error output."""


class Worker:
    """One configuration in a process of its own, stepped on request.

    The worker builds its configuration, runs the warm-up steps and reports "ready"; then each
    step(n) call runs n timed steps there and returns their wall and CPU seconds.

    Args:
        spec (dict): the configuration, passed to benchmarks/workers.py as JSON.
        env (dict, optional): environment changes for the process; a value of None removes
            the variable.
        timeout (float): seconds allowed for the start and for each request.
    """

    def __init__(self, spec, env=None, timeout=600.0):
        self.spec = spec
        self.timeout = timeout
        self.ready = None
        environ = dict(os.environ)
        environ.setdefault("GLOG_v", "3")
        for key, value in (env or {}).items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value

        # stderr goes to a file: an unread pipe would fill up and block the worker
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._proc = subprocess.Popen(
            [sys.executable, os.path.join(BENCH_DIR, "workers.py"), json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=REPO_ROOT,
            env=environ,
        )

        # protocol lines arrive through a queue, so that a hung worker can time out
        self._lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        """Copies the worker's protocol lines into the queue; None marks the end."""
        for line in self._proc.stdout:
            if line.startswith(TAG):
                self._lines.put(line[len(TAG) :])
        self._lines.put(None)

    def _read(self):
        """The next protocol message; raises WorkerError if the worker failed or timed out."""
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            line, reason = None, f"no answer within {self.timeout:.0f} s"
        else:
            reason = None
        if line is not None:
            message = json.loads(line)
            if "error" not in message:
                return message
            reason = message["error"]
        reason = reason or self._last_error_line()
        self.close()
        raise WorkerError(reason)

    def _last_error_line(self):
        """The last non-empty stderr line of a finished worker, or its exit status."""
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return "the worker stopped answering"
        self._stderr.seek(0)
        lines = [line.strip() for line in self._stderr.read().splitlines() if line.strip()]
        if lines:
            return lines[-1][:300]
        return f"worker exited with status {self._proc.returncode}"

    def start(self):
        """Waits for the build and the warm-up; returns the worker's "ready" message."""
        self.ready = self._read()
        return self.ready

    def request(self, message):
        """Sends one request (a dict) and returns the worker's answer."""
        try:
            self._proc.stdin.write(json.dumps(message) + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            raise WorkerError(f"worker is gone ({err})") from err
        return self._read()

    def step(self, count=1):
        """Runs `count` timed steps; returns {"wall": [s, ...], "cpu": [s, ...]}."""
        return self.request({"steps": count})

    def close(self):
        """Asks the worker to stop and waits for it (kills it after a grace period)."""
        if self._proc.poll() is None:
            try:
                self._proc.stdin.write(json.dumps({"quit": True}) + "\n")
                self._proc.stdin.flush()
                self._proc.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired, OSError):
                self._proc.kill()
                self._proc.wait()
        if not self._stderr.closed:
            self._stderr.close()


def run_rounds(workers, rounds, on_round=None):
    """Steps every live worker once per round, in turn; a failing worker drops out.

    Args:
        workers (dict): name -> started Worker.
        rounds (int): number of rounds.
        on_round (callable, optional): called with (round index, {name: seconds}) after each.

    Returns:
        tuple(dict, dict): name -> {"wall": [...], "cpu": [...]}, and name -> error text.
    """
    times = {name: {"wall": [], "cpu": []} for name in workers}
    errors = {}
    for index in range(rounds):
        this_round = {}
        for name, worker in workers.items():
            if name in errors:
                continue
            try:
                result = worker.step(1)
            except WorkerError as err:
                errors[name] = str(err)
                continue
            times[name]["wall"] += result["wall"]
            times[name]["cpu"] += result["cpu"]
            this_round[name] = result["wall"][0]
        if on_round is not None:
            on_round(index, this_round)
    return times, errors


def write_json(path, payload):
    """Writes payload as indented JSON, creating the folder; returns the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    part = path + ".part"
    with open(part, "w", encoding="utf-8") as out:
        json.dump(payload, out, indent=1)
        out.write("\n")
    os.replace(part, path)
    return path


def format_table(headers, rows):
    """Plain-text table with right-aligned columns (the first one left-aligned)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for number, row in enumerate(cells):
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(parts))
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
