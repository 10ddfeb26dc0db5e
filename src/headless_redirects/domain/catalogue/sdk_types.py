"""The SDK's typed parameters, written from the catalogue into ``client/_intents.py``.

The SDK is installed and imported on its own (it imports nothing from the server side), so its
types are generated source rather than an import; a test holds the file equal to what this
module renders. After changing the catalogue:

    python -m headless_redirects.domain.catalogue.sdk_types
"""

from __future__ import annotations

import re
from pathlib import Path

from . import CALLBACK_FIELDS, CATALOGUE, Catalogue, Field

__all__ = ["SDK_TYPES_PATH", "render"]

SDK_TYPES_PATH = Path(__file__).resolve().parents[2] / "client" / "_intents.py"


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _annotation(f: Field, owner: str, out: list[str]) -> str:
    if f.kind == "group":
        nested = owner + _pascal(f.name)
        _typed_dict(nested, f.fields, out)
        return nested
    if f.kind == "choice":
        return "Literal[" + ", ".join(f'"{c}"' for c in f.choices) + "]"
    return {"flag": "bool", "count": "int"}.get(f.kind, "str")


def _typed_dict(name: str, fields: tuple[Field, ...], out: list[str]) -> None:
    lines = [f"class {name}(TypedDict, total=False):"]
    for f in fields:
        annotation = _annotation(f, name, out)
        lines.append(f"    {_snake(f.name)}: {f'Required[{annotation}]' if f.required else annotation}")
    if not fields:
        lines.append("    pass")
    out.append("\n".join(lines))


def render(catalogue: Catalogue = CATALOGUE) -> str:
    """The source of ``client/_intents.py`` for ``catalogue``."""
    out: list[str] = []
    for entry in catalogue:
        _typed_dict(_pascal(entry.name), entry.fields, out)
    _typed_dict("Callbacks", tuple(Field(name, "text") for name in CALLBACK_FIELDS), out)
    params = [f"    {entry.attribute}: {_pascal(entry.name)} | None" for entry in catalogue]
    out.append("\n".join([
        "class CreateRedirectSessionParams(TypedDict, total=False):",
        '    """The keyword arguments of ``create_redirect_session``: exactly one intent, and the common fields."""',
        *params,
        "    callbacks: Callbacks | dict[str, str] | None",
        "    preferences: dict[str, Any] | None",
        "    origin: str | None",
    ]))
    keywords = "".join(f'\n    "{entry.attribute}",' for entry in catalogue)
    header = (
        '"""The typed parameters of ``create_redirect_session``, one TypedDict per intent (snake_case keys).\n\n'
        "Generated from the server's intent catalogue by ``python -m headless_redirects.domain.catalogue.sdk_types``:\n"
        'do not edit by hand (a test compares this file with the catalogue)."""\n\n'
        "from __future__ import annotations\n\n"
        "from typing import Any, Literal, Required, TypedDict\n\n"
        '__all__ = ["INTENT_KEYWORDS", "PARAMETER_KEYWORDS", "CreateRedirectSessionParams"]\n\n'
        f"INTENT_KEYWORDS = ({keywords}\n)\n"
        'PARAMETER_KEYWORDS = frozenset((*INTENT_KEYWORDS, "callbacks", "preferences", "origin"))\n'
    )
    return header + "".join(f"\n\n{block}\n" for block in out)


if __name__ == "__main__":
    SDK_TYPES_PATH.write_text(render())
