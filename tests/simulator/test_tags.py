"""Helpdesk tags as the console's escalation markers use them, on each flavour and version: found by
name with `=ilike`, created, added and removed on a ticket with (4, id) / (3, id); Enterprise's unique
tag name refused the way Odoo reports a violated SQL constraint, OCA's tags without one."""

import odoorpc
import pytest

from .conftest import connect, kw

FLAVOURS = [("enterprise", 16), ("enterprise", 17), ("enterprise", 18), ("oca", 16), ("oca", 17), ("oca", 18)]
TAG_MODEL = {"enterprise": "helpdesk.tag", "oca": "helpdesk.ticket.tag"}


@pytest.mark.parametrize("flavour, version", FLAVOURS)
def test_a_tag_is_found_created_added_and_removed_over_json_rpc(make_server, flavour, version):
    odoo = connect(make_server(flavour=flavour, version=version))
    model = TAG_MODEL[flavour]
    assert kw(odoo, model, "search_read", [[("name", "=ilike", "escalated l2")]], fields=["name"]) == []
    tag = kw(odoo, model, "create", [{"name": "Escalated L2"}])
    found = kw(odoo, model, "search_read", [[("name", "=ilike", "escalated l2")]], fields=["name"])
    assert found == [{"id": tag, "name": "Escalated L2"}]

    [ticket] = kw(odoo, "helpdesk.ticket", "search", [[]], limit=1)
    before = kw(odoo, "helpdesk.ticket", "read", [[ticket], ["tag_ids"]])[0]["tag_ids"]
    kw(odoo, "helpdesk.ticket", "write", [[ticket], {"tag_ids": [[4, tag]]}])
    kw(odoo, "helpdesk.ticket", "write", [[ticket], {"tag_ids": [[4, tag]]}])  # twice: still once
    assert sorted(kw(odoo, "helpdesk.ticket", "read", [[ticket], ["tag_ids"]])[0]["tag_ids"]) == sorted(
        before + [tag])
    kw(odoo, "helpdesk.ticket", "write", [[ticket], {"tag_ids": [[3, tag]]}])
    assert kw(odoo, "helpdesk.ticket", "read", [[ticket], ["tag_ids"]])[0]["tag_ids"] == before


@pytest.mark.parametrize("version, message", [
    (16, "Tag name already exists !"), (17, "A tag with the same name already exists."),
    (18, "A tag with the same name already exists."),
])
def test_enterprise_refuses_a_second_tag_of_the_same_name(make_server, version, message):
    odoo = connect(make_server(flavour="enterprise", version=version))
    first = kw(odoo, "helpdesk.tag", "create", [{"name": "Escalated L2"}])
    other = kw(odoo, "helpdesk.tag", "create", [{"name": "escalated l2"}])  # the constraint is exact
    for call in (lambda: kw(odoo, "helpdesk.tag", "create", [{"name": "Escalated L2"}]),
                 lambda: kw(odoo, "helpdesk.tag", "write", [[other], {"name": "Escalated L2"}])):
        with pytest.raises(odoorpc.error.RPCError) as refused:
            call()
        assert refused.value.info["data"]["name"] == "odoo.exceptions.ValidationError"
        assert refused.value.info["data"]["message"] == f"The operation cannot be completed: {message}"
    kw(odoo, "helpdesk.tag", "write", [[first], {"name": "Escalated L2", "color": 3}])  # itself: fine
    assert len(kw(odoo, "helpdesk.tag", "search", [[("name", "=", "Escalated L2")]])) == 1


def test_oca_tags_may_share_a_name(make_server):
    odoo = connect(make_server(flavour="oca", version=17))
    kw(odoo, "helpdesk.ticket.tag", "create", [{"name": "Escalated L2"}])
    kw(odoo, "helpdesk.ticket.tag", "create", [{"name": "Escalated L2"}])
    assert len(kw(odoo, "helpdesk.ticket.tag", "search", [[("name", "=", "Escalated L2")]])) == 2
