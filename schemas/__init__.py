"""marshmallow schemas for what callers send: strict JSON types, camelCase on the wire, unknown fields refused."""
