"""Retention (GDPR Art. 5(1)(e)): how long each kind of record is kept, the purge that applies it, and
the records of processing (Art. 30) generated from the same policy."""
