"""The local servers the demo and the tests run on: Dovecot, an SMTP sink, a seeded inbox."""
