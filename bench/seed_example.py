"""StackOne's documented Flask example, reproduced for `make bench`: one requests.post per call (a new TLS
connection each time), no timeout, the owner hard-coded, `{"token": null}` on any error. Do not deploy this."""

import os

import requests
from flask import Flask, jsonify, request

app = Flask(__name__)
API = os.environ["STACKONE_API_URL"]
KEY = os.environ["STACKONE_API_KEY"]


@app.post("/stackone_connect_sessions")
def create():
    body = request.get_json(silent=True) or {}
    try:
        answer = requests.post(f"{API}/connect_sessions", auth=(KEY, ""), json={
            "origin_owner_id": "customer-123", "origin_owner_name": "Customer 123",
            "origin_username": body.get("originUsername"), "categories": ["hris"]})
        return jsonify({"token": answer.json().get("token")})
    except Exception:  # noqa: BLE001 - the seed's behaviour, reproduced on purpose
        return jsonify({"token": None})
