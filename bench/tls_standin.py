"""Using bench/standin.py, the TLS StackOne stand-in: its API key, a certificate made for the run, start and wait."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import time
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from support.processes import start

KEY = "v1.bench.floor_key_0123456789"


def certificate(folder: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (the stand-in's), written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "standin.pem", folder / "standin.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def start_standin(port: int, delay: float, cert: str, key: str, log: Path) -> subprocess.Popen:
    """bench/standin.py on 127.0.0.1:port, answering after `delay` seconds, its output to `log`."""
    return start(["bench/standin.py", str(port), str(delay), cert, key], {}, log)


def wait_for_standin(url: str, cert: str) -> None:
    """The stand-in speaks TLS only: poll it until it answers."""
    for _ in range(100):
        try:
            requests.get(f"{url}/accounts", auth=(KEY, ""), timeout=1, verify=cert)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit("the stand-in did not start")
