"""What `symflow.learn` needs of a compiled model: a typed, public-only interface.

`fit`, `train`, `distill` and the weights functions take any object with these
members (`symflow.Model` is one) and call nothing else, so learning depends on
the model's public face and never on `symflow.api` itself. It extends what the
solve stage reads (`symflow.solve.CompiledModel`) with the closures and with
compiling another text (a distilled model).
"""

from __future__ import annotations

from typing import Any, Protocol

import jax

from ..solve import CompiledModel
from ..symbolic import Closure

__all__ = ["SimulatedModel"]


class SimulatedModel(CompiledModel, Protocol):
    """A compiled model that can be simulated and learned: names, defaults, `simulate`,
    its runner (`solve.Runner`), its closures.

    - `built`: the `System` as built from the file (its spans locate the source
      text); `system`: after every pass; `generated`: the compiled callables.
    - `params`: the default parameter pytree (with `params["closures"]`, the
      networks' weights, when the model declares closures).
    """

    @property
    def closures(self) -> tuple[Closure, ...]: ...

    def closure_samples(self, params: Any, solution: Any
                        ) -> dict[str, tuple[jax.Array, jax.Array]]: ...

    def save_weights(self, path: Any, params: Any = None) -> None: ...

    def load_text(self, text: str, *, file: str = "<string>") -> SimulatedModel: ...
