# ruff: noqa: RUF001 - holder names are Kyrgyz, in Cyrillic
"""The certificate PDF: Kyrgyz text survives, fonts are embedded, long names fit, the QR code
encodes the verification URL and the output is deterministic."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
import segno
from flask import Flask
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from reportlab.pdfbase import pdfmetrics

from register.services import certificate_pdf
from register.services.certificate_pdf import (
    FONT_BOLD,
    VALUE_WIDTH,
    CertificateContent,
    fit_name,
    qr_modules,
    render_pdf,
    wrap_name,
)

KYRGYZ_NAME = "Өзгөн шаардык Үй-бүлөлүк медицина борбору «Саламаттык» жана Кеңеш"
ONE_LINE_NAME = "Өзгөн Үй-бүлөлүк Кеңеш"
SHORT_KYRGYZ = "ҢӨҮ Кеңеш"
URL = "http://127.0.0.1:5000/verify/3f9a1c0b7d2e4f6a8b9c0d1e2f3a4b5c"


def make_content(**changes: Any) -> CertificateContent:
    content = CertificateContent(
        registration_number="PDH-2026-000042",
        legal_name=KYRGYZ_NAME,
        short_name=SHORT_KYRGYZ,
        tin="2•••••••••••12",
        registered_on=date(2026, 3, 2),
        version=7,
        version_published_on=date(2026, 5, 14),
        issued_at=datetime(2026, 5, 15, 9, 30, tzinfo=UTC),
        verify_url=URL,
        code="K7QX-29MD",
    )
    return dataclasses.replace(content, **changes)


def render(app: Flask, content: CertificateContent) -> bytes:
    with app.test_request_context():
        return render_pdf(content)


def page_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def test_text_holds_the_content_with_kyrgyz_letters(app: Flask) -> None:
    pdf = render(app, make_content(legal_name=ONE_LINE_NAME))
    assert pdf.startswith(b"%PDF-")
    text = page_text(pdf)
    assert "PDH-2026-000042" in text
    assert ONE_LINE_NAME in text
    assert SHORT_KYRGYZ in text
    for letter in "ңөүҢӨҮ":
        assert text.count(letter) == (ONE_LINE_NAME + SHORT_KYRGYZ).count(letter)
    assert "2•••••••••••12" in text
    assert re.search(r"Version\s+7\s", text)
    assert "Certificate of registration" in text
    assert URL in text
    assert "K7QX-29MD" in text
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.title == "Certificate PDH-2026-000042"
    assert metadata.author == "State Agency for Personal Data Protection of the Kyrgyz Republic"


def test_a_wrapped_name_comes_out_line_by_line(app: Flask) -> None:
    _, lines = fit_name(KYRGYZ_NAME)
    assert len(lines) == 2
    assert " ".join(lines) == KYRGYZ_NAME
    text = page_text(render(app, make_content()))
    for line in lines:
        assert line in text


def test_fonts_are_embedded(app: Flask) -> None:
    page = PdfReader(io.BytesIO(render(app, make_content()))).pages[0]
    resources = page["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    fonts = resources["/Font"].get_object()
    assert isinstance(fonts, DictionaryObject)
    base_fonts = []
    for reference in fonts.values():
        font = reference.get_object()
        assert isinstance(font, DictionaryObject)
        base_fonts.append(str(font["/BaseFont"]))
        assert "DejaVuSans" in str(font["/BaseFont"])
        descriptor = font["/FontDescriptor"].get_object()
        assert isinstance(descriptor, DictionaryObject)
        assert "/FontFile2" in descriptor
    assert any(name.endswith("DejaVuSans") for name in base_fonts)
    assert any(name.endswith("DejaVuSans-Bold") for name in base_fonts)


def test_a_500_character_name_wraps_inside_the_page(app: Flask) -> None:
    words = ["Өзгөн", "Кеңеш", "Үй-бүлөлүк", "борбору", "жана", "медицина"]
    name = " ".join(words[i % len(words)] for i in range(100))[:500].strip()
    assert len(name) >= 499

    size, lines = fit_name(name)
    assert len(lines) > 1
    assert size < certificate_pdf.NAME_SIZES[0]  # shrunk to fit its space
    assert len(lines) * size * certificate_pdf.LEADING <= certificate_pdf.NAME_MAX_HEIGHT
    for line in lines:
        assert pdfmetrics.stringWidth(line, FONT_BOLD, size) <= VALUE_WIDTH
    assert " ".join(lines) == name
    assert certificate_pdf.VALUE_X + VALUE_WIDTH <= certificate_pdf.PAGE_WIDTH

    text = page_text(render(app, make_content(legal_name=name)))
    for line in lines:
        assert line in text


def test_wrap_name_cuts_words_wider_than_a_line() -> None:
    word = "Ө" * 300
    lines = wrap_name(word, 12, 200)
    assert "".join(lines) == word
    assert all(pdfmetrics.stringWidth(line, FONT_BOLD, 12) <= 200 for line in lines)
    assert wrap_name("  ", 12, 200) == []
    assert wrap_name("Кеңеш  жана\n борбор", 12, 500) == ["Кеңеш жана борбор"]


def test_qr_code_encodes_the_verification_url() -> None:
    modules = qr_modules(URL)
    matrix = segno.make(URL, error="m", micro=False).matrix
    expected = [
        (column, row)
        for row, values in enumerate(matrix)
        for column, value in enumerate(values)
        if value
    ]
    assert modules
    assert modules == expected
    size = len(matrix)
    assert all(0 <= column < size and 0 <= row < size for column, row in modules)
    # The rectangles drawn (runs of modules) cover exactly the dark modules.
    runs = certificate_pdf._runs(modules)
    drawn = [(column + i, row) for column, row, length in runs for i in range(length)]
    assert drawn == expected
    assert len(runs) < len(modules)


@pytest.mark.parametrize("short_name", [SHORT_KYRGYZ, None])
def test_two_renders_are_identical(app: Flask, short_name: str | None) -> None:
    content = make_content(short_name=short_name)
    assert render(app, content) == render(app, content)


def test_issued_time_changes_the_output(app: Flask) -> None:
    first = render(app, make_content())
    later = render(app, make_content(issued_at=datetime(2026, 5, 16, 9, 30, tzinfo=UTC)))
    assert first != later
    assert "Short name" not in page_text(render(app, make_content(short_name=None)))
