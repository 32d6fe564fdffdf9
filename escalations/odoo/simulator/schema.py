"""Field and model definitions, and the helpers the per-flavour schema modules use to declare them.

A schema is a plain dict `{model_name: ModelDef}` built once per (flavour, version). Every model gets
Odoo's automatic fields (`id`, `display_name`, `create_date`, `create_uid`, `write_date`, `write_uid`);
they are listed by `fields_get` too, as Odoo's `fields_get` does (odoorpc even skips `id` explicitly).
"""

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

RELATIONAL = ("many2one", "one2many", "many2many")


@dataclass
class FieldDef:
    name: str
    type: str
    string: str
    relation: str | None = None
    selection: list | None = None
    required: bool = False
    readonly: bool = False
    store: bool = True
    default: Any = None  # a value, or a callable(env) -> value
    compute: str | None = None  # key in the compute registry, for non-stored computed fields
    related: str | None = None  # dotted path, e.g. "stage_id.fold"
    inverse_name: str | None = None  # one2many: the many2one on the comodel
    search: str | None = None  # key in the search registry (domain expansion), like Odoo's search=
    help: str = ""
    index: bool = False  # keep an id index on this many2one (for one2many reads)
    # many2one: "cascade" deletes this record with its target even where the field is optional
    ondelete: str | None = None

    @property
    def searchable(self) -> bool:
        return self.store or bool(self.related or self.search or self.type == "one2many")


@dataclass
class ModelDef:
    name: str
    description: str
    order: str = "id"
    rec_name: str = "name"
    fields: dict[str, FieldDef] = dc_field(default_factory=dict)
    parent_name: str | None = None  # enables child_of / parent_of through this field
    display_name: Callable | None = None  # (store, rec) -> str; default: rec_name value
    # Odoo's `_sql_constraints` of kind UNIQUE: [(field names, message)], checked by create and write.
    unique: list[tuple[tuple[str, ...], str]] = dc_field(default_factory=list)

    @property
    def has_active(self) -> bool:
        return "active" in self.fields


def F(name, type_, string, **kw) -> FieldDef:
    return FieldDef(name=name, type=type_, string=string, **kw)


def m2o(name, relation, string, **kw) -> FieldDef:
    return FieldDef(name=name, type="many2one", string=string, relation=relation, **kw)


def o2m(name, relation, inverse, string, **kw) -> FieldDef:
    return FieldDef(
        name=name, type="one2many", string=string, relation=relation, store=False, inverse_name=inverse, **kw
    )


def m2m(name, relation, string, **kw) -> FieldDef:
    return FieldDef(name=name, type="many2many", string=string, relation=relation, **kw)


def sel(name, options, string, **kw) -> FieldDef:
    return FieldDef(name=name, type="selection", string=string, selection=[list(o) for o in options], **kw)


def model(name, description, fields, **kw) -> ModelDef:
    md = ModelDef(name=name, description=description, **kw)
    for fd in _magic_fields() + list(fields):
        md.fields[fd.name] = fd
    return md


def _magic_fields() -> list[FieldDef]:
    return [
        F("id", "integer", "ID", readonly=True),
        F("display_name", "char", "Display Name", store=False, readonly=True, compute="display_name"),
        F("create_date", "datetime", "Created on", readonly=True),
        m2o("create_uid", "res.users", "Created by", readonly=True),
        F("write_date", "datetime", "Last Updated on", readonly=True),
        m2o("write_uid", "res.users", "Last Updated by", readonly=True),
    ]


MAGIC = {"id", "display_name", "create_date", "create_uid", "write_date", "write_uid"}

PRIORITIES_EE = [("0", "Low priority"), ("1", "Medium priority"), ("2", "High priority"), ("3", "Urgent")]
PRIORITIES_OCA = [("0", "Low"), ("1", "Medium"), ("2", "High"), ("3", "Very High")]
KANBAN_STATES = [("normal", "In Progress"), ("done", "Ready"), ("blocked", "Blocked")]


def describe(fd: FieldDef, md: ModelDef) -> dict:
    """The `fields_get` entry of a field (all attributes; the caller filters by `attributes`)."""
    out = {
        "type": fd.type,
        "string": fd.string,
        "help": fd.help or False,
        "required": fd.required,
        "readonly": fd.readonly or bool(fd.compute and not fd.store),
        "store": fd.store,
        "searchable": fd.searchable,
        "sortable": fd.store,
        "manual": False,
        "depends": [],
        "company_dependent": False,
        "groupable": fd.store,
        "exportable": True,
        "name": fd.name,
        "change_default": False,
    }
    if fd.type in RELATIONAL:
        out.update(relation=fd.relation, context={}, domain=[])
    if fd.type == "one2many":
        out["relation_field"] = fd.inverse_name
    if fd.type == "selection":
        out["selection"] = [list(o) for o in fd.selection]
    if fd.related:
        out["related"] = fd.related
    if fd.type in ("char", "text", "html"):
        out["translate"] = False
        if fd.type == "char":
            out["trim"] = True
    if fd.type == "html":
        out["sanitize"] = True
    return out
