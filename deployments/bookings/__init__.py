"""Booking Service (spec 7.15), grown into a package: schemas, errors, events, the holds a
booking places with its carriers, and the service with its spec."""
from deployments.bookings.events import (
                                         BookingCancelled,
                                         BookingClosed,
                                         BookingCompleted,
                                         BookingConfirmed,
                                         BookingCreated,
                                         BookingDeclined,
                                         BookingExpired,
)
from deployments.bookings.service import SPEC, Bookings

__all__ = ["SPEC", "BookingCancelled", "BookingClosed", "BookingCompleted", "BookingConfirmed", "BookingCreated",
           "BookingDeclined", "BookingExpired", "Bookings"]
