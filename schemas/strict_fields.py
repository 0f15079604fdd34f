"""Fields that take JSON's own types only: no "yes" or 1 for a boolean, no "3600" or true for a number."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate


class StrictBoolean(fields.Boolean):
    """Accepts JSON true/false only."""

    default_error_messages = {"invalid": "Must be true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        # `1 in {True}` is true in Python, so the base field's truthy sets cannot express this.
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictInteger(fields.Integer):
    """Accepts JSON integers only, 3600.0 included; not 3600.5, "3600" or true (bool is an int in Python)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        # JSON has one number type: 3600.0 is the integer 3600 (as JSON Schema and the OpenAPI document say).
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class FullMatch(validate.Regexp):
    """A pattern the whole value must match (re.fullmatch), written ^...$ so OpenAPI (ECMA 262) reads it too.

    marshmallow's Regexp uses match(), where "$" also matches before a trailing newline: "acc-1\\n" would pass.
    """

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value
