"""The public model methods an RPC client can call, and the dispatch rules in front of them.

Dispatch follows Odoo 17's `odoo/service/model.py` + `odoo/api.py`: unknown model -> UserError,
`_private` -> AccessError, unknown method -> AttributeError (wording per version), `args[0]` is the ids
for record methods and not for `@api.model` ones, Python signature errors surface as TypeError.
"""

import html
import inspect

from . import automation, followers, orm, query, rules, values
from .domain import scalar_test
from .errors import AccessError, NotFound, UnprocessableEntity, UserError
from .schema import describe

READ_LOAD = "_classic_read"


def dispatch(env, model: str, method: str, args: list, kwargs: dict):
    store = env.store
    if model not in store.schema:
        raise UserError(f"Object {model} doesn't exist")
    if method.startswith("_"):
        if env.version >= 18:
            raise AccessError(f"Private methods (such as '{model}.{method}') cannot be called remotely.")
        raise AccessError(f"Private methods (such as {method}) cannot be called remotely.")
    entry = _lookup(env, model, method)
    if entry is None:
        if env.version >= 18:
            raise AttributeError(f"The method '{model}.{method}' does not exist")
        raise AttributeError(f"type object {model!r} has no attribute {method!r}")
    fn, on_records = entry
    check_access(env, model)
    if on_records:
        if not args:
            raise TypeError(f"{method}() missing 1 required positional argument: 'ids'")
        return fn(env, model, _ids(args[0]), *args[1:], **kwargs)
    return fn(env, model, *args, **kwargs)


def json2_resolve(env, model: str, method: str, ids: list, params: dict) -> bool:
    """What Odoo 19's `/json/2/<model>/<method>` checks before running a call (addons/rpc/controllers/
    json2.py): an unknown model or method is a 404, a private one an AccessError, ids given to an
    `@api.model` method or arguments the method does not take a 422. True when the method works on
    records (the ids are its first argument)."""
    if model not in env.store.schema:
        raise NotFound(f"the model {model!r} does not exist")
    if method.startswith("_"):
        raise AccessError(f"Private methods (such as '{model}.{method}') cannot be called remotely.")
    entry = _lookup(env, model, method)
    if entry is None:
        raise NotFound(f"The method '{model}.{method}' does not exist")
    fn, on_records = entry
    if ids and not on_records:
        raise UnprocessableEntity(f"cannot call {model}.{method} with ids")
    try:
        inspect.signature(fn).bind(env, model, *([ids] if on_records else []), **params)
    except TypeError as exc:
        raise UnprocessableEntity(exc.args[0]) from exc
    return on_records


def check_access(env, model: str) -> None:
    automation.check_admin(env, model)
    if env.su or model not in env.store.forbidden.get(env.uid, ()):
        return
    desc = env.store.model(model).description
    raise AccessError(
        f"You are not allowed to access '{desc}' ({model}) records.\n\n"
        "Contact your administrator to request access if necessary."
    )


def _ids(value) -> list[int]:
    if value is False or value is None:
        return []
    values_ = value if isinstance(value, (list, tuple)) else [value]
    for v in values_:
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"Invalid record id {v!r}")
    return list(values_)


def _lookup(env, model, method):
    md = env.store.model(model)
    if method in MODEL_METHODS:
        return MODEL_METHODS[method], False
    if method in RECORD_METHODS:
        return RECORD_METHODS[method], True
    if method == "name_get" and env.version <= 17:
        return name_get, True
    if method in ("action_archive", "action_unarchive") and md.has_active:
        return (action_archive if method == "action_archive" else action_unarchive), True
    if method == "message_post" and "message_ids" in md.fields:
        return message_post, True
    if method in ("message_subscribe", "message_unsubscribe") and "message_partner_ids" in md.fields:
        return (message_subscribe if method == "message_subscribe" else message_unsubscribe), True
    if (model, method) == ("res.users", "context_get"):
        return context_get, False
    if (model, method) == ("ir.model.data", "check_object_reference"):
        return check_object_reference, False
    return None


def _active_test(env) -> bool:
    return env.context.get("active_test", True) is not False


def search(env, model, domain, offset=0, limit=None, order=None, **kw):
    rule = rules.predicate(env, model)  # record rules filter searches silently
    if kw.pop("count", False) and env.version <= 16:
        return query.count(env.store, model, domain, active_test=_active_test(env), rule=rule)
    if kw:
        raise TypeError(f"search() got an unexpected keyword argument {next(iter(kw))!r}")
    return query.search(
        env.store, model, domain, offset=offset, limit=limit, order=order, active_test=_active_test(env),
        rule=rule,
    )


def search_count(env, model, domain=None, limit=None):
    return query.count(
        env.store, model, domain, limit=limit, active_test=_active_test(env), rule=rules.predicate(env, model)
    )


def search_read(env, model, domain=None, fields=None, offset=0, limit=None, order=None, **read_kwargs):
    ids = query.search(
        env.store, model, domain, offset=offset, limit=limit, order=order, active_test=_active_test(env),
        rule=rules.predicate(env, model),
    )
    return read(env, model, ids, fields, **read_kwargs)


def read(env, model, ids, fields=None, load=READ_LOAD):
    store, md = env.store, env.store.model(model)
    names = list(fields) if fields else list(md.fields)
    orm.check_fields(env, model, names)
    rules.check(env, model, ids, "read")  # a hidden id is an AccessError; a deleted one is left out
    names = ["id"] + [n for n in dict.fromkeys(names) if n != "id"]
    readers = [(n, values.formatter(store, model, n, load)) for n in names]
    table, rows = store.tables[model], []
    for rec_id in ids:
        rec = table.get(rec_id)
        if rec is not None:  # missing ids are dropped silently, as `_read_format` does
            rows.append({n: fmt(rec) for n, fmt in readers})
    return rows


def create(env, model, vals_list):
    if isinstance(vals_list, dict):
        return orm.create(env, model, [vals_list])[0]
    return orm.create(env, model, list(vals_list))


def write(env, model, ids, vals):
    rules.check(env, model, ids, "write")
    return orm.write(env, model, ids, vals)


def unlink(env, model, ids):
    rules.check(env, model, ids, "unlink")
    return orm.unlink(env, model, ids)


def exists(env, model, ids):
    # One SQL query in Odoo, below the record rules: a hidden record exists, a deleted one does not.
    return [i for i in ids if env.store.exists(model, i)]


def fields_get(env, model, allfields=None, attributes=None):
    md = env.store.model(model)
    out = {}
    for name, fd in md.fields.items():
        if allfields and name not in allfields:
            continue
        desc = describe(fd, md)
        out[name] = {k: v for k, v in desc.items() if k in attributes} if attributes else desc
    return out


def default_get(env, model, fields_list):
    out = orm.defaults(env, model, fields_list)
    hooks = env.hooks(model)
    if hooks and hasattr(hooks, "default_get"):
        out.update({k: v for k, v in hooks.default_get(env).items() if k in fields_list and k not in out})
    return out


def name_search(env, model, name="", args=None, operator="ilike", limit=100):
    store = env.store
    rule = rules.predicate(env, model)
    ids = query.search(store, model, args or [], active_test=_active_test(env), rule=rule)
    if name:
        test = scalar_test(lambda s: s, operator, name)
        ids = [i for i in ids if test(store.display_name(model, store.get(model, i)))]
    ids = ids[:limit] if limit else ids
    return [[i, store.display_name(model, store.get(model, i))] for i in ids]


def name_get(env, model, ids):
    rules.check(env, model, ids, "read")
    orm.existing(env, model, ids)
    return [[i, env.store.display_name(model, env.store.get(model, i))] for i in ids]


def action_archive(env, model, ids):
    rules.check(env, model, ids, "write")
    active = [i for i in ids if env.store.get(model, i) and env.store.get(model, i).get("active")]
    orm.write(env, model, active, {"active": False})
    return None  # Odoo returns None here: JSON null, and an XML-RPC "cannot marshal None" fault


def action_unarchive(env, model, ids):
    rules.check(env, model, ids, "write")
    inactive = [i for i in ids if env.store.get(model, i) and not env.store.get(model, i).get("active")]
    orm.write(env, model, inactive, {"active": True})
    return None


def context_get(env, model):
    user = env.store.get("res.users", env.uid) or {}
    context = {"lang": user.get("lang") or "en_US", "tz": user.get("tz") or False}
    if env.version >= 19:
        # JSON-2 has no login: a caller learns its own uid here (external_api.rst, "Common service").
        context["uid"] = env.uid
    return context


def check_object_reference(env, model, module, xml_id, raise_on_access_error=False):
    store = env.store
    for rec in store.tables["ir.model.data"].values():
        if rec["module"] == module and rec["name"] == xml_id and store.exists(rec["model"], rec["res_id"]):
            return [rec["model"], rec["res_id"]]
    raise ValueError(f"External ID not found in the system: {module}.{xml_id}")


def message_post(
    env,
    model,
    ids,
    *,
    body="",
    subject=None,
    message_type="notification",
    subtype_xmlid=None,
    subtype_id=False,
    partner_ids=None,
    author_id=None,
    email_from=None,
    parent_id=False,
    attachments=None,
    attachment_ids=None,
    **kwargs,
):
    if len(ids) != 1:
        raise ValueError(
            f"Expected singleton: {model}({', '.join(map(str, ids))}{',' if len(ids) == 1 else ''})"
        )
    # mail.message's create checks the document as `_mail_post_access` says: 'write' for a ticket.
    rules.check(env, model, ids, "write")
    orm.existing(env, model, ids)
    if env.version >= 17:
        # Since 16.3/17 a str body is text, not HTML: only Markup is trusted and RPC cannot send
        # Markup, so callers pass body_is_html=True to keep their tags (odoo.md §7.7). Odoo honours
        # the flag only for an internal author (`self.env.user._is_internal()`): a portal/share
        # user's HTML is escaped whatever it says (odoo.md §8.7).
        body_is_html = kwargs.pop("body_is_html", False)
        internal = not (env.store.get("res.users", env.uid) or {}).get("share")
        if not (body_is_html and internal) and isinstance(body, str):
            body = html.escape(body).replace("&#x27;", "&#39;").replace("&quot;", "&#34;")
    orm.check_fields(env, "mail.message", kwargs)  # 16 and unknown keys: Odoo passes them to create()
    store = env.store
    if not subtype_id:
        subtype_id = _xmlid(store, subtype_xmlid or "mail.mt_note")
    user = store.get("res.users", env.uid) or {}
    vals = {
        "body": body or "",
        "subject": subject or False,
        "model": model,
        "res_id": ids[0],
        "message_type": message_type,
        "subtype_id": subtype_id or False,
        "author_id": author_id or user.get("partner_id") or False,
        "email_from": email_from or user.get("email") or False,
        "date": values.fmt_datetime(env.now),
        "partner_ids": [(6, 0, partner_ids or [])],
        "record_name": store.display_name(model, store.get(model, ids[0])),
        **kwargs,
    }
    return orm.create(env.sudo(), "mail.message", [vals])[0]


def message_subscribe(env, model, ids, partner_ids=None, subtype_ids=None):
    """mail.thread: following oneself needs read access to the records, anyone else write access."""
    partner_ids = list(partner_ids or [])
    own = (env.store.get("res.users", env.uid) or {}).get("partner_id")
    rules.check(env, model, ids, "read" if partner_ids == [own] else "write")
    followers.subscribe(env, model, ids, partner_ids)
    return True


def message_unsubscribe(env, model, ids, partner_ids=None):
    partner_ids = list(partner_ids or [])
    own = (env.store.get("res.users", env.uid) or {}).get("partner_id")
    rules.check(env, model, ids, "read" if partner_ids == [own] else "write")
    followers.unsubscribe(env, model, ids, partner_ids)
    return True


def _xmlid(store, full: str):
    module, _, name = full.partition(".")
    for rec in store.tables["ir.model.data"].values():
        if rec["module"] == module and rec["name"] == name:
            return rec["res_id"]
    return False


MODEL_METHODS = {
    "search": search,
    "search_count": search_count,
    "search_read": search_read,
    "create": create,
    "fields_get": fields_get,
    "default_get": default_get,
    "name_search": name_search,
}
RECORD_METHODS = {"read": read, "write": write, "unlink": unlink, "exists": exists}
