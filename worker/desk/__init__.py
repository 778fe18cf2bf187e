"""The recovery play, stage by stage: ingest, detect, draft, review, send, follow up, report."""
