"""What an operator runs beside the app: health checks, the self-audit, backups."""
