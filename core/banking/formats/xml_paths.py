"""Reading ISO 20022 XML by local element names, whatever the namespace (the camt.053 version), as a stream.

``XmlPaths`` finds elements by local-name paths in a built element. ``StreamTarget`` is the XML
parser's target for a document read as a stream: it checks every element, attribute and text as
it arrives (nesting depth, field length) and builds only the subtrees a reader asks for, one at a
time; ``read_stream`` feeds it a file 64 KB at a time with defusedxml's parser (DTDs and entities
refused) and turns whatever the parser refuses into a StatementError naming the file.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from core.banking.formats.movement import Limits, Source, StatementError
from core.values.messages import Message

CHUNK_BYTES = 64 * 1024  # fed to the parser at a time
# An ISO 20022 message nests about a dozen levels; far more is a file built to exhaust the reader.
MAX_DEPTH = 64
# What a field_too_long refusal names.
AN_ELEMENT_NAME = Message("an element name")
A_TEXT = Message("a text")


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


class StreamTarget:
    """The parser's target. A reader subclasses it: ``begin`` (the root element), ``starts`` (an element
    starts: build it?), ``built`` (a wanted element, complete) and ``ended`` (any other element's end)."""

    def __init__(self, name: str, limits: Limits):
        self.name = name
        self.limits = limits
        self.expat = None  # the pyexpat parser, for line numbers
        self.root: str | None = None
        self.depth = 0
        self.text_length = 0  # of the text (or tail) being received
        self._builder: TreeBuilder | None = None  # building the wanted element at _built_depth
        self._built_depth = 0

    def where(self) -> Message:
        line = self.expat.CurrentLineNumber if self.expat is not None else 0
        return Message("{name}, line {line}", name=self.name, line=line)

    # -- what a reader decides --
    def begin(self, tag: str) -> None:
        """The root element (refuse it here when it is not the reader's document)."""

    def starts(self, tag: str) -> bool:
        """An element starts outside any being built (``self.depth`` is its depth): True builds it."""
        return False

    def built(self, element: Element) -> None:
        """A wanted element, complete; it is let go after this."""

    def ended(self, tag: str) -> None:
        """The end of an element that was not built (``self.depth`` is still its depth)."""

    # -- the parser's calls --
    def start(self, tag: str, attrib: dict) -> None:
        self.depth += 1
        self.text_length = 0
        if self.depth > MAX_DEPTH:
            raise StatementError(
                Message(
                    "{where}: the XML is nested more than {depth} levels deep, far deeper than any "
                    "bank statement; nothing was imported.",
                    where=self.where(),
                    depth=MAX_DEPTH,
                )
            )
        limit = self.limits.max_field_length
        if len(tag) > limit:
            raise self.limits.field_too_long(self.where(), AN_ELEMENT_NAME)
        for key, value in attrib.items():
            if len(value) > limit or len(key) > limit:
                attribute = Message("the attribute {name}", name=repr(local_name(key)[:40]))
                raise self.limits.field_too_long(self.where(), attribute)
        if self._builder is not None:
            self._builder.start(tag, attrib)
        elif self.depth == 1:
            self.root = tag
            self.begin(tag)
        elif self.starts(tag):
            self._builder = TreeBuilder()
            self._built_depth = self.depth
            self._builder.start(tag, attrib)

    def data(self, text: str) -> None:
        self.text_length += len(text)
        if self.text_length > self.limits.max_field_length:
            raise self.limits.field_too_long(self.where(), A_TEXT)
        if self._builder is not None:
            self._builder.data(text)

    def end(self, tag: str) -> None:
        self.text_length = 0
        if self._builder is None:
            self.ended(tag)
        else:
            self._builder.end(tag)
            if self.depth == self._built_depth:
                element, self._builder = self._builder.close(), None
                self.built(element)
        self.depth -= 1

    def close(self) -> None:
        return None


def read_stream(target: StreamTarget, source: Source) -> None:
    """Parse ``source`` into ``target`` 64 KB at a time; what the parser refuses is a StatementError."""
    parser = DefusedXMLParser(target=target, forbid_dtd=True)
    target.expat = parser.parser
    with source.open() as stream:
        while chunk := stream.read(CHUNK_BYTES):
            _step(target, parser.feed, chunk)
    _step(target, lambda _: parser.close(), b"")


def _step(target: StreamTarget, step, chunk: bytes) -> None:
    """Feed (or close) the parser; what it refuses becomes a StatementError naming the file."""
    name = target.name
    try:
        step(chunk)
    except DefusedXmlException:
        raise StatementError(
            Message(
                "{name} contains a DTD or entity declarations, which a bank statement never has; "
                "it was refused for safety and nothing was imported.",
                name=name,
            )
        ) from None
    except ParseError as exc:
        raise StatementError(
            Message("{name} is not well-formed XML ({error}); nothing was imported.", name=name, error=str(exc))
        ) from None
    except (LookupError, ValueError) as exc:
        if target.root is not None:  # only the XML declaration, before the root, names an encoding
            raise
        raise StatementError(
            Message(
                "{name} declares a text encoding this plugin cannot read ({error}); a bank statement is "
                "UTF-8. Nothing was imported.",
                name=name,
                error=str(exc),
            )
        ) from None
