"""The texts of the domain's own e-mails (MoU approval escalations, Europass Mobility sign-offs) in English
and in German, Spanish, Dutch, French and Italian: ``ecvet/locale/<language>/LC_MESSAGES/mail.po``, read by
the engine's :class:`engine.mailtexts.MailCatalogue` and written in the recipient's language."""
from __future__ import annotations

from pathlib import Path

from engine.mailtexts import MailCatalogue

#: The domain's e-mail catalogue; ``MAIL.writer(user.language)`` writes to one recipient.
MAIL = MailCatalogue(Path(__file__).resolve().parent / "locale")
