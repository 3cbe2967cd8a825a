"""The printer base class: typed settings, one dispatch on the block kind of the page.

What a page shows is decided once, by :func:`symderiv.render.page.page`; a printer only
formats blocks. ``PagePrinter.block`` calls the method named after the block's kind
(``page_title(block) -> Out`` and so on), and every per-kind method is abstract and typed,
so a printer that forgets a kind cannot be created and mypy checks every signature. A
kind the format leaves out on purpose (``page.OMITTED``) is skipped here, not in the
printer.

Settings are a frozen dataclass per printer; an unknown setting or a bad value is an
UnknownSettingError.
"""

from __future__ import annotations

import dataclasses
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

from ..conventions import Config, Letters
from ..errors import UnknownSettingError
from .page import (
    DEFAULT_MAX_ENTRIES,
    KINDS,
    ApiCheck,
    Background,
    Block,
    CertificateTable,
    ClosedShapes,
    Code,
    Display,
    EntrySum,
    Formula,
    Heading,
    Items,
    Notation,
    Note,
    PageTitle,
    Remarks,
    Section,
    ShapeLedger,
    Sparsity,
    StepGroup,
    Table,
    Verdict,
    omitted,
)

Out = TypeVar("Out")
S = TypeVar("S")

#: Default number of terms of an entry shown before ⋯ on a page with room (LaTeX, HTML,
#: Markdown, the notebook, whose settings take this default).
DEFAULT_MAX_TERMS = 6

#: The terminal's default: a console line holds fewer terms than a printed page.
TERMINAL_MAX_TERMS = 4


def entry_terms(count: int, max_terms: int, least: int = 2) -> list[int | None]:
    """Which of an entry's ``count`` terms are shown at display limit ``max_terms``; None
    is the ⋯ in their place.

    Past the limit: the first ``max_terms - 1`` (at least one), ⋯, and the last (when
    ``max_terms > 1``). An entry is elided only when that hides at least ``least``
    terms: at the display limit two, since a ⋯ in place of a single term takes about
    as much room as the term, and hides it (a terminal too narrow for a matrix may ask
    for one). For display only; the sums themselves are never cut.

    >>> entry_terms(5, 4), entry_terms(6, 4), entry_terms(3, 1), entry_terms(3, 2, 1)
    ([0, 1, 2, 3, 4], [0, 1, 2, None, 5], [0, None], [0, None, 2])
    """
    head = max(max_terms - 1, 1)
    tail = [count - 1] if max_terms > 1 else []
    if count - head - len(tail) < max(least, 1):
        return list(range(count))
    return [*range(head), None, *tail]


def positive(name: str, value: object, printer: str) -> None:
    """Refuse a setting that is not an integer >= 1."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UnknownSettingError(f"{printer}: {name} must be an integer >= 1")


def one_of(name: str, value: object, allowed: tuple[str, ...], printer: str) -> None:
    """Refuse a setting that is not one of ``allowed``."""
    if value not in allowed:
        raise UnknownSettingError(
            f"{printer}: {name} must be {' or '.join(repr(a) for a in allowed)}, "
            f"not {value!r}"
        )


def make_settings(cls: type[S], printer: str, given: Mapping[str, object]) -> S:
    """``cls(**given)``, refusing names ``cls`` does not have (UnknownSettingError)."""
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(given) - known
    if unknown:
        raise UnknownSettingError(
            f"{printer}: no setting(s) {sorted(unknown)}; known: {sorted(known)}"
        )
    return cls(**given)


#: The printer method of each block kind (each declared, typed, in PagePrinter below):
#: the kind's name in snake case, but a certificate's table is just ``certificate``.
_METHODS: dict[type, str] = {
    kind: re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower() for kind in KINDS
} | {CertificateTable: "certificate"}


class PagePrinter(ABC, Generic[Out, S]):
    """Turns each block of a page into ``Out`` (str for LaTeX, renderables for Rich)."""

    #: the --format key (and the key of page.OMITTED)
    name: ClassVar[str]
    #: a frozen dataclass of this printer's settings
    settings_type: ClassVar[type[Any]]

    def __init__(self, **settings: object) -> None:
        self.settings: S = make_settings(self.settings_type, self.name, settings)
        self._config: Config | None = None

    def bind(self, config: Config) -> None:
        """Print blocks of a derivation with this configuration (letters, sizes)."""
        self._config = config

    @property
    def config(self) -> Config:
        assert self._config is not None, "bind(config) first"
        return self._config

    @property
    def letters(self) -> Letters:
        return self.config.letters

    def block(self, block: Block) -> Out:
        """One block in this format (an empty ``Out`` when the format omits its kind)."""
        if omitted(self.name, type(block)):
            return self.empty()
        out: Out = getattr(self, _METHODS[type(block)])(block)
        return out

    def blocks(self, blocks: Iterable[Block]) -> list[Out]:
        """Each block in order; the omitted kinds leave nothing."""
        return [self.block(b) for b in blocks if not omitted(self.name, type(b))]

    @abstractmethod
    def empty(self) -> Out:
        """What an omitted block turns into."""

    @abstractmethod
    def page_title(self, block: PageTitle) -> Out: ...

    @abstractmethod
    def section(self, block: Section) -> Out: ...

    @abstractmethod
    def step_group(self, block: StepGroup) -> Out: ...

    @abstractmethod
    def heading(self, block: Heading) -> Out: ...

    @abstractmethod
    def display(self, block: Display) -> Out: ...

    @abstractmethod
    def formula(self, block: Formula) -> Out: ...

    @abstractmethod
    def note(self, block: Note) -> Out: ...

    @abstractmethod
    def items(self, block: Items) -> Out: ...

    @abstractmethod
    def notation(self, block: Notation) -> Out: ...

    @abstractmethod
    def entry_sum(self, block: EntrySum) -> Out: ...

    @abstractmethod
    def shape_ledger(self, block: ShapeLedger) -> Out: ...

    @abstractmethod
    def closed_shapes(self, block: ClosedShapes) -> Out: ...

    @abstractmethod
    def sparsity(self, block: Sparsity) -> Out: ...

    @abstractmethod
    def code(self, block: Code) -> Out: ...

    @abstractmethod
    def certificate(self, block: CertificateTable) -> Out: ...

    @abstractmethod
    def remarks(self, block: Remarks) -> Out: ...

    @abstractmethod
    def background(self, block: Background) -> Out: ...

    @abstractmethod
    def table(self, block: Table) -> Out: ...

    @abstractmethod
    def verdict(self, block: Verdict) -> Out: ...

    @abstractmethod
    def api_check(self, block: ApiCheck) -> Out: ...


__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_TERMS",
    "TERMINAL_MAX_TERMS",
    "PagePrinter",
    "entry_terms",
    "make_settings",
    "one_of",
    "positive",
]
