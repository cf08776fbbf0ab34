"""Page tokens: the opaque string a search returns to fetch its next page.

A token is URL-safe base64 of the JSON ``{"offset": n}``, the shape MLflow's
own stores use, so a client never needs to look inside it. Kiln decodes
either base64 alphabet and tolerates missing padding.
"""

from __future__ import annotations

import base64
import binascii
import json

from kiln.errors import InvalidParameterValue

# Offsets end up in SQL OFFSET clauses, which are 64-bit on every backend.
_MAX_OFFSET = 2**63 - 1
# A real token is about 20 characters; anything much longer is junk.
_MAX_TOKEN_LENGTH = 200


def encode_page_token(offset: int) -> str:
    """Return the token that resumes a search at ``offset``.

    Raises InvalidParameterValue for a negative or non-integer offset.
    """
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise InvalidParameterValue(
            f"Invalid page offset {offset!r}; expected a non-negative integer."
        )
    if not 0 <= offset <= _MAX_OFFSET:
        raise InvalidParameterValue(
            f"Invalid page offset {offset!r}; expected a non-negative integer."
        )
    payload = json.dumps({"offset": offset}).encode()
    return base64.urlsafe_b64encode(payload).decode("ascii")


def decode_page_token(token: str | None) -> int:
    """Return the offset a page token stands for; 0 for None or "".

    Raises InvalidParameterValue naming the token when it is not one Kiln
    (or an MLflow store) made.
    """
    if token is None or token == "":
        return 0
    offset = _read_offset(token)
    if offset is None:
        shown = repr(token) if len(token) <= 60 else repr(token[:60]) + "…"
        raise InvalidParameterValue(
            f"Invalid page token {shown}; expected a token returned by a "
            "previous search."
        )
    return offset


def _read_offset(token: object) -> int | None:
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH:
        return None
    try:
        raw = token.translate(_TO_URLSAFE)
        raw += "=" * (-len(raw) % 4)
        data = base64.b64decode(raw.encode("ascii"), altchars=b"-_", validate=True)
        payload = json.loads(data)
    except (binascii.Error, UnicodeError, ValueError):
        # ValueError covers bad JSON as well as non-ASCII input.
        return None
    if not isinstance(payload, dict) or set(payload) != {"offset"}:
        return None
    offset = payload["offset"]
    if isinstance(offset, bool) or not isinstance(offset, int):
        return None
    return offset if 0 <= offset <= _MAX_OFFSET else None


_TO_URLSAFE = str.maketrans("+/", "-_")
