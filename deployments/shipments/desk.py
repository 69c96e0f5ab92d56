"""What other services call of the Shipment Service, and the booking and custody events it
follows. `Shipments` inherits these. A shipment is found by its booking id; events may
arrive late or twice, so a status never moves backwards or out of a terminal one."""
from __future__ import annotations

import uuid

from actors.custody.events import ShipmentDelivered, ShipmentException, ShipmentOutForDelivery, ShipmentPickedUp
from deployments.bookings.events import BookingCancelled, BookingConfirmed, BookingDeclined, BookingExpired
from deployments.kit import Service, internal, on
from deployments.shipments import rules
from deployments.shipments.errors import IllegalTransition, NoPackages, ShipmentNotFound
from deployments.shipments.events import ShipmentStatusChanged
from deployments.shipments.schemas import ShipmentCustody, ShipmentCustomsFacts
from storage.db import utcnow
from storage.models.shipments import Shipment


def custody(s: Shipment) -> ShipmentCustody:
    return ShipmentCustody(
        id=s.id, tracking_number=s.tracking_number, sender_id=s.sender_id, booking_id=s.booking_id, status=s.status,
        recipient_name=s.recipient_name, recipient_phone=s.recipient_phone, origin_location=s.origin_location,
        destination_location=s.destination_location, origin_country=s.origin_country,
        destination_country=s.destination_country, package_ids=[p.id for p in s.packages],
        carrier_ids=[uuid.UUID(str(c)) for c in s.carrier_ids or []], pickup_window_end=s.pickup_end,
        delivery_window_end=s.delivery_end)


def move(uow, s: Shipment, status: str, *, reason: str | None = None, by: uuid.UUID | None = None) -> None:
    """Set the status (and its packages'), bump the version, emit ShipmentStatusChanged."""
    was, s.status, s.reason, s.updated_at = s.status, status, reason or s.reason, utcnow()
    s.version += 1
    if status in rules.PACKAGE_STATUS:
        for p in s.packages:
            p.status = rules.PACKAGE_STATUS[status]
    uow.emit(ShipmentStatusChanged(shipment_id=s.id, booking_id=s.booking_id, status=status, was=was, reason=reason,
                                   requested_by=by), entity_id=s.id, version=s.version)


class ShipmentDesk(Service):
    @internal
    async def attach(self, shipment_id: uuid.UUID, sender_id: uuid.UUID, booking_id: uuid.UUID) -> ShipmentCustody:
        """A booking names the shipment: it awaits the carriers' acceptance, packages ready."""
        async with self.uow() as uow:
            s = await uow.repo(Shipment).get(shipment_id, lock=True)
            if s is None or s.sender_id != sender_id:
                raise ShipmentNotFound("No such shipment.", id=str(shipment_id))
            if s.status == "awaiting_acceptance" and s.booking_id == booking_id:
                return custody(s)
            if s.status != "draft":
                raise IllegalTransition(f"The shipment is {s.status}.", id=str(shipment_id), status=s.status)
            if not s.packages:
                raise NoPackages("Add a package before booking the shipment.", id=str(shipment_id))
            s.booking_id = booking_id
            move(uow, s, "awaiting_acceptance", reason="booking_created")
            return custody(s)

    @internal
    async def detach(self, shipment_id: uuid.UUID, booking_id: uuid.UUID) -> None:
        """The booking was not created after all: its shipment goes back to draft (idempotent)."""
        async with self.uow() as uow:
            s = await uow.repo(Shipment).get(shipment_id, lock=True)
            if s is not None and s.booking_id == booking_id and s.status == "awaiting_acceptance":
                self._back_to_draft(uow, s, "booking_failed")

    @internal
    async def custody_subject(self, shipment_id: uuid.UUID) -> ShipmentCustody:
        """The shipment as custody tracking needs it (404 if unknown)."""
        async with self.uow(read=True) as uow:
            return custody(await uow.repo(Shipment, ShipmentNotFound).get_or_404(shipment_id, what="shipment"))

    @internal
    async def by_tracking_number(self, number: str) -> ShipmentCustody:
        """The shipment of a public tracking number (404 if malformed, mistyped or unknown)."""
        canonical = rules.normalize_tracking_number(number)
        async with self.uow(read=True) as uow:
            s = await uow.repo(Shipment).find(tracking_number=canonical) if canonical else None
        if s is None:
            raise ShipmentNotFound("No shipment has this tracking number.", tracking_number=number)
        return custody(s)

    @internal
    async def customs_facts(self, shipment_id: uuid.UUID) -> ShipmentCustomsFacts:
        """What customs needs: countries, declared value, total weight (404 if unknown)."""
        async with self.uow(read=True) as uow:
            s = await uow.repo(Shipment, ShipmentNotFound).get_or_404(shipment_id, what="shipment")
            return ShipmentCustomsFacts(
                id=s.id, sender_id=s.sender_id, carrier_ids=[uuid.UUID(str(c)) for c in s.carrier_ids or []],
                status=s.status, origin_country=s.origin_country, destination_country=s.destination_country,
                international=s.international, declared_value_minor=s.declared_value_minor, currency=s.currency,
                weight_g=sum(p.weight_g for p in s.packages), packages=len(s.packages))

    # -- booking events ----------------------------------------------------------------------
    @on(BookingConfirmed)
    async def on_booking_confirmed(self, uow, event: BookingConfirmed) -> None:
        """Every carrier accepted: the shipment is booked, its packages assigned."""
        s = await self._of_booking(uow, event.booking_id)
        if s is not None:
            s.carrier_ids = sorted({str(c) for c in event.carrier_ids})
            if rules.moves_forward(s.status, "booked"):
                move(uow, s, "booked", reason="booking_confirmed")

    @on(BookingExpired)
    async def on_booking_expired(self, uow, event: BookingExpired) -> None:
        """The booking lapsed before acceptance: the shipment is a draft again."""
        await self._booking_closed(uow, event.booking_id, "booking_expired")

    @on(BookingDeclined)
    async def on_booking_declined(self, uow, event: BookingDeclined) -> None:
        """A carrier declined: the shipment is a draft again."""
        await self._booking_closed(uow, event.booking_id, "booking_declined")

    @on(BookingCancelled)
    async def on_booking_cancelled(self, uow, event: BookingCancelled) -> None:
        """A pending booking's shipment returns to draft; a booked one is cancelled."""
        s = await self._booking_closed(uow, event.booking_id, "booking_cancelled")
        if s is not None and s.status == "booked":
            move(uow, s, "cancelled", reason="booking_cancelled")

    # -- custody events ----------------------------------------------------------------------
    @on(ShipmentPickedUp)
    async def on_picked_up(self, uow, event: ShipmentPickedUp) -> None:
        """The first carrier has the packages: in transit."""
        await self._custody(uow, event.shipment_id, "in_transit", "picked_up")

    @on(ShipmentOutForDelivery)
    async def on_out_for_delivery(self, uow, event: ShipmentOutForDelivery) -> None:
        """The last carrier has the packages."""
        await self._custody(uow, event.shipment_id, "out_for_delivery", "out_for_delivery")

    @on(ShipmentDelivered)
    async def on_delivered(self, uow, event: ShipmentDelivered) -> None:
        """The recipient has the packages."""
        await self._custody(uow, event.shipment_id, "delivered", "delivered")

    @on(ShipmentException)
    async def on_exception(self, uow, event: ShipmentException) -> None:
        """Custody stopped: the shipment takes the exception's status."""
        if event.status in ("delivery_failed", "return_to_sender", "lost", "cancelled"):
            await self._custody(uow, event.shipment_id, event.status, event.reason)

    # -- helpers -----------------------------------------------------------------------------
    async def _custody(self, uow, shipment_id: uuid.UUID, status: str, reason: str) -> None:
        s = await uow.repo(Shipment).get(shipment_id)
        if s is not None and rules.moves_forward(s.status, status):
            move(uow, s, status, reason=reason)

    async def _of_booking(self, uow, booking_id: uuid.UUID) -> Shipment | None:
        return await uow.repo(Shipment).find(booking_id=booking_id)

    async def _booking_closed(self, uow, booking_id: uuid.UUID, reason: str) -> Shipment | None:
        s = await self._of_booking(uow, booking_id)
        if s is not None and s.status == "awaiting_acceptance":
            self._back_to_draft(uow, s, reason)
        return s

    @staticmethod
    def _back_to_draft(uow, s: Shipment, reason: str) -> None:
        move(uow, s, "draft", reason=reason)
        s.booking_id = None
