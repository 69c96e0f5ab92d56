"""Tracking Service errors (the custody refusals are the custody shards': actors/custody/errors.py)."""
from __future__ import annotations

from p2p.errors import ProblemError


class ProofRejected(ProblemError):
    """The proof's photo is not a JPEG or PNG whose content matches its type."""
    code, status, title = "tracking.proof_rejected", 415, "Unsupported media type"


class ProofTooLarge(ProblemError):
    """The proof's photo is over 5 MB."""
    code, status, title = "tracking.proof_too_large", 413, "Content too large"
