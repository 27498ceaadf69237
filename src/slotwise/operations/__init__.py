"""What an operator runs beside the app: backups and their restore."""
