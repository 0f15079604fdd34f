"""Parse a JSON object strictly and safely: UTF-8, no duplicate keys, no NaN, bounded nesting, valid Unicode."""

from __future__ import annotations

import json
import re
from typing import Any

from errors import InvalidJSON

# Far below the interpreter's recursion limit, far above any body this service accepts (two levels).
MAX_DEPTH = 32
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        # Two values for one key would let one slip past validation while the other is used.
        raise InvalidJSON("The JSON object repeats a key")
    return dict(pairs)


def _no_constants(name: str):
    raise InvalidJSON(f"{name} is not valid JSON")


def _depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def parse_json_object(raw: bytes, what: str = "The body") -> dict[str, Any]:
    """The bytes as a dict, or InvalidJSON saying why (not UTF-8, not JSON, too deep, not an object...)."""
    # Counting brackets is C-fast; the byte-by-byte depth scan only runs for bodies that could be deep.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(raw) > MAX_DEPTH:
        raise InvalidJSON(f"{what} is nested more than {MAX_DEPTH} levels deep")
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise InvalidJSON(f"{what} is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InvalidJSON(f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError):
        # int() refuses numbers of more than 4300 digits; nesting is bounded above, this is the backstop.
        raise InvalidJSON(f"{what} holds a number or nesting this service does not accept") from None
    # "\ud800" is valid JSON but not valid Unicode: it would break hashing, logging and the call to StackOne.
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        raise InvalidJSON(f"{what} holds text that is not valid Unicode (a lone surrogate)")
    if not isinstance(value, dict):
        raise InvalidJSON(f"{what} must be a JSON object, like {{\"provider\": \"bamboohr\"}}")
    return value
