"""Europass Mobility: the record of a completed learning period abroad, signed off by host and sending organisation."""
