"""Checks of an e-mail catalogue (engine.mailtexts): what the code asks for, and what each language says."""
from __future__ import annotations

import ast
import string
from pathlib import Path

from engine.mailtexts import TRANSLATED, MailCatalogue


def msgids_used(path: Path) -> set[str]:
    """The literal texts a module writes through its catalogue writer, ``_("...", ...)``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return found


def fields(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def problems(catalogue: MailCatalogue, used: set[str]) -> list[str]:
    """Every text the code uses is in every language's file, translated, with the same {fields}; no file
    holds a text the code no longer uses."""
    out: list[str] = []
    for language in TRANSLATED:
        entries = catalogue.entries(language)
        out += [f"{language}: missing {msgid!r}" for msgid in sorted(used - set(entries))]
        out += [f"{language}: unused {msgid!r}" for msgid in sorted(set(entries) - used)]
        for msgid, text in sorted(entries.items()):
            if not text:
                out.append(f"{language}: untranslated {msgid!r}")
            elif fields(text) != fields(msgid):
                out.append(f"{language}: fields of {msgid!r} differ: {fields(text)} != {fields(msgid)}")
    return out
