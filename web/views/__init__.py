"""Thin Flask views: parse, validate, resolve the owner, let the policy decide, call StackOne, answer."""
