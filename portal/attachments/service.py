"""Storing, checking, linking and serving attachments.

What keeps this safe:

- **The type comes from the content.** Magic bytes or structure decide; the
  file's name and the browser's Content-Type are never believed. Only the
  kinds in `KINDS` are accepted. Programs, scripts and markup (HTML, SVG, XML)
  are refused whatever they are called; a ZIP must be a Word, Excel or
  PowerPoint document without macros, checked from its directory without
  unpacking anything.
- **The name is only for show.** The bytes live under a random name
  (ATTACHMENT_DIR/<2 hex>/<32 hex>); the name the person gave is cut to its
  last part, cleaned and must fit the detected type.
- **Limits hold while reading.** At most ATTACHMENT_MAX_BYTES are read (never
  the rest of an oversized stream); each customer account has
  ATTACHMENT_QUOTA_BYTES in all.
- **No file without its row.** `store` adds the row to the caller's
  transaction. When that transaction (or the savepoint around the row) rolls
  back, or the session ends without a commit, the file is deleted at once (the
  session hooks at the end). A crash between writing and committing can still
  leave a file behind: `discard_unlinked` (`flask attachments sweep`) removes
  those, and uploads that were never linked to anything.
- **Reading goes through the tenant scope**, internal files are for vendor
  staff only, and an area can add its own rule per owner kind
  (`register_owner_check`).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import secrets
import struct
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.formatting import filesize
from portal.security import scoped

from .models import Attachment

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage

    from portal.accounts.models import User

log = logging.getLogger("portal.attachments")

CHUNK_BYTES = 64 * 1024
# The start of the file that type detection and the markup check look at.
HEAD_BYTES = 8 * 1024
# The end of the file, for "endsolid" of an ASCII STL.
TAIL_BYTES = 1024
NAME_MAX = 150
OWNER_KIND_MAX = 30
# A Word, Excel or PowerPoint file has tens to a few thousand parts.
MAX_ZIP_ENTRIES = 5000
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
STORED_NAME = re.compile(r"[0-9a-f]{32}")
TEMP_PREFIX = ".upload-"


@dataclass(frozen=True)
class Kind:
    label: str  # for people: "PDF document"
    content_type: str  # sent with the file
    extensions: tuple[str, ...]  # the first is added to a name without one

    @property
    def is_text(self) -> bool:
        return self.content_type.startswith("text/")


KINDS = {
    "pdf": Kind("PDF document", "application/pdf", (".pdf",)),
    "png": Kind("PNG image", "image/png", (".png",)),
    "jpeg": Kind("JPEG image", "image/jpeg", (".jpg", ".jpeg")),
    "gif": Kind("GIF image", "image/gif", (".gif",)),
    "webp": Kind("WebP image", "image/webp", (".webp",)),
    "step": Kind("STEP model", "model/step", (".step", ".stp", ".p21")),
    "dxf": Kind("DXF drawing", "image/vnd.dxf", (".dxf",)),
    "stl": Kind("STL model", "model/stl", (".stl",)),
    "text": Kind("text file", "text/plain", (".txt", ".csv", ".tsv", ".log", ".md")),
    "docx": Kind(
        "Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
    "xlsx": Kind(
        "Excel workbook",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
    ),
    "pptx": Kind(
        "PowerPoint presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (".pptx",),
    ),
}
ACCEPTED = (
    "PDF, PNG, JPEG, GIF, WebP, STEP, DXF, STL, plain text or CSV, "
    "and Word, Excel or PowerPoint files (DOCX, XLSX, PPTX)"
)
# Each extension names exactly one kind: a name with one of these must fit the content.
_EXTENSION_KIND = {ext: kind for kind in KINDS.values() for ext in kind.extensions}
_OOXML_PARTS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
# Tags that make a browser (or an old one's sniffing) treat text as a page.
_MARKUP = re.compile(rb"<\s*(script|html|svg|iframe|object|embed|body|head|!doctype|\?xml)", re.I)
_DXF_START = re.compile(r"(\s*999\s*\r?\n[^\r\n]*\r?\n)?\s*0\s*\r?\n\s*SECTION\s*\r?\n")
_MACHO = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")


# --- storing ---------------------------------------------------------------------------


def store(
    uploader: User, account_id: int, upload: FileStorage | None, *, internal: bool = False
) -> Attachment:
    """Check an uploaded file and keep it for `account_id`, in the caller's transaction.

    The row is added to the session and not committed; the caller links it
    (`attach`) and commits. Raises DomainError with a message for the person:
    no file, empty, too large, over the account's quota, a kind not accepted,
    or a name whose extension contradicts the content. Raises NotFound when a
    customer stores for another account (or the account does not exist) and
    Forbidden when a customer asks for an internal file.
    """
    if internal and not uploader.is_vendor_staff:
        raise Forbidden("Only vendor staff can add internal attachments.")
    if not uploader.is_vendor_staff and uploader.account_id != account_id:
        raise NotFound("No such customer account.")
    if upload is None:
        raise DomainError("Choose a file to attach.")
    config = current_app.config
    max_bytes = int(config["ATTACHMENT_MAX_BYTES"])
    stored_name = secrets.token_hex(16)
    folder = storage_root() / stored_name[:2]
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A temporary file in the same folder, renamed once complete: a half-written
    # file never carries a stored name. mkstemp creates it with mode 600.
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX, suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            scan = _copy(upload.stream, out, max_bytes, upload.filename)
            out.flush()
            os.fsync(out.fileno())
        kind = detect(temp, scan)
        name = name_for(upload.filename, kind)
        _check_quota(account_id, scan.size, int(config["ATTACHMENT_QUOTA_BYTES"]))
        path = folder / stored_name
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    try:
        attachment = Attachment(
            account_id=account_id,
            internal=internal,
            original_name=name,
            stored_name=stored_name,
            content_type=kind.content_type,
            size=scan.size,
            sha256=scan.sha256,
            uploaded_by_id=uploader.id,
        )
        session = db.session()
        session.add(attachment)
        _track(session, _WRITTEN, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment


@dataclass
class _Scan:
    """What was learnt while copying: size, checksum, start and end, whether it is text."""

    size: int
    sha256: str
    head: bytes
    tail: bytes
    is_text: bool  # valid UTF-8 without NUL bytes


def _copy(source: IO[bytes], out: IO[bytes], max_bytes: int, filename: str | None) -> _Scan:
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size, head, tail, is_text = 0, b"", b"", True
    while True:
        # Never more than one byte past the limit, however much the stream holds.
        chunk = source.read(min(CHUNK_BYTES, max_bytes + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise DomainError(
                f"{_the_file(filename)} is larger than {filesize(max_bytes)}, "
                "the most one attachment may have."
            )
        digest.update(chunk)
        out.write(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        tail = (tail + chunk)[-TAIL_BYTES:]
        if is_text:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                is_text = False
            is_text = is_text and b"\x00" not in chunk
    if size == 0:
        raise DomainError(f"{_the_file(filename)} is empty." if filename else "Choose a file.")
    if is_text:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_text = False
    return _Scan(size, digest.hexdigest(), head, tail, is_text)


def _the_file(filename: str | None) -> str:
    return f"The file “{clean_name(filename)}”" if filename else "The file"


def _check_quota(account_id: int, size: int, quota: int) -> None:
    from portal.accounts.models import CustomerAccount

    # Lock the account row (PostgreSQL; SQLite serialises writers anyway), so two
    # uploads at once cannot both fit into the last free space.
    exists = db.session.scalar(
        select(CustomerAccount.id).where(CustomerAccount.id == account_id).with_for_update()
    )
    if exists is None:
        raise NotFound("No such customer account.")
    used = db.session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(
            Attachment.account_id == account_id
        )
    )
    left = max(0, quota - int(used or 0))
    if size > left:
        raise DomainError(
            f"There is not enough space left for this file ({filesize(size)}): the account's "
            f"attachments may take {filesize(quota)} in all, and {filesize(left)} of that is "
            "still free. Please ask the vendor to remove files no longer needed."
        )


# --- what kind of file is it -------------------------------------------------------------


def _refuse(what: str) -> DomainError:
    return DomainError(f"This kind of file is not accepted: {what}. Accepted are {ACCEPTED}.")


def detect(path: Path, scan: _Scan) -> Kind:
    """The accepted kind of a complete file, from its content; DomainError for any other."""
    head = scan.head
    start = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if (head.startswith(b"MZ") and b"\x00" in head) or head.startswith((b"\x7fELF", *_MACHO)):
        raise _refuse("programs are never accepted, whatever their name")
    if start.startswith(b"#!"):
        raise _refuse("scripts are never accepted, whatever their name")
    if start.startswith(b"<"):
        raise _refuse("web pages, SVG, XML and other markup are not accepted")

    if head.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return KINDS["gif"]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and head[12:15] == b"VP8":
        return KINDS["webp"]
    if head.startswith(b"PK\x03\x04"):
        return KINDS[_office_kind(path, scan.size)]
    # A binary STL: an 80-byte header, a triangle count, 50 bytes per triangle. Text
    # cannot match: four printable bytes as a count would mean gigabytes.
    if scan.size >= 134 and scan.size == 84 + 50 * struct.unpack_from("<I", head, 80)[0]:
        return KINDS["stl"]
    if scan.is_text:
        if _MARKUP.search(head):
            raise _refuse("web pages, SVG, XML and other markup are not accepted")
        text = start.decode("utf-8", errors="replace")
        if text.startswith("ISO-10303-21;"):
            return KINDS["step"]
        if _DXF_START.match(text):
            return KINDS["dxf"]
        if re.match(r"solid\b", text) and b"endsolid" in scan.tail:
            return KINDS["stl"]
        return KINDS["text"]
    raise _refuse("its content is none of the accepted kinds")


def _office_kind(path: Path, size: int) -> str:
    """ "docx", "xlsx" or "pptx" for an Office Open XML file without macros; DomainError else.

    Only the ZIP's directory (and the small [Content_Types].xml) is read; nothing
    is unpacked. The entry count is read from the end record before zipfile
    parses the directory, so a directory of millions of entries is never loaded.
    """
    not_office = _refuse("a ZIP archive that is not a Word, Excel or PowerPoint file")
    with path.open("rb") as handle:
        handle.seek(max(0, size - (22 + 65535)))  # the end record and the longest comment
        end = handle.read()
    at = end.rfind(b"PK\x05\x06")
    if at < 0 or len(end) < at + 22:
        raise not_office
    if struct.unpack_from("<H", end, at + 10)[0] > MAX_ZIP_ENTRIES:  # 0xFFFF: ZIP64, too
        raise _refuse("a ZIP archive with too many parts for a Word, Excel or PowerPoint file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if len(names) > MAX_ZIP_ENTRIES or "[Content_Types].xml" not in names:
                raise not_office
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > MAX_CONTENT_TYPES_BYTES:
                raise not_office
            with archive.open(info) as part:
                content_types = part.read(MAX_CONTENT_TYPES_BYTES)
    except Exception:
        # A damaged archive fails inside zipfile or zlib with exceptions of all kinds
        # (BadZipFile, zlib.error, EOFError, struct.error, ...): it is not a document.
        raise not_office from None
    lowered = [name.lower() for name in names]
    if b"macroenabled" in content_types.lower() or any(
        name.endswith("vbaproject.bin") for name in lowered
    ):
        raise _refuse("documents with macros are not accepted; save it without macros")
    found = {
        kind for prefix, kind in _OOXML_PARTS.items() if any(n.startswith(prefix) for n in names)
    }
    if len(found) != 1:
        raise not_office
    return found.pop()


# --- names -------------------------------------------------------------------------------


def clean_name(raw: str | None) -> str:
    """The name to show: its last path part, no control or format characters (also
    no bidi overrides that disguise "exe" as "pdf"), no "..", at most NAME_MAX."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        char for char in name if unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Zl", "Zp")
    )
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = re.sub(r"\.{2,}", ".", " ".join(name.split())).strip(" .")
    return _cap(name) or "attachment"


def _split(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    if dot and stem and 1 <= len(ext) <= 10 and ext.isalnum():
        return stem, "." + ext.lower()
    return name, ""


def _cap(name: str) -> str:
    if len(name) <= NAME_MAX:
        return name
    stem, ext = _split(name)
    return stem[: NAME_MAX - len(ext)].rstrip(" .") + ext


def name_for(raw: str | None, kind: Kind) -> str:
    """The cleaned name, with an extension that fits `kind`.

    A name without a known extension gets the kind's ("drawing" → "drawing.pdf",
    "part rev 1.2" → "part rev 1.2.txt"); a name whose extension belongs to
    another accepted kind (a PNG called "photo.pdf") is refused, since the person
    evidently meant to send something else.
    """
    name = clean_name(raw)
    _, ext = _split(name)
    if ext in kind.extensions:
        return name
    if ext in _EXTENSION_KIND:
        raise DomainError(
            f"The file “{name}” is named as a {_EXTENSION_KIND[ext].label}, but it is a "
            f"{kind.label}. Check that you chose the right file, or rename it to end in "
            f"{kind.extensions[0]}."
        )
    return _cap(name + kind.extensions[0])


# --- linking and reading -----------------------------------------------------------------

# owner kind → rule: may this viewer see the object with this id? See register_owner_check.
_OWNER_CHECKS: dict[str, Callable[[User, int], bool]] = {}


def register_owner_check(owner_kind: str, check: Callable[[User, int], bool]) -> None:
    """Add the owning area's own rule to `get_for` for files linked to `owner_kind`.

    The tenant scope and the internal flag always apply; an area whose objects
    are narrower than that (a draft only its author sees) registers its rule at
    import time, e.g. `register_owner_check("idea", lambda viewer, idea_id: ...)`.
    """
    _OWNER_CHECKS[owner_kind] = check


def attach(attachments: Iterable[Attachment], owner_kind: str, owner_id: int) -> None:
    """Link stored attachments to one object of the calling area, in the caller's
    transaction. A file already linked to something else is not moved (DomainError)."""
    if not owner_kind or len(owner_kind) > OWNER_KIND_MAX:
        raise ValueError(f"an owner kind has 1 to {OWNER_KIND_MAX} characters: {owner_kind!r}")
    if owner_id is None:
        raise ValueError("attach() needs the owner's id: flush the owner first")
    for attachment in attachments:
        linked = (attachment.owner_kind, attachment.owner_id)
        if attachment.owner_kind is not None and linked != (owner_kind, owner_id):
            raise DomainError(f"“{attachment.original_name}” already belongs to something else.")
        attachment.owner_kind, attachment.owner_id = owner_kind, owner_id


def for_owner(
    owner_kind: str, owner_ids: Iterable[int], viewer: User
) -> dict[int, list[Attachment]]:
    """The attachments of many objects in one query, oldest first, by owner id (every
    id asked for is a key). Scoped to the viewer's account; no internal files for
    customers. The caller has already decided that the viewer may see the owners."""
    ids = sorted(set(owner_ids))
    grouped: dict[int, list[Attachment]] = {owner_id: [] for owner_id in ids}
    if not ids:
        return grouped
    query = scoped(select(Attachment), Attachment, viewer).where(
        Attachment.owner_kind == owner_kind, Attachment.owner_id.in_(ids)
    )
    if not viewer.is_vendor_staff:
        query = query.where(Attachment.internal.is_(False))
    for attachment in db.session.scalars(query.order_by(Attachment.id)):
        grouped[attachment.owner_id].append(attachment)  # type: ignore[index]
    return grouped


def get_for(viewer: User, attachment_id: int, *, client_address: str | None = None) -> Attachment:
    """One attachment the viewer may see, or NotFound: another account's file, an
    internal file for a customer, or what the owner's rule hides all look missing.
    Such an attempt at an existing file is kept in the audit trail."""
    attachment = db.session.scalar(
        scoped(select(Attachment), Attachment, viewer).where(Attachment.id == attachment_id)
    )
    reason = None
    if attachment is None:
        if not viewer.is_vendor_staff and db.session.get(Attachment, attachment_id) is not None:
            reason = "another account's object"
    elif attachment.internal and not viewer.is_vendor_staff:
        reason = "internal attachment"
    elif attachment.owner_kind in _OWNER_CHECKS and not _OWNER_CHECKS[attachment.owner_kind](
        viewer, attachment.owner_id
    ):
        reason = f"not allowed to see its {attachment.owner_kind}"
    else:
        return attachment
    if reason:
        from portal.audit import service as audit

        audit.record_alone(
            "access_denied",
            actor=viewer,
            client_address=client_address,
            target=f"attachment:{attachment_id}",
            detail={"reason": reason},
        )
    raise NotFound("No such attachment.")


def open_stream(attachment: Attachment) -> IO[bytes]:
    """The stored bytes, opened for reading; the caller closes the file. NotFound (and
    an error in the log) when the file is missing on disk."""
    try:
        return _path(attachment.stored_name).open("rb")
    except FileNotFoundError:
        log.error("attachment %s: file %s is missing", attachment.id, attachment.stored_name)
        raise NotFound("The file of this attachment is missing.") from None


def delete(attachment: Attachment) -> None:
    """Delete the row in the caller's transaction; the file goes once it commits."""
    session = db.session()
    session.delete(attachment)
    _track(session, _DOOMED, _path(attachment.stored_name))


def storage_root() -> Path:
    """ATTACHMENT_DIR, or instance/attachments."""
    configured = current_app.config.get("ATTACHMENT_DIR")
    root = Path(configured) if configured else Path(current_app.instance_path) / "attachments"
    return root.resolve()


def _path(stored_name: str) -> Path:
    # The stored name comes from secrets.token_hex; anything else is never a path.
    if not STORED_NAME.fullmatch(stored_name or ""):
        raise ValueError(f"not a stored attachment name: {stored_name!r}")
    return storage_root() / stored_name[:2] / stored_name


# --- maintenance -------------------------------------------------------------------------


def discard_unlinked(older_than: datetime) -> int:
    """Remove what is left over from before `older_than`; returns how many files went.

    Uploads never linked to anything (a form left unsent) lose row and file. Files
    without a row (a crash between writing and committing) and half-written
    temporary files are deleted. Commits.
    """
    for attachment in db.session.scalars(
        select(Attachment).where(
            Attachment.owner_kind.is_(None), Attachment.uploaded_at < older_than
        )
    ):
        delete(attachment)
    removed = len(db.session.info.get(_DOOMED, []))
    db.session.commit()

    root = storage_root()
    if not root.is_dir():
        return removed
    cutoff = older_than.timestamp()
    for folder in root.iterdir():
        if not (folder.is_dir() and re.fullmatch(r"[0-9a-f]{2}", folder.name)):
            continue
        candidates = {p.name: p for p in folder.iterdir() if _modified(p) < cutoff}
        known = set(
            db.session.scalars(
                select(Attachment.stored_name).where(Attachment.stored_name.in_(list(candidates)))
            )
        )
        for name, path in candidates.items():
            if (STORED_NAME.fullmatch(name) and name not in known) or name.startswith(TEMP_PREFIX):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # deleted meanwhile
        return float("inf")


# --- files follow the transaction ---------------------------------------------------------

# Keys in Session.info: lists of (transaction, path). _WRITTEN: files of rows not yet
# committed, deleted if their transaction rolls back. _DOOMED: files of deleted rows,
# deleted once the deletion commits.
_WRITTEN = "portal.attachments.written"
_DOOMED = "portal.attachments.doomed"


def _track(session: Session, key: str, path: Path) -> None:
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None, "the session has a transaction after add()"
    session.info.setdefault(key, []).append((transaction, path))


def _unlink(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("could not delete attachment file %s", path)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    # Fired for a savepoint as well as for the whole transaction, naming the one that
    # ended: only what was done inside it is undone.
    written = session.info.get(_WRITTEN)
    if written:
        _unlink(p for t, p in written if _inside(t, previous_transaction))
        written[:] = [(t, p) for t, p in written if not _inside(t, previous_transaction)]
    doomed = session.info.get(_DOOMED)
    if doomed:
        doomed[:] = [(t, p) for t, p in doomed if not _inside(t, previous_transaction)]


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    # Also fired when a savepoint is released; only the outermost commit counts.
    if session.get_nested_transaction() is not None:
        return
    session.info.pop(_WRITTEN, None)
    _unlink(p for _, p in session.info.pop(_DOOMED, None) or [])


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended and after_commit did not take the lists: it
    # rolled back or the session closed without a commit.
    if transaction.parent is None:
        _unlink(p for _, p in session.info.pop(_WRITTEN, None) or [])
        session.info.pop(_DOOMED, None)


def _inside(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
