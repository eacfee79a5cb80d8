"""The certificate of registration a holder receives, rendered as a one-page A4 PDF.

When the agency approves a declaration, the holder can download a certificate showing the
registration number, the holder's name and TIN, the dates and the published version, and a QR
code pointing to the public verification page. This module only draws: it takes a
`CertificateContent` the caller has already prepared (masked TIN, absolute URL, code) and returns
the PDF bytes, touching neither the database nor the file system beyond the fonts.

Why it is built this way:

* reportlab's built-in Type 1 fonts have no Cyrillic, so the DejaVu TrueType fonts shipped in
  `register/fonts` are registered once and embedded (as subsets) in every PDF; Kyrgyz letters
  (ң, ө and the straight u) then print and extract correctly.
* The QR code is drawn as vector rectangles from segno's module matrix: sharp at any zoom, no
  temporary files, no image library.
* The canvas is created with `invariant=1`, so the same content always gives the same bytes (no
  creation date or random document ID); only `issued_at`, printed on the page, varies.
* Names can be up to 500 characters: they are wrapped to the width of the value column and the
  font is shrunk when the name would not fit in its space, so nothing runs off the page.

Labels go through flask_babel, so `render_pdf` must be called inside an app or request context.
The content is personal data: it is never logged.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import segno
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
_FONT_FILES = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf"}
_fonts_lock = threading.Lock()

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 56.0  # about 20 mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
LABEL_WIDTH = 150.0
VALUE_X = MARGIN + LABEL_WIDTH
VALUE_WIDTH = PAGE_WIDTH - MARGIN - VALUE_X

LABEL_SIZE = 10.0
VALUE_SIZE = 12.0
# The holder's name: the largest size from NAME_SIZES whose lines fit in NAME_MAX_HEIGHT.
NAME_SIZES = (14.0, 13.0, 12.0, 11.0, 10.0, 9.0, 8.0)
NAME_MAX_HEIGHT = 150.0
SHORT_NAME_SIZES = (12.0, 11.0, 10.0, 9.0, 8.0)
SHORT_NAME_MAX_HEIGHT = 65.0
LEADING = 1.3  # line height as a multiple of the font size
ROW_GAP = 10.0

QR_SIZE = 130.0  # side of the printed QR code, quiet zone included, in points
QR_BORDER = 4  # quiet zone in modules, as the QR standard asks

INK = HexColor("#0b0c0c")
MUTED = HexColor("#505a5f")
ACCENT = HexColor("#1d70b8")


@dataclass(frozen=True)
class CertificateContent:
    """What a certificate shows; prepared (and masked where needed) by the caller."""

    registration_number: str
    legal_name: str
    short_name: str | None
    tin: str
    registered_on: date
    version: int
    version_published_on: date
    issued_at: datetime
    verify_url: str
    code: str


def register_fonts() -> None:
    """Register the DejaVu fonts with reportlab, once per process (safe to call repeatedly)."""
    with _fonts_lock:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name, filename in _FONT_FILES.items():
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, str(FONTS_DIR / filename)))


def wrap_name(name: str, font_size: float, width: float, font: str = FONT_BOLD) -> list[str]:
    """Split `name` into lines no wider than `width` points in `font` at `font_size`.

    Words are kept whole where they fit; a word wider than a line (a long URL, a name without
    spaces) is cut between characters. Runs of whitespace collapse to one space. An empty or
    blank name gives no lines.
    """
    register_fonts()

    def fits(text: str) -> bool:
        return pdfmetrics.stringWidth(text, font, font_size) <= width

    lines: list[str] = []
    current = ""
    for word in name.split():
        candidate = f"{current} {word}" if current else word
        if fits(candidate):
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        while not fits(word):
            cut = _longest_fitting_prefix(word, fits)
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def _longest_fitting_prefix(word: str, fits: Callable[[str], bool]) -> int:
    """The length of the longest prefix of `word` that fits (at least one character)."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(word[:middle]):
            low = middle
        else:
            high = middle - 1
    return low


def fit_name(
    name: str, sizes: Sequence[float] = NAME_SIZES, max_height: float = NAME_MAX_HEIGHT
) -> tuple[float, list[str]]:
    """The font size and lines for a name: the largest of `sizes` whose lines fit `max_height`.

    If even the smallest size overflows (which 500 characters do not with the defaults), the
    smallest size is used; the lines still never exceed the column width.
    """
    lines: list[str] = []
    for size in sizes:
        lines = wrap_name(name, size, VALUE_WIDTH)
        if len(lines) * size * LEADING <= max_height:
            return size, lines
    return sizes[-1], lines


def qr_modules(url: str) -> list[tuple[int, int]]:
    """The dark modules of the QR code for `url`, as (column, row) from the top-left corner."""
    return _dark_modules(_make_qr(url))


def _make_qr(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def _dark_modules(qr: segno.QRCode) -> list[tuple[int, int]]:
    return [
        (column, row)
        for row, values in enumerate(qr.matrix)
        for column, value in enumerate(values)
        if value
    ]


def _runs(modules: Sequence[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Group (column, row) modules, given row by row, into (column, row, length) runs."""
    runs: list[tuple[int, int, int]] = []
    for column, row in modules:
        if runs:
            start, last_row, length = runs[-1]
            if last_row == row and start + length == column:
                runs[-1] = (start, row, length + 1)
                continue
        runs.append((column, row, 1))
    return runs


def render_pdf(content: CertificateContent) -> bytes:
    """The certificate as PDF bytes; call inside an app or request context (labels, dates).

    The same content always gives the same bytes.
    """
    register_fonts()
    agency = _("State Agency for Personal Data Protection of the Kyrgyz Republic")
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, initialFontName=FONT)
    canvas.setPageCompression(1)
    canvas.setTitle(_("Certificate %(number)s", number=content.registration_number))
    canvas.setAuthor(agency)
    canvas.setSubject(_("Register of Personal Data Holders"))
    canvas.setCreator(_("Register of Personal Data Holders"))

    _draw_frame(canvas)
    y = _draw_header(canvas, agency)
    _draw_fields(canvas, content, y - 36)
    _draw_verification(canvas, content)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_frame(canvas: Canvas) -> None:
    inset = 24.0
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(2)
    canvas.rect(inset, inset, PAGE_WIDTH - 2 * inset, PAGE_HEIGHT - 2 * inset)
    canvas.setLineWidth(0.5)
    canvas.rect(inset + 5, inset + 5, PAGE_WIDTH - 2 * inset - 10, PAGE_HEIGHT - 2 * inset - 10)


def _draw_centred_lines(
    canvas: Canvas, lines: Sequence[str], font: str, size: float, y: float, color: Color
) -> float:
    """Draw lines centred on the page from baseline `y` downwards; the next free baseline."""
    canvas.setFont(font, size)
    canvas.setFillColor(color)
    for line in lines:
        canvas.drawCentredString(PAGE_WIDTH / 2, y, line)
        y -= size * LEADING
    return y


def _draw_header(canvas: Canvas, agency: str) -> float:
    y = PAGE_HEIGHT - MARGIN - 10
    y = _draw_centred_lines(canvas, wrap_name(agency, 11, CONTENT_WIDTH, FONT), FONT, 11, y, MUTED)
    y = _draw_centred_lines(
        canvas,
        wrap_name(_("Register of Personal Data Holders"), 11, CONTENT_WIDTH, FONT),
        FONT,
        11,
        y,
        MUTED,
    )
    y -= 30
    y = _draw_centred_lines(
        canvas,
        wrap_name(_("Certificate of registration"), 24, CONTENT_WIDTH),
        FONT_BOLD,
        24,
        y,
        INK,
    )
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(1)
    canvas.line(MARGIN, y + 6, PAGE_WIDTH - MARGIN, y + 6)
    return y


def _draw_row(
    canvas: Canvas, label: str, lines: Sequence[str], size: float, y: float, font: str = FONT_BOLD
) -> float:
    """Draw a label and its (already wrapped) value from baseline `y`; the next row's baseline."""
    label_lines = wrap_name(label, LABEL_SIZE, LABEL_WIDTH - 12, FONT)
    canvas.setFont(FONT, LABEL_SIZE)
    canvas.setFillColor(MUTED)
    label_y = y
    for line in label_lines:
        canvas.drawString(MARGIN, label_y, line)
        label_y -= LABEL_SIZE * LEADING
    canvas.setFont(font, size)
    canvas.setFillColor(INK)
    value_y = y
    for line in lines:
        canvas.drawString(VALUE_X, value_y, line)
        value_y -= size * LEADING
    return min(label_y, value_y) - ROW_GAP


def _draw_fields(canvas: Canvas, content: CertificateContent, y: float) -> float:
    def value(text: str) -> list[str]:
        return wrap_name(text, VALUE_SIZE, VALUE_WIDTH)

    y = _draw_row(canvas, _("Registration number"), value(content.registration_number), 16, y)
    name_size, name_lines = fit_name(content.legal_name)
    y = _draw_row(canvas, _("Holder"), name_lines, name_size, y)
    if content.short_name:
        short_size, short_lines = fit_name(
            content.short_name, SHORT_NAME_SIZES, SHORT_NAME_MAX_HEIGHT
        )
        y = _draw_row(canvas, _("Short name"), short_lines, short_size, y)
    rows = (
        (_("TIN"), content.tin),
        (_("Registered on"), format_date(content.registered_on, "long")),
        (_("Version"), str(content.version)),
        (_("Version published on"), format_date(content.version_published_on, "long")),
        (_("Issued"), format_datetime(content.issued_at, "medium")),
    )
    for label, text in rows:
        y = _draw_row(canvas, label, value(text), VALUE_SIZE, y)
    return y


def _draw_verification(canvas: Canvas, content: CertificateContent) -> None:
    """The QR code at the bottom left, with the instruction, the URL and the code beside it."""
    bottom = MARGIN
    qr = _make_qr(content.verify_url)
    size = len(qr.matrix)
    module = QR_SIZE / (size + 2 * QR_BORDER)
    left = MARGIN
    top = bottom + QR_SIZE - QR_BORDER * module

    canvas.setFillColor(INK)
    path = canvas.beginPath()
    # One rectangle per horizontal run of dark modules: fewer operators, same picture.
    for column, row, length in _runs(_dark_modules(qr)):
        path.rect(
            left + (QR_BORDER + column) * module, top - (row + 1) * module, length * module, module
        )
    canvas.drawPath(path, stroke=0, fill=1)

    text_x = left + QR_SIZE + 12
    text_width = PAGE_WIDTH - MARGIN - text_x
    y = bottom + QR_SIZE - QR_BORDER * module - 10
    canvas.setFont(FONT, 10)
    canvas.setFillColor(MUTED)
    for line in wrap_name(
        _("Check that this certificate is valid: scan the code or open"), 10, text_width, FONT
    ):
        canvas.drawString(text_x, y, line)
        y -= 10 * LEADING
    canvas.setFont(FONT, 9)
    canvas.setFillColor(ACCENT)
    for line in wrap_name(content.verify_url, 9, text_width, FONT):
        canvas.drawString(text_x, y, line)
        y -= 9 * LEADING
    y -= 6
    canvas.setFont(FONT_BOLD, 14)
    canvas.setFillColor(INK)
    for line in wrap_name(content.code, 14, text_width):
        canvas.drawString(text_x, y, line)
        y -= 14 * LEADING
