"""Text from a server made inert before it reaches a terminal or an exception message.

An `error_description`, a device `user_code` or `verification_uri`, a scope or a claim is the server's
text. Printed raw, control characters in it can rewrite what the user sees: an OSC 8 hyperlink
(`ESC ] 8 ;; URL BEL`) that shows one address and opens another, cursor movement or a carriage return that
overwrites the line above, a bidi override that reverses a code. `inert()` replaces every such character
with its visible `\\uXXXX` escape (C0 controls but newline, DEL, C1 controls, the bidi embeddings, overrides
and isolates, and the line and paragraph separators), so an escape sequence prints as harmless text and the
tampering stays visible. The escape is JSON's, so `inert(json.dumps(data))` is still the same JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import re

__all__ = ["inert"]

_UNSAFE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_WITH_NEWLINES = f"[{_UNSAFE}]"
_SINGLE_LINE = f"[\n{_UNSAFE}]"


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def inert(text: str, *, newlines: bool = True) -> str:
    """`text` with terminal control characters escaped (`\\u001b` for ESC); `newlines=False` escapes `\\n`
    too, for a value that must stay on one line. Idempotent; text without such characters comes back as is.
    """
    if text.isprintable():  # the common case; False for any control, format or separator character
        return text
    import re  # only for text that needs it: `re` stays off the import path (re caches the pattern)

    return re.sub(_WITH_NEWLINES if newlines else _SINGLE_LINE, _escape, text)
