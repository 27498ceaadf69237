"""slotwise: a booking engine and service that never double-books."""
