"""An Odoo Helpdesk simulator speaking Odoo's JSON-RPC and XML-RPC, for the demo and the tests.

Plain Python (standard library only): `build_state()` makes the data, `SimulatorServer` serves it.
"""

from .seed import build_state
from .server import SimulatorServer
from .state import SimulatorState

__all__ = ["build_state", "SimulatorServer", "SimulatorState"]
