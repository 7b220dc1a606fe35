"""Consultations: one agent asks another role a question, or asks the
decision-maker to choose, over request/reply on the bus.

Asker and answerer may live in different processes (and versions), so the
messages are JSON with a version field, and both sides validate what they
read with the same rules: a bad argument is refused before it is sent, a
malformed message is answered with an error, never with a crash.

Everything here is pure: the wire format, the limits, the prompt the
answering role is given, and reading the decision-maker's choice out of
its answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "DECISION_ROLE",
    "DEFAULT_DEADLINE_SECONDS",
    "HEADING_ANSWER",
    "HEADING_CONTEXT",
    "HEADING_OPTIONS",
    "HEADING_QUESTION",
    "MAX_CONTEXT",
    "MAX_DEADLINE_SECONDS",
    "MAX_OPTIONS",
    "MAX_OPTION_CHARS",
    "MAX_QUESTION",
    "MIN_DEADLINE_SECONDS",
    "MIN_OPTIONS",
    "PROTOCOL_VERSION",
    "Choice",
    "ConsultKind",
    "ConsultReply",
    "ConsultRequest",
    "MalformedConsultation",
    "check_context",
    "check_deadline",
    "check_options",
    "check_question",
    "consult_prompt",
    "read_choice",
]

PROTOCOL_VERSION = 1
DECISION_ROLE = "decision-maker"

DEFAULT_DEADLINE_SECONDS = 60.0
MIN_DEADLINE_SECONDS = 1.0
MAX_DEADLINE_SECONDS = 300.0
MAX_QUESTION = 4000
MAX_CONTEXT = 4000
MIN_OPTIONS = 2
MAX_OPTIONS = 10
MAX_OPTION_CHARS = 200
# What a reply carries of an answer at most: a consultation is a quick
# exchange, not a document.
MAX_ANSWER = 8000


class MalformedConsultation(ValueError):
    """A consultation message (or argument) breaks the rules; the message says which."""


class ConsultKind(StrEnum):
    HELP = "help"
    DECISION = "decision"


# ------------------------------------------------------------------ validation


def check_question(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MalformedConsultation("the question must not be empty")
    if len(value) > MAX_QUESTION:
        raise MalformedConsultation(
            f"the question has {len(value)} characters; at most {MAX_QUESTION}"
        )
    return value.strip()


def check_options(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise MalformedConsultation(
            f"options must be a list of {MIN_OPTIONS} to {MAX_OPTIONS} strings"
        )
    if not MIN_OPTIONS <= len(value) <= MAX_OPTIONS:
        raise MalformedConsultation(
            f"options must hold {MIN_OPTIONS} to {MAX_OPTIONS} choices, not {len(value)}"
        )
    options: list[str] = []
    for i, option in enumerate(value, start=1):
        if not isinstance(option, str) or not option.strip():
            raise MalformedConsultation(f"option {i} must be a non-empty string")
        if len(option) > MAX_OPTION_CHARS:
            raise MalformedConsultation(f"option {i} is longer than {MAX_OPTION_CHARS} characters")
        text = " ".join(option.split())
        if text.lower() in (o.lower() for o in options):
            raise MalformedConsultation(f"option {i} repeats an earlier option: {text!r}")
        options.append(text)
    return tuple(options)


def check_context(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedConsultation("context must be a string")
    if len(value) > MAX_CONTEXT:
        raise MalformedConsultation(f"context has {len(value)} characters; at most {MAX_CONTEXT}")
    return value.strip()


def check_deadline(value: object) -> float:
    if value is None:
        return DEFAULT_DEADLINE_SECONDS
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedConsultation("deadline_seconds must be a number of seconds")
    if not MIN_DEADLINE_SECONDS <= value <= MAX_DEADLINE_SECONDS:
        raise MalformedConsultation(
            f"deadline_seconds must be from {MIN_DEADLINE_SECONDS:g} to "
            f"{MAX_DEADLINE_SECONDS:g}, not {value:g}"
        )
    return float(value)


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedConsultation(f"{key} must be a non-empty string")
    return value


def _object(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data)
    except ValueError:
        raise MalformedConsultation("the message is not JSON") from None
    if not isinstance(body, dict):
        raise MalformedConsultation("the message is not a JSON object")
    version = body.get("v")
    if version != PROTOCOL_VERSION:
        raise MalformedConsultation(
            f"protocol version {version!r} is not understood (this side speaks {PROTOCOL_VERSION})"
        )
    return body


# ------------------------------------------------------------------ messages


@dataclass(frozen=True, slots=True)
class ConsultRequest:
    """A question from one run to another role (for a decision: to `DECISION_ROLE`)."""

    kind: ConsultKind
    workspace_id: str
    role: str  # the role asked
    asking_role: str
    run_id: str
    task_id: str
    question: str
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS
    options: tuple[str, ...] = ()
    context: str = ""

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {
            "v": PROTOCOL_VERSION,
            "kind": self.kind.value,
            "workspace_id": self.workspace_id,
            "role": self.role,
            "asking_role": self.asking_role,
            "run_id": self.run_id,
            "task_id": self.task_id,
            "question": self.question,
            "deadline_seconds": self.deadline_seconds,
        }
        if self.kind is ConsultKind.DECISION:
            body["options"] = list(self.options)
            body["context"] = self.context
        return json.dumps(body).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> ConsultRequest:
        """Raises `MalformedConsultation` naming the first problem."""
        body = _object(data)
        try:
            kind = ConsultKind(str(body.get("kind")))
        except ValueError:
            raise MalformedConsultation(
                f"kind {body.get('kind')!r} is not help or decision"
            ) from None
        role = _text(body, "role")
        if kind is ConsultKind.DECISION and role != DECISION_ROLE:
            raise MalformedConsultation(f"decisions are asked of the {DECISION_ROLE}, not {role}")
        return cls(
            kind=kind,
            workspace_id=_text(body, "workspace_id"),
            role=role,
            asking_role=_text(body, "asking_role"),
            run_id=_text(body, "run_id"),
            task_id=_text(body, "task_id"),
            question=check_question(body.get("question")),
            deadline_seconds=check_deadline(body.get("deadline_seconds")),
            options=check_options(body.get("options")) if kind is ConsultKind.DECISION else (),
            context=check_context(body.get("context")) if kind is ConsultKind.DECISION else "",
        )


@dataclass(frozen=True, slots=True)
class ConsultReply:
    """The answer, or (ok False) why there is none. For a decision, `choice`
    is the 1-based number of the option chosen, None when the answer named none.

    `cost_microusd` and the token counts are what answering cost (a refusal
    after the model call too): the ledger has it against the asking run
    already, and the asking side adds it to the run's own totals."""

    ok: bool
    role: str
    answer: str = ""
    error: str = ""
    agent: str = ""
    model: str = ""
    choice: int | None = None
    option: str = ""
    rationale: str = ""
    decision_id: str = ""
    cost_microusd: int = 0
    tokens_in: int = 0
    tokens_out: int = 0

    @classmethod
    def refusal(cls, role: str, error: str) -> ConsultReply:
        return cls(ok=False, role=role, error=error)

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {"v": PROTOCOL_VERSION, "ok": self.ok, "role": self.role}
        # Added within version 1: older readers ignore them, and a reply
        # without them (an older answerer) reads as costing nothing.
        body |= {
            "cost_microusd": self.cost_microusd,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
        }
        if not self.ok:
            body["error"] = self.error
            return json.dumps(body).encode()
        body |= {"answer": self.answer[:MAX_ANSWER], "agent": self.agent, "model": self.model}
        if self.choice is not None:
            body |= {
                "choice": self.choice,
                "option": self.option,
                "rationale": self.rationale[:MAX_ANSWER],
                "decision_id": self.decision_id,
            }
        return json.dumps(body).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> ConsultReply:
        body = _object(data)
        ok = body.get("ok")
        if not isinstance(ok, bool):
            raise MalformedConsultation("ok must be true or false")
        role = str(body.get("role") or "")
        cost, tokens_in = _count(body, "cost_microusd"), _count(body, "tokens_in")
        tokens_out = _count(body, "tokens_out")
        if not ok:
            return cls(
                ok=False,
                role=role,
                error=str(body.get("error") or "no reason given"),
                cost_microusd=cost,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
            )
        choice = body.get("choice")
        if choice is not None and (isinstance(choice, bool) or not isinstance(choice, int)):
            raise MalformedConsultation("choice must be an option number")
        return cls(
            ok=True,
            role=role,
            answer=str(body.get("answer") or ""),
            agent=str(body.get("agent") or ""),
            model=str(body.get("model") or ""),
            choice=choice,
            option=str(body.get("option") or ""),
            rationale=str(body.get("rationale") or ""),
            decision_id=str(body.get("decision_id") or ""),
            cost_microusd=cost,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
        )


def _count(body: dict[str, Any], key: str) -> int:
    """A non-negative whole number of the reply (0 when absent: an older answerer)."""
    value = body.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedConsultation(f"{key} must be a whole number, 0 or more")
    return value


# ------------------------------------------------------------------ prompt

HEADING_QUESTION = "Question:"
HEADING_OPTIONS = "Options:"
HEADING_CONTEXT = "Context:"
HEADING_ANSWER = "How to answer:"

_HELP_NOTE = (
    "Another agent of your team consults you. Answer its question directly and "
    "concretely, from your role's expertise, in a few short paragraphs. You have no "
    "tools in this exchange and cannot delegate: if something cannot be known from "
    "the question, say what you would need and give your best recommendation anyway."
)
_DECISION_NOTE = (
    "Another agent of your team asks you to decide. Choose exactly one of the numbered "
    "options. The first line of your answer must read `Choice: N`, N being the number "
    "of the option you choose; then give your rationale in a few sentences: why this "
    "option, what would make you reverse it."
)


def consult_prompt(request: ConsultRequest, task_title: str) -> tuple[str, str]:
    """(note for the system prompt, user message) of a consultation. The
    sections have fixed headings, so a reader (the offline model) finds the
    question and the options again."""
    asked = "to decide" if request.kind is ConsultKind.DECISION else "for help"
    lines = [
        f"The {request.asking_role} role asks you {asked}, while working on task "
        f"{request.task_id}: “{task_title}”.",
        "",
        HEADING_QUESTION,
        request.question,
    ]
    if request.kind is ConsultKind.DECISION:
        lines += ["", HEADING_OPTIONS]
        lines += [f"{i}. {option}" for i, option in enumerate(request.options, start=1)]
        if request.context:
            lines += ["", HEADING_CONTEXT, request.context]
        lines += ["", HEADING_ANSWER, "Choice: N on the first line, then your rationale."]
        return _DECISION_NOTE, "\n".join(lines)
    return _HELP_NOTE, "\n".join(lines)


# ------------------------------------------------------------------ choice

# A bracketed label may lead the line (the offline model's "[offline model]").
_CHOICE_LINE = re.compile(
    r"^(?:\s*\[[^\]]{0,40}\])?[\s>*_#-]*"
    r"(?:choice|decision|chosen option|option chosen|i choose)\s*[*_]*\s*[:\-\u2014]\s*"
    r"(?P<value>.+?)\s*$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^(?:option\s*)?#?\s*(?P<n>\d{1,2})\b", re.IGNORECASE)
# A letter alone or before punctuation ("B", "b)", "B — ..."), never the article in "a cache".
_LETTER = re.compile(r"^(?:option\s*)?(?P<letter>[a-j])\s*(?:$|[.):\u2014-])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Choice:
    index: int  # 0-based
    rationale: str


def _normal(text: str) -> str:
    return " ".join(text.replace("*", "").replace("`", "").split()).strip(" .").lower()


def _from_value(value: str, options: Sequence[str]) -> int | None:
    """The option a choice line's value names: its number, its letter, or its text."""
    clean = _normal(value)
    lowered = [_normal(o) for o in options]
    if clean in lowered:
        return lowered.index(clean)
    if (number := _NUMBER.match(clean)) is not None:
        n = int(number.group("n"))
        return n - 1 if 1 <= n <= len(options) else None
    # The option's text with something after it ("Use PostgreSQL — because ..."): longest first.
    for i in sorted(range(len(options)), key=lambda i: -len(lowered[i])):
        if clean.startswith(lowered[i]):
            return i
    if (letter := _LETTER.match(clean)) is not None:
        n = ord(letter.group("letter").lower()) - ord("a")
        return n if n < len(options) else None
    return None


def _mentioned(text: str, options: Sequence[str]) -> int | None:
    """The one option the text mentions (an option inside a longer one it
    also mentions does not count), or None."""
    body = _normal(text)
    lowered = [_normal(o) for o in options]
    found = [i for i, o in enumerate(lowered) if o and o in body]
    found = [i for i in found if not any(j != i and lowered[i] in lowered[j] for j in found)]
    return found[0] if len(found) == 1 else None


def read_choice(answer: str, options: Sequence[str]) -> Choice | None:
    """Which option an answer picks: a ``Choice: …`` line naming it by
    number, letter or text (any case); else an answer that is nothing but
    an option or its number; else the only option the answer mentions.
    None when the answer does not settle on one."""
    lines = answer.strip().splitlines()
    for n, line in enumerate(lines):
        match = _CHOICE_LINE.match(line)
        if match is None:
            continue
        index = _from_value(match.group("value"), options)
        if index is not None:
            rest = "\n".join(lines[n + 1 :]).strip()
            return Choice(index, rest or answer.strip())
    if len(lines) == 1:
        whole = _normal(answer)
        lowered = [_normal(o) for o in options]
        if whole in lowered:
            return Choice(lowered.index(whole), answer.strip())
        if whole.isdigit() and 1 <= int(whole) <= len(options):
            return Choice(int(whole) - 1, answer.strip())
    index = _mentioned(answer, options)
    return None if index is None else Choice(index, answer.strip())
