"""Messages about bookings, kept in an outbox and delivered at least once, never lost."""
