"""What a reader sees of a Europass Mobility: its content, hash, sign-offs and whether both are given."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypedDict

from sqlalchemy.orm import Session

from ecvet import signing
from ecvet.europass import service
from ecvet.europass.models import EuropassMobility, EuropassSignature


class EuropassSignatureView(TypedDict):
    party: Annotated[str, "hosting | sending"]
    organisation_id: int
    content_hash: Annotated[str, "the hash of the text signed off"]
    signer: signing.SignerView
    signed_at: datetime


class EuropassView(TypedDict):
    """A Europass Mobility: the template's fields as data (``content``), the SHA-256 each sign-off quotes."""

    id: int
    mobility_id: int
    learner_id: int
    sending_organisation_id: int
    hosting_organisation_id: int
    status: Annotated[str, "signing (waiting for a sign-off) | signed (by the host and the sending organisation)"]
    content: Annotated[dict[str, Any], "the Europass Mobility's fields (holder, organisations, learning abroad, units)"]
    content_hash: str
    signatures: list[EuropassSignatureView]
    created_at: datetime


def signature(row: EuropassSignature) -> EuropassSignatureView:
    return {"party": row.party, "organisation_id": row.organisation_id, "content_hash": row.content_hash,
            "signer": signing.view(row), "signed_at": row.signed_at}


def europass(session: Session, row: EuropassMobility) -> EuropassView:
    return {"id": row.id, "mobility_id": row.mobility_id, "learner_id": row.learner_id,
            "sending_organisation_id": row.sending_organisation_id,
            "hosting_organisation_id": row.hosting_organisation_id,
            "status": "signed" if service.signed_by_both(session, row) else "signing",
            "content": row.content, "content_hash": row.content_hash,
            "signatures": [signature(s) for s in service.signatures(session, row)], "created_at": row.created_at}
