"""Read a request body as one JSON object, strictly: declared JSON, UTF-8, no duplicate keys, no NaN."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from errors import InvalidJSON, UnsupportedMediaType


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        # Two values for one key would let one slip past validation while the other is used.
        raise InvalidJSON("The JSON object repeats a key")
    return dict(pairs)


def _no_constants(name: str):
    raise InvalidJSON(f"{name} is not valid JSON")


def read_json_object() -> dict[str, Any]:
    """The body as a dict, or a 415 / 400 / 413 problem (413 comes from MAX_CONTENT_LENGTH)."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with 'Content-Type: application/json'")
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise InvalidJSON("The body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InvalidJSON(f"The body is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(body, dict):
        raise InvalidJSON("The body must be a JSON object, like {\"provider\": \"bamboohr\"}")
    return body
