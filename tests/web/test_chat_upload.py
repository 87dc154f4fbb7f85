"""Sending a voice note, photo or document from the web chat (POST /chat/upload)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.dialogue.contributions import MAX_FILE_BYTES
from bot.storage.models import Attachment, ContributionPiece
from bot.web.app import create_app
from tests.browser import ARTIFACTS, browser_page, needs_chromium
from tests.conftest import only_on
from tests.live import serving

PHOTO = b"\x89PNG\r\n\x1a\n" + b"a-photo-of-her" * 30


class WebPerson:
    """Someone in the web chat, choosing options by their value as the buttons do."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.replies: list[dict[str, Any]] = []
        client.get("/chat")

    def says(self, text: str) -> str:
        self.replies = self.client.post("/chat/send", json={"text": text}).json()["replies"]
        return "\n".join(r["text"] for r in self.replies)

    def choose(self, value: str) -> str:
        offered = [r for r in self.replies if r["choices"]][-1]["choices"]
        return self.says(str([c["value"] for c in offered].index(value) + 1))

    def uploads(self, data: bytes, content_type: str) -> Any:
        response = self.client.post("/chat/upload", content=data, headers={"content-type": content_type})
        self.replies = response.json().get("replies", [])
        return response


def to_file_step(person: WebPerson) -> None:
    person.says("hello")
    for value in ("en", "yes", "no", "none", "form", "sibling"):
        person.choose(value)
    person.says("3")  # a voice note
    while "save" not in [c["value"] for r in person.replies for c in r["choices"]]:
        person.choose("__skipped__")
    person.choose("save")
    person.choose("now")
    person.choose("file")


def test_a_photo_uploaded_in_the_web_chat_is_kept_encrypted_and_given_with_consent(service):
    person = WebPerson(TestClient(create_app(service)))
    to_file_step(person)
    assert "paperclip" in "\n".join(r["text"] for r in person.replies), "the web page says how to send a file"
    response = person.uploads(PHOTO, "image/png")
    assert response.status_code == 200
    assert "Your photo is kept" in "\n".join(r["text"] for r in person.replies)
    assert "1. Photo" in person.says("done")
    for value in ("save", "yes", "yes", "yes"):
        person.choose(value)
    with service.db.session() as s:
        piece = s.scalars(select(ContributionPiece)).one()
        attachment = s.get(Attachment, piece.attachment_id)
        assert base64.b64decode(attachment.data) == PHOTO and attachment.content_type == "image/png"
        assert piece.channel == "web" and (piece.consent_chair, piece.consent_quote, piece.consent_panel) == (
            True,
            True,
            True,
        )


def test_uploads_that_are_too_big_of_a_wrong_type_cross_site_or_without_a_chat_are_refused(service):
    client = TestClient(create_app(service))
    assert client.post("/chat/upload", content=PHOTO, headers={"content-type": "image/png"}).status_code == 400
    person = WebPerson(client)
    to_file_step(person)
    cross_site = client.post(
        "/chat/upload", content=PHOTO, headers={"content-type": "image/png", "origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    too_big = person.uploads(b"x" * (MAX_FILE_BYTES + 1), "audio/ogg")
    assert too_big.status_code == 413 and "too big" in too_big.json()["replies"][0]["text"]
    person.uploads(b"<script>alert(1)</script>", "text/html")
    assert "can't keep this kind of file" in person.replies[0]["text"]
    with service.db.session() as s:
        assert s.scalar(select(func.count(Attachment.id))) == 0


@pytest.mark.browser
@needs_chromium
@only_on("sqlite")
def test_a_phone_sized_browser_sends_a_photo_with_the_paperclip(service, settings, database_url, tmp_path):
    photo = tmp_path / "garden.png"
    photo.write_bytes(PHOTO)
    with serving(create_app(service)) as url:
        service.settings = service.settings.model_copy(update={"public_base_url": url})
        with browser_page() as page:
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(url + "/chat")
            page.get_by_role("button", name="English").click()
            page.get_by_role("button", name="Yes").click()
            page.get_by_role("button", name="No", exact=True).click()
            page.get_by_role("button", name="I don't have a code").click()
            page.get_by_role("button", name="Tell us how you want to take part").click()
            page.get_by_role("button", name="I am their brother or sister").click()
            page.get_by_role("button", name="Send a voice note", exact=True).click()  # toggled: several may be chosen
            page.get_by_role("button", name="Send", exact=True).click()
            page.get_by_text("What questions would you like the review to answer?").wait_for()
            for _ in range(20):
                page.get_by_role("button", name="Skip").or_(
                    page.get_by_role("button", name="Yes, save it")
                ).first.wait_for()
                if page.get_by_role("button", name="Yes, save it").count():
                    break
                page.get_by_role("button", name="Skip").click()
            page.get_by_role("button", name="Yes, save it").click()
            page.get_by_role("button", name="Yes, start now").click()
            page.get_by_role("button", name="Send a voice note, photo or document", exact=True).click()
            page.get_by_text("paperclip").wait_for()
            page.set_input_files("#attach", str(photo))
            page.get_by_text("Your photo is kept").wait_for()
            page.get_by_role("button", name="That's everything").click()
            page.get_by_text("1. Photo").wait_for()
            ARTIFACTS.mkdir(exist_ok=True)
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.screenshot(path=str(ARTIFACTS / "web-chat-upload-390x844.png"))
            page.get_by_role("button", name="Yes, save it").click()
            page.get_by_text("May the review's chair read it?").wait_for()
            page.get_by_role("button", name="Yes").click()
            page.get_by_text("May the report quote it?").wait_for()
            page.get_by_role("button", name="No", exact=True).click()
            page.get_by_text("share it with the review panel").wait_for()
            page.get_by_role("button", name="No", exact=True).click()
            page.get_by_text("Your files are saved").wait_for()
            page.screenshot(path=str(ARTIFACTS / "web-chat-upload-saved-390x844.png"))
    with service.db.session() as s:
        piece = s.scalars(select(ContributionPiece)).one()
        assert (piece.consent_chair, piece.consent_quote, piece.consent_panel) == (True, False, False)
