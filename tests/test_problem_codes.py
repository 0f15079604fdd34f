"""Every problem code errors.py defines is in docs/api.md's errors tables, and the app's table lists no code the
service cannot answer (the codes are read from errors.py, as contract/ reads them)."""

from __future__ import annotations

import re
from pathlib import Path

from errors import HTTP_CODES, ServiceError

API_MD = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def every_error(base: type[ServiceError] = ServiceError) -> list[type[ServiceError]]:
    """`base` and every subclass of it, however deep."""
    return [base, *(error for sub in base.__subclasses__() for error in every_error(sub))]


def documented_tables() -> list[set[str]]:
    """The codes in each table of api.md's "Errors" section, in order (the app's, then gunicorn's)."""
    section = API_MD.read_text().split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    tables: list[set[str]] = []
    rows = 0  # of the table being read; its first two are the header and the rule
    for line in section.splitlines():
        rows = rows + 1 if line.startswith("| ") else 0
        if rows == 1:
            tables.append(set())
        if rows <= 2:
            continue
        column = line.split(" | ")[1]
        # "(with `limit`, ...)" names extra members and "+ `Retry-After`" a header: neither is a code.
        column = re.sub(r"\+ `[^`]*`", "", re.sub(r"\([^)]*\)", "", column))
        tables[-1].update(re.findall(r"`([a-z_]+)`", column))
    return tables


def test_every_code_of_errors_py_is_documented():
    documented = set().union(*documented_tables())
    missing = {error.code for error in every_error()} - documented
    assert not missing, f"add {sorted(missing)} to docs/api.md's errors table"


def test_the_apps_table_lists_only_codes_the_service_answers():
    answered = {error.code for error in every_error()} | set(HTTP_CODES.values())
    unknown = documented_tables()[0] - answered
    assert not unknown, f"docs/api.md's errors table lists {sorted(unknown)}, which errors.py does not define"


def test_gunicorns_own_refusals_are_the_codes_of_the_second_table():
    # What serving/worker.py answers before the app sees a request, and what docs/api.md says it answers.
    from serving.worker import _REFUSALS

    answered = {code for _, (_, code, _) in _REFUSALS} | {"payload_too_large", "body_timeout"}
    assert documented_tables()[1] <= answered | {error.code for error in every_error()}
    assert {code for _, (_, code, _) in _REFUSALS} <= set().union(*documented_tables())
