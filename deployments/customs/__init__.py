"""Customs Service (spec 6.13): declarations (CN22/CN23), duties and taxes quotes from the
shipped rates table (duties.py, data/rates.json, data/fx.json, data/hs_chapters.json)."""
from deployments.customs.service import SPEC, Customs

__all__ = ["SPEC", "Customs"]
