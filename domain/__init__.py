"""The licensing domain: registrations, permits and themed bundle applications (no I/O)."""
