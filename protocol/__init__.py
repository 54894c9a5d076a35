"""Wire protocol between the supervisor and isolate workers (sans-I/O)."""
