"""The plain-text part of an email as mail programs show it best: lines of at most 78 characters (RFC
5322's advice; a longer line is wrapped by the reader's program wherever it likes, or scrolled), with a
web address too long for a line put on a line of its own, whole, so it stays one link."""

from __future__ import annotations

import re

LINE_LIMIT = 78
_URL = re.compile(r"^(?:https?://|mailto:)\S+$")


def is_url(word: str) -> bool:
    """Whether a word is a web address: never broken, whatever its length."""
    return bool(_URL.match(word))


def wrap_text(text: str, width: int = LINE_LIMIT) -> str:
    """``text`` with every line longer than ``width`` wrapped at spaces, each continuation indented as the
    line began; a web address that does not fit goes on a line of its own (longer, if it must be), and
    any other word longer than a line is cut."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        if len(indent) > width // 2:
            indent = indent[: width // 2]
        current = ""
        for word in line.split():
            if is_url(word) and len(indent) + len(word) > width:
                if current:
                    out.append(current)
                out.append(word)
                current = ""
                continue
            while len(indent) + len(word) > width:  # a word longer than a line: cut it
                room = width - len(indent)
                if current:
                    out.append(current)
                    current = ""
                out.append(indent + word[:room])
                word = word[room:]
            if current and len(current) + 1 + len(word) <= width:
                current += " " + word
            else:
                if current:
                    out.append(current)
                current = indent + word
        if current:
            out.append(current)
    return "\n".join(out)
