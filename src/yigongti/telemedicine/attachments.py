"""Files attached to a pathology report (photographs of the gross specimen and the slides) or to a consultation
request (photographs, a scanned report, a PDF): checked by their first bytes (never by the name or the
browser's content type), bounded by ``core.uploads``' limit, stored under the data directory with a random name,
and served only through the scoped, audited view (``views/consultations.attachment``).

``store`` is called by the services of pathology and consultation inside their transaction; a file whose
transaction rolls back stays orphaned on disk without a row (harmless; no row points at it)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.errors import InvalidInput
from yigongti.core.uploads import human_size, max_upload_bytes

from .models import Attachment

# (content type, suffix) by the file's first bytes
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)
IMAGES = ("image/jpeg", "image/png")
MAX_FILES = 10


@dataclass(frozen=True)
class Upload:
    """A file as received (a Django UploadedFile read into memory, or bytes from a test or the API)."""

    name: str
    data: bytes

    @classmethod
    def of(cls, uploaded) -> Upload:
        if isinstance(uploaded, Upload):
            return uploaded
        limit = max_upload_bytes()
        size = getattr(uploaded, "size", None)
        if size is not None and size > limit:
            raise _too_large(size, limit)
        return cls(getattr(uploaded, "name", "") or "file", uploaded.read(limit + 1))


def _too_large(size: int, limit: int) -> InvalidInput:
    return InvalidInput("file_too_large", _("文件过大（%(size)s），上限 %(limit)s")
                        % {"size": human_size(size), "limit": human_size(limit)}, field="files")


def sniff(data: bytes, allowed: tuple[str, ...]) -> tuple[str, str]:
    """(content type, suffix) of a file by its signature, or InvalidInput when it is not one of ``allowed``."""
    for magic, content_type, suffix in SIGNATURES:
        if data.startswith(magic) and content_type in allowed:
            return content_type, suffix
    kinds = "、".join({"image/jpeg": "JPEG", "image/png": "PNG", "application/pdf": "PDF"}[a] for a in allowed)
    raise InvalidInput("file_type", _("只能上传 %(kinds)s 文件") % {"kinds": kinds}, field="files")


def root() -> Path:
    return Path(getattr(settings, "YIGONGTI_TM_ATTACHMENT_DIR", "") or settings.DATA_DIR / "telemedicine")


def check(upload: Upload, allowed: tuple[str, ...]) -> tuple[str, str]:
    """The checks ``store`` makes, for a service to run before its transaction."""
    limit = max_upload_bytes()
    if len(upload.data) > limit:
        raise _too_large(len(upload.data), limit)
    if not upload.data:
        raise InvalidInput("file_empty", _("文件为空"), field="files")
    return sniff(upload.data, allowed)


def store(upload: Upload, allowed: tuple[str, ...], *, user, order=None, consultation=None) -> Attachment:
    """Write the file under the data directory and its ``Attachment`` row."""
    content_type, suffix = check(upload, allowed)
    now = timezone.now()
    relative = Path("attachments") / f"{now:%Y}" / f"{now:%m}" / f"{secrets.token_hex(16)}{suffix}"
    target = root() / relative
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.write_bytes(upload.data)
    target.chmod(0o600)
    name = Path(upload.name.replace("\\", "/")).name[:120] or f"file{suffix}"
    return Attachment.objects.create(order=order, consultation=consultation, name=name, content_type=content_type,
                                     path=str(relative), size=len(upload.data), uploaded_by=user, uploaded_at=now)


def path_of(attachment: Attachment) -> Path:
    """The stored file (refusing a path that would leave the attachments' root)."""
    base = root().resolve()
    path = (base / attachment.path).resolve()
    if base not in path.parents:
        raise InvalidInput("bad_path", _("附件路径无效"))
    return path
