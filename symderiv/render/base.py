"""The printer base class: settings checked against a known set, one dispatch on StepKind."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar, Generic, TypeVar, assert_never

from ..errors import UnknownSettingError
from ..steps import Derivation, Step, StepKind

Out = TypeVar("Out")


class Renderer(ABC, Generic[Out]):
    """Turns each step of a derivation into ``Out`` (str for LaTeX, a renderable for Rich).

    Every per-kind method is abstract, so a printer that forgets a kind cannot be created.
    """

    name: ClassVar[str]
    defaults: ClassVar[Mapping[str, object]] = {}

    def __init__(self, **settings: object) -> None:
        unknown = settings.keys() - self.defaults.keys()
        if unknown:
            raise UnknownSettingError(
                f"{self.name}: no setting(s) {sorted(unknown)}; "
                f"known: {sorted(self.defaults)}"
            )
        self.settings: dict[str, object] = {**self.defaults, **settings}

    def step(self, step: Step, number: int) -> Out:
        """Render one step (``number`` counts from 1)."""
        match step.kind:
            case StepKind.DEFINE:
                return self.define(step, number)
            case StepKind.JACOBIAN:
                return self.jacobian(step, number)
            case StepKind.CHAIN:
                return self.chain(step, number)
            case StepKind.SIMPLIFY:
                return self.simplify(step, number)
            case StepKind.RESULT:
                return self.result(step, number)
            case _:
                assert_never(step.kind)

    def steps(self, derivation: Derivation) -> list[Out]:
        """Every step, in order."""
        return [self.step(s, k) for k, s in enumerate(derivation.steps, start=1)]

    @abstractmethod
    def define(self, step: Step, number: int) -> Out: ...

    @abstractmethod
    def jacobian(self, step: Step, number: int) -> Out: ...

    @abstractmethod
    def chain(self, step: Step, number: int) -> Out: ...

    @abstractmethod
    def simplify(self, step: Step, number: int) -> Out: ...

    @abstractmethod
    def result(self, step: Step, number: int) -> Out: ...
