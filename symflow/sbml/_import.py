"""The import's entry points: SBML file or text in, model text and name map out."""

from __future__ import annotations

import dataclasses
import os

from ._document import read_document
from ._model import SbmlModel
from ._read import read_model
from ._write import write_model

__all__ = ["SbmlImport", "SpeciesInfo", "read_sbml", "read_sbml_string"]


@dataclasses.dataclass(frozen=True)
class SpeciesInfo:
    """How a species is written: `amount` when its name means the amount (SBML
    hasOnlySubstanceUnits), else the concentration in `compartment` (a model name;
    empty for a species in no compartment, whose amount and concentration agree)."""

    compartment: str
    amount: bool


@dataclasses.dataclass(frozen=True)
class SbmlImport:
    """An imported model.

    - `text`: the symflow model text.
    - `names`: the model's name for each SBML id (the id itself unless it is reserved).
    - `species`: by model name, what each species' name means.
    - `model`: the SBML model's id.
    """

    text: str
    names: dict[str, str]
    species: dict[str, SpeciesInfo]
    model: str


def _finish(model: SbmlModel) -> SbmlImport:
    written = write_model(model)
    name = written.names
    species = {name[sid]: SpeciesInfo(name.get(compartment, ""), amount)
               for sid, (compartment, amount) in written.species.items()}
    return SbmlImport(written.text, name, species, model.id)


def read_sbml(path: str | os.PathLike) -> SbmlImport:
    """Import an SBML file (`.xml`, `.sbml`)."""
    label = os.fspath(path)
    return _finish(read_model(read_document(label), label))


def read_sbml_string(text: str) -> SbmlImport:
    """Import SBML given as text."""
    return _finish(read_model(read_document(text, from_string=True), "<SBML text>"))
