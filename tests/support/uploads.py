"""Sample uploads: the smallest files each accepted document type is recognised by, and a ZIP builder."""
from __future__ import annotations

import io
import zipfile

from ecvet.partnership import attachments

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def package(members: list[tuple[str, bytes]], *, stored_first: bool = True) -> bytes:
    """A ZIP with these members, the first stored uncompressed (as ODF requires) unless told otherwise."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i, (name, data) in enumerate(members):
            method = zipfile.ZIP_STORED if (i == 0 and stored_first) else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buffer.getvalue()


ODT = package([("mimetype", attachments.ODT.encode()), ("content.xml", b"<office:document-content/>"),
               ("META-INF/manifest.xml", b"<manifest/>")])
DOCX = package([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>"),
                ("_rels/.rels", b"<Relationships/>")])
