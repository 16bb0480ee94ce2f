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

For filing: the issuing organisation's letterhead (logo and address, :class:`Letterhead`) heads the first
page; each signature is a block with the signer, the place and date and the full SHA-256 of the text
signed; table columns are as wide as their longest word (:func:`fit_columns`), so no word, e-mail address or
hash is broken mid-word; and the file is PDF/A-2U (ISO 19005-2, fpdf2's ``enforce_compliance``: fonts
embedded, sRGB output intent, XMP metadata, Unicode text), the archival profile fpdf2 supports.
"""
from __future__ import annotations

import functools
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
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

__all__ = ["COMPLIANCE", "FAMILY", "FONT_PACKAGE", "FPDF", "FontMissingError", "Letterhead", "fit_columns", "render"]

FONT_PACKAGE = "fonts-dejavu-core"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVuSans"
REPLACEMENT = "\ufffd"

_GREY = (90, 90, 90)
_LIGHT = (235, 235, 235)
#: The archival profile of every PDF (fpdf2 checks what it can of it while writing).
COMPLIANCE = "PDF/A-2U"
#: The smallest font a table shrinks to so that its longest words fit their columns.
MIN_TABLE_SIZE = 6.0
LOGO_HEIGHT = 16.0
LOGO_MAX_WIDTH = 45.0


@dataclass(frozen=True)
class Letterhead:
    """What heads the first page: the issuing organisation's name, address and logo (a PNG checked and
    re-encoded on upload, with its size in pixels)."""

    name: str
    address: str | None = None
    logo_png: bytes | None = None
    logo_size: tuple[int, int] | None = None


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

    def __init__(self, footer_text: str, footer_hash: str, covered: frozenset[int]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4", enforce_compliance=COMPLIANCE)
        self.footer_text = footer_text
        self.footer_hash = footer_hash
        self.covered = covered
        self.languages: tuple[str, ...] = ("en",)

    def safe(self, value: str) -> str:
        """Keep every character the font draws; make the others visible instead of dropping them."""
        return "".join(c if ord(c) in self.covered or c in "\n\t" else REPLACEMENT for c in value)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(*_GREY)
        page = say(f"Page {self.page_no()} of {{nb}}", self.languages)
        self.cell(0, 3.5, self.safe(f"{page} · {self.footer_text}"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 3.5, f"SHA-256 {self.footer_hash}", align="C")
        self.set_text_color(0, 0, 0)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def render(document: Document, *, generated_at: datetime | None = None, font_dir: Path | None = None,
           letterhead: Letterhead | None = None) -> bytes:
    """The document as PDF/A bytes, under `letterhead` when given. ``generated_at`` (default: the
    document's ``issued_at``) is printed in the footer and is the PDF's creation date, so the same inputs
    give the same bytes."""
    paths = _font_paths(font_dir or settings().font_dir)
    moment = _utc(generated_at or document.issued_at or datetime(1970, 1, 1, tzinfo=UTC))
    footer = f"Generated {moment.strftime('%Y-%m-%d %H:%M UTC')} by ECVET Flow · {document.schema}"
    pdf = _Pdf(footer, document.content_hash, _covered(tuple(paths.values())))
    pdf.languages = document.languages
    for style, path in paths.items():
        pdf.add_font(FAMILY, style, str(path))
    pdf.set_creation_date(moment)
    pdf.set_producer("ECVET Flow")
    pdf.set_creator("ECVET Flow")
    pdf.set_title(pdf.safe(document.title))
    pdf.set_subject(pdf.safe(document.subtitle or document.title))
    pdf.set_keywords(f"{document.schema} sha256:{document.content_hash}")
    pdf.set_xmp_metadata(_xmp(pdf, moment))
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    if letterhead is not None:
        _letterhead(pdf, letterhead)
    _title_block(pdf, document)
    for section in document.sections:
        _section(pdf, section)
    _signatures(pdf, document.signatures, document.languages)
    return bytes(pdf.output())


def _xmp(pdf: _Pdf, moment: datetime) -> str:
    """The PDF/A metadata (XMP) fpdf2 would write, but dated `moment` throughout: fpdf2 stamps the
    modification date with the wall clock, which would make two renders of the same document differ."""
    def esc(value: object) -> str:
        text = value if isinstance(value, str) else " ".join(value) if isinstance(value, list | tuple) else ""
        return html.escape(text, quote=True).replace("'", "&apos;")
    when = moment.isoformat(timespec="seconds")
    return "\n".join([
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="fpdf2">',
        '  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"',
        '    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
        '    xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">',
        f'    <rdf:Description rdf:about="" xmp:CreatorTool="{esc(pdf.creator)}" xmp:CreateDate="{when}"',
        f'        xmp:ModifyDate="{when}" xmp:MetadataDate="{when}" pdf:Producer="{esc(pdf.producer)}"',
        f'        pdf:Keywords="{esc(pdf.keywords)}">',
        "      <pdfaid:part>2</pdfaid:part>",
        "      <pdfaid:conformance>U</pdfaid:conformance>",
        f'      <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{esc(pdf.title)}</rdf:li></rdf:Alt></dc:title>',
        f'      <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{esc(pdf.subject)}</rdf:li></rdf:Alt>'
        "</dc:description>",
        "    </rdf:Description>",
        "  </rdf:RDF>",
        "</x:xmpmeta>",
    ])


def _line(pdf: _Pdf, value: str, *, size: float, style: str = "", height: float | None = None,
          grey: bool = False) -> None:
    pdf.set_font(FAMILY, style, size)
    if grey:
        pdf.set_text_color(*_GREY)
    # Ragged right: justified lines would stretch the gaps of a wrapped heading or a hash line.
    pdf.multi_cell(0, height or size * 0.5, pdf.safe(value), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
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
        pairs = [[pdf.safe(label), pdf.safe(value)] for label, value in section.fields]
        size, widths = fit_columns(pdf, pairs, size=9, pad=1, bold_first_column=True, weights=(32, 68))
        pdf.set_font(FAMILY, "", size)
        with pdf.table(borders_layout=TableBordersLayout.NONE, first_row_as_headings=False, col_widths=widths,
                       text_align="LEFT", v_align="TOP", line_height=size * 0.51, padding=(0.6, 1, 0.6, 0)) as table:
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


def _table(pdf: _Pdf, columns: list[str], rows: list[list[str]]) -> None:
    if not rows:
        _line(pdf, "(none)", size=8, height=4.5, grey=True)
        return
    cells = [[pdf.safe(c) for c in columns]] + [[pdf.safe(r[i] if i < len(r) else EMPTY) for i in range(len(columns))]
                                                 for r in rows]
    size, widths = fit_columns(pdf, cells, size=8, pad=2, bold_first_row=True)
    pdf.set_font(FAMILY, "", size)
    with pdf.table(col_widths=widths, text_align="LEFT", v_align="TOP", line_height=size * 0.525, padding=1,
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
    """One block per signature: who signed for which party, place and date, how, and the full hash signed."""
    _heading(pdf, say("Signatures", langs), keep=70)
    _line(pdf, say("A signature counts for this version when it was given for exactly this version's SHA-256; "
                   "signatures of other versions stay as evidence.", langs), size=8, height=4.2, grey=True)
    pdf.ln(1)
    if not signatures:
        _line(pdf, "(none)", size=8, height=4.5, grey=True)
    for s in signatures:
        place_date = ", ".join(v for v in (s.place, text(s.signed_at) if s.signed_at else None) if v) or EMPTY
        who = ", ".join(v for v in (s.name, s.position) if v) or EMPTY
        rows = [
            (say("Signed by", langs), who),
            (say("E-mail", langs), s.email or EMPTY),
            (say("Place and date", langs), place_date),
            (say("How", langs), say("implicit (no objection in time)" if s.mode == "implicit" else s.mode, langs)),
            *([(say("Version", langs), text(s.version))] if s.version is not None else []),
            (say("SHA-256 of the text signed", langs), s.content_hash or EMPTY),
            (say("Valid for this version", langs), say("yes" if s.counts else "no", langs)),
        ]
        cells = [[pdf.safe(label), pdf.safe(value)] for label, value in rows]
        size, widths = fit_columns(pdf, cells, size=8, pad=2, bold_first_column=True, weights=(30, 70))
        if pdf.get_y() > pdf.h - 85:  # a signature block stays on one page
            pdf.add_page()
        pdf.set_font(FAMILY, "", size)
        with pdf.table(col_widths=widths, text_align="LEFT", v_align="TOP", line_height=size * 0.525, padding=1,
                       first_row_as_headings=False) as table:
            head = table.row()
            head.cell(pdf.safe(s.party), colspan=2, style=FontFace(emphasis="BOLD", fill_color=_LIGHT))
            for label, value in cells:
                row = table.row()
                row.cell(label, style=FontFace(emphasis="BOLD"))
                row.cell(value)
        pdf.ln(2)


def _letterhead(pdf: _Pdf, head: Letterhead) -> None:
    """Logo on the left, the organisation's name and address beside it, a rule under both."""
    top, x = pdf.get_y(), pdf.l_margin
    width = 0.0
    if head.logo_png and head.logo_size and head.logo_size[1] > 0:
        ratio = head.logo_size[0] / head.logo_size[1]
        height = LOGO_HEIGHT
        width = min(LOGO_MAX_WIDTH, height * ratio)
        height = width / ratio
        pdf.image(io.BytesIO(head.logo_png), x=x, y=top, w=width, h=height)
        bottom = top + height
    else:
        bottom = top
    pdf.set_xy(x + (width + 4 if width else 0), top)
    column = pdf.epw - (width + 4 if width else 0)
    pdf.set_font(FAMILY, "B", 10)
    pdf.multi_cell(column, 5, pdf.safe(head.name), new_x=XPos.LEFT, new_y=YPos.NEXT)
    if head.address:
        pdf.set_font(FAMILY, "", 8)
        pdf.set_text_color(*_GREY)
        pdf.multi_cell(column, 3.8, pdf.safe(head.address), new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.set_y(max(bottom, pdf.get_y()) + 2)
    pdf.set_draw_color(*_GREY)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)


def _longest_word(pdf: FPDF, value: str) -> float:
    return max((pdf.get_string_width(word) for word in value.split()), default=0.0)


def fit_columns(pdf: FPDF, cells: Sequence[Sequence[str]], *, size: float, pad: float,
                bold_first_row: bool = False, bold_first_column: bool = False,
                weights: Sequence[float] | None = None) -> tuple[float, tuple[float, ...]]:
    """A font size and column widths (mm, summing to the page's text width) at which every word of every
    cell fits its column, so none is broken mid-word: each column is at least as wide as its longest word
    (plus `pad`), the columns take `weights` when the words fit them, else the rest of the width goes
    where the text is long; when even the
    longest words do not fit side by side the size shrinks, down to :data:`MIN_TABLE_SIZE`."""
    columns = max((len(r) for r in cells), default=0)
    if columns == 0:
        return size, ()
    available = pdf.epw
    current = size
    while True:
        need, natural = [0.0] * columns, [0.0] * columns
        for i, row in enumerate(cells):
            for j, value in enumerate(row):
                bold = (bold_first_row and i == 0) or (bold_first_column and j == 0)
                pdf.set_font(FAMILY, "B" if bold else "", current)
                need[j] = max(need[j], _longest_word(pdf, value) + pad + 0.3)
                natural[j] = max(natural[j], min(pdf.get_string_width(value), available) + pad)
        if sum(need) <= available or current <= MIN_TABLE_SIZE:
            break
        current = max(MIN_TABLE_SIZE, current - 0.5)
    extra = available - sum(need)
    if extra <= 0:
        return current, tuple(need)
    if weights is not None and len(weights) == columns:
        # the layout asked for (label and value columns alike in every section) wherever its words fit
        share = tuple(available * w / sum(weights) for w in weights)
        if all(share[j] >= need[j] for j in range(columns)):
            return current, share
    wanted = [max(0.0, natural[j] - need[j]) for j in range(columns)]
    total_wanted = sum(wanted)
    if total_wanted <= 0:
        return current, tuple(n + extra / columns for n in need)
    if total_wanted <= extra:
        spare = (extra - total_wanted) / columns
        return current, tuple(need[j] + wanted[j] + spare for j in range(columns))
    return current, tuple(need[j] + extra * wanted[j] / total_wanted for j in range(columns))
