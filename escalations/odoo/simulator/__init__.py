"""An Odoo Helpdesk simulator speaking Odoo's JSON-RPC and XML-RPC, and JSON-2 as Odoo 19 does, for the
demo and the tests; from 17 on its automation rules post webhooks, as Odoo's do (automation.py).

Plain Python (standard library only), importing nothing of the product: `seed.build_state()` makes
the data, `server.SimulatorServer` serves it. Nothing is imported here, so that the simulator's
modules, which import each other as `from . import orm`, never import the package's seed back.
"""
