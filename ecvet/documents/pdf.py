"""A :class:`ecvet.documents.model.Document` as a PDF that a person can print, sign off and check.

Layout: title block, a reference line with the version and the full SHA-256 the document was
generated from (a printed copy can be compared with the platform), the sections (label/value pairs,
tables, paragraphs), the signatures (who, position, when, explicit or implicit, whether each counts
for this version), and on every page the page number and the generation time.

Text is set in DejaVu Sans from the Debian package ``fonts-dejavu-core`` (``make setup`` installs it):
it covers the Latin, Greek and Cyrillic scripts of every EU language. Without the font files
rendering fails with :class:`FontMissingError` naming the package, never with silently dropped letters; a
character outside the font (e.g. CJK) is printed as U+FFFD, visibly, while the JSON export keeps it.

Output is deterministic: the same document and generation time give the same bytes (the PDF's
creation date and file identifier derive from them), so tests compare renders.
"""
from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from ecvet.documents.i18n import say
from ecvet.documents.model import EMPTY, Document, Section, Signature, text
from engine.config import settings
from engine.errors import EngineError

__all__ = ["FONT_PACKAGE", "FontMissingError", "render"]

FONT_PACKAGE = "fonts-dejavu-core"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVuSans"
REPLACEMENT = "\ufffd"

_GREY = (90, 90, 90)
_LIGHT = (235, 235, 235)


class FontMissingError(EngineError):
    """The PDF font is not installed: the operator must install it (nothing the caller can fix)."""

    status = 503
    title = "Service unavailable"


def _font_paths(font_dir: Path) -> dict[str, Path]:
    paths = {style: font_dir / name for style, name in FONT_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FontMissingError(
            f"PDF documents need the DejaVu Sans fonts ({', '.join(missing)} not found): install the Debian "
            f"package {FONT_PACKAGE} (apt-get install -y {FONT_PACKAGE}, or `make setup`)"
        )
    return paths


@functools.lru_cache(maxsize=4)
def _covered(paths: tuple[Path, ...]) -> frozenset[int]:
    """Code points every style of the font can draw (a bold heading needs them as much as body text)."""
    sets = [set(TTFont(str(p), lazy=True).getBestCmap()) for p in paths]
    return frozenset(set.intersection(*sets))


class _Pdf(FPDF):
    """FPDF with the document's footer: page x of y, generation time, schema and short hash."""

    def __init__(self, footer_text: str, covered: frozenset[int]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.covered = covered
        self.languages: tuple[str, ...] = ("en",)

    def safe(self, value: str) -> str:
        """Keep every character the font draws; make the others visible instead of dropping them."""
        return "".join(c if ord(c) in self.covered or c in "\n\t" else REPLACEMENT for c in value)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(*_GREY)
        page = say(f"Page {self.page_no()} of {{nb}}", self.languages)
        self.cell(0, 4, self.safe(f"{page} · {self.footer_text}"), align="C")
        self.set_text_color(0, 0, 0)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def render(document: Document, *, generated_at: datetime | None = None, font_dir: Path | None = None) -> bytes:
    """The document as PDF bytes. ``generated_at`` (default: the document's ``issued_at``) is printed
    in the footer and is the PDF's creation date, so the same inputs give the same bytes."""
    paths = _font_paths(font_dir or settings().font_dir)
    moment = _utc(generated_at or document.issued_at or datetime(1970, 1, 1, tzinfo=UTC))
    footer = (f"Generated {moment.strftime('%Y-%m-%d %H:%M UTC')} by ECVET Flow · {document.schema} · "
              f"SHA-256 {document.content_hash[:16]}…")
    pdf = _Pdf(footer, _covered(tuple(paths.values())))
    pdf.languages = document.languages
    for style, path in paths.items():
        pdf.add_font(FAMILY, style, str(path))
    pdf.set_creation_date(moment)
    pdf.set_producer("ECVET Flow")
    pdf.set_creator("ECVET Flow")
    pdf.set_title(pdf.safe(document.title))
    pdf.set_subject(pdf.safe(document.subtitle or document.title))
    pdf.set_keywords(f"{document.schema} sha256:{document.content_hash}")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    _title_block(pdf, document)
    for section in document.sections:
        _section(pdf, section)
    _signatures(pdf, document.signatures, document.languages)
    return bytes(pdf.output())


def _line(pdf: _Pdf, value: str, *, size: float, style: str = "", height: float | None = None,
          grey: bool = False) -> None:
    pdf.set_font(FAMILY, style, size)
    if grey:
        pdf.set_text_color(*_GREY)
    pdf.multi_cell(0, height or size * 0.5, pdf.safe(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _title_block(pdf: _Pdf, document: Document) -> None:
    _line(pdf, document.title, size=18, style="B", height=9)
    if document.subtitle:
        _line(pdf, document.subtitle, size=11, height=6)
    pdf.ln(2)
    ref = document.reference
    langs = document.languages
    reference = " · ".join(say(p, langs) for p in (
        f"Reference {ref.code}" if ref.code else None,
        f"Version {ref.version}" if ref.version else None,
        f"Status: {document.status}" if document.status else None,
        f"Issued {text(document.issued_at)}" if document.issued_at else None,
    ) if p)
    if reference:
        _line(pdf, reference, size=9, height=5)
    basis = "the signed text" if ref.hash_basis == "record" else "this document's data"
    _line(pdf, say(f"SHA-256 of {basis}: {ref.content_hash}", langs), size=8, height=4.5, grey=True)
    pdf.ln(1)
    pdf.set_draw_color(*_GREY)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(3)


def _heading(pdf: _Pdf, heading: str, keep: float = 45) -> None:
    if pdf.get_y() > pdf.h - keep:  # keep a heading with at least a few lines of what follows
        pdf.add_page()
    pdf.ln(2)
    _line(pdf, heading, size=12, style="B", height=7)
    pdf.ln(1)


def _section(pdf: _Pdf, section: Section) -> None:
    _heading(pdf, section.heading)
    if section.fields:
        pdf.set_font(FAMILY, "", 9)
        with pdf.table(borders_layout=TableBordersLayout.NONE, first_row_as_headings=False, col_widths=(32, 68),
                       text_align="LEFT", v_align="TOP", line_height=4.6, padding=(0.6, 1, 0.6, 0)) as table:
            for label, value in section.fields:
                row = table.row()
                row.cell(pdf.safe(label), style=FontFace(emphasis="BOLD"))
                row.cell(pdf.safe(value))
        pdf.ln(1)
    if section.text:
        _line(pdf, section.text, size=9, height=4.6)
        pdf.ln(1)
    if section.table:
        _table(pdf, section.table.columns, section.table.rows)


def _table(pdf: _Pdf, columns: list[str], rows: list[list[str]], col_widths: tuple[float, ...] | None = None) -> None:
    pdf.set_font(FAMILY, "", 8)
    if not rows:
        _line(pdf, "(none)", size=8, height=4.5, grey=True)
        return
    with pdf.table(col_widths=col_widths, text_align="LEFT", v_align="TOP", line_height=4.2, padding=1,
                   headings_style=FontFace(emphasis="BOLD", fill_color=_LIGHT), repeat_headings=1) as table:
        head = table.row()
        for column in columns:
            head.cell(pdf.safe(column))
        for values in rows:
            row = table.row()
            for i in range(len(columns)):
                row.cell(pdf.safe(values[i] if i < len(values) else EMPTY))
    pdf.ln(2)


def _signatures(pdf: _Pdf, signatures: list[Signature], langs: tuple[str, ...]) -> None:
    _heading(pdf, say("Signatures", langs), keep=70)
    _line(pdf, say("A signature counts for this version when it was given for exactly this version's SHA-256; "
                   "signatures of other versions stay as evidence.", langs), size=8, height=4.2, grey=True)
    pdf.ln(1)
    rows = []
    for s in signatures:
        who = "\n".join(v for v in (s.name, s.position, s.email, f"at {s.place}" if s.place else None) if v) \
            or EMPTY
        rows.append([
            s.party, who, text(s.signed_at),
            say("implicit (no objection in time)" if s.mode == "implicit" else s.mode, langs),
            text(s.version), f"{s.content_hash[:12]}…" if s.content_hash else EMPTY,
            say("yes" if s.counts else "no", langs),
        ])
    columns = ["Party", "Signed by", "When", "How", "Version", "Text signed (SHA-256)", "Counts"]
    _table(pdf, [say(c, langs) for c in columns], rows,
           col_widths=(38, 40, 22, 22, 15, 24, 15))
