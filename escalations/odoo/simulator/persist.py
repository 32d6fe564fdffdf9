"""Save and load the simulator's state as JSON (`--state-file`), so a demo survives a restart.

Datetimes and dates are tagged strings; everything else in a raw record is already JSON. Indexes are
rebuilt on load. The API keys and passwords are saved too: the file is as secret as the keys.
"""

import json
import os
from datetime import date, datetime

from .clock import Clock
from .state import ApiKey, SimulatorState

_DT, _D = "__dt__:", "__d__:"


def save(state: SimulatorState, path: str) -> None:
    with state.lock:
        data = {
            "flavour": state.flavour,
            "version": state.version,
            "clock": state.clock.now().isoformat(),
            "tables": {m: list(t.values()) for m, t in state.store.tables.items()},
            "next_id": state.store.next_id,
            "sequences": state.store.sequences,
            "passwords": {str(k): v for k, v in state.passwords.items()},
            "api_keys": {
                key: {"uid": k.uid, "expiration_date": k.expiration_date} for key, k in state.api_keys.items()
            },
            "integration_uid": state.integration_uid,
            "deprecated_rpc": state.deprecated_rpc,
            "other_databases": state.other_databases,
            "system_uids": sorted(state.store.system_uids),
            "webhook_commit_delay": state.webhook_commit_delay,
        }
        text = json.dumps(data, default=_encode)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)  # never leave a half-written file behind on Ctrl-C


def load(path: str, now: datetime | None = None) -> SimulatorState:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh, object_hook=_decode)
    state = SimulatorState(flavour=data["flavour"], version=data["version"])
    state.clock = Clock(now or datetime.fromisoformat(data["clock"]))
    state.store.clock = state.clock
    for model, rows in data["tables"].items():
        if model in state.store.tables:
            state.store.tables[model] = {r["id"]: r for r in rows}
    state.store.next_id.update(data["next_id"])
    state.store.sequences.update(data["sequences"])
    state.store.rebuild_indexes()
    state.passwords = {int(k): v for k, v in data["passwords"].items()}
    # Files saved before keys could expire hold key -> uid.
    state.api_keys = {
        key: ApiKey(k, None) if isinstance(k, int) else ApiKey(k["uid"], k["expiration_date"])
        for key, k in data["api_keys"].items()
    }
    state.integration_uid = data["integration_uid"]
    # Files saved before Odoo 19 was simulated have neither.
    state.deprecated_rpc = data.get("deprecated_rpc", True)
    state.other_databases = list(data.get("other_databases", []))
    # Files saved before automation rules were simulated: the seeded administrator.
    admin = state.admin_uid
    state.store.system_uids = set(data.get("system_uids", [admin] if admin else []))
    state.webhook_commit_delay = float(data.get("webhook_commit_delay", 0.0))
    return state


def _encode(value):
    if isinstance(value, datetime):
        return _DT + value.isoformat()
    if isinstance(value, date):
        return _D + value.isoformat()
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot save {type(value).__name__}")


def _decode(obj: dict) -> dict:
    for key, value in obj.items():
        if isinstance(value, str):
            if value.startswith(_DT):
                obj[key] = datetime.fromisoformat(value[len(_DT) :])
            elif value.startswith(_D):
                obj[key] = date.fromisoformat(value[len(_D) :])
    return obj
