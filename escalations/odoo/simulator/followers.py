"""Followers of a record (`mail.followers`), and the two mail.thread methods that change them.

Enterprise's record rules read them: a Helpdesk User sees a private team's tickets only when following
the team or the ticket (rules.py). `message_partner_ids` on a ticket or team lists them, as in Odoo,
where it is computed from `mail.followers` and cannot be written: `message_subscribe` and
`message_unsubscribe` are the way in and out.
"""

from . import orm

MODEL = "mail.followers"


def followers(store, model: str, res_id: int) -> list[int]:
    """Partner ids following one record."""
    table = store.tables[MODEL]
    return sorted(
        table[i]["partner_id"]
        for i in store.inverse_ids(MODEL, "res_id", res_id)
        if table[i]["res_model"] == model
    )


def followed(store, model: str, partner_id) -> set[int]:
    """Ids of the records of `model` that the partner follows."""
    return {
        f["res_id"]
        for f in store.tables[MODEL].values()
        if f["res_model"] == model and f["partner_id"] == partner_id
    }


def register(store) -> None:
    """Compute and search `message_partner_ids` wherever the schema declares it (`followers:<model>`)."""
    for md in store.schema.values():
        fd = md.fields.get("message_partner_ids")
        if fd is not None and fd.compute == f"followers:{md.name}":
            store.computes[fd.compute] = lambda s, rec, m=md.name: followers(s, m, rec["id"])
            store.searches[fd.compute] = lambda s, op, value, m=md.name: _search(s, m, op, value)


def _search(store, model: str, operator: str, value):
    if operator not in ("in", "=") or value is False:
        raise ValueError(f"Invalid operator {operator!r} on message_partner_ids")
    partners = value if isinstance(value, (list, tuple)) else [value]
    ids = set().union(*(followed(store, model, p) for p in partners))
    return [("id", "in", sorted(ids))]


def subscribe(env, model: str, ids: list[int], partner_ids: list[int]) -> None:
    """Make the partners follow the records (the caller checked access; see methods.message_subscribe)."""
    orm.existing(env, model, ids)
    orm.existing(env, "res.partner", partner_ids)
    for res_id in ids:
        have = set(followers(env.store, model, res_id))
        rows = [{"res_model": model, "res_id": res_id, "partner_id": p} for p in partner_ids if p not in have]
        orm.create(env.sudo(), MODEL, rows)


def unsubscribe(env, model: str, ids: list[int], partner_ids: list[int]) -> None:
    table, wanted = env.store.tables[MODEL], set(partner_ids)
    gone = [
        i
        for res_id in ids
        for i in env.store.inverse_ids(MODEL, "res_id", res_id)
        if table[i]["res_model"] == model and table[i]["partner_id"] in wanted
    ]
    orm.unlink(env.sudo(), MODEL, gone)
