"""create / write / unlink with Odoo's value rules, x2many commands and per-model side-effect hooks.

An `Env` is one call's environment: the user, the context and two clocks. `tx_now` is Odoo's `cr.now()`:
the transaction's start to the microsecond, stamped as `write_date`/`create_date` on every record the
call writes (a mass write, a create of many, a cron run all share one stamp). `now` is the same moment
in whole seconds, as `fields.Datetime.now()` gives the values Odoo's own code writes (stage dates...).
Hooks (see `helpdesk.py`) are plain objects registered per model with optional methods:
  prepare_create(env, vals)             fill defaults that depend on other values (sequence, stage...)
  after_create(env, ids)                create dependants (SLA statuses)
  prepare_write(env, rec, vals) -> dict extra values for one record (dates that follow a stage change)
  after_write(env, ids, vals, before)   react to what changed (SLA reach), `before` = old raw records
  before_unlink(env, ids)
"""

from dataclasses import dataclass, field
from datetime import datetime

from . import automation
from .errors import ValidationError, missing_error
from .values import converter, not_null_error

SUPERUSER_ID = 1


@dataclass
class Env:
    store: object
    uid: int
    context: dict = field(default_factory=dict)
    version: int = 17
    flavour: str = "enterprise"
    now: datetime | None = None
    su: bool = False
    tx_now: datetime | None = None

    def __post_init__(self):
        if self.tx_now is None:
            self.tx_now = self.now or self.store.clock.tx_now()
        if self.now is None:
            self.now = self.tx_now.replace(microsecond=0)

    def hooks(self, model):
        return self.store.hooks.get(model)

    def sudo(self) -> "Env":
        return Env(
            self.store, self.uid, self.context, self.version, self.flavour, self.now, True, self.tx_now
        )


def check_fields(env: Env, model: str, names) -> None:
    fields = env.store.model(model).fields
    for name in names:
        if name not in fields:
            raise ValueError(f"Invalid field {name!r} on model {model!r}")


def existing(env: Env, model: str, ids) -> None:
    missing = [i for i in ids if not env.store.exists(model, i)]
    if missing:
        raise missing_error(model, missing, env.uid)


def defaults(env: Env, model: str, names) -> dict:
    md = env.store.model(model)
    out = {}
    for name in names:
        key = f"default_{name}"
        if key in env.context:
            out[name] = env.context[key]
            continue
        fd = md.fields.get(name)
        if fd is None or fd.default is None:
            continue
        out[name] = fd.default(env) if callable(fd.default) else fd.default
    return out


def create(env: Env, model: str, vals_list: list[dict]) -> list[int]:
    store, md = env.store, env.store.model(model)
    hooks = env.hooks(model)
    ids = []
    for vals in vals_list:
        if not isinstance(vals, dict):
            raise TypeError(f"create() expects a dict or a list of dicts, not {type(vals).__name__}")
        check_fields(env, model, vals)
        candidates = md.fields if any(k.startswith("default_") for k in env.context) else _defaulted(md)
        vals = {**defaults(env, model, [f for f in candidates if f not in vals]), **vals}
        if hooks and hasattr(hooks, "prepare_create"):
            hooks.prepare_create(env, vals)
        stored, later = _split(env, model, vals)
        for name in _required(md):
            if stored.get(name) in (None, ""):
                raise not_null_error(store, model, name)
        check_unique(env, model, stored)
        rec_id = store.insert(model, stored, now=env.tx_now, uid=env.uid)
        _apply_x2many(env, model, rec_id, later)
        ids.append(rec_id)
    if hooks and hasattr(hooks, "after_create"):
        hooks.after_create(env, ids)
    automation.after_create(env, model, ids)
    return ids


def _defaulted(md) -> list:
    """Fields with a schema default (the only ones to look at unless the context has `default_*`)."""
    if "_defaulted" not in md.__dict__:
        md.__dict__["_defaulted"] = [n for n, fd in md.fields.items() if fd.default is not None]
    return md.__dict__["_defaulted"]


def _required(md) -> list:
    if "_required" not in md.__dict__:
        md.__dict__["_required"] = [
            n
            for n, fd in md.fields.items()
            if fd.required and fd.store and n != "id" and fd.type not in ("boolean", "integer", "float")
        ]
    return md.__dict__["_required"]


def write(env: Env, model: str, ids: list[int], vals: dict) -> bool:
    if not isinstance(vals, dict):
        raise TypeError("write() expects a dict of values")
    existing(env, model, ids)
    check_fields(env, model, vals)
    store, hooks = env.store, env.hooks(model)
    before = {i: dict(store.get(model, i)) for i in ids}
    for rec_id in ids:
        extra = {}
        if hooks and hasattr(hooks, "prepare_write"):
            extra = hooks.prepare_write(env, store.get(model, rec_id), vals) or {}
        stored, later = _split(env, model, {**vals, **extra}, rec_id)
        for name, value in stored.items():
            fd = store.model(model).fields[name]
            if fd.required and value in (None, "") and fd.type not in ("boolean", "integer", "float"):
                raise not_null_error(store, model, name)
        check_unique(env, model, stored, rec_id)
        store.update(model, rec_id, stored, now=env.tx_now, uid=env.uid)
        _apply_x2many(env, model, rec_id, later)
    if hooks and hasattr(hooks, "after_write"):
        hooks.after_write(env, ids, vals, before)
    automation.after_write(env, model, ids, vals)
    return True


def check_unique(env: Env, model: str, stored: dict, rec_id: int | None = None) -> None:
    """The model's UNIQUE constraints, as PostgreSQL enforces them and Odoo reports them to a client
    (`_as_validation_error`: a ValidationError with the constraint's message). NULLs never collide."""
    store = env.store
    for names, message in store.model(model).unique:
        if rec_id is not None and not any(name in stored for name in names):
            continue
        current = store.get(model, rec_id) if rec_id is not None else {}
        key = tuple(stored.get(name, current.get(name)) for name in names)
        if None in key:
            continue
        for other_id, other in store.tables[model].items():
            if other_id != rec_id and tuple(other.get(name) for name in names) == key:
                raise ValidationError(f"The operation cannot be completed: {message}")


def unlink(env: Env, model: str, ids: list[int]) -> bool:
    existing(env, model, ids)
    hooks = env.hooks(model)
    if hooks and hasattr(hooks, "before_unlink"):
        hooks.before_unlink(env, ids)
    for rec_id in ids:
        _cascade(env, model, rec_id)
        env.store.delete(model, rec_id)
    return True


def _cascade(env: Env, model: str, rec_id: int) -> None:
    """ondelete for indexed many2ones pointing here: required (or `ondelete="cascade"`) -> cascade,
    optional -> set null. mail.message rows of a deleted document go too (mail.thread.unlink does that)."""
    store = env.store
    for (comodel, fname), index in list(store._inverse.items()):
        fd = store.model(comodel).fields[fname]
        if fd.type == "many2one" and fd.relation == model:
            for child in list(index.get(rec_id, ())):
                if fd.required or fd.ondelete == "cascade":
                    unlink(env, comodel, [child])
                else:
                    store.update(comodel, child, {fname: None}, now=env.tx_now, uid=env.uid)
    if "message_ids" in store.model(model).fields:
        for msg_id in store.inverse_ids("mail.message", "res_id", rec_id, model=model):
            store.delete("mail.message", msg_id)


def _split(env: Env, model: str, vals: dict, rec_id: int | None = None):
    """Stored values converted now; one2many commands applied after the record exists."""
    plan = _field_plan(env.store, model)
    stored, later = {}, {}
    for name, value in vals.items():
        kind, convert = plan[name]
        if kind == "scalar":
            stored[name] = convert(value)
        elif kind == "o2m":
            later[name] = value
        elif kind == "m2m":
            current = list(env.store.get(model, rec_id).get(name) or []) if rec_id else []
            stored[name] = m2m_commands(env, env.store.model(model).fields[name], value, current)
        # "skip": magic fields are not writable (Odoo drops them); non-stored computed/related values
        # are ignored, as Odoo does for fields without an inverse
    return stored, later


def _field_plan(store, model: str) -> dict:
    """field -> (how _split handles it, converter), built once per model."""
    cache = store.__dict__.setdefault("_field_plans", {})
    if model not in cache:
        plan = {}
        for name, fd in store.model(model).fields.items():
            if name in ("id", "create_date", "write_date", "create_uid", "write_uid", "display_name"):
                plan[name] = ("skip", None)
            elif fd.type == "one2many":
                plan[name] = ("o2m", None)
            elif fd.type == "many2many":
                plan[name] = ("m2m", None) if fd.store else ("skip", None)
            elif fd.store and not fd.related:
                plan[name] = ("scalar", converter(store, model, name))
            else:
                plan[name] = ("skip", None)
        cache[model] = plan
    return cache[model]


def m2m_commands(env: Env, fd, value, current: list):
    ids = list(current)
    if value is False or value is None:
        return []
    if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        value = [(6, 0, value)]
    for cmd in value or []:
        code = cmd[0]
        if code == 0:
            ids += create(env, fd.relation, [cmd[2]])
        elif code == 1:
            write(env, fd.relation, [cmd[1]], cmd[2])
        elif code == 2:
            unlink(env, fd.relation, [cmd[1]])
            ids = [i for i in ids if i != cmd[1]]
        elif code == 3:
            ids = [i for i in ids if i != cmd[1]]
        elif code == 4:
            existing(env, fd.relation, [cmd[1]])
            ids += [] if cmd[1] in ids else [cmd[1]]
        elif code == 5:
            ids = []
        elif code == 6:
            existing(env, fd.relation, list(cmd[2]))
            ids = list(dict.fromkeys(cmd[2]))
        else:
            raise ValueError(f"Invalid x2many command {cmd!r}")
    return ids


def _apply_x2many(env: Env, model: str, rec_id: int, later: dict) -> None:
    md = env.store.model(model)
    for name, value in later.items():
        fd = md.fields[name]
        current = env.store.value(model, env.store.get(model, rec_id), name)
        if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            value = [(6, 0, value)]
        for cmd in value or []:
            _o2m_command(env, fd, rec_id, cmd, current)


def _o2m_command(env: Env, fd, rec_id: int, cmd, current) -> None:
    code, inv = cmd[0], fd.inverse_name
    if code == 0:
        create(env, fd.relation, [{**cmd[2], inv: rec_id}])
    elif code == 1:
        write(env, fd.relation, [cmd[1]], cmd[2])
    elif code == 2:
        unlink(env, fd.relation, [cmd[1]])
    elif code == 3:
        write(env, fd.relation, [cmd[1]], {inv: False})
    elif code == 4:
        write(env, fd.relation, [cmd[1]], {inv: rec_id})
    elif code in (5, 6):
        keep = set(cmd[2]) if code == 6 else set()
        for child in current:
            if child not in keep:
                write(env, fd.relation, [child], {inv: False})
        for child in keep - set(current):
            write(env, fd.relation, [child], {inv: rec_id})
    else:
        raise ValueError(f"Invalid x2many command {cmd!r}")
