"""SBML import: an SBML Level 2 or 3 core model (read with python-libsbml) as symflow
model text in the language's reaction-network sections (docs/sbml.md).

```python
from symflow import sbml
imported = sbml.read_sbml("model.xml")
print(imported.text)              # the .sf model
imported.names["S1"]              # the model's name for an SBML id
```

python-libsbml is an optional dependency (`pip install 'symflow[sbml]'`), imported
only when an SBML file is read. What the import cannot translate faithfully (delays,
fast reactions, conversion factors, ...) is refused by name with a `SymflowError`.
"""

from ._formula import Formula as Formula
from ._formula import read_formula as read_formula
from ._import import SbmlImport as SbmlImport
from ._import import SpeciesInfo as SpeciesInfo
from ._import import read_sbml as read_sbml
from ._import import read_sbml_string as read_sbml_string

__all__ = ["Formula", "read_formula", "SbmlImport", "SpeciesInfo", "read_sbml", "read_sbml_string"]
