"""/organisations/{id}/retention and /processing-register (api/web/retention_pages.py): a member reads the
periods with their source, sets the organisation's own (a bad value is said next to its field, 422), reads
the register in a language and downloads it as PDF; a member of another organisation gets 404."""
from __future__ import annotations

from sqlalchemy import select

from ecvet.retention.models import RetentionPolicy
from tests.api.conftest import World
from tests.api.web.conftest import Browser


def test_a_member_reads_and_sets_the_periods(world: World, pages: dict[str, Browser]) -> None:
    sender = pages["sender"]
    url = f"/organisations/{world.sending_org}/retention"
    page = sender.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Personal Transcripts" in text
    assert "National default: " in text
    assert "must confirm" in text
    assert f'href="/organisations/{world.sending_org}/processing-register"' in text
    assert f"/organisations/{world.sending_org}/retention" in sender.get("/profile").get_data(as_text=True)

    bad = sender.post(url, {"keep_months.transcript": "ten", "keep_months.review": "400"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert 'id="keep-transcript-error"' in body
    assert 'value="ten"' in body
    saved = sender.post(url, {"keep_months.transcript": "84", "keep_months.review": ""})
    assert saved.status_code == 302
    with world.db.transaction() as s:
        assert [(p.record_kind, p.keep_months) for p in s.scalars(select(RetentionPolicy))] == [("transcript", 84)]
    assert "Set by your organisation" in sender.get(url).get_data(as_text=True)


def test_the_register_page_and_its_pdf(world: World, pages: dict[str, Browser]) -> None:
    sender = pages["sender"]
    url = f"/organisations/{world.sending_org}/processing-register"
    page = sender.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Records of processing activities" in text
    assert "Assessment, validation and recognition" in text
    # record kinds and sources in words, never their codes
    assert "Memoranda of Understanding and their approvals" in text
    assert "Personal Transcripts" in text
    for code in (">mou<", ">audit trail<", ">qualification award<", ">national default<", ">learning agreement<"):
        assert code not in text, code
    german = sender.get(url + "?lang=de").get_data(as_text=True)
    assert "Verzeichnis von Verarbeitungstätigkeiten" in german
    assert "Rechtsgrundlage" in german
    pdf = sender.get(f"/organisations/{world.sending_org}/processing-register.pdf?lang=fr")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_other_organisations_get_404(world: World, pages: dict[str, Browser]) -> None:
    base = f"/organisations/{world.sending_org}"
    for url in (f"{base}/retention", f"{base}/processing-register", f"{base}/processing-register.pdf"):
        assert pages["host"].get(url).status_code == 404
    assert pages["outsider"].post(f"/organisations/{world.sending_org}/retention",
                                  {"keep_months.transcript": "1"}).status_code == 404
