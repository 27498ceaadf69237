"""People: user accounts, their memberships in organizations, and invitations."""
