"""Question frames and politeness phrases: the wording *around* a request, not the request.

"Could you tell me how I can reverse a list?" and "How do I reverse a list?" ask the same
thing; :func:`strip_frames` rewrites the frames of the first into those of the second.
A frame is removed (or rewritten) only where the word after it shows what it frames:

- *request frames* ("can/could/would/will you", "you could", "I want you to", "help me",
  "if you could", "would you be able to") only before a request verb ("could you explain"), so that
  "can you swim" keeps its modal;
- *question frames* ("tell me", "can you tell me", "do you know", "I want to know",
  "explain", "describe") only before a question word ("tell me what ...", "explain why
  the sky is blue" = "why is the sky blue");
- *how-to frames* ("how do/can/could/would/should I/we/one/you", "how I can", "how to",
  "what is the way to", "is there a way to", "show me how to") become ``how``; "how do you" is not a
  how-to frame before a verb of opinion ("how do you feel about ...");
- *preambles* anywhere ("I was wondering if", "quick question", "thank you", "for me",
  "to me", "in order to"), and a greeting ("hi", "hey", "hello") that opens the prompt
  and is followed by a request or a question ("hello in Japanese" keeps its word);
- ``me`` right after a request verb ("give me", "write me"), and "tell me about" =
  "explain".

Articles may stand inside a frame ("what is the/a way to"). Rewriting runs once, left to
right, longest frame first; a rewritten frame is followed by the next one
("can you tell me how to" → "how").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, auto

from .inflection import fold
from .lexicon import QUESTION_WORDS, REQUEST_VERBS

__all__ = ["strip_frames"]


class _Needs(Enum):
    """What must follow a frame for it to be one."""

    ANYTHING = auto()
    REQUEST_VERB = auto()
    QUESTION_WORD = auto()
    PROMPT_START = auto()  # the frame opens the prompt, and a request or a question follows
    HOW_TO = auto()  # a how-to frame with the subject "you": not before a verb of opinion


@dataclass(frozen=True, slots=True)
class _Frame:
    words: tuple[frozenset[str], ...]  # "" in a set: the word may be absent
    becomes: tuple[str, ...]
    needs: _Needs


_OPINION_VERBS = frozenset(
    {"feel", "think", "like", "love", "hate", "rate", "see", "view", "know", "want",
     "prefer", "look", "remember", "believe", "personally", "rank", "judge"}
)  # fmt: skip


def _frame(spec: str, becomes: str, needs: _Needs) -> _Frame:
    """``spec``: words separated by spaces, alternatives by ``|``, ``?`` after optional."""
    words: list[frozenset[str]] = []
    for part in spec.split():
        optional = part.endswith("?")
        options = set(part.rstrip("?").split("|"))
        if optional:
            options.add("")
        words.append(frozenset(options))
    return _Frame(tuple(words), tuple(becomes.split()), needs)


# Words a request or a question opens with, after a greeting ("hi, can you ...").
_OPENERS = frozenset(
    {"can", "could", "would", "will", "i", "is", "are", "do", "does", "please", "quick"}
)
_ASKER = "can|could|would|will"
_HOW_AUX = "do|can|could|would|should|might|may"
_ART = "a|an|the?"

_FRAMES = (
    # Preambles.
    _frame("i was wondering if|whether?", "", _Needs.ANYTHING),
    _frame("i wonder if|whether?", "", _Needs.ANYTHING),
    _frame("quick question", "", _Needs.ANYTHING),
    _frame("thank you in advance", "", _Needs.ANYTHING),
    _frame("thank you", "", _Needs.ANYTHING),
    _frame("thanks in advance", "", _Needs.ANYTHING),
    _frame("in order to", "", _Needs.ANYTHING),
    _frame("for me", "", _Needs.ANYTHING),
    _frame("to me", "", _Needs.ANYTHING),
    _frame("hi|hey|hello", "", _Needs.PROMPT_START),
    # Request frames.
    _frame(f"{_ASKER} you be able to", "", _Needs.REQUEST_VERB),
    _frame("are you able to", "", _Needs.REQUEST_VERB),
    _frame(f"{_ASKER} you", "", _Needs.REQUEST_VERB),
    _frame(f"you {_ASKER}", "", _Needs.REQUEST_VERB),
    _frame("if you could|can|would", "", _Needs.REQUEST_VERB),
    _frame("i want|need you to", "", _Needs.REQUEST_VERB),
    _frame("i would like you to", "", _Needs.REQUEST_VERB),
    _frame("i'd like you to", "", _Needs.REQUEST_VERB),
    _frame("help me understand", "explain", _Needs.ANYTHING),
    _frame("help me", "", _Needs.REQUEST_VERB),
    # Question frames.
    _frame(f"{_ASKER} you tell me about", "explain", _Needs.ANYTHING),
    _frame("tell me about", "explain", _Needs.ANYTHING),
    _frame(f"{_ASKER} you tell me", "", _Needs.QUESTION_WORD),
    _frame("tell me", "", _Needs.QUESTION_WORD),
    _frame("explain|describe", "", _Needs.QUESTION_WORD),
    _frame(f"do you know|remember {_ART}", "", _Needs.QUESTION_WORD),
    _frame("i want|need to know", "", _Needs.QUESTION_WORD),
    _frame("i would like to know", "", _Needs.QUESTION_WORD),
    _frame("i'd like to know", "", _Needs.QUESTION_WORD),
    # How-to frames.
    _frame("show|tell me how to", "how", _Needs.ANYTHING),
    _frame(f"show|tell me how {_HOW_AUX}? i|we|one?", "how", _Needs.ANYTHING),
    _frame(f"how {_HOW_AUX} i|we|one", "how", _Needs.ANYTHING),
    _frame(f"how i|we|one {_HOW_AUX}", "how", _Needs.ANYTHING),
    _frame(f"how {_HOW_AUX} you", "how", _Needs.HOW_TO),
    _frame("how does one", "how", _Needs.ANYTHING),
    _frame("how to", "how", _Needs.ANYTHING),
    _frame(f"what is {_ART} way to", "how", _Needs.ANYTHING),
    _frame(f"what is {_ART} best way to", "how best", _Needs.ANYTHING),
    _frame(f"is there {_ART} way to", "how", _Needs.ANYTHING),
    _frame(f"what is {_ART} procedure|process to|for", "how", _Needs.ANYTHING),
)


def _index(frames: tuple[_Frame, ...]) -> dict[str, tuple[_Frame, ...]]:
    """The frames by their possible first word, in priority order: most tokens start none,
    and a lookup costs one dict access for them."""
    index: dict[str, list[_Frame]] = {}
    for frame in frames:
        if "" in frame.words[0]:
            raise ValueError("a frame's first word cannot be optional")
        for word in frame.words[0]:
            index.setdefault(word, []).append(frame)
    return {word: tuple(found) for word, found in index.items()}


_BY_FIRST_WORD = _index(_FRAMES)


def _match(words: tuple[frozenset[str], ...], tokens: Sequence[str], at: int) -> int:
    """Tokens matched by ``words`` from ``tokens[at]`` (longest alternative), or -1."""
    if not words:
        return 0
    first, rest = words[0], words[1:]
    best = -1
    if at < len(tokens) and tokens[at] in first:
        tail = _match(rest, tokens, at + 1)
        if tail >= 0:
            best = 1 + tail
    if "" in first:
        best = max(best, _match(rest, tokens, at))
    return best


def _is_request_verb(token: str) -> bool:
    return token in REQUEST_VERBS or fold(token) in REQUEST_VERBS


def _followed_right(frame: _Frame, tokens: Sequence[str], at: int, end: int) -> bool:
    following = tokens[end] if end < len(tokens) else None
    needs = frame.needs
    if needs is _Needs.ANYTHING:
        return True
    if following is None:
        return False
    if needs is _Needs.REQUEST_VERB:
        return _is_request_verb(following)
    if needs is _Needs.QUESTION_WORD:
        return following in QUESTION_WORDS
    if needs is _Needs.PROMPT_START:
        return at == 0 and (
            _is_request_verb(following) or following in QUESTION_WORDS or following in _OPENERS
        )
    return following not in _OPINION_VERBS  # HOW_TO


def strip_frames(tokens: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(kept, dropped)``: the tokens with frames rewritten, and the words they dropped."""
    kept: list[str] = []
    dropped: list[str] = []
    i = 0
    while i < len(tokens):
        for frame in _BY_FIRST_WORD.get(tokens[i], ()):
            used = _match(frame.words, tokens, i)
            if used > 0 and _followed_right(frame, tokens, i, i + used):
                replaced = tokens[i : i + used]
                kept.extend(frame.becomes)
                dropped.extend(_minus(replaced, frame.becomes))
                i += used
                break
        else:
            token = tokens[i]
            kept.append(token)
            i += 1
            # "give me", "write me": the indirect object of a request is the asker.
            if token in REQUEST_VERBS and i < len(tokens) and tokens[i] == "me":
                dropped.append("me")
                i += 1
    return kept, dropped


def _minus(words: Iterable[str], removed: Sequence[str]) -> list[str]:
    """``words`` without one occurrence of each of ``removed`` (what a frame really dropped)."""
    left = list(removed)
    out: list[str] = []
    for word in words:
        if word in left:
            left.remove(word)
        else:
            out.append(word)
    return out
