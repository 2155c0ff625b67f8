"""A small XML reader for the returns: elements with their line numbers, and no DTDs or entities.

The standard library's ElementTree does not keep line numbers, and a quarantined row is only useful
if it says where it is in the file. This reader drives the same expat parser directly and builds a
tree of ``Node``s. A document with a DOCTYPE (and so entity declarations, the route to "billion laughs"
and external-entity attacks) is refused: the DfE's returns never have one.

Namespaces are dropped from tag names (``{urn:...}Child`` and ``Child`` are the same element), because
the returns are sometimes written with a default namespace and sometimes without.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from csc_warehouse.formats.common import ImportRefused


@dataclass
class Node:
    tag: str
    line: int
    children: list[Node] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.text_parts).strip()

    def find(self, tag: str) -> Node | None:
        """The first child with this tag."""
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def value(self, tag: str) -> str:
        """The text of the first child with this tag; empty when there is none."""
        node = self.find(tag)
        return node.text if node is not None else ""


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(" ", 1)[-1]


def parse(path: Path, expected: str) -> Node:
    """The document's root element; refuses a file that is not well-formed XML or has a DTD."""
    raw = path.read_bytes()
    if not raw.strip():
        raise ImportRefused(f"{path.name} is empty. Expected {expected}.")
    parser = expat.ParserCreate(namespace_separator="}")
    stack: list[Node] = []
    root: list[Node] = []

    def start(name: str, _attrs: dict[str, str]) -> None:
        node = Node(_local(name), parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(_name: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text_parts.append(data)

    def doctype(*_args: object) -> None:
        raise ImportRefused(
            f"{path.name} has a DOCTYPE declaration; the DfE's returns have none, and DTDs and entities "
            f"are not read. Expected {expected}."
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise ImportRefused(
            f"{path.name} is not well-formed XML (line {exc.lineno}: {expat.ErrorString(exc.code)}). "
            f"Expected {expected}."
        ) from exc
    return root[0]
