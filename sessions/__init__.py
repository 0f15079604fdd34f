"""The session path, with no Flask in it: the policy's decision, live-session reuse, the caps and the mint
(flow.py, reached through service.py), made safe to retry and to double-click (once.py: Idempotency-Key answers and
reuse), and a session's outcome for the pages that poll it (status.py).

Each piece keeps its records in the shared state (Redis when configured), so every host of a fleet agrees; a stored
answer holds a session token, so it is sealed with a key derived from a server secret (sessions/sealing.py).
"""
