"""Canonical JSON and content hashes: what every signed record (MoU, Learning Agreement, transcript,
profile) binds its signatures to, so "what did they sign?" has one answer whatever the key order."""
from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(content: Any) -> str:
    """One text per content: sorted keys, no whitespace, UTF-8 as is."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(content: Any) -> str:
    """SHA-256 of the canonical JSON: what an approval quotes, independent of key order or spacing."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()
