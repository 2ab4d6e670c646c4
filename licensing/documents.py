"""Material files at the window (申请材料的电子件): checked by their content, not their name;
kept in a document store — files under the data folder beside the SQLite store, a table in
PostgreSQL, so that one backup holds everything — and named in events only by id, SHA-256,
size, type and material."""

from __future__ import annotations

import hashlib
import io
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from domain.errors import NotFound

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
MEDIA_TYPES = (PDF, JPEG, PNG)

# What a PDF's compressed streams may inflate to, in all: scans are JPEG inside the PDF (not
# inflated here), so only a compression bomb comes near it.
PDF_MAX_INFLATED = 64 * 1024 * 1024
# Images: Pillow's own bomb guard is a warning up to twice this; here it is a refusal.
IMAGE_MAX_PIXELS = 60_000_000

_SIGNATURES = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)
_KNOWN = {
    b"PK\x03\x04": "a ZIP archive",
    b"PK\x05\x06": "an empty ZIP archive",
    b"\x1f\x8b": "a gzip file",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"GIF8": "a GIF image",
    b"MZ": "a Windows program",
    b"\x7fELF": "a Linux program",
    b"\xd0\xcf\x11\xe0": "an old Office document",
}


class DocumentRefused(Exception):
    """A file the window cannot take: `status` is the HTTP answer it deserves (413 too
    large, 415 not a PDF, JPEG or PNG by its content, 422 empty or damaged)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class CheckedFile:
    """What an event records of a file that passed the checks."""

    media_type: str
    sha256: str
    size: int


def check_file(data: bytes, *, max_bytes: int, filename: str | None = None) -> CheckedFile:
    """The file's type by its content (magic bytes, then the format's own structure), its
    size and SHA-256; DocumentRefused saying what is wrong with it."""
    if not data:
        raise DocumentRefused(422, "the file is empty")
    if len(data) > max_bytes:
        msg = f"the file has more than {max_bytes} bytes, the window's limit"
        raise DocumentRefused(413, msg)
    media_type = next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)
    if media_type is None:
        what = next((name for magic, name in _KNOWN.items() if data.startswith(magic)), None)
        named = f" although it is named {filename!r}" if filename else ""
        found = f"it is {what}" if what else "its content is of no known kind"
        msg = f"only PDF, JPEG and PNG files are taken: {found}{named}"
        raise DocumentRefused(415, msg)
    if media_type == PDF:
        _check_pdf(data)
    else:
        _check_image(data, media_type)
    return CheckedFile(
        media_type=media_type, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
    )


def _check_pdf(data: bytes) -> None:
    """A PDF that a department's reader will open: it parses, has pages, is not encrypted,
    carries no script or embedded files, and no stream inflates beyond PDF_MAX_INFLATED
    (a compression bomb)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    from pypdf.generic import StreamObject

    if b"%%EOF" not in data[-1024:]:
        raise DocumentRefused(422, "not a complete PDF: it does not end with %%EOF")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise DocumentRefused(422, "an encrypted PDF cannot be read by the departments")
        if len(reader.pages) == 0:
            raise DocumentRefused(422, "the PDF has no pages")
        root: Any = reader.trailer["/Root"].get_object()
        names: Any = root.get("/Names")
        names = names.get_object() if names is not None else {}
        if "/EmbeddedFiles" in names or "/JavaScript" in names or "/OpenAction" in root:
            raise DocumentRefused(422, "the PDF carries embedded files or scripts")
        inflated = 0
        for number in _object_numbers(reader):
            obj = reader.get_object(number)
            if isinstance(obj, StreamObject):
                inflated += _inflated_size(obj, PDF_MAX_INFLATED - inflated)
    except DocumentRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, zlib.error) as error:
        raise DocumentRefused(422, f"not a readable PDF: {error}") from None


def _object_numbers(reader: Any) -> Iterator[int]:
    seen: set[int] = set()
    for numbers in reader.xref.values():
        seen.update(numbers)
    seen.update(reader.xref_objStm)
    yield from sorted(seen)


def _inflated_size(stream: Any, budget: int) -> int:
    """What a stream's Flate filter inflates it to, refused beyond `budget` bytes. Other
    filters (DCT, JPX, CCITT: images) are left as they are."""
    filters = stream.get("/Filter")
    names = [str(f) for f in filters] if isinstance(filters, list) else [str(filters)]
    if "/FlateDecode" not in names:
        return len(stream._data)
    inflater = zlib.decompressobj()
    total = 0
    chunk = stream._data
    while chunk:
        out = inflater.decompress(chunk, 1024 * 1024)
        total += len(out)
        if total > budget:
            msg = f"the PDF's streams inflate beyond {PDF_MAX_INFLATED} bytes: a compression bomb"
            raise DocumentRefused(422, msg)
        chunk = inflater.unconsumed_tail
    return total


def _check_image(data: bytes, media_type: str) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > IMAGE_MAX_PIXELS:
                msg = f"the image has {width}×{height} pixels, more than {IMAGE_MAX_PIXELS}"
                raise DocumentRefused(422, msg)
            image.verify()
            kind = {"JPEG": JPEG, "PNG": PNG}.get(image.format or "")
    except DocumentRefused:
        raise
    except Exception as error:  # Pillow raises many kinds for a damaged file
        raise DocumentRefused(422, f"not a readable image: {error}") from None
    if kind != media_type:
        raise DocumentRefused(422, "the image's content does not match its signature")


# --- the store --------------------------------------------------------------------------


class DocumentStore(Protocol):
    """Bytes by document id. Written once; deleted only when the command that was to record
    the upload did not (nothing recorded names it then)."""

    def put(self, document_id: UUID, data: bytes) -> None: ...

    def get(self, document_id: UUID) -> bytes: ...

    def discard(self, document_id: UUID) -> None: ...

    def ids(self) -> list[UUID]: ...


class FileDocumentStore:
    """Each document a file named by its id under `documents/` in the data folder (0600)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, document_id: UUID) -> Path:
        return self.folder / str(document_id)

    def put(self, document_id: UUID, data: bytes) -> None:
        path = self._path(document_id)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def get(self, document_id: UUID) -> bytes:
        try:
            return self._path(document_id).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no document {document_id} in the document store") from None

    def discard(self, document_id: UUID) -> None:
        self._path(document_id).unlink(missing_ok=True)

    def ids(self) -> list[UUID]:
        return sorted(UUID(p.name) for p in self.folder.iterdir() if p.suffix != ".tmp")


class PostgresDocumentStore:
    """Documents in the store's own schema (`licensing_documents`), beside the events."""

    TABLE = "licensing_documents"

    def __init__(self, datastore: Any) -> None:
        from psycopg.sql import SQL, Identifier

        self.datastore = datastore
        self.table = SQL("{}.{}").format(Identifier(datastore.schema), Identifier(self.TABLE))
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (document_id uuid PRIMARY KEY, "
                    "content bytea NOT NULL, stored_at timestamptz NOT NULL DEFAULT now())"
                ).format(self.table)
            )

    def put(self, document_id: UUID, data: bytes) -> None:
        from psycopg.sql import SQL

        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                SQL("INSERT INTO {} (document_id, content) VALUES (%s, %s)").format(self.table),
                (document_id, data),
            )

    def get(self, document_id: UUID) -> bytes:
        from psycopg.sql import SQL

        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                SQL("SELECT content FROM {} WHERE document_id = %s").format(self.table),
                (document_id,),
            )
            row = cursor.fetchone()
        if row is None:
            raise NotFound(f"no document {document_id} in the document store")
        return bytes(row["content"])

    def discard(self, document_id: UUID) -> None:
        from psycopg.sql import SQL

        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                SQL("DELETE FROM {} WHERE document_id = %s").format(self.table), (document_id,)
            )

    def ids(self) -> list[UUID]:
        from psycopg.sql import SQL

        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                SQL("SELECT document_id FROM {} ORDER BY document_id").format(self.table)
            )
            return [UUID(str(row["document_id"])) for row in cursor.fetchall()]


def open_document_store(store: Any, data_dir: Path) -> DocumentStore:
    """The document store beside the event store: a table on PostgreSQL, files otherwise."""
    recorder = store.recorder
    if type(recorder).__module__.startswith("eventsourcing.postgres"):
        return PostgresDocumentStore(recorder.datastore)
    return FileDocumentStore(data_dir / "documents")
