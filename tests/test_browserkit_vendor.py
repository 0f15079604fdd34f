"""The vendored hub component is only ever the pinned, integrity-checked, MIT-licensed tarball."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from browserkit import vendor


def tarball(manifest: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("package/package.json", json.dumps(manifest).encode()),
                           ("package/dist/webcomponent.js", b"customElements.define('stackone-hub', class {})")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_tarball_that_is_not_the_pinned_one_is_refused(monkeypatch):
    forged = tarball({"name": vendor.PACKAGE, "version": vendor.VERSION, "license": "MIT"})
    with pytest.raises(SystemExit, match="does not match the pinned integrity"):
        vendor.extract(forged)


def test_the_manifest_is_checked_too(monkeypatch):
    other = tarball({"name": vendor.PACKAGE, "version": "9.9.9", "license": "MIT"})
    monkeypatch.setattr(vendor, "INTEGRITY", vendor.integrity_of(other))
    with pytest.raises(SystemExit, match="unexpected package manifest"):
        vendor.extract(other)


def test_the_pinned_bundle_is_in_place_after_make():
    # `make test` runs `python -m browserkit.vendor` first; the browser tests load this file.
    assert vendor.TARGET.exists() and b"stackone-hub" in vendor.TARGET.read_bytes()


def test_without_npm_the_fetch_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(vendor, "TARGET", tmp_path / "stackone-hub.js")  # not fetched yet
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no npm on it
    assert vendor.main() == 1
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "npm is not installed" in said[0] and "apt-get install npm" in said[0]
