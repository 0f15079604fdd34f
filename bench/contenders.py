"""A server under test in the floor benchmarks, and picking one by its role rather than by its place in a list."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field


@dataclass
class Contender:
    """One server under test, and the body it is sent; `role` names the ones a benchmark compares the others to."""

    name: str
    args: list[str]
    env: dict[str, str]
    body: dict
    role: str = ""  # e.g. "floor": what the ratios are taken against; empty for an ordinary contender
    process: subprocess.Popen | None = None
    url: str = ""
    rows: list[dict] = field(default_factory=list)
    alternated: float | None = None  # median ratio of CPU per request to the floor's, in alternating windows


def pick(contenders: list[Contender], role: str) -> Contender:
    """The one contender with this role (a list without it, or with two, is a mistake in the benchmark)."""
    found = [c for c in contenders if c.role == role]
    if len(found) != 1:
        raise SystemExit(f"the benchmark needs exactly one contender with the role {role!r}, not {len(found)}")
    return found[0]
