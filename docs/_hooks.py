"""MkDocs hook of the documentation site (mkdocs.yml `hooks:`): tables generated from the committed files.

`<!-- client-types -->` in a page becomes the table of every `client_type`, read from `schema/` (the JSON
Schema files generated from the config models), so the page cannot drift from what the code accepts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).resolve().parent.parent / "schema"
MARKER = "<!-- client-types -->"


def client_types_table() -> str:
    import planet_profiles

    rows = ["| `client_type` | what | required keys | secret keys it may hold |", "|---|---|---|---|"]
    for client_type in planet_profiles.CLIENT_TYPES:
        schema = json.loads((SCHEMA / f"{client_type}.schema.json").read_text(encoding="utf-8"))
        required = [key for key in schema.get("required", []) if key != "client_type"]
        secrets = [key for key in planet_profiles.SECRET_KEYS if key in schema.get("properties", {})]
        rows.append(
            f"| `{client_type}` | {schema['description']} | {', '.join(f'`{k}`' for k in required) or '–'} "
            f"| {', '.join(f'`{k}`' for k in secrets) or '–'} |"
        )
    return "\n".join(rows) + "\n"


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, client_types_table())
    return markdown
