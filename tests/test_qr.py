"""The printed QR: a verification URL with a real pointer token, decoded back by zxing-cpp."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import zxingcpp
from PIL import Image

from licensing.qr import qr_png, qr_svg, qr_version
from licensing.signing import KeyRing, mint_pointer

ISSUER = "SAMR-310000"
USCC = "91310000MA1FL8XQ3C"


def _verification_url(tmp_path: Path) -> str:
    keyring = KeyRing.load_or_create(tmp_path / "keys")
    token = mint_pointer(
        keyring, issuer=ISSUER, uscc=USCC, print_version=1, issued_at=1_767_225_600
    )
    return f"https://zzt.example.gov.cn/v/{token}"


def test_printed_qr_decodes_to_exactly_the_url(tmp_path: Path) -> None:
    url = _verification_url(tmp_path)
    png = qr_png(url)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    results = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [r.text for r in results] == [url]


def test_qr_svg_is_a_standalone_svg_document(tmp_path: Path) -> None:
    root = ET.fromstring(qr_svg(_verification_url(tmp_path)))  # noqa: S314 — our own SVG
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None


def test_pointer_url_fits_a_printable_qr_version(tmp_path: Path) -> None:
    url = _verification_url(tmp_path)
    version = qr_version(url)
    token_chars = len(url.rsplit("/", 1)[1])
    print(f"pointer URL: {len(url)} chars ({token_chars} token) -> QR version {version}-M")
    assert version <= 14
    # The version is also what the image shows: 17 + 4·version modules plus the quiet zone.
    image = Image.open(io.BytesIO(qr_png(url, box_size=1, border=4)))
    assert image.size == (17 + 4 * version + 8,) * 2
