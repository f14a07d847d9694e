"""The commonest slips of a new user: each error says what was meant."""

import pytest

from symflow import SymflowError
from symflow.frontend import compile_text

GOOD = """model M
  parameters
    k = 1
  variables
    x = 1
  equations
    der(x) = -k*x
end
"""


@pytest.mark.parametrize("slip, message, hint", [
    (("equations", "equation"), "'equation' is not a section", "did you mean 'equations'?"),
    (("k = 1", "k = 2.0 kg"), "unexpected 'kg'", "units are not part of the language"),
    (("end\n", ""), "unexpected end of file", "model M (line 1) has no `end`"),
    (("der(x) = -k*x", "dx/dt = -k*x"), "undeclared name 'dx'", "written der(x)"),
    (("der(x) = -k*x", "x' = -k*x"), "unexpected character", "written der(x)"),
    (("parameters", "paramters"), "unexpected 'paramters'", "did you mean 'parameters'?"),
    (("  equations\n", ""), "an equation among the declarations", "belongs under `equations`"),
])
def test_a_slip_is_named(slip, message, hint):
    compile_text(GOOD)  # the model without the slip is fine
    with pytest.raises(SymflowError) as error:
        compile_text(GOOD.replace(*slip))
    assert message in error.value.message
    assert hint in (error.value.help or "")
