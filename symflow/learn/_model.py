"""What `symflow.learn` needs of a compiled model: a typed, public-only interface.

`fit`, `train`, `distill` and the weights functions take any object with these
members (`symflow.Model` is one) and call nothing else, so learning depends on
the model's public face and never on `symflow.api` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import jax

from ..codegen import GeneratedModel
from ..symbolic import Closure, Settings, System


__all__ = ["SimulatedModel"]


class SimulatedModel(Protocol):
    """A compiled model that can be simulated: names, defaults, and `simulate`.

    - `built`: the `System` as built from the file (its spans locate the source
      text); `system`: after every pass; `generated`: the compiled callables.
    - `params`: the default parameter pytree (with `params["closures"]`, the
      networks' weights, when the model declares closures).
    """

    built: System
    system: System
    generated: GeneratedModel
    settings: Settings
    params: dict[str, Any]

    @property
    def name(self) -> str: ...

    @property
    def state_names(self) -> tuple[str, ...]: ...

    @property
    def observed_names(self) -> tuple[str, ...]: ...

    @property
    def closures(self) -> tuple[Closure, ...]: ...

    def complete_params(self, params: Mapping[str, Any] | None) -> dict[str, Any]: ...

    def initial_values(self, params: Mapping[str, Any] | None = None,
                       initial: Mapping[str, Any] | None = None) -> dict[str, jax.Array]: ...

    def simulate(self, params: Mapping[str, Any] | None = None, **options: Any) -> Any: ...

    def closure_samples(self, params: Any, solution: Any
                        ) -> dict[str, tuple[jax.Array, jax.Array]]: ...

    def save_weights(self, path: Any, params: Any = None) -> None: ...

    def choose_auto_solver(self, params: dict, initial: dict, t0: float, t1: float) -> str: ...

    def load_text(self, text: str, *, file: str = "<string>") -> SimulatedModel: ...
