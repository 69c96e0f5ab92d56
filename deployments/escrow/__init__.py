"""Escrow Service (spec 9.20): a paid booking's money held in the ledger until delivery."""
from deployments.escrow.events import EscrowDisputed, EscrowHeld, EscrowRefunded, EscrowReleased
from deployments.escrow.service import SPEC, Escrows

__all__ = ["SPEC", "EscrowDisputed", "EscrowHeld", "EscrowRefunded", "EscrowReleased", "Escrows"]
