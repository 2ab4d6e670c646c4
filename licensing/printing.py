"""The printable licence (证照通营业执照): one A4 page with the registration, the permits and the QR."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from domain.china import CHINA
from licensing.qr import qr_png

__all__ = ["QR_SIZE_MM", "licence_pdf"]

# Adobe's Song CID font is one of the PDF reader's own fonts: nothing to ship or embed, and
# every reader (poppler with a CJK font installed, Acrobat, browsers) draws the Chinese. Its
# character collection (Adobe-GB1) lacks a few Western signs, such as the middle dot: the
# text here uses the ideographic space instead.
FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

# 40 mm holds a version-13 pointer at ~0.5 mm per module: read at arm's length (reference §3).
QR_SIZE_MM = 40

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=15, wordWrap="CJK")
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=8.5, leading=12)
_LABEL = ParagraphStyle("label", parent=_BODY, textColor=colors.HexColor("#555555"))
_TITLE = ParagraphStyle("title", parent=_BODY, fontSize=26, leading=34, alignment=1)
_SUBTITLE = ParagraphStyle("subtitle", parent=_BODY, fontSize=11, leading=16, alignment=1)
_CAPTION = ParagraphStyle("caption", parent=_SMALL, alignment=1)
_HEADING = ParagraphStyle("heading", parent=_BODY, fontSize=13, leading=20)


def _p(text: object, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def licence_pdf(
    licence: Mapping[str, Any], *, url: str, issuer: str, printed_at: datetime
) -> bytes:
    """The licence as presented to the public (no personal data: no legal representative,
    no ID number, no staff) on one A4 page, with the QR code holding `url` — the signed
    pointer of the current print version — and a caption saying what scanning it shows."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"营业执照 {licence['name']}",
        author=issuer,
        subject=f"证照通营业执照 {licence['uscc']} 第{licence['print_version']}版",
        creator="证照通",
    )
    document.build(_story(licence, url=url, issuer=issuer, printed_at=printed_at))
    return buffer.getvalue()


def _story(licence: Mapping[str, Any], *, url: str, issuer: str, printed_at: datetime) -> list[Any]:
    width = A4[0] - 36 * mm
    qr = Image(io.BytesIO(qr_png(url, box_size=10)), QR_SIZE_MM * mm, QR_SIZE_MM * mm)
    host = urlsplit(url).hostname or url
    qr_block = [
        qr,
        _p("扫码核验实时状态", _CAPTION),
        _p("Scan to see the live status", _CAPTION),
        _p(f"请确认打开的网址为 {host}", _CAPTION),
        _p(f"第 {licence['print_version']} 版打印件　print {licence['print_version']}", _CAPTION),
    ]
    rows = [
        ("统一社会信用代码", licence["uscc"]),
        ("名称", licence["name"]),
        ("类型", licence["entity_type_zh"]),
        ("住所", licence["domicile"]),
        ("注册资本", f"{licence['registered_capital']} 元"),
        ("登记状态", licence["status"]["word"]),
        ("经营范围", licence["business_scope"]),
    ]
    registration = Table(
        [[_p(label, _LABEL), _p(value)] for label, value in rows],
        colWidths=[34 * mm, width - 34 * mm - (QR_SIZE_MM + 8) * mm],
        style=TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]
        ),
    )
    top = Table(
        [[registration, qr_block]],
        colWidths=[width - (QR_SIZE_MM + 8) * mm, (QR_SIZE_MM + 8) * mm],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
    )
    printed = printed_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    return [
        _p("营业执照", _TITLE),
        _p("证照通　一照通行　Business licence with its permits", _SUBTITLE),
        Spacer(1, 8 * mm),
        top,
        Spacer(1, 6 * mm),
        _p(f"经营许可（{len(licence['permits'])}）", _HEADING),
        _permits(licence["permits"], width),
        Spacer(1, 6 * mm),
        _p(
            "许可状态以扫码所见的实时状态为准；本打印件所列为打印时的状态。"
            "补发新打印件后，旧打印件扫码时将提示已被取代；声明作废的打印件不能证明经营资格。",
            _SMALL,
        ),
        _p(
            f"打印于 {printed}（北京时间）　签发机关 {issuer}",
            _SMALL,
        ),
        _p(
            "The statuses shown are those at printing; scanning the code shows the live ones.",
            _SMALL,
        ),
    ]


def _end(permit: Mapping[str, Any]) -> str:
    """The end date as the scan page shows it: only while the permit is (about to be) in force."""
    end = permit["shown_end"]
    return end["date"] if end and end["kind"] == "valid_until" else "—"


def _permits(permits: list[Mapping[str, Any]], width: float) -> Table:
    header = [_p(text, _LABEL) for text in ("许可事项", "部门", "编号", "状态", "有效期至")]
    rows = [
        [
            _p(p["name_zh"]),
            _p(p["department_name_zh"]),
            _p(p["permit_number"] or "—", _SMALL),
            _p(p["standing"]["word"]),
            _p(_end(p), _SMALL),
        ]
        for p in permits
    ]
    widths = [0.30, 0.22, 0.22, 0.10, 0.16]
    return Table(
        [header, *rows],
        colWidths=[w * width for w in widths],
        repeatRows=1,
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.HexColor("#BBBBBB")),
            ]
        ),
    )
