"""QR Code Service (spec 8.16): signed, single-use codes for handoff steps."""
from deployments.qr.events import QrIssued, QrRevoked, QrUsed
from deployments.qr.schemas import QrCheck, QrSubject
from deployments.qr.service import SPEC, QrCodes

__all__ = ["SPEC", "QrCheck", "QrCodes", "QrIssued", "QrRevoked", "QrSubject", "QrUsed"]
