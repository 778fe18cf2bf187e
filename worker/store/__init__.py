"""The store: SQLite, the one place Amends remembers anything (see ``database.py``).

The rest of the code imports what it needs from here."""

from .database import Fetched, Store, content_key, iso, message_key, utcnow

__all__ = ["Fetched", "Store", "content_key", "iso", "message_key", "utcnow"]
