"""Escrow Service (spec 9.20). Card authorisations lapse after 5-7 days and trips take
longer, so the Payment Service captures the money into the booking's escrow account and
this service holds it there, in the ledger, for each beneficiary: one pending transfer per
part (each traveler and courier for their leg to their payable account, the platform fee
to revenue). Then exactly one of:

- release (the shipment was delivered, the sender confirmed receipt, or finance decided a
  dispute for the carriers): every hold is committed, once;
- refund (the booking was cancelled, declined or expired, the shipment was lost, or
  finance decided for the sender): every hold is voided and the Payment Service refunds
  the payer, once;
- chargeback (the payer's bank won a dispute): the holds are voided and the money goes
  back to the processor; after a release the platform bears the loss.

Exactly once whatever retries, redeliveries, crashes or concurrent requests happen: every
ledger transfer's id is derived from the escrow entry it serves (a retry finds the
transfer it made), a pending transfer resolves once in the ledger (so a release racing a
refund has one winner), and this service's rows follow the ledger with conditional
updates, healing from it when a crash fell between the two. A dispute or a manual hold
freezes the escrow: no release until finance resolves it.

Refund policy (until the cancellations issue refines it): a booking closed before
delivery, and a lost shipment, are refunded in full; the platform fee included."""
from __future__ import annotations

import uuid
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError

from actors.custody.events import ShipmentDelivered, ShipmentException
from deployments.accounting import Accounting, AccountRef, LedgerClaim, TransferIn, transfer_id
from deployments.accounting.errors import PendingAlreadyResolved
from deployments.bookings import BookingCancelled, BookingDeclined, BookingExpired, Bookings
from deployments.escrow.errors import EscrowClosed, EscrowDisputed, EscrowNotFound, PaymentNotSucceeded
from deployments.escrow.events import ESCROW_EVENTS, EscrowHeld, EscrowRefunded, EscrowReleased, Part
from deployments.escrow.events import EscrowDisputed as EscrowDisputedEvent
from deployments.escrow.schemas import EscrowCreate, EscrowOut, HoldIn, RefundIn, ReleaseIn
from deployments.kit import Ctx, Service, ServiceSpec, crud, internal, on, op, uses
from deployments.payments.events import PaymentDisputeClosed, PaymentDisputed, PaymentSucceeded
from p2p.errors import ProblemError
from p2p.vocab import EscrowStatus
from storage.db import utcnow
from storage.models.escrow import Escrow, EscrowEntry

_NS = uuid.UUID("3c1e0f7a-8b2d-4e6f-9a1b-2c3d4e5f6a7b")
OPEN = ("held", "disputed")


def escrow_id(payment_id: uuid.UUID) -> uuid.UUID:
    """A payment opens one escrow, whose id follows from the payment's."""
    return uuid.uuid5(_NS, f"escrow:{payment_id}")



def beneficiary_account(en: EscrowEntry) -> AccountRef:
    """Where an entry's money goes on release: a carrier's payable account, the platform's
    revenue, or the tax payable of the part's jurisdiction (its `beneficiary_id` is the
    jurisdiction's account owner, `deployments.tax.jurisdiction_owner`)."""
    if en.kind == "tax":
        return AccountRef(kind="tax_payable", owner_id=en.beneficiary_id)
    return AccountRef(kind="payable", owner_id=en.beneficiary_id) if en.beneficiary_id else AccountRef(kind="revenue")

class PaymentDesk(Protocol):
    """What escrow calls of the Payment Service (a Protocol: that service is built beside this one)."""

    async def view(self, payment_id: uuid.UUID) -> Any: ...

    async def refund(self, payment_id: uuid.UUID, amount_minor: int, reason: str, key: str) -> Any: ...


class Escrows(Service):
    ledger = uses(Accounting)
    payments = uses(PaymentDesk, "payments")
    bookings = uses(Bookings)

    mine = crud.list_mine("GET /escrow", Escrow, EscrowOut, perm="escrow:read", owner="payer_id",
                          filters={"status": EscrowStatus}, doc="The escrows of the caller's payments, oldest first.")

    @op("POST /escrow", status=201, perm="escrow:write")
    async def create(self, ctx: Ctx, body: EscrowCreate) -> EscrowOut:
        """Open the escrow of a succeeded payment (its success opens it by itself; this is
        for making sure, and answers the same escrow every time)."""
        p = await self.payments.view(body.payment_id)
        if p.payer_id != ctx.user_id and not await self.can(ctx, "escrow:read:any"):
            raise EscrowNotFound("No such payment.", payment_id=str(body.payment_id))
        if p.status != "succeeded":
            raise PaymentNotSucceeded(f"The payment is {p.status}.", payment_id=str(p.id), status=p.status)
        return await self._open(p.id, p.booking_id, p.payer_id, p.currency, p.amount_minor, list(p.parts))

    @op("GET /escrow/{id}", perm="escrow:read")
    async def get(self, ctx: Ctx, id: uuid.UUID) -> EscrowOut:
        """An escrow, for its payer, its beneficiaries, support and finance."""
        return EscrowOut.model_validate(await self._visible(ctx, id))

    @op("POST /escrow/{id}/release", perm="escrow:write")
    async def release(self, ctx: Ctx, id: uuid.UUID, body: ReleaseIn | None = None) -> EscrowOut:
        """Release the money to its beneficiaries now: the payer confirming receipt, or
        finance (the only one who can release a disputed or held escrow). Delivery
        releases it by itself. Releasing twice answers the same."""
        e = await self._visible(ctx, id)
        finance = await self.can(ctx, "escrow:release:any")
        if e.payer_id != ctx.user_id and not finance:
            raise EscrowNotFound("Only the payer or finance releases an escrow.", id=str(id))
        return await self._release(id, override=finance)

    @op("POST /escrow/{id}/hold", perm="escrow:hold")
    async def hold(self, ctx: Ctx, id: uuid.UUID, body: HoldIn) -> EscrowOut:
        """Freeze the money for a dispute (the payer, support or finance): delivery no
        longer releases it; finance releases or refunds it when the dispute is decided."""
        e = await self._visible(ctx, id)
        if e.payer_id != ctx.user_id and not await self.can(ctx, "escrow:read:any"):
            raise EscrowNotFound("Only the payer, support or finance holds an escrow.", id=str(id))
        return await self._freeze(id, f"hold:{ctx.user_id}", body.reason)

    @op("POST /escrow/{id}/refund", perm="escrow:refund")
    async def refund(self, ctx: Ctx, id: uuid.UUID, body: RefundIn) -> EscrowOut:
        """Finance decides for the payer: every hold is voided and the payment refunded in full."""
        await self._visible(ctx, id)
        return await self._refund(id, f"manual:{body.reason}", override=True)

    # -- for other services ---------------------------------------------------------------
    @internal
    async def for_booking(self, booking_id: uuid.UUID) -> EscrowOut | None:
        async with self.uow(read=True) as uow:
            e = await uow.repo(Escrow).find(booking_id=booking_id)
        return EscrowOut.model_validate(e) if e is not None else None

    @internal
    async def ledger_claims(self) -> list[LedgerClaim]:
        """Per entry the hold (pending, committed or voided) and what resolved it; per
        escrow the chargeback."""
        async with self.uow(read=True) as uow:
            escrows = await uow.repo(Escrow).list()
        out: list[LedgerClaim] = []
        for e in escrows:
            for en in e.entries:
                state = {"held": "pending", "disputed": "pending", "released": "committed"}.get(en.status, "voided")
                out.append(LedgerClaim(transfer_id=en.hold_transfer_id, state=state, amount_minor=en.amount_minor,
                                       currency=e.currency, source="escrow", subject=f"escrow_entry:{en.id}"))
                if en.resolve_transfer_id is not None:
                    out.append(LedgerClaim(transfer_id=en.resolve_transfer_id, state="posted",
                                           amount_minor=en.amount_minor, currency=e.currency, source="escrow",
                                           subject=f"escrow_entry:{en.id}"))
            if e.chargeback_transfer_id is not None:
                out.append(LedgerClaim(transfer_id=e.chargeback_transfer_id, state="posted",
                                       amount_minor=e.chargeback_minor, currency=e.currency, source="escrow",
                                       subject=f"escrow:{e.id}"))
        return out

    # -- events (each idempotent; a state that makes one moot is not an error) ------------
    @on(PaymentSucceeded, tx=False)
    async def on_payment_succeeded(self, event: PaymentSucceeded) -> None:
        """Hold the captured money for the parts the payment charged."""
        await self._open(event.payment_id, event.booking_id, event.payer_id, event.currency, event.amount_minor,
                         list(event.parts))

    @on(ShipmentDelivered, tx=False)
    async def on_shipment_delivered(self, event: ShipmentDelivered) -> None:
        """Delivered: release, unless a dispute froze it (then finance decides)."""
        e = await self._by_booking(event.booking_id)
        if e is None:
            return
        async with self.uow() as uow:
            row = await uow.repo(Escrow).get(e.id, lock=True)
            if row is not None and row.delivered_at is None:
                row.delivered_at = event.at
        if e.status == "held":
            await self._quietly(self._release(e.id, override=False))

    @on(BookingCancelled, tx=False)
    async def on_booking_cancelled(self, event: BookingCancelled) -> None:
        await self._refund_booking(event.booking_id, "booking_cancelled")

    @on(BookingDeclined, tx=False)
    async def on_booking_declined(self, event: BookingDeclined) -> None:
        await self._refund_booking(event.booking_id, "booking_declined")

    @on(BookingExpired, tx=False)
    async def on_booking_expired(self, event: BookingExpired) -> None:
        await self._refund_booking(event.booking_id, "booking_expired")

    @on(ShipmentException, tx=False)
    async def on_shipment_exception(self, event: ShipmentException) -> None:
        """A lost shipment is refunded; other exceptions leave the money held."""
        if event.status == "lost":
            await self._refund_booking(event.booking_id, "shipment_lost")

    @on(PaymentDisputed, tx=False)
    async def on_payment_disputed(self, event: PaymentDisputed) -> None:
        e = await self._by_booking(event.booking_id)
        if e is not None and e.status in OPEN:
            await self._freeze(e.id, f"dispute:{event.dispute_id}", "The payer's bank opened a dispute.")

    @on(PaymentDisputeClosed, tx=False)
    async def on_payment_dispute_closed(self, event: PaymentDisputeClosed) -> None:
        """Won: the escrow thaws (and releases if delivered meanwhile). Lost: the processor
        took the money back, from the escrow or, once released, from the platform."""
        e = await self._by_booking(event.booking_id)
        if e is None:
            return
        if event.outcome == "lost":
            await self._chargeback(e.id, event.dispute_minor)
            return
        async with self.uow() as uow:
            row = await uow.repo(Escrow).get(e.id, lock=True)
            if row is not None and row.status == "disputed" and row.held_by == f"dispute:{event.dispute_id}":
                self._set(row, "held", held_by=None, hold_reason=None)
                delivered = row.delivered_at is not None
            else:
                delivered = False
        if delivered:
            await self._quietly(self._release(e.id, override=False))

    # -- the moves ------------------------------------------------------------------------
    async def _open(self, payment_id: uuid.UUID, booking_id: uuid.UUID, payer_id: uuid.UUID, currency: str,
                    amount_minor: int, parts: list[Any]) -> EscrowOut:
        eid = escrow_id(payment_id)
        async with self.uow(read=True) as uow:
            found = await uow.repo(Escrow).get(eid)
        if found is not None:
            return EscrowOut.model_validate(found)
        parts = [p for p in parts if p.amount_minor > 0]
        entries = []
        for seq, p in enumerate(parts):
            en_id = uuid.uuid5(eid, str(seq))
            entries.append(EscrowEntry(id=en_id, seq=seq, kind=p.kind, beneficiary_id=p.beneficiary_id,
                                       leg_seq=p.leg_seq, amount_minor=p.amount_minor, status="held",
                                       hold_transfer_id=transfer_id("escrow", en_id, "hold")))
        source = AccountRef(kind="escrow", owner_id=booking_id)
        available = (await self.ledger.balance("escrow", booking_id, currency)).available_minor
        if available < sum(en.amount_minor for en in entries):
            return await self._open_refunded(eid, payment_id, booking_id, payer_id, currency, amount_minor, available)
        await self.ledger.post([TransferIn.move(en.hold_transfer_id, source, beneficiary_account(en), en.amount_minor,
                                                currency, code="escrow.hold", ref=f"escrow:{eid}", action="hold")
                                for en in entries])
        try:
            async with self.uow() as uow:
                if await uow.repo(Escrow).get(eid) is None:
                    e = uow.repo(Escrow).add(Escrow(id=eid, booking_id=booking_id, payment_id=payment_id,
                                                    payer_id=payer_id, currency=currency, amount_minor=amount_minor,
                                                    status="held", entries=entries))
                    await uow.flush()
                    uow.emit(EscrowHeld.of(e), entity_id=e.id, version=e.version)
        except IntegrityError:
            pass  # opened concurrently (the event and POST /escrow): the same rows
        booking = await self.bookings.view(booking_id)
        if booking.status in ("expired", "declined", "cancelled"):  # closed before the money arrived
            return await self._refund(eid, f"booking_{booking.status}", override=True)
        return await self._view(eid)

    async def _open_refunded(self, eid: uuid.UUID, payment_id: uuid.UUID, booking_id: uuid.UUID, payer_id: uuid.UUID,
                             currency: str, amount_minor: int, available: int) -> EscrowOut:
        """The payment was (partly) refunded before its escrow opened: nothing is held; what
        is still in the escrow account goes back to the payer too."""
        refund = await self.payments.refund(payment_id, available, "refunded_before_escrow", f"escrow:{eid}:refund") \
            if available > 0 else None
        try:
            async with self.uow() as uow:
                if await uow.repo(Escrow).get(eid) is None:
                    e = uow.repo(Escrow).add(Escrow(
                        id=eid, booking_id=booking_id, payment_id=payment_id, payer_id=payer_id, currency=currency,
                        amount_minor=amount_minor, status="refunded", refunded_at=utcnow(),
                        refund_reason="refunded_before_escrow", refunded_minor=available,
                        refund_id=getattr(refund, "id", None), entries=[]))
                    await uow.flush()
                    uow.emit(EscrowRefunded.of(e, reason="refunded_before_escrow", refunded_minor=available,
                                               chargeback_minor=0), entity_id=e.id, version=e.version)
        except IntegrityError:
            pass  # opened concurrently
        return await self._view(eid)

    async def _release(self, id: uuid.UUID, *, override: bool) -> EscrowOut:
        e = await self._view(id)
        if e.status == "released":
            return e
        self._check_open(e, override)
        try:
            await self.ledger.post([TransferIn.resolve(transfer_id("escrow", en.id, "release"), en.hold_transfer_id,
                                                       commit=True, code="escrow.release", ref=f"escrow:{id}")
                                    for en in e.entries])
        except PendingAlreadyResolved:
            raise EscrowClosed("The money went back to the payer; it cannot be released.", id=str(id)) from None
        async with self.uow() as uow:
            row = await uow.repo(Escrow, EscrowNotFound).get_or_404(id, lock=True)
            if row.status in OPEN:
                for en in row.entries:
                    en.status, en.resolved_at = "released", utcnow()
                    en.resolve_transfer_id = transfer_id("escrow", en.id, "release")
                self._set(row, "released", released_at=utcnow(), held_by=None)
                uow.emit(EscrowReleased.of(row, parts=[Part(beneficiary_id=en.beneficiary_id, kind=en.kind,
                                                            amount_minor=en.amount_minor) for en in row.entries]),
                         entity_id=row.id, version=row.version)
            return EscrowOut.model_validate(row)

    async def _void_holds(self, e: EscrowOut) -> None:
        """Void every hold (once), and mark the entries: the money is free in the escrow account."""
        try:
            await self.ledger.post([TransferIn.resolve(transfer_id("escrow", en.id, "void"), en.hold_transfer_id,
                                                       commit=False, code="escrow.void", ref=f"escrow:{e.id}")
                                    for en in e.entries if en.status != "refunded"])
        except PendingAlreadyResolved:
            raise EscrowClosed("The escrow was released meanwhile; nothing to refund.", id=str(e.id)) from None
        async with self.uow() as uow:
            row = await uow.repo(Escrow, EscrowNotFound).get_or_404(e.id, lock=True)
            for en in row.entries:
                if en.status in OPEN:
                    en.status, en.resolved_at = "refunded", utcnow()
                    en.resolve_transfer_id = transfer_id("escrow", en.id, "void")

    async def _refund(self, id: uuid.UUID, reason: str, *, override: bool) -> EscrowOut:
        e = await self._view(id)
        if e.status == "refunded":
            return e
        self._check_open(e, override, refunding=True)
        await self._void_holds(e)
        refund = await self.payments.refund(e.payment_id, e.amount_minor, reason[:40], f"escrow:{id}:refund")
        async with self.uow() as uow:
            row = await uow.repo(Escrow, EscrowNotFound).get_or_404(id, lock=True)
            if row.status in OPEN:
                self._set(row, "refunded", refunded_at=utcnow(), refund_reason=reason[:40],
                          refunded_minor=e.amount_minor, refund_id=getattr(refund, "id", None), held_by=None)
                uow.emit(EscrowRefunded.of(row, reason=reason, refunded_minor=row.refunded_minor,
                                           chargeback_minor=0), entity_id=row.id, version=row.version)
            return EscrowOut.model_validate(row)

    async def _chargeback(self, id: uuid.UUID, amount_minor: int) -> None:
        """The processor took `amount_minor` back: from the escrow while it holds the money
        (holds voided, any rest refunded), else from the platform (dispute_losses)."""
        e = await self._view(id)
        if e.chargeback_minor:
            return
        released = e.status == "released"
        amount = min(amount_minor, e.amount_minor)
        if not released and e.status != "refunded":
            await self._void_holds(e)
        elif e.status == "refunded":
            return  # refunded before the dispute closed: the money is already back
        cb = transfer_id("escrow", id, "chargeback")
        payer = AccountRef(kind="dispute_losses") if released else AccountRef(kind="escrow", owner_id=e.booking_id)
        await self.ledger.post([TransferIn.move(cb, payer, AccountRef(kind="processor_clearing"), amount, e.currency,
                                                code="escrow.chargeback", ref=f"escrow:{id}")])
        rest = 0 if released else e.amount_minor - amount
        refund = await self.payments.refund(e.payment_id, rest, "chargeback_rest", f"escrow:{id}:refund") \
            if rest else None
        async with self.uow() as uow:
            row = await uow.repo(Escrow, EscrowNotFound).get_or_404(id, lock=True)
            if row.chargeback_transfer_id is None:
                row.chargeback_transfer_id, row.chargeback_minor = cb, amount
                if row.status in OPEN:
                    self._set(row, "refunded", refunded_at=utcnow(), refund_reason="chargeback",
                              refunded_minor=rest, refund_id=getattr(refund, "id", None), held_by=None)
                else:
                    row.version += 1
                uow.emit(EscrowRefunded.of(row, reason="chargeback", refunded_minor=row.refunded_minor,
                                           chargeback_minor=amount), entity_id=row.id, version=row.version)

    async def _freeze(self, id: uuid.UUID, by: str, reason: str) -> EscrowOut:
        async with self.uow() as uow:
            row = await uow.repo(Escrow, EscrowNotFound).get_or_404(id, lock=True)
            if row.status == "held":
                for en in row.entries:
                    en.status = "disputed"
                self._set(row, "disputed", held_by=by[:60], hold_reason=reason[:200])
                uow.emit(EscrowDisputedEvent.of(row, held_by=row.held_by), entity_id=row.id, version=row.version)
            elif row.status != "disputed":
                raise EscrowClosed(f"The escrow is {row.status}; its money has moved.", id=str(id), status=row.status)
            return EscrowOut.model_validate(row)

    # -- helpers ----------------------------------------------------------------------------
    def _check_open(self, e: EscrowOut, override: bool, *, refunding: bool = False) -> None:
        """A 409 unless the money is still held (a refund may finish what a crash or a
        failed refund call left half done: holds voided, payer not yet refunded)."""
        if e.status not in OPEN or (not refunding and any(en.status == "refunded" for en in e.entries)):
            raise EscrowClosed(f"The escrow is {e.status}; its money has moved.", id=str(e.id), status=e.status)
        if e.status == "disputed" and not override:
            raise EscrowDisputed("The escrow is frozen by a dispute or hold; finance decides it.", id=str(e.id),
                                 held_by=e.held_by)

    @staticmethod
    def _set(row: Escrow, status: str, **cols: Any) -> None:
        row.status, row.version = status, row.version + 1
        for k, v in cols.items():
            setattr(row, k, v)

    async def _refund_booking(self, booking_id: uuid.UUID | None, reason: str) -> None:
        e = await self._by_booking(booking_id)
        if e is not None and e.status in OPEN:
            await self._quietly(self._refund(e.id, reason, override=True))

    async def _quietly(self, move) -> None:
        """An event's move that the escrow's state already made moot (released, refunded,
        disputed) is not an error to retry."""
        try:
            await move
        except ProblemError as exc:
            if exc.status >= 500:
                raise

    async def _by_booking(self, booking_id: uuid.UUID | None) -> EscrowOut | None:
        return await self.for_booking(booking_id) if booking_id is not None else None

    async def _view(self, id: uuid.UUID) -> EscrowOut:
        async with self.uow(read=True) as uow:
            return EscrowOut.model_validate(await uow.repo(Escrow, EscrowNotFound).get_or_404(id))

    async def _visible(self, ctx: Ctx, id: uuid.UUID) -> EscrowOut:
        e = await self._view(id)
        if not (e.payer_id == ctx.user_id or any(en.beneficiary_id == ctx.user_id for en in e.entries)
                             or await self.can(ctx, "escrow:read:any")):
            raise EscrowNotFound("No such escrow.", id=str(id))
        return e


SPEC = ServiceSpec("Escrow Service", key="escrow", prefix="/escrow", service=Escrows, models="storage.models.escrow",
                   emits=ESCROW_EVENTS,
                   grants={"sender": ("escrow:read", "escrow:write", "escrow:hold"),
                           "traveler": ("escrow:read",), "courier": ("escrow:read",),
                           "support": ("escrow:read", "escrow:read:any", "escrow:hold"),
                           "finance": ("escrow:read", "escrow:read:any", "escrow:hold", "escrow:write",
                                       "escrow:release:any", "escrow:refund")})
