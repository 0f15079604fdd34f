"""GET /healthz: the process is up; StackOne is not called."""

from flask import Blueprint, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers and `make run`."""
    return jsonify({"status": "ok"})
