"""The floor for `make bench`: Flask plus one pooled requests.Session, no login, no validation, no policy."""

import os

import requests
from flask import Flask, jsonify

app = Flask(__name__)
API = os.environ["STACKONE_API_URL"]
session = requests.Session()
session.auth = (os.environ["STACKONE_API_KEY"], "")


@app.post("/stackone_connect_sessions")
def create():
    answer = session.post(f"{API}/connect_sessions", timeout=10, json={
        "origin_owner_id": "customer-123", "origin_owner_name": "Customer 123", "categories": ["hris"]})
    return jsonify({"token": answer.json().get("token")})
