"""Outgoing webhooks: booking events posted, signed, to URLs an organization registers."""
