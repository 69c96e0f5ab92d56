"""The CN22 / CN23 customs declaration as a PDF (fpdf2). A declaration is a CN22 when its
total is at most 300 SDR, else a CN23 (UPU Convention). fpdf2's core fonts are Latin-1:
characters outside it print as '?'."""
from __future__ import annotations

from datetime import date

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from deployments.customs.duties import money_text
from deployments.customs.schemas import ContentType, DeclarationOut

CN22_MAX_SDR_MINOR = 300_00
CONTENTS: tuple[ContentType, ...] = ("gift", "documents", "sample", "merchandise", "returned_goods", "other")
CERTIFY = ("I, the undersigned, certify that the particulars given in this declaration are correct and that "
           "this item does not contain any dangerous article or articles prohibited by legislation or by postal "
           "or customs regulations.")


def form_of(sdr_total_minor: int) -> str:
    return "CN22" if sdr_total_minor <= CN22_MAX_SDR_MINOR else "CN23"


def latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _line(pdf: FPDF, height: float, text: str) -> None:
    pdf.cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render(d: DeclarationOut, *, origin: str, destination: str, gross_weight_g: int, on: date) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{d.form} customs declaration {d.id}")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    _line(pdf, 9, f"{d.form[:2]} {d.form[2:]} - CUSTOMS DECLARATION")
    pdf.set_font("Helvetica", size=9)
    _line(pdf, 5, f"Declaration {d.id} (version {d.version})   Shipment {d.shipment_id}")
    _line(pdf, 5, f"Date: {on.isoformat()}   Incoterm: {d.incoterm}")
    _line(pdf, 5, f"Sender's country: {origin}   Destination country: {destination}")
    boxes = "   ".join(f"[{'X' if c == d.content_type else ' '}] {c.replace('_', ' ')}" for c in CONTENTS)
    _line(pdf, 6, f"Category of item: {boxes}")
    pdf.ln(2)
    with pdf.table(col_widths=(62, 14, 24, 32, 30, 18), line_height=5, first_row_as_headings=True) as table:
        table.row(["Description of contents", "Qty", "Net weight (g)", "Value", "HS tariff no.", "Origin"])
        for i in d.items:
            table.row([latin1(i.description), str(i.quantity), str(i.net_weight_g),
                       money_text(i.value_minor, i.currency), i.hs_code, i.origin_country])
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 9)
    _line(pdf, 5, f"Total net weight (g): {sum(i.net_weight_g for i in d.items)}   "
                  f"Total gross weight (g): {gross_weight_g}")
    _line(pdf, 5, f"Total value: {money_text(d.total_minor, d.currency)}")
    pdf.set_font("Helvetica", size=9)
    if d.duties is not None:
        q = d.duties
        _line(pdf, 5, f"Estimated duties and taxes ({q.rule}, {q.date.isoformat()}): "
                      f"{money_text(q.total_minor, q.currency)}")
    pdf.ln(3)
    pdf.multi_cell(0, 4, CERTIFY, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    _line(pdf, 5, f"Date and sender's signature: {on.isoformat()}   ______________________________")
    return bytes(pdf.output())
