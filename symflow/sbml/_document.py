"""Reading an SBML document with libsbml: the errors it reports, the level it is in,
and the packages and constructs symflow refuses before anything is translated."""

from __future__ import annotations

import os
from typing import Any

from ..errors import SymflowError
from ._libsbml import libsbml

__all__ = ["read_document"]

# SBML packages by their short name, for the refusal message.
_PACKAGES = {
    "comp": "hierarchical model composition", "fbc": "flux balance constraints",
    "layout": None, "render": None,  # drawing only: no meaning for a simulation
    "qual": "qualitative models", "multi": "multistate species", "spatial": "spatial processes",
    "distrib": "distributions", "arrays": "arrays", "dyn": "dynamic structures",
    "groups": None,
}


def read_document(source: str | os.PathLike, *, from_string: bool = False) -> Any:
    """The `libsbml.Model` of a file (or of SBML text when `from_string`), in Level 3.

    Level 1 and 2 documents are converted to Level 3 Version 2 by libsbml (the
    meaning of their defaults, such as events that never fire at the start, is kept
    by the converter). Errors libsbml reports at severity error or worse become one
    `SymflowError` listing them.
    """
    sbml = libsbml()
    if from_string:
        doc = sbml.readSBMLFromString(str(source))
        label = "<SBML text>"
    else:
        label = os.fspath(source)
        if not os.path.isfile(label):
            raise SymflowError(f"cannot read {label}: no such file")
        doc = sbml.readSBMLFromFile(label)
    _check_errors(doc, label)
    if doc.getModel() is None:
        raise SymflowError(f"{label} holds no SBML model")
    for i in range(doc.getNumPlugins()):
        package = doc.getPlugin(i).getPackageName()
        if package == "l3v2extendedmath" or (package in _PACKAGES
                                              and _PACKAGES[package] is None):
            continue  # libsbml's own name for Level 3 Version 2 math; drawing packages
        what = _PACKAGES.get(package, "a package")
        if doc.isPackageEnabled(package):
            raise SymflowError(
                f"{label} uses the SBML package '{package}' ({what}), which symflow's SBML "
                "import does not support", help="symflow reads SBML Level 2 and 3 core")
    if doc.getLevel() < 3:
        converted = doc.setLevelAndVersion(3, 2, False)
        if not converted:
            raise SymflowError(
                f"libsbml could not convert {label} from Level {doc.getLevel()} to Level 3",
                help=_messages(doc) or None)
    return doc


def _messages(doc: Any) -> str:
    sbml = libsbml()
    lines = []
    for i in range(doc.getNumErrors()):
        err = doc.getError(i)
        if err.getSeverity() >= sbml.LIBSBML_SEV_ERROR:
            lines.append(f"line {err.getLine()}: {err.getMessage().strip()}")
    return "\n".join(lines)


def _check_errors(doc: Any, label: str) -> None:
    found = _messages(doc)
    if found:
        first = found.splitlines()
        raise SymflowError(
            f"{label} is not valid SBML ({len(first)} error{'s' * (len(first) > 1)})",
            help="libsbml reports:\n" + "\n".join(first[:20])
            + ("\n..." if len(first) > 20 else ""))
