"""Split a filter or ``order_by`` clause into tokens.

The tokenizer knows no grammar: keywords (``AND``, ``LIKE``…) come out as
plain words and the parser recognises them, so a key such as ``tags.and``
stays a key. Every token remembers where it starts, so errors can point at
it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from kiln.errors import InvalidFilter

# A word is a bare identifier such as ``metrics.val_loss`` or ``AND``; dots,
# dashes, slashes and colons may appear inside it because MLflow keys use
# them (``tags.mlflow.user``, ``metrics.train/loss``).
_WORD = re.compile(r"\w[\w.\-/:]*")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD_CHAR = re.compile(r"[\w.\-/:]")
_OPERATOR = re.compile(r"!=|<>|<=|>=|==|=|<|>")
_SPACE = re.compile(r"\s+")
_PUNCTUATION = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}
_QUOTES = {"'", '"', "`"}


class TokenKind(enum.Enum):
    WORD = "word"
    NUMBER = "number"
    STRING = "string"  # in '…' or "…"
    QUOTED_KEY = "quoted key"  # in `…`
    OPERATOR = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text as written, its unquoted value and its
    0-based character position in the input."""

    kind: TokenKind
    text: str
    value: str
    position: int
    quote: str = ""


def show(text: str, limit: int = 60) -> str:
    """Quote a piece of the input for an error message, shortened if long."""
    if len(text) > limit:
        return repr(text[:limit]) + "…"
    return repr(text)


def tokenize(text: str, what: str = "filter") -> list[Token]:
    """Return the tokens of ``text``, ending with an END token.

    Raises :class:`~kiln.errors.InvalidFilter` for an unterminated quote or a
    character that cannot start a token.
    """
    tokens: list[Token] = []
    position = 0
    while True:
        space = _SPACE.match(text, position)
        if space:
            position = space.end()
        if position >= len(text):
            tokens.append(Token(TokenKind.END, "", "", position))
            return tokens
        token = _next_token(text, position, what)
        tokens.append(token)
        position += len(token.text)


def _next_token(text: str, position: int, what: str) -> Token:
    char = text[position]
    if char in _PUNCTUATION:
        return Token(TokenKind[_PUNCTUATION[char]], char, char, position)
    if char in _QUOTES:
        return _quoted(text, position, what)
    operator = _OPERATOR.match(text, position)
    if operator:
        op = operator.group()
        return Token(TokenKind.OPERATOR, op, op, position)
    number = _NUMBER.match(text, position)
    # "1e3" is a number but "1st_epoch" is a word: a number must not run on
    # into word characters.
    if number and not _WORD_CHAR.match(text, number.end()):
        value = number.group()
        return Token(TokenKind.NUMBER, value, value, position)
    word = _WORD.match(text, position)
    if word:
        value = word.group()
        return Token(TokenKind.WORD, value, value, position)
    raise InvalidFilter(
        f"Invalid {what}: unexpected character {char!r} at position {position}; "
        "expected a key, an operator, a quoted string or a number."
    )


def _quoted(text: str, start: int, what: str) -> Token:
    # A quote character is written inside a quoted string by doubling it, as
    # in SQL: 'it''s' is the value it's.
    quote = text[start]
    pieces: list[str] = []
    index = start + 1
    while True:
        close = text.find(quote, index)
        if close < 0:
            raise InvalidFilter(
                f"Invalid {what}: the quote {quote!r} at position {start} is never "
                f"closed; expected a matching {quote!r} before the end."
            )
        pieces.append(text[index:close])
        if text.startswith(quote, close + 1):
            pieces.append(quote)
            index = close + 2
            continue
        kind = TokenKind.QUOTED_KEY if quote == "`" else TokenKind.STRING
        raw = text[start : close + 1]
        return Token(kind, raw, "".join(pieces), start, quote)
