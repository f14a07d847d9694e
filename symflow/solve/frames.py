"""A solution as a table or a labelled dataset: pandas, xarray and NetCDF.

pandas and xarray are optional (`pip install symflow[data]`); they are imported
when a conversion is asked for, and their absence is a `SymflowError` that says
what to install. Names and labels come from the model: a variable's doc string
is its `long_name`, and a doc string that ends in a bracketed unit
(`"prey density [1/km^2]"`) gives its `units` (units are not part of the
language; this is a convention of doc strings).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import SymflowError
from ..files import replacing

if TYPE_CHECKING:
    import pandas
    import xarray

    from .solution import Solution
    from .stochastic import EnsembleSolution

__all__ = ["describe", "ensemble_to_xarray", "split_doc", "to_netcdf", "to_pandas",
           "to_xarray"]

_UNITS = re.compile(r"^(?P<label>.*?)\s*\[(?P<units>[^\[\]]+)\]\s*$")


def split_doc(doc: str | None) -> tuple[str | None, str | None]:
    """A doc string as `(label, units)`: `"prey density [1/km^2]"` gives
    `("prey density", "1/km^2")`; a doc string without a bracketed unit at its end
    is all label; `None` gives `(None, None)`."""
    if not doc:
        return None, None
    match = _UNITS.match(doc.strip())
    if match is None:
        return doc.strip(), None
    return match["label"] or None, match["units"].strip()


def describe(docs: Mapping[str, str], name: str) -> dict[str, str]:
    """The attributes of `name` from the model's doc strings (`long_name`, `units`),
    empty where it has none: CF conventions, as xarray and NetCDF readers use."""
    label, units = split_doc(docs.get(name))
    out = {}
    if label:
        out["long_name"] = label
    if units:
        out["units"] = units
    return out


def _require(module: str) -> Any:
    """Import an optional dependency, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise SymflowError(f"{module} is not installed: it is an optional dependency of "
                           "symflow", help="pip install symflow[data]") from None


def to_pandas(sol: Solution, *, names: Sequence[str] | None = None) -> pandas.DataFrame:
    """The solution as a `pandas.DataFrame` indexed by time (`t`): one column per
    scalar, one per element of an array variable or grid point of a field (`x[0]`,
    as in the CSV file). With events, the rows just before and after each event,
    and a column `event`, as `Solution.columns`. `df.attrs` holds the doc strings
    (`"docs"`), their units (`"units"`) and the grid of a PDE (`"grid"`)."""
    pd = _require("pandas")
    from .output import grid_arrays

    columns = sol.columns()
    if names is not None:
        _check_names(sol, names)
        keep = {"t", "event", *names}
        columns = {k: v for k, v in columns.items() if k.split("[")[0] in keep}
    t = columns.pop("t")
    frame = pd.DataFrame(columns, index=pd.Index(t, name="t"))
    docs = dict(sol.docs)
    frame.attrs["docs"] = {k: split_doc(v)[0] for k, v in docs.items() if split_doc(v)[0]}
    frame.attrs["units"] = {k: split_doc(v)[1] for k, v in docs.items() if split_doc(v)[1]}
    if sol.grid:
        frame.attrs["grid"] = grid_arrays(sol.grid)
    return frame


def to_xarray(sol: Solution, *, names: Sequence[str] | None = None) -> xarray.Dataset:
    """The solution as an `xarray.Dataset` on the coordinate `t`: a scalar over
    `("t",)`, an array variable over `("t", "<name>_index")`, a field over `t` and
    its grid's dimensions (`("t", "x", "y")`) with the grid points as coordinates.
    Each variable's `long_name` and `units` come from its doc string. Events are
    not in the dataset (the saved times only; `sol.events` holds the log)."""
    xr = _require("xarray")
    from .output import field_arrays, grid_arrays

    if names is not None:
        _check_names(sol, names)
    chosen = list(names) if names is not None else list(sol.names)
    docs = dict(sol.docs)
    grid = grid_arrays(sol.grid)
    fields = field_arrays(sol) if any(n in sol.fields for n in chosen) else {}
    variables = {}
    for name in chosen:
        attrs = describe(docs, name)
        if name in sol.fields:
            variables[name] = xr.Variable(("t", *grid), fields[name], attrs)
            continue
        value = np.asarray(sol[name])
        dims = ("t",) if value.ndim == 1 else ("t", f"{name}_index")
        variables[name] = xr.Variable(dims, value, attrs)
    coords = {"t": xr.Variable(("t",), np.asarray(sol.t, dtype=float),
                               {"long_name": "time"})}
    coords.update({k: xr.Variable((k,), v, {"long_name": k}) for k, v in grid.items()})
    if not any(n in sol.fields for n in chosen):
        coords = {k: v for k, v in coords.items() if k == "t"}
    return xr.Dataset(variables, coords=coords)


def ensemble_to_xarray(ens: EnsembleSolution) -> xarray.Dataset:
    """An ensemble as an `xarray.Dataset`: each variable's paths over `("trajectory",
    "t", ...)` (unless only statistics were kept), `<name>_mean` and `<name>_std` over
    `("t", ...)`, `<name>_quantiles` over `("quantile", "t", ...)`; a field's
    dimensions are its grid's, with the grid points as coordinates, and swept
    parameters are coordinates along `trajectory`."""
    xr = _require("xarray")
    from .output import grid_arrays

    grid = grid_arrays(ens.grid)
    shape = tuple(len(v) for v in grid.values())
    n = len(np.asarray(ens.t))

    def dims_of(name: str, value: np.ndarray, lead: tuple[str, ...]
                ) -> tuple[tuple[str, ...], np.ndarray]:
        extra = value.shape[len(lead):]
        if name in ens.fields and extra and int(np.prod(extra)) == int(np.prod(shape)):
            return (*lead, *grid), value.reshape(*value.shape[:len(lead)], *shape)
        return (*lead, *(f"{name}_index" for _ in extra)), value

    variables = {}
    for name in ens.names:
        if ens.paths is not None:
            variables[name] = xr.Variable(*dims_of(name, np.asarray(ens.paths[name]),
                                                   ("trajectory", "t")))
        variables[f"{name}_mean"] = xr.Variable(*dims_of(name, np.asarray(ens.mean[name]),
                                                         ("t",)))
        variables[f"{name}_std"] = xr.Variable(*dims_of(name, np.asarray(ens.std[name]),
                                                        ("t",)))
        variables[f"{name}_quantiles"] = xr.Variable(*dims_of(
            name, np.asarray(ens.quantiles[name]), ("quantile", "t")))
    coords: dict[str, Any] = {"t": np.asarray(ens.t, dtype=float).reshape(n),
                              "quantile": np.asarray(ens.quantile_levels, dtype=float)}
    if ens.fields:
        coords.update(grid)
    coords.update({k: ("trajectory", np.asarray(v)) for k, v in ens.sweep.items()})
    return xr.Dataset(variables, coords=coords)


def to_netcdf(sol: Solution | EnsembleSolution, path: str | os.PathLike) -> None:
    """Write `sol.to_xarray()` to a NetCDF file (version 3, through SciPy: no netCDF
    library needed), through a temporary file and a rename."""
    dataset = sol.to_xarray()
    with replacing(path) as tmp:
        dataset.to_netcdf(tmp, engine="scipy")


def _check_names(sol: Solution, names: Sequence[str]) -> None:
    for name in names:
        if name not in sol:
            raise SymflowError(f"the solution has no variable or output named {name!r}",
                               help="it has: " + ", ".join(sol.names))
