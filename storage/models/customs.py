"""Customs Service table: customs_declarations (one per international shipment: content
type, incoterm, the item lines, their total, the duties quoted when last written, and the
form it prints as, CN22 or CN23)."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, IdMixin, TimestampMixin


class CustomsDeclaration(IdMixin, TimestampMixin, Base):
    __tablename__ = "customs_declarations"
    __table_args__ = (CheckConstraint("total_minor >= 0", name="total_not_negative"),
                      CheckConstraint("form IN ('CN22', 'CN23')", name="form_known"))
    shipment_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    sender_id: Mapped[uuid.UUID] = mapped_column(index=True)
    content_type: Mapped[str] = mapped_column(String(16))
    incoterm: Mapped[str] = mapped_column(String(3))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column()
    duties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    form: Mapped[str] = mapped_column(String(4))
    version: Mapped[int] = mapped_column(default=1)
