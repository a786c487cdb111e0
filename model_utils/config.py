# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""YAML configuration with one command-line flag per key, checked before anything heavy runs.

`default_config.yaml` is the schema: every key, its description, its choices and its bounds.
`--config_path FILE` layers another YAML over it; `--key value` flags override both.
`from model_utils.config import config` parses `sys.argv` on first use.
"""

import argparse
import difflib
import math
import os
import re
import sys

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG_PATH = os.path.join(REPO_ROOT, "default_config.yaml")
CLASSES_PER_DATASET = {"cifar10": 10, "cifar100": 100}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_SECTION = re.compile(r"^#\s*-+\s*(.+?)\s*-+\s*$")
_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):")


class ConfigError(Exception):
    """A config value that is unknown, mistyped or not allowed; the message is one line."""


class Config:
    """Attribute access to the resolved settings (`config.loss_type`)."""

    def __init__(self, values):
        self.__dict__.update(values)

    def to_dict(self):
        """Returns a plain dict copy, e.g. to save next to a run's outputs."""
        return dict(self.__dict__)

    def __repr__(self):
        return f"Config({self.__dict__!r})"


class _OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, not a usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


class Schema:
    """What default_config.yaml says about each key: default, description, choices, bounds.

    Args:
        path (str): the schema file; four YAML documents (values, help, choices, bounds).
    """

    def __init__(self, path=DEFAULT_CONFIG_PATH):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        docs = list(yaml.safe_load_all(text)) + [{}, {}, {}]
        self.defaults = docs[0]
        self.helps = docs[1] or {}
        self.choices = docs[2] or {}
        self.bounds = docs[3] or {}
        self.sections = _sections(text)

    def kind(self, key):
        """The Python type a key's value must have: from its default, else from its bounds."""
        default = self.defaults[key]
        if default is None:
            return {"int": int, "float": float, "str": str}[self.bounds[key]["type"]]
        return type(default)


def _sections(text):
    """Maps each key of the first YAML document to the `# ---- Section ----` comment above it."""
    sections, current = {}, "Settings"
    for line in text.split("\n---")[0].splitlines():
        match = _SECTION.match(line)
        if match:
            current = match.group(1)
            continue
        match = _KEY.match(line)
        if match:
            sections[match.group(1)] = current
    return sections


def _parse_scalar(key, text, kind):
    """Turns command-line text into a value of `kind`, or raises ConfigError naming the key."""
    if kind is bool:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"--{key} {text!r}: expected a boolean (true or false)")
    if kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            raise ConfigError(f"--{key} {text!r}: expected {kind.__name__}") from None
        return value
    return text


def _parse_text(schema, key, text):
    """Parses a flag's text typed like the key's default; lists are comma-separated."""
    kind = schema.kind(key)
    if kind is list:
        element = type(schema.defaults[key][0]) if schema.defaults[key] else str
        items = [item for item in text.split(",") if item.strip()]
        return [_parse_scalar(key, item, element) for item in items]
    if schema.defaults[key] is None and text.strip().lower() in ("null", "none", ""):
        return None
    return _parse_scalar(key, text, kind)


def _check_type(schema, key, value):
    """Checks a value read from YAML has the key's type (an int is accepted for a float)."""
    kind = schema.kind(key)
    if value is None and schema.defaults[key] is None:
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is list and isinstance(value, list):
        return value
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{key}: {value!r} is not a {kind.__name__}")
    return value


def _check_value(schema, key, value):
    """Checks choices and numeric bounds of one key."""
    allowed = schema.choices.get(key)
    if allowed is not None and value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; choose one of {', '.join(allowed)}")
    bound = schema.bounds.get(key, {})
    if value is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    if isinstance(value, float) and not math.isfinite(value):
        allowed = _range_text(key, bound) or "a finite number"
        raise ConfigError(f"{key}={value!r} is not a finite number; allowed: {allowed}")
    low, high = bound.get("min"), bound.get("max")
    exclusive = bound.get("exclusive_min", False)
    too_low = low is not None and (value <= low if exclusive else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        raise ConfigError(f"{key}={value!r} is out of range; allowed: {_range_text(key, bound)}")


def _range_text(key, bound):
    """'0 <= beta <= 1' for a key's bounds, or '' when it has none."""
    low, high = bound.get("min"), bound.get("max")
    if low is None and high is None:
        return ""
    low_text = "" if low is None else f"{low} {'<' if bound.get('exclusive_min') else '<='} "
    high_text = "" if high is None else f" <= {high}"
    return f"{low_text}{key}{high_text}"


def _check_together(values):
    """Checks the rules that tie several keys together."""
    milestones, factors = values["lr_milestones"], values["lr_factors"]
    if len(milestones) != len(factors):
        raise ConfigError(
            f"lr_milestones={milestones} and lr_factors={factors}: need one factor per milestone"
        )
    if any(b <= a for a, b in zip(milestones, milestones[1:])) or any(m < 1 for m in milestones):
        raise ConfigError(f"lr_milestones={milestones}: need increasing epochs >= 1")
    if values["few_shot_thr"] > values["many_shot_thr"]:
        raise ConfigError(
            f"few_shot_thr={values['few_shot_thr']} exceeds many_shot_thr="
            f"{values['many_shot_thr']}; allowed: few_shot_thr <= many_shot_thr"
        )


def _load_overrides(path, schema):
    """Reads a --config_path file: a mapping of known keys, any subset of the schema."""
    if not os.path.isfile(path):
        raise ConfigError(f"--config_path {path!r}: no such file")
    try:
        with open(path, encoding="utf-8") as handle:
            docs = [doc for doc in yaml.safe_load_all(handle)]
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(f"--config_path {path!r}: not valid YAML: {detail}") from None
    values = docs[0] if docs else {}
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"--config_path {path!r}: expected a mapping of keys to values")
    unknown = sorted(set(values) - set(schema.defaults))
    if unknown:
        raise ConfigError(f"--config_path {path!r}: unknown key(s) {', '.join(unknown)}")
    return values


def _build_parser(schema, values, prog, description):
    """One flag per key, grouped by the sections of default_config.yaml."""
    parser = _OneLineParser(
        prog=prog,
        usage="%(prog)s [-h] [--config_path FILE] [--KEY VALUE ...]",
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "--config_path",
        default=DEFAULT_CONFIG_PATH,
        help="YAML file whose keys override default_config.yaml",
    )
    groups = {}
    for key, value in values.items():
        section = schema.sections.get(key, "Settings")
        if section not in groups:
            groups[section] = parser.add_argument_group(section)
        text = schema.helps.get(key, "")
        if key in schema.choices:
            text += f" (choices: {', '.join(schema.choices[key])})"
        allowed = _range_text(key, schema.bounds.get(key, {}))
        if allowed:
            text += f" (allowed: {allowed})"
        shown = ",".join(str(v) for v in value) if isinstance(value, list) else value
        groups[section].add_argument(f"--{key}", default=shown, metavar="VALUE", help=text)
    return parser


def get_config(argv=None, prog=None, description=None, schema_path=DEFAULT_CONFIG_PATH):
    """Resolves the settings from the schema, an optional --config_path file and flags.

    Args:
        argv (list[str] | None): command-line arguments; None reads sys.argv[1:].
        prog (str | None): program name in messages; None uses sys.argv[0].
        description (str | None): text shown at the top of --help.
        schema_path (str): the default_config.yaml with all keys.

    Returns:
        Config: every key with its checked value; num_classes filled in from dataset.

    Exits with status 2 and one line on stderr on a bad key, type or value.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    prog = prog or os.path.basename(sys.argv[0] or "cbloss")
    try:
        return _resolve(argv, prog, description, schema_path)
    except ConfigError as exc:
        sys.stderr.write(f"{prog}: error: {exc}\n")
        raise SystemExit(2) from None


def _resolve(argv, prog, description, schema_path):
    """get_config without the exit: raises ConfigError."""
    schema = Schema(schema_path)

    # Which file: --config_path is read before the other flags so --help shows its values.
    pre = _OneLineParser(prog=prog, add_help=False)
    pre.add_argument("--config_path", default=DEFAULT_CONFIG_PATH)
    known, _ = pre.parse_known_args(argv)
    values = dict(schema.defaults)
    if os.path.abspath(known.config_path) != os.path.abspath(schema_path):
        for key, value in _load_overrides(known.config_path, schema).items():
            values[key] = _check_type(schema, key, value)

    # Flags: parsed as text, then typed like the default so errors can name the key.
    parser = _build_parser(schema, values, prog, description)
    namespace, unknown = parser.parse_known_args(argv)
    if unknown:
        flag = next((arg for arg in unknown if arg.startswith("-")), unknown[0])
        name = flag.split("=")[0].lstrip("-")
        close = difflib.get_close_matches(name, list(values), n=1)
        hint = f"did you mean --{close[0]}? " if close else ""
        raise ConfigError(f"unknown key {flag!r}; {hint}run with --help to list the keys")
    given = {arg.split("=")[0][2:] for arg in argv if arg.startswith("--")}
    for key in values:
        if key in given:
            values[key] = _parse_text(schema, key, getattr(namespace, key))

    # Checks: each key alone, then the keys that go together.
    for key, value in values.items():
        _check_value(schema, key, value)
    _check_together(values)
    if values["num_classes"] is None:
        values["num_classes"] = CLASSES_PER_DATASET[values["dataset"]]
    values["config_path"] = os.path.abspath(known.config_path)
    return Config(values)


def __getattr__(name):
    """Parses sys.argv the first time `config` is imported (the model zoo's usage)."""
    if name == "config":
        value = get_config()
        globals()["config"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
