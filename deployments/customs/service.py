"""Customs Service (spec 6.13): the customs declaration of an international shipment (its
item lines with HS codes, values and origins), printed as a CN22 or CN23, and duties and
taxes quotes from the shipped, dated rates table (duties.py, data/).

A shipment has one declaration, made and changed by its sender until pickup (shipment
draft, awaiting_acceptance or booked); its items' total must be the shipment's declared
value, in the shipment's currency. Duties are quoted when the declaration is written.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field

from deployments.customs import duties as tables
from deployments.customs.errors import (
    CurrencyMismatch,
    DeclarationExists,
    DeclarationNotFound,
    DestinationNotCovered,
    DutiesQueryIncomplete,
    NoFxRate,
    NoRuleForDate,
    NotEditable,
    NotInternational,
    NotTheSender,
    ShipmentUnknown,
    ValueMismatch,
)
from deployments.customs.forms import form_of, render
from deployments.customs.schemas import DeclarationBody, DeclarationCreate, DeclarationOut, DeclarationUpdate, DutiesOut
from deployments.kit import Ctx, Service, ServiceSpec, op, uses
from deployments.shipments import ShipmentCustomsFacts, Shipments
from p2p.errors import NotFound
from p2p.money import CountryCode, Currency
from p2p.uploads import Download
from storage.db import utcnow
from storage.models.customs import CustomsDeclaration

EDITABLE = ("draft", "awaiting_acceptance", "booked")


class Customs(Service):
    shipments = uses(Shipments)

    @op("POST /customs/declaration", status=201, perm="customs:write")
    async def create(self, ctx: Ctx, body: DeclarationCreate) -> DeclarationOut:
        """Declare the contents of one's own international shipment, once. The items' total
        must equal the shipment's declared value (422 `customs.value_mismatch` with both);
        a domestic shipment is a 409 `customs.not_international`; a second declaration a
        409 `customs.declaration_exists`."""
        facts = await self._facts(ctx, body.shipment_id)
        if not facts.international:
            raise NotInternational("A domestic shipment needs no customs declaration.", shipment_id=str(facts.id),
                                   origin_country=facts.origin_country, destination_country=facts.destination_country)
        fields = self._written(facts, body)
        async with self.uow() as uow:
            repo = uow.repo(CustomsDeclaration)
            if await repo.exists(shipment_id=facts.id):
                raise DeclarationExists("The shipment has a declaration already; change it with PUT.",
                                        shipment_id=str(facts.id))
            row = repo.add(CustomsDeclaration(id=uuid.uuid4(), shipment_id=facts.id, sender_id=facts.sender_id,
                                              version=1, **fields))
            await uow.flush()
            return DeclarationOut.model_validate(row)

    @op("GET /customs/declaration/{id}", perm="customs:read", files=("application/pdf",))
    async def get(self, ctx: Ctx, id: uuid.UUID, format: Literal["json", "pdf"] = "json") -> DeclarationOut | Download:
        """A declaration, for the shipment's sender and carriers and holders of
        customs:read:any; `format=pdf` prints it as its CN22 (at most 300 SDR) or CN23."""
        d, facts = await self._visible(ctx, id)
        if format == "pdf":
            pdf = render(d, origin=facts.origin_country, destination=facts.destination_country,
                         gross_weight_g=facts.weight_g, on=d.updated_at.date())
            return Download(pdf, "application/pdf", f"{d.form.lower()}-{d.id}.pdf")
        return d

    @op("PUT /customs/declaration/{id}", perm="customs:write")
    async def update(self, ctx: Ctx, id: uuid.UUID, body: DeclarationUpdate) -> DeclarationOut:
        """Replace a declaration's items, content type and incoterm (its sender, before
        pickup: else a 409 `customs.not_editable` naming the shipment's status); validated as
        at creation, duties quoted again, version bumped."""
        d, facts = await self._visible(ctx, id)
        if d.sender_id != ctx.user_id:
            raise NotTheSender("Only the sender may change the declaration.", id=str(id))
        if facts.status not in EDITABLE:
            raise NotEditable(f"The shipment is {facts.status}: its declaration no longer changes.", id=str(id),
                              status=facts.status)
        fields = self._written(facts, body)
        async with self.uow() as uow:
            row = await uow.repo(CustomsDeclaration, DeclarationNotFound).get_or_404(id, lock=True,
                                                                                    what="declaration")
            for k, v in fields.items():
                setattr(row, k, v)
            row.version += 1
            row.updated_at = utcnow()
            await uow.flush()
            return DeclarationOut.model_validate(row)

    @op("GET /customs/duties", perm="customs:read")
    async def duties(self, ctx: Ctx, destination: CountryCode | None = None,
                     value_minor: Annotated[int, Field(ge=0)] | None = None, currency: Currency | None = None,
                     hs_code: Annotated[str, Field(pattern=r"^[0-9]{6,10}$")] | None = None,
                     date: dt.date | None = None, lines: Annotated[int, Field(ge=1, le=100)] | None = None,
                     origin: CountryCode | None = None, declaration_id: uuid.UUID | None = None) -> DutiesOut:
        """Quote duties and taxes: of a declaration (`declaration_id`, for those who may see
        it) or of a consignment (`destination`, `value_minor`, `currency`, optionally its
        `hs_code`, number of HS `lines` and `origin`), on `date` (default today). Answers the
        line items, de minimis applied, rates, the dated rule and the tables' sources."""
        on = date or utcnow().date()
        if declaration_id is not None:
            d, facts = await self._visible(ctx, declaration_id)
            return self._quote(facts.destination_country, d.currency, [(i.hs_code, i.value_minor) for i in d.items],
                               on, facts.origin_country)
        missing = [n for n, v in (("destination", destination), ("value_minor", value_minor),
                                  ("currency", currency)) if v is None]
        if missing or destination is None or value_minor is None or currency is None:
            raise DutiesQueryIncomplete("Give declaration_id, or destination, value_minor and currency.",
                                        missing=missing)
        return tables.quote(tables.shipped(), destination=destination, currency=currency,
                            lines=[tables.Line(hs_code, value_minor)], on=on, origin=origin, hs_lines=lines)

    # -- helpers -----------------------------------------------------------------------------
    def _quote(self, destination: str, currency: str, lines: list[tuple[str, int]], on: dt.date,
               origin: str | None) -> DutiesOut:
        return tables.quote(tables.shipped(), destination=destination, currency=currency,
                            lines=[tables.Line(*ln) for ln in lines], on=on, origin=origin)

    def _written(self, facts: ShipmentCustomsFacts, body: DeclarationBody) -> dict:
        """The columns a valid body writes: items with their values, total, form, duties."""
        for n, item in enumerate(body.items):
            if item.currency != facts.currency:
                raise CurrencyMismatch(f"Items are valued in the shipment's currency, {facts.currency}.",
                                       field=f"items[{n}].currency", currency=item.currency, expected=facts.currency)
        items = [{**i.model_dump(), "value_minor": i.quantity * i.unit_value_minor} for i in body.items]
        total = sum(i["value_minor"] for i in items)
        if total != facts.declared_value_minor:
            raise ValueMismatch(f"The items total {total} but the shipment declares {facts.declared_value_minor} "
                                f"({facts.currency} minor units).", items_total_minor=total,
                                declared_value_minor=facts.declared_value_minor, currency=facts.currency)
        try:
            form = form_of(tables.sdr_value(tables.shipped(), total, facts.currency))
        except NoFxRate:
            form = "CN23"  # without an SDR rate, the form that is valid at any value
        try:
            duties = self._quote(facts.destination_country, facts.currency,
                                 [(i["hs_code"], i["value_minor"]) for i in items], utcnow().date(),
                                 facts.origin_country).model_dump(mode="json")
        except (DestinationNotCovered, NoFxRate, NoRuleForDate):
            duties = None  # declared all the same; the tables cannot quote this consignment
        return {"content_type": body.content_type, "incoterm": body.incoterm, "items": items,
                "currency": facts.currency, "total_minor": total, "form": form, "duties": duties}

    async def _facts(self, ctx: Ctx, shipment_id: uuid.UUID) -> ShipmentCustomsFacts:
        """The shipment's facts, for its sender: a 403 for its carriers and support, a 404 for anyone else."""
        try:
            facts = await self.shipments.customs_facts(shipment_id)
        except NotFound:
            raise ShipmentUnknown("No such shipment.", id=str(shipment_id)) from None
        if facts.sender_id != ctx.user_id:
            if ctx.user_id in facts.carrier_ids or await self.can(ctx, "customs:read:any"):
                raise NotTheSender("Only the shipment's sender declares its contents.", id=str(shipment_id))
            raise ShipmentUnknown("No such shipment.", id=str(shipment_id))
        return facts

    async def _visible(self, ctx: Ctx, id: uuid.UUID) -> tuple[DeclarationOut, ShipmentCustomsFacts]:
        async with self.uow(read=True) as uow:
            row = await uow.repo(CustomsDeclaration).get(id)
            d = DeclarationOut.model_validate(row) if row is not None else None
        if d is None:
            raise DeclarationNotFound("No such declaration.", id=str(id))
        facts = await self.shipments.customs_facts(d.shipment_id)
        if not (d.sender_id == ctx.user_id or ctx.user_id in facts.carrier_ids
                or await self.can(ctx, "customs:read:any")):
            raise DeclarationNotFound("No such declaration.", id=str(id))
        return d, facts


SPEC = ServiceSpec("Customs Service", key="customs", prefix="/customs", service=Customs,
                   models="storage.models.customs",
                   grants={"sender": ("customs:read", "customs:write"), "traveler": ("customs:read",),
                           "courier": ("customs:read",), "support": ("customs:read", "customs:read:any")})
