"""The contribution itself: an account, who the person was, a name for the report, and files.

Collected at the person's own pace: many messages, across days and apps, each kept the moment it
arrives; read back before anything is saved; then a separate yes or no for each use. Saved pieces
can be read, added to, written again, have their consents changed, or be withdrawn; every change is
a new version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.dialogue import form
from bot.dialogue.contributions import (
    ACCOUNT,
    COLLECTED_WAYS,
    FILE,
    NAME,
    PORTRAIT,
    TEXT_KINDS,
    USE_CHAIR,
    USE_PANEL,
    USE_QUOTE,
    USES,
    Consents,
    current_pieces,
    discard_unsaved_files,
    file_family,
    file_piece_key,
    file_refused,
    files_of_latest_message,
    save_piece,
    stored_size,
)
from bot.dialogue.messages import Choice
from bot.dialogue.turn import Step, pick
from bot.i18n import N_, _, format_day, ngettext
from bot.nlu.base import URGENT_INTENTS
from bot.storage.models import Attachment, ContributionPiece

# Where a person is while giving a piece; commands that work anywhere leave their words alone here.
COLLECT_STATES = frozenset(
    {"contribute", "contribute_offer", "collect", "readback", "piece_consent", "piece", "piece_withdraw", "files"}
)

START = {
    ACCOUNT: N_("Write an account"),
    PORTRAIT: N_("Tell the review who they were"),
    NAME: N_("Suggest a name for the report"),
}
UNFINISHED = {
    ACCOUNT: N_("Carry on writing your account"),
    PORTRAIT: N_("Carry on telling us who they were"),
    NAME: N_("Carry on with the name"),
}
SAVED = {
    ACCOUNT: N_("Your written account"),
    PORTRAIT: N_("Who they were, in your words"),
    NAME: N_("The name you suggested"),
}
INTRO = {
    ACCOUNT: N_(
        "Please write your account in your own words. Send as many messages as you like, today or over several days. When you have finished, send DONE. I will read it back to you before anything is saved."
    ),
    PORTRAIT: N_(
        "Please tell us who they were: what they were like, what they loved, what you want the review to know about them. Send as many messages as you like. When you have finished, send DONE."
    ),
    NAME: N_(
        "What name would you like the report to use for them? It can be their first name, a name they liked, or a different name. The review will agree it with you."
    ),
    FILE: N_(
        "Please send your voice notes, photos or documents here, one or several. When you have finished, send DONE. Nobody listens to them straight away: if you need help now, send PERSON."
    ),
}
READ_BACK = {
    ACCOUNT: N_("Here is your account, as you wrote it:"),
    PORTRAIT: N_("Here is what you told us about them:"),
    NAME: N_("The name you suggested:"),
    FILE: N_("Here is what you sent:"),
}
SAVED_NOW = {
    ACCOUNT: N_("Thank you. Your account is saved."),
    PORTRAIT: N_("Thank you. What you told us about them is saved."),
    NAME: N_("Thank you. The name you suggested is saved."),
    FILE: N_("Thank you. Your files are saved."),
}
FILE_KEPT = {
    "voice": N_("Thank you. Your voice note is kept."),
    "photo": N_("Thank you. Your photo is kept."),
    "document": N_("Thank you. Your document is kept."),
}
FILE_LABEL = {"voice": N_("Voice note"), "photo": N_("Photo"), "document": N_("Document")}
CONSENT_QUESTIONS = {
    USE_CHAIR: N_("May the review's chair read it?"),
    USE_QUOTE: N_("May the report quote it? The report never names you."),
    USE_PANEL: N_("May the chair share it with the review panel?"),
}
NAME_IN_REPORT = N_("May the report use this name?")


class Collect(Step):
    """Giving the review an account, a portrait, a name or files, and changing or withdrawing them."""

    _listened_to_by_a_person: Callable[[], None]

    # ------------------------------------------------------------------ drafts (kept encrypted)
    def _draft(self, kind: str) -> dict[str, Any]:
        drafts = self.c.contribution_draft or {}
        found = drafts.get(kind)
        return {"parts": [], "files": []} | (found if isinstance(found, dict) else {})

    def _keep_draft(self, kind: str, draft: dict[str, Any] | None) -> None:
        drafts = dict(self.c.contribution_draft or {})
        if draft is None:
            drafts.pop(kind, None)
        else:
            drafts[kind] = draft
        self.c.contribution_draft = drafts or None  # reassigned, so the change is saved

    def _has_draft(self, kind: str) -> bool:
        draft = self._draft(kind)
        return bool(draft["parts"] or draft["files"])

    def _kind(self) -> str:
        kind = self.t.data.get("collect_kind")
        return kind if kind in (*TEXT_KINDS, FILE) else FILE

    def _done_choice(self) -> list[Choice]:
        # Not "I have finished": typed, those words can mean despair (and the safety net reads them so).
        return [Choice("done", _("That's everything"))]

    # ------------------------------------------------------------------ where to start
    def offers_contribution(self, latest: Any) -> bool:
        """Whether the menu offers giving an account, portrait, name or files."""
        ways = (latest.answers.get(form.WAYS) if latest is not None else None) or []
        chose = isinstance(ways, list) and any(w in COLLECTED_WAYS for w in ways)
        return chose or bool(self.c.contribution_draft) or bool(current_pieces(self.t.session, self.c.id))

    def offer_to_collect(self, answers: dict[str, Any]) -> bool:
        """After the form is saved: offer to give what the person said they would, now or later."""
        ways = answers.get(form.WAYS)
        kinds = [COLLECTED_WAYS[w] for w in ways or [] if w in COLLECTED_WAYS] if isinstance(ways, list) else []
        saved = {p.kind for p in current_pieces(self.t.session, self.c.id).values()}
        if not [k for k in kinds if k not in saved]:
            return False
        self.t.go("contribute_offer", q=None)
        self.t.say(
            _(
                "You said you would like to give the review something in your own words or your own files. You can do it here, at your own pace. Would you like to start now?"
            ),
            self._start_now_choices(),
        )
        return True

    def _start_now_choices(self) -> list[Choice]:
        return [Choice("now", _("Yes, start now")), Choice("later", _("Later"))]

    def contribute_offer_state(self) -> None:
        choice = pick(self.t.text, self._start_now_choices()) or {"yes": "now", "no": "later"}.get(
            self._yes_or_no() or ""
        )
        if choice == "now":
            self.show_contribute()
        elif choice == "later":
            self.t.say(_("That's okay. You can start any time from the menu."))
            self.show_menu()
        else:
            self._sorry()
            self.t.say(_("Would you like to start now?"), self._start_now_choices())

    def _hub_choices(self) -> list[Choice]:
        saved = current_pieces(self.t.session, self.c.id)
        choices = []
        for kind in TEXT_KINDS:
            if self._has_draft(kind):
                label = UNFINISHED[kind]
            elif kind in saved:
                label = SAVED[kind]
            else:
                label = START[kind]
            choices.append(Choice(kind, _(label)))
        if self._has_draft(FILE):
            choices.append(Choice(FILE, _("Carry on sending files")))
        else:
            choices.append(Choice(FILE, _("Send a voice note, photo or document")))
        files = [p for p in saved.values() if p.kind == FILE]
        if files:
            choices.append(
                Choice("files", ngettext("Your file ({n})", "Your files ({n})", len(files)).format(n=len(files)))
            )
        choices.append(Choice("menu", _("Back to the menu")))
        return choices

    def show_contribute(self) -> None:
        """What a person can give the review, and what they have given so far."""
        self.t.go("contribute", collect_kind=None, piece=None, q=None)
        self.t.say(
            _(
                "What would you like to give the review? Take your time. You can stop at any point and carry on later, here or on another app."
            ),
            self._hub_choices(),
        )

    def contribute_state(self) -> None:
        choices = self._hub_choices()
        choice = pick(self.t.text, choices)
        if choice is None and self.t.is_word("back"):
            choice = "menu"
        if choice is None:
            self._sorry()
            self.show_contribute()
        elif choice == "menu":
            self.show_menu()
        elif choice == "files":
            self.show_files()
        elif (
            choice in TEXT_KINDS and choice in current_pieces(self.t.session, self.c.id) and not self._has_draft(choice)
        ):
            self.show_piece(choice)
        else:
            self.start_collecting(choice)

    # ------------------------------------------------------------------ collecting
    def start_collecting(self, kind: str) -> None:
        """Ask for a piece, or carry on with one begun earlier (on this app or another)."""
        self.t.go("collect", collect_kind=kind, piece=None)
        if self._has_draft(kind):
            self.t.say(
                _("Welcome back. What you sent so far is kept. Carry on, or send DONE when you have finished."),
                self._done_choice(),
            )
            return
        prompt = _(INTRO[kind])
        if kind == FILE and self.t.inbound.channel == "web":
            prompt += "\n" + _("On this page, use the paperclip button to choose a file.")
        self.t.say(prompt, [] if kind == NAME else self._done_choice())

    def carry_on_collecting(self) -> None:
        """After an interruption (an urgent message, HELP, a code): where the person was, nothing lost."""
        kind = self._kind()
        if self.t.intent in URGENT_INTENTS and self.t.text and kind in (ACCOUNT, PORTRAIT):
            # The words that raised the alarm were written as part of the account: keep them there too.
            draft = self._draft(kind)
            draft["parts"] = [*draft["parts"], self.t.text]
            self._keep_draft(kind, draft)
            self.t.say(_("What you just wrote is kept with the rest. You can read it all before it is saved."))
        if kind == NAME:
            self.t.say(_(INTRO[NAME]))
            return
        self.t.say(_("When you are ready, carry on, or send DONE when you have finished."), self._done_choice())

    def collect_state(self) -> None:
        t, kind = self.t, self._kind()
        if t.is_word("back"):
            t.say(_("What you sent so far is kept."))
            self.show_contribute()
            return
        if t.is_word("done") or pick(t.text, self._done_choice()) == "done":
            self.read_back(kind)
            return
        if kind == FILE:
            t.say(
                _("Please send a voice note, a photo or a document, or send DONE when you have finished."),
                self._done_choice(),
            )
            return
        draft = self._draft(kind)
        if kind == NAME:
            draft["parts"] = [t.text]
            self._keep_draft(kind, draft)
            self.read_back(kind)
            return
        draft["parts"] = [*draft["parts"], t.text]
        self._keep_draft(kind, draft)
        t.say(_("Kept. Carry on, or send DONE when you have finished."), self._done_choice())

    def media_arrived(self) -> bool:
        """Files with a message: refused kindly if we cannot keep them, part of the contribution being
        given, or else looked at by a person. True when the turn is answered."""
        t = self.t
        kept: list[Attachment] = []
        refused: str | None = None
        for attachment in files_of_latest_message(t.session, self.c.id):
            attachment.byte_size = stored_size(attachment)
            reason = file_refused(attachment.content_type, attachment.byte_size)
            if reason is None:
                kept.append(attachment)
            else:
                refused = reason
                t.session.delete(attachment)
        if refused == "type":
            t.say(
                _(
                    "Sorry, I can't keep this kind of file. Please send a voice note, a photo, or a PDF or Word document."
                )
            )
        elif refused == "size":
            t.say(_("Sorry, this file is too big to keep. The limit is 16 MB. Please send a shorter or smaller one."))
        if self.c.state in COLLECT_STATES - {"piece_consent", "piece_withdraw"}:
            self._take_files(kept)  # while giving something, a file is part of what is given
            return True
        if t.text:
            return False
        if kept:
            self._listened_to_by_a_person()
        else:
            self._reprompt()
        return True

    def _take_files(self, kept: list[Attachment]) -> None:
        # Files sent while writing an account or a portrait go with it; anywhere else, with the files.
        kind = self._kind() if self.c.state in ("collect", "readback") else FILE
        if kind == NAME:
            kind = FILE
        draft = self._draft(kind)
        note = self.t.text
        draft["files"] = [*draft["files"], *({"id": a.id, "note": note} for a in kept)]
        self._keep_draft(kind, draft)
        self.t.go("collect", collect_kind=kind)
        if len(kept) == 1:
            self.t.say(_(FILE_KEPT[file_family(kept[0].content_type)]))
        elif kept:
            self.t.say(_("Thank you. Your files are kept."))
        self.t.say(_("Send more, or send DONE when you have finished."), self._done_choice())

    # ------------------------------------------------------------------ reading back
    def _file_lines(self, files: list[dict[str, Any]]) -> list[str]:
        ids = [f["id"] for f in files]
        stored = {a.id: a for a in self.t.session.scalars(select(Attachment).where(Attachment.id.in_(ids)))}
        lines = []
        for n, f in enumerate(files, start=1):
            attachment = stored.get(f["id"])
            if attachment is None:
                continue
            label = _(FILE_LABEL[file_family(attachment.content_type)])
            lines.append(f"{n}. {label}" + (f": {f['note']}" if f.get("note") else ""))
        return lines

    def _readback_choices(self, kind: str) -> list[Choice]:
        if kind == NAME:
            return [
                Choice("save", _("Yes, save it")),
                Choice("again", _("Suggest a different name")),
                Choice("later", _("Keep it for later")),
            ]
        return [
            Choice("save", _("Yes, save it")),
            Choice("more", _("Add more")),
            Choice("again", _("Start again")),
            Choice("later", _("Keep it for later")),
        ]

    def read_back(self, kind: str) -> None:
        """Everything the person sent for this piece, to confirm before it is saved."""
        t, draft = self.t, self._draft(kind)
        if not draft["parts"] and not draft["files"]:
            t.say(
                _("There is nothing to save yet. Send what you would like to give, or send BACK."),
                [] if kind == NAME else self._done_choice(),
            )
            return
        t.go("readback", collect_kind=kind)
        t.say(_(READ_BACK[kind]))
        if draft["parts"]:
            t.say("\n\n".join(draft["parts"]))
        if draft["files"]:
            t.say(_("Files:") + "\n" + "\n".join(self._file_lines(draft["files"])))
        t.say(_("Shall I save it?"), self._readback_choices(kind))

    def readback_state(self) -> None:
        t, kind = self.t, self._kind()
        choices = self._readback_choices(kind)
        choice = pick(t.text, choices) or {"yes": "save"}.get(self._yes_or_no() or "")
        if choice == "save":
            self._ask_consent(0, piece=None)
        elif choice == "more":
            t.go("collect", collect_kind=kind)
            t.say(_("Carry on. Send DONE when you have finished."), self._done_choice())
        elif choice == "again":
            discard_unsaved_files(t.session, self.c.id, [f["id"] for f in self._draft(kind)["files"]])
            self._keep_draft(kind, None)
            self.start_collecting(kind)
        elif choice == "later" or t.is_word("back"):
            t.say(_("It is kept, and nothing is shared. You can come back to it from the menu."))
            self.show_menu()
        else:
            self._sorry()
            t.say(_("Shall I save it?"), choices)

    # ------------------------------------------------------------------ consent for each use
    def _ask_consent(self, use_index: int, piece: str | None) -> None:
        """One yes or no for each use; `piece` when changing the consents of a saved piece."""
        kind = self._kind()
        if use_index == 0:
            self.t.go("piece_consent", use=0, piece=piece, consents={})
        else:
            self.t.set_data(use=use_index)
        use = USES[use_index]
        question = NAME_IN_REPORT if kind == NAME and use == USE_QUOTE else CONSENT_QUESTIONS[use]
        self.t.say(_(question), self._yes_no())

    def piece_consent_state(self) -> None:
        t = self.t
        index = int(t.data.get("use") or 0)
        answer = self._yes_or_no()
        if answer is None:
            self._sorry()
            self._ask_consent(index, t.data.get("piece"))
            return
        consents = {**(t.data.get("consents") or {}), USES[index]: answer == "yes"}
        t.set_data(consents=consents)
        if index == 0 and answer == "no":
            consents |= {USE_QUOTE: False, USE_PANEL: False}  # nobody reads it, so nobody uses it
        elif index + 1 < len(USES):
            self._ask_consent(index + 1, t.data.get("piece"))
            return
        self._finish_consents(Consents(consents[USE_CHAIR], consents[USE_QUOTE], consents[USE_PANEL]))

    def _finish_consents(self, consents: Consents) -> None:
        t, c, kind = self.t, self.c, self._kind()
        channel = t.inbound.channel
        piece_key = t.data.get("piece")
        if piece_key:
            saved = current_pieces(t.session, c.id).get(piece_key)
            if saved is not None:
                save_piece(
                    t.session, c, kind=saved.kind, piece=piece_key, channel=channel, text=saved.text,
                    attachment_id=saved.attachment_id, consents=consents,
                )  # fmt: skip
            t.say(_("Thank you. Your choice is saved.") + "\n" + self._consent_words(consents))
        else:
            draft = self._draft(kind)
            if draft["parts"] and kind != FILE:
                save_piece(t.session, c, kind=kind, piece=kind, channel=channel, text="\n\n".join(draft["parts"]),
                           consents=consents)  # fmt: skip
            for f in draft["files"]:
                save_piece(
                    t.session, c, kind=FILE, piece=file_piece_key(f["id"]), channel=channel,
                    text=f.get("note") or None, attachment_id=f["id"], consents=consents,
                )  # fmt: skip
            self._keep_draft(kind, None)
            t.say(_(SAVED_NOW[kind]) + "\n" + self._consent_words(consents))
        t.set_data(consents=None, use=None, piece=None)
        self.show_contribute()

    def _consent_words(self, consents: Consents) -> str:
        if not consents.chair:
            return _("It is kept safely. Nobody working on the review will see it unless you change this.")
        return " ".join(
            [
                _("The chair may read it."),
                _("The report may quote it.") if consents.quote else _("The report will not quote it."),
                _("The panel may see it.") if consents.panel else _("The panel will not see it."),
            ]
        )

    # ------------------------------------------------------------------ a saved piece
    def _piece_choices(self, piece: ContributionPiece) -> list[Choice]:
        choices = []
        if piece.kind in (ACCOUNT, PORTRAIT):
            choices += [
                Choice("read", _("Read it")),
                Choice("add", _("Add to it")),
                Choice("again", _("Write it again")),
            ]
        elif piece.kind == NAME:
            choices += [Choice("read", _("Read it")), Choice("again", _("Suggest a different name"))]
        return [
            *choices,
            Choice("consent", _("Change who may see it")),
            Choice("withdraw", _("Withdraw it")),
            Choice("back", _("Back")),
        ]

    def _title(self, piece: ContributionPiece) -> str:
        if piece.kind == FILE:
            attachment = self.t.session.get(Attachment, piece.attachment_id) if piece.attachment_id else None
            return _(FILE_LABEL[file_family(attachment.content_type if attachment else "")])
        return _(SAVED[piece.kind])

    def show_piece(self, key: str) -> None:
        """One saved piece: when it was saved, who may see it, and what can be done with it."""
        piece = current_pieces(self.t.session, self.c.id).get(key)
        if piece is None:
            self.show_contribute()
            return
        self.t.go("piece", piece=key, collect_kind=piece.kind)
        day = format_day(piece.created_at, self.c.timezone)
        self.t.say(
            f"{self._title(piece)} ({day})\n{self._consent_words(Consents.of(piece))}\n"
            + _("What would you like to do?"),
            self._piece_choices(piece),
        )

    def piece_state(self) -> None:
        t, key = self.t, str(self.t.data.get("piece") or "")
        piece = current_pieces(t.session, self.c.id).get(key)
        if piece is None:
            self.show_contribute()
            return
        choice = pick(t.text, self._piece_choices(piece))
        if choice is None and t.is_word("back"):
            choice = "back"
        if choice == "read":
            t.say(piece.text or "")
            self.show_piece(key)
        elif choice == "add":
            self._keep_draft(piece.kind, {"parts": [piece.text or ""], "files": []})
            t.go("collect", collect_kind=piece.kind)
            t.say(_("Carry on writing. Send DONE when you have finished."), self._done_choice())
        elif choice == "again":
            self._keep_draft(piece.kind, None)
            self.start_collecting(piece.kind)
        elif choice == "consent":
            self._ask_consent(0, piece=key)
        elif choice == "withdraw":
            t.go("piece_withdraw")
            t.say(
                _(
                    "Do you want to withdraw it? Nobody working on the review will see it from now on. You can give something new at any time."
                ),
                self._yes_no(),
            )
        elif choice == "back":
            if piece.kind == FILE:
                self.show_files()
            else:
                self.show_contribute()
        else:
            self._sorry()
            self.show_piece(key)

    def piece_withdraw_state(self) -> None:
        t, key = self.t, str(self.t.data.get("piece") or "")
        answer = self._yes_or_no()
        piece = current_pieces(t.session, self.c.id).get(key)
        if answer is None:
            self._sorry()
            t.say(_("Do you want to withdraw it?"), self._yes_no())
        elif answer == "no" or piece is None:
            self.show_piece(key)
        else:
            save_piece(
                t.session, self.c, kind=piece.kind, piece=key, channel=t.inbound.channel,
                attachment_id=piece.attachment_id, withdrawn=True,
            )  # fmt: skip
            t.say(_("It is withdrawn. Nobody working on the review will see it from now on."))
            self.show_contribute()

    # ------------------------------------------------------------------ saved files
    def _files_choices(self) -> list[Choice]:
        files = [p for p in current_pieces(self.t.session, self.c.id).values() if p.kind == FILE]
        choices = [Choice(p.piece, f"{self._title(p)} ({format_day(p.created_at, self.c.timezone)})") for p in files]
        return [*choices, Choice("more", _("Send another")), Choice("back", _("Back"))]

    def show_files(self) -> None:
        """The files a person gave, to change who may see one or to withdraw it."""
        self.t.go("files", piece=None, collect_kind=FILE)
        self.t.say(_("Your files. Choose one to change who may see it, or to withdraw it."), self._files_choices())

    def files_state(self) -> None:
        choice = pick(self.t.text, self._files_choices())
        if choice is None and self.t.is_word("back"):
            choice = "back"
        if choice == "more":
            self.start_collecting(FILE)
        elif choice == "back":
            self.show_contribute()
        elif choice is None:
            self._sorry()
            self.show_files()
        else:
            self.show_piece(choice)

    def reprompt_collecting(self) -> None:
        """Ask again whatever the person was last asked while giving a piece."""
        state = self.c.state
        if state == "collect":
            self.carry_on_collecting()
        elif state == "readback":
            self.read_back(self._kind())
        elif state == "piece_consent":
            self._ask_consent(int(self.t.data.get("use") or 0), self.t.data.get("piece"))
        elif state in ("piece", "piece_withdraw"):
            self.show_piece(str(self.t.data.get("piece") or ""))
        elif state == "files":
            self.show_files()
        else:
            self.show_contribute()


COLLECT_HANDLERS: dict[str, Callable[[Collect], None]] = {
    "contribute": Collect.contribute_state,
    "contribute_offer": Collect.contribute_offer_state,
    "collect": Collect.collect_state,
    "readback": Collect.readback_state,
    "piece_consent": Collect.piece_consent_state,
    "piece": Collect.piece_state,
    "piece_withdraw": Collect.piece_withdraw_state,
    "files": Collect.files_state,
}
