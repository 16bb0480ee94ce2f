"""/verify: anyone checks a credential this platform signed (pasted or uploaded JSON), or the SHA-256 printed
on a document (held, or purged under the retention policy and still authentic), no sign-in."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, render_template, request

from ecvet.mobility import seal
from ecvet.retention import ledger
from engine.config import settings

from ..deps import unit_of_work

bp = Blueprint("web_verify", __name__)

#: Longer texts are not sent back into the form.
ECHO_MAX_CHARS = 200_000


def _submitted() -> str:
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return upload.read(settings().json_max_bytes + 1).decode("utf-8", errors="replace")
    return request.form.get("credential", "")


@bp.route("/verify", methods=["GET", "POST"], endpoint="verify")
def verify_page() -> Any:
    """A form to paste or upload a credential; after it is sent, whether each signature is valid and who
    issued it (the key must be one this platform published for the issuer)."""
    if request.method == "GET":
        return render_template("verify/verify.html", results=None, problem=None, text="")
    text = _submitted()
    if ledger.HASH.match(text.strip()):
        # A SHA-256 printed on a document: held, purged under the retention policy (still authentic), or unknown.
        with unit_of_work(write=False) as session:
            found = ledger.check(session, text)
        return render_template("verify/verify.html", results=None, problem=None, text=text.strip(), hash_check=found)
    problem = None
    results: list[tuple[Any, seal.Verification]] = []
    if not text.strip():
        problem = "verify.empty"
    elif len(text.encode("utf-8")) > settings().json_max_bytes:
        problem = "verify.too_large"
    else:
        try:
            data = json.loads(text)
        except ValueError:
            data, problem = None, "verify.not_json"
        if problem is None:
            found = seal.credentials_in(data)
            if not isinstance(found, list) or not found:
                problem = "verify.no_credential"
            else:
                with unit_of_work(write=False) as session:
                    results = [(c.get("id") if isinstance(c, dict) else None, seal.published_by(session, c))
                               for c in found]
    status = 422 if problem else 200
    return render_template("verify/verify.html", results=results, problem=problem,
                           text=text if len(text) < ECHO_MAX_CHARS else ""), status
