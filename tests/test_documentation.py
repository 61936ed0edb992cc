"""Every command, option and setting is documented in the README (datasette's rule)."""

from __future__ import annotations

import re

import click

from tests.support import ROOT
from web.cli import main

README = (ROOT / "README.md").read_text()


def _commands(group: click.Group, prefix: str = "psq"):
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from _commands(command, path)
        else:
            yield path, command


def test_every_command_is_in_the_readme():
    missing = [path for path, _ in _commands(main) if f"`{path}" not in README]
    assert missing == []


def test_every_option_is_in_the_readme():
    missing = []
    for path, command in _commands(main):
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    if opt.startswith("--") and f"`{opt}" not in README:
                        missing.append(f"{path} {opt}")
    assert missing == []


def test_every_setting_is_in_the_readme():
    code = "\n".join(p.read_text() for d in ("geo", "web", "layers") for p in (ROOT / d).rglob("*.py"))
    settings = set(re.findall(r'environ(?:\.get)?\(\s*"((?:PSQ_|DATABASE_)[A-Z_]+)"', code))
    settings |= set(re.findall(r'environ\["((?:PSQ_|DATABASE_)[A-Z_]+)"\]', code))
    assert settings, "no setting found: the pattern is broken"
    assert sorted(s for s in settings if f"`{s}`" not in README) == []
