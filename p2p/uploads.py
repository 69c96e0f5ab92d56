"""One check for every upload: the declared type must be one the caller allows and the
content must start like that type (sniffed, not trusted), within a size limit."""
from __future__ import annotations

from dataclasses import dataclass

from p2p.errors import ProblemError

MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
DOCUMENT_TYPES = frozenset(MAGIC)       # PDF, JPEG, PNG
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024   # 10 MB
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
PHOTO_MAX_BYTES = 5 * 1024 * 1024       # 5 MB: package, handoff and delivery photos


@dataclass(frozen=True)
class Upload:
    """A file from a multipart/form-data request, read into memory before the service sees
    it, so service methods take plain bytes (and tests call them without HTTP)."""

    data: bytes
    filename: str
    content_type: str


@dataclass(frozen=True)
class Download:
    """A file an operation answers with instead of JSON (a PDF, a PNG): an op declared
    with `files=(media types...)` returns `XOut | Download`, and the kit sends the bytes
    with their type."""

    data: bytes
    content_type: str
    filename: str | None = None


class UploadTooLarge(ProblemError):
    """The file is over the limit of what it is uploaded as."""
    code, status, title = "upload.too_large", 413, "Content too large"


class UploadTypeUnsupported(ProblemError):
    """The file's declared type is not accepted here, or its content is not of that type."""
    code, status, title = "upload.type_unsupported", 415, "Unsupported media type"


def check_upload(file: Upload, *, types: frozenset[str] = DOCUMENT_TYPES, max_bytes: int = DOCUMENT_MAX_BYTES,
                 too_large: type[ProblemError] = UploadTooLarge,
                 unsupported: type[ProblemError] = UploadTypeUnsupported) -> str:
    """The normalised content type of an acceptable upload; raises `too_large` or
    `unsupported` (a service passes its own error classes to keep its codes)."""
    if len(file.data) > max_bytes:
        raise too_large(f"The file is limited to {max_bytes // (1024 * 1024)} MB.", size=len(file.data),
                        limit=max_bytes)
    content_type = file.content_type.split(";")[0].strip().lower()
    if content_type not in types or not file.data or not file.data.startswith(MAGIC.get(content_type, (b"\0\0",))):
        raise unsupported("Upload a " + ", ".join(sorted(t.split("/")[1].upper() for t in types))
                          + " file whose content matches its type.", content_type=content_type)
    return content_type
