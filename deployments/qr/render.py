"""QR images of a payload (segno, error correction M)."""
from __future__ import annotations

import io

import segno


def render(payload: str, fmt: str) -> bytes:
    """The payload as a PNG or SVG image."""
    code = segno.make(payload, error="m", micro=False)
    out = io.BytesIO()
    if fmt == "png":
        code.save(out, kind="png", scale=8, border=4)
    else:
        code.save(out, kind="svg", scale=8, border=4, xmldecl=False)
    return out.getvalue()
