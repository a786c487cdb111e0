# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""The README documents every config key and every script, and has exactly two quick-start lines."""

import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        return handle.read()


def test_every_config_key_is_documented():
    with open(os.path.join(REPO, "default_config.yaml"), encoding="utf-8") as handle:
        keys = next(yaml.safe_load_all(handle))
    text = _readme()
    missing = [key for key in keys if f"`{key}`" not in text]
    assert not missing


def test_every_script_is_documented():
    scripts = [name for name in os.listdir(os.path.join(REPO, "scripts")) if name.endswith(".sh")]
    text = _readme()
    assert [name for name in scripts if name not in text] == []


def test_quick_start_has_two_commands_and_no_placeholder_is_left():
    text = _readme()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    assert len([line for line in block.splitlines() if line.strip()]) == 2
    assert not re.search(r"\b[A-Z]+_(SECTION|TABLE)\b", text)
