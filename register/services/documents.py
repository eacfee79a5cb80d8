"""Documents a holder uploads (proof of the authority to act for an organisation).

A file is accepted by what it is, not by what it is called: its first bytes must be those of a
PDF, a PNG or a JPEG, and it may be at most 10 MB. Its content and its name are stored
encrypted in the database (DESIGN.md §4); the listing never loads the content.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from register.extensions import db
from register.models import Document, DocumentKind, Organisation, User
from register.services import activity

MAX_BYTES = 10 * 1024 * 1024
FILENAME_MAX_LENGTH = 200

# Magic numbers at the start of each accepted type.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
}
TYPE_LABELS = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}
_KNOWN_EXTENSIONS = {extension for group in EXTENSIONS.values() for extension in group}
# Characters that mean something to file systems or to the Content-Disposition header.
_UNSAFE = re.compile(r'[<>:"/\\|?*;]')

EMPTY_FILE = _l("The selected file is empty")
WRONG_TYPE = _l("The selected file must be a PDF, PNG or JPEG")
TOO_LARGE = _l("The selected file must be smaller than 10 MB")


class DocumentError(ValueError):
    """The file cannot be accepted; the message says why, for the person uploading."""


def sniff_type(content: bytes) -> str | None:
    """The content type that the file's first bytes show, or None if not PDF, PNG or JPEG."""
    for signature, content_type in SIGNATURES:
        if content.startswith(signature):
            return content_type
    return None


def check_content(content: bytes) -> str:
    """The content type of an acceptable file, or DocumentError saying what is wrong."""
    if not content:
        raise DocumentError(str(EMPTY_FILE))
    if len(content) > MAX_BYTES:
        raise DocumentError(str(TOO_LARGE))
    content_type = sniff_type(content)
    if content_type is None:
        raise DocumentError(str(WRONG_TYPE))
    return content_type


def clean_filename(filename: str, content_type: str) -> str:
    """A safe display name: no path, no control characters, the extension of its real type."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Control and format characters (a right-to-left override can disguise an extension).
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(_UNSAFE.sub("_", name).split()).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem = name
    elif "." + extension.lower() not in _KNOWN_EXTENSIONS:
        stem = name  # "minutes.2024" keeps its dot; the right extension is added
    allowed = EXTENSIONS[content_type]
    suffix = "." + extension.lower() if dot and "." + extension.lower() in allowed else allowed[0]
    stem = stem.strip(" .") or "document"
    return stem[: FILENAME_MAX_LENGTH - len(suffix)].rstrip(" .") + suffix


def add_document(
    organisation: Organisation,
    user: User,
    filename: str,
    content: bytes,
    kind: DocumentKind = DocumentKind.AUTHORITY,
) -> Document:
    """Store an uploaded file for the organisation, its name and content encrypted."""
    content_type = check_content(content)
    document = Document(
        organisation_id=organisation.id,
        kind=kind,
        content_type=content_type,
        size_bytes=len(content),
        uploaded_by_id=user.id,
    )
    document.filename = clean_filename(filename, content_type)
    document.content = content
    db.session.add(document)
    db.session.flush()
    activity.record(
        "document.added",
        actor=user,
        object_type="document",
        object_id=str(document.id),
        details={
            "organisation": str(organisation.id),
            "content_type": content_type,
            "size_bytes": len(content),
        },
    )
    return document


def _without_content() -> sa.orm.interfaces.LoaderOption:
    # Up to 10 MB each: listing documents must not read their contents.
    return sa.orm.defer(getattr(Document, Document.content.column))


def documents_of(organisation: Organisation) -> list[Document]:
    """The organisation's own documents (not a declaration's), newest first, without contents."""
    return list(
        db.session.scalars(
            sa.select(Document)
            .where(
                Document.organisation_id == organisation.id,
                Document.declaration_id.is_(None),
                Document.order_answer_id.is_(None),
            )
            .options(_without_content())
            .order_by(Document.created_at.desc(), Document.id)
        )
    )


def find_document(
    organisation: Organisation,
    document_id: uuid.UUID,
    declaration_id: uuid.UUID | None = None,
) -> Document | None:
    """The document if it belongs to the organisation (another's is as good as missing).

    Without `declaration_id` only the organisation's own documents are found; with it, only
    those attached to that declaration.
    """
    attached = (
        sa.and_(Document.declaration_id.is_(None), Document.order_answer_id.is_(None))
        if declaration_id is None
        else Document.declaration_id == declaration_id
    )
    return db.session.scalar(
        sa.select(Document)
        .where(Document.id == document_id, Document.organisation_id == organisation.id, attached)
        .options(_without_content())  # loaded when read, for a download only
    )


def has_documents(organisation: Organisation) -> bool:
    """Whether the organisation has uploaded at least one document."""
    found = db.session.scalar(
        sa.select(Document.id)
        .where(
            Document.organisation_id == organisation.id,
            Document.declaration_id.is_(None),
            Document.order_answer_id.is_(None),
        )
        .limit(1)
    )
    return found is not None


def delete_document(document: Document) -> None:
    """Remove a document and its content."""
    document_id, organisation_id = document.id, document.organisation_id
    db.session.delete(document)
    db.session.flush()
    activity.record(
        "document.deleted",
        object_type="document",
        object_id=str(document_id),
        details={"organisation": str(organisation_id)},
    )


def uploader_names(documents: Iterable[Document]) -> dict[uuid.UUID, str]:
    """The full names of the users who uploaded the documents, by user id."""
    ids = {document.uploaded_by_id for document in documents if document.uploaded_by_id}
    if not ids:
        return {}
    users = db.session.scalars(sa.select(User).where(User.id.in_(ids)))
    return {user.id: user.full_name or "" for user in users}
