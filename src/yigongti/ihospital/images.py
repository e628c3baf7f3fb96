"""Pictures a resident sends with a consultation: JPEG, PNG or WebP only, recognised by their first bytes (never by
the name or the browser's content type), at most ``MAX_BYTES`` each and ``MAX_FILES`` a message."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from yigongti.core.errors import InvalidInput
from yigongti.core.uploads import human_size

MAX_FILES = 6
SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def max_bytes() -> int:
    return int(float(getattr(settings, "YIGONGTI_IHOSPITAL_IMAGE_MB", 5)) * 1024 * 1024)


@dataclass(frozen=True)
class Image:
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    for magic, content_type in SIGNATURES:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def read(upload) -> Image:
    """An uploaded file (or bytes) as an Image, or InvalidInput saying why not."""
    limit = max_bytes()
    if isinstance(upload, bytes | bytearray):
        data = bytes(upload)
    else:
        size = getattr(upload, "size", None)
        if size is not None and size > limit:
            raise InvalidInput("file_too_large", _("图片过大（%(size)s），每张不能超过 %(limit)s")
                               % {"size": human_size(size), "limit": human_size(limit)}, field="pictures")
        data = upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput("file_too_large", _("图片过大，每张不能超过 %(limit)s") % {"limit": human_size(limit)},
                           field="pictures")
    content_type = sniff(data)
    if content_type is None:
        raise InvalidInput("file_type", _("只能上传图片（JPEG、PNG 或 WebP）"), field="pictures")
    return Image(content_type, data)
