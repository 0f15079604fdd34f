"""Minting that is safe to retry and to double-click: Idempotency-Key answers, live-session reuse, account caps.

Each piece keeps its records in the shared state (Redis when configured), so every host of a fleet agrees; a stored
answer holds a session token, so it is sealed with a key derived from a server secret (sessions/sealing.py).
"""
