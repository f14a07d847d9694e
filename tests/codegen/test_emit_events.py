"""The event functions of a generated module, against the model's own arithmetic."""

import jax.numpy as jnp
import numpy as np

import symflow
from models import model_text


def test_conditions_checks_schedule_and_affects_compute_what_the_events_say():
    m = symflow.loads(model_text("events_same_instant"), file="same.sf")
    g = m.generated
    assert [e[:3] for e in g.events] == [("at", 0, False), ("at", 0, False),
                                          ("when", 1, False), ("when", 1, False)]
    assert g.events[0][3] == "at t = 1 then x = pre(x) + 1"
    # the module holds no text of the model: labels come from the System
    assert "pre(x) + 1" not in g.source
    y = jnp.asarray([5.0, 2.5])  # x, y
    y_pre = jnp.asarray([3.0, 7.0])
    np.testing.assert_allclose(g.event_conditions(0.0, y, m.params), [0.5, 0.5])  # y - 2
    np.testing.assert_allclose(g.event_checks(0.0, y, m.params), [True, True])
    assert {k: float(v) for k, v in g.event_schedule(m.params).items()} == {"0:0": 1.0,
                                                                            "1:0": 1.0}
    # x = pre(x) + 1; x = 2*x; x = x + 10; x = 3*x, y = pre(y) - 2
    np.testing.assert_allclose(g.affects[0](0.0, y, y_pre, m.params), [4.0, 2.5])
    np.testing.assert_allclose(g.affects[1](0.0, y, y_pre, m.params), [10.0, 2.5])
    np.testing.assert_allclose(g.affects[2](0.0, y, y_pre, m.params), [15.0, 2.5])
    np.testing.assert_allclose(g.affects[3](0.0, y, y_pre, m.params), [15.0, 5.0])
