"""Thin Flask views: read and validate the body, resolve the owner, hand over to the use cases, answer."""
