"""Reading ISO 20022 XML by local element names, whatever the namespace (the camt.053 version)."""

from __future__ import annotations


def local_name(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class XmlPaths:
    """Finds elements by local-name paths ("Acct/Id/IBAN") in one namespace."""

    def __init__(self, namespace: str):
        self.prefix = f"{{{namespace}}}" if namespace else ""

    def _path(self, path: str) -> str:
        return "/".join(self.prefix + part for part in path.split("/"))

    def find(self, element, path: str):
        return None if element is None else element.find(self._path(path))

    def findall(self, element, path: str) -> list:
        return [] if element is None else element.findall(self._path(path))

    def text(self, element, path: str) -> str:
        node = self.find(element, path)
        return " ".join((node.text or "").split()) if node is not None else ""

    def texts(self, element, path: str) -> list[str]:
        return [t for t in (" ".join((n.text or "").split()) for n in self.findall(element, path)) if t]


def canonical_lines(entry) -> list[str]:
    """Every element's path, attributes and text by local names, the status left out (for the content hash)."""
    lines: list[str] = []

    def walk(element, path: str) -> None:
        for child in element:
            name = local_name(child.tag)
            if not name or (not path and name == "Sts"):
                continue
            here = f"{path}/{name}"
            attrs = "".join(f"[{k}={v}]" for k, v in sorted(child.attrib.items()))
            lines.append(f"{here}{attrs}={' '.join((child.text or '').split())}")
            walk(child, here)

    walk(entry, "")
    return lines
