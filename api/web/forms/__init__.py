"""Task forms generated on the server from their JSON Schema, and the posted fields parsed back into data.

Rendering builds a tree of :class:`Field` (one per schema node) that ``macros/form.html`` turns into
labelled inputs; parsing walks the *schema* (never the posted names), so a form can only produce the
properties its schema declares. Input names are the field paths the engine uses in its 422 errors
(``units.0.points``), so each error lands next to its input.

Widgets by schema: ``string`` → text (``textarea`` with ``x-widget: textarea`` or a ``maxLength``
over 300), ``format`` ``date``/``date-time``/``email``/``uri`` → the matching input, ``enum`` (or
``oneOf`` of ``const`` with ``title``) → radios up to three choices, else a select (``x-widget``
``radios``/``select`` decides), ``integer``/``number`` → number, ``boolean`` → checkbox, ``object`` →
fieldset, array of objects → repeatable groups, array of simple values → repeatable inputs, array
of ``enum`` → checkboxes, ``{"type": "integer", "format": "attachment-id"}`` → file input,
``readOnly`` → shown as text and sent back unchanged, ``x-widget: hidden`` → hidden input; anything
else (``oneOf`` of objects...) → a JSON text area. "Add another" and "Remove" are submit buttons
(``_action=add:<path>`` / ``remove:<path>.<index>``), so repeatable groups work without JavaScript.

The package, one job per module: ``model`` (the form and its fields as the template reads them),
``schema`` (reading a JSON Schema: references, types, choices, the widget of a node), ``build`` (the
form of a schema and values), ``parse`` (posted fields back into data), ``actions`` ("Add another" and
"Remove" without JavaScript).
"""
from __future__ import annotations

from .actions import apply_action, focus_after, is_attachment_field
from .build import build
from .model import COUNT_SUFFIX, CURRENT_SUFFIX, MAX_ITEMS, Field, Form, Submission
from .parse import parse
from .schema import schema_at

__all__ = [
    "COUNT_SUFFIX", "CURRENT_SUFFIX", "MAX_ITEMS", "Field", "Form", "Submission", "apply_action", "build",
    "focus_after", "is_attachment_field", "parse", "schema_at",
]
