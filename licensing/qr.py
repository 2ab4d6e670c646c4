"""QR codes for the verification URL, rendered as PNG or SVG with the `qrcode` library."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage

__all__ = ["qr_png", "qr_svg", "qr_version"]

# EC level M (15 % recovery) is the reference's choice (§5.2): Q costs two more versions
# for the same URL, which means smaller modules on a printed licence.
_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M


def _code(data: str, *, box_size: int = 10, border: int = 4) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=_ERROR_CORRECTION, box_size=box_size, border=border)
    code.add_data(data)
    # fit=True picks the smallest version that holds the data.
    code.make(fit=True)
    return code


def qr_version(data: str) -> int:
    """The QR version (1–40) that `data` needs at EC level M."""
    version: int = _code(data).version
    return version


def qr_png(data: str, *, box_size: int = 8, border: int = 4) -> bytes:
    """`data` as a PNG; `border` is the quiet zone in modules (4 is the standard's minimum)."""
    image = _code(data, box_size=box_size, border=border).make_image(image_factory=PilImage)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(data: str) -> bytes:
    """`data` as a standalone SVG document (one path, scales without blur for print)."""
    image = _code(data).make_image(image_factory=SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
