"""Mail in: the IMAP edge, parsing, text, the guard against automated mail; our replies as MIME."""
