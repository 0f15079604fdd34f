"""The Idempotency-Key header on the minting routes: the same key, owner and body get the first answer again
(sessions/idempotency.py says what the key means; sessions/once.py does the thing once across the fleet)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request

from domain import deadline
from errors import IdempotencyKeyReused, ServiceError
from extensions import services
from sessions.idempotency import HEADER, fingerprint, parse_key
from sessions.once import DifferentRequest
from state import keys
from web.problems import problem


def offered_key() -> str | None:
    """The request's Idempotency-Key, or None; a malformed one is refused (400) before the body is read."""
    return parse_key(request.headers.get(HEADER))


def answer_once(owner_id: str, key: str, body: dict[str, Any], make: Callable[[], Response]) -> Response:
    """`make()`'s answer, made once for this owner, route, key and body; a repeat gets it again, marked replayed."""
    svc = services()

    def first() -> dict:
        # What the caller gets, refusals below 500 included (StackOne's 4xx, the policy's 409s), is what a retry
        # with the key gets; a 5xx or a timeout raises, which releases the key.
        try:
            response = make()
        except ServiceError as exc:
            if exc.status >= 500:
                raise
            response = problem(exc.status, exc.code, exc.title, exc.detail, exc.headers, **exc.extra)
        return {"status": response.status_code, "mimetype": response.mimetype, "body": response.get_data(as_text=True)}

    try:
        stored, replayed = svc.once.run(keys.idempotency(owner_id, request.path, key),
                                        fingerprint(request.path, body), first,
                                        ttl=svc.settings.sessions.idempotency_ttl,
                                        deadline=deadline.current())
    except DifferentRequest:
        raise IdempotencyKeyReused("This Idempotency-Key was used with another request body; send a new key for a "
                                   "new request") from None
    response = Response(stored["body"], status=stored["status"], mimetype=stored["mimetype"])
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"  # Stripe's header: this is the first request's answer
    return response
