"""POST /hooks/odoo/<token>/ (escalations.push): what it refuses, how it schedules reads, and the
targeted read itself against the simulator, with the sync's store and lease."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalations.models import OdooHook, SyncState, Ticket, TicketStageChange
from escalations.push.read import push_ticket_read, sync_lease_held
from escalations.push.schedule import PUSH_READ_TICKET
from escalations.push.tokens import odoo_hook_create, odoo_hook_mask, odoo_hook_revoke, odoo_hook_token_of
from escalations.queue import change_stamp
from escalations.sync.run import SyncAlreadyRunning, _release_lease, _take_lease, sync_odoo


def body(odoo_id=7, model="helpdesk.ticket", **extra) -> bytes:
    return json.dumps({"_action": "Send Webhook Notification(#3)", "_id": odoo_id, "_model": model,
                       **extra}, sort_keys=True).encode()


def post(client, token, data: bytes, **kw):
    return client.post(reverse("odoo-hook", args=[token]), data=data, content_type="application/json", **kw)


def queued_tasks() -> list[tuple[str, list]]:
    """The tasks waiting in the broker's queue, (name, positional arguments), taken off it: earlier
    tests enqueue tasks no worker takes."""
    from dashboard.celery import app

    with app.connection_for_read() as connection:
        queue = app.amqp.queues[app.conf.task_default_queue](connection.default_channel)
        tasks = []
        while (message := queue.get(no_ack=False)) is not None:
            tasks.append((message.headers.get("task"), message.payload[0]))
            message.reject(requeue=False)
        return tasks


def queued_reads() -> list[int]:
    """The ticket ids of the targeted reads waiting in the broker's queue."""
    return [args[0] for name, args in queued_tasks() if name == PUSH_READ_TICKET]


@pytest.fixture
def hook(db):
    queued_reads()  # an empty queue: earlier tests enqueue tasks no worker takes
    return odoo_hook_create(name="Odoo automation rule")


# -- what the address refuses ----------------------------------------------------------------------


def test_anything_but_a_post_with_a_live_token_is_the_sites_404(client, hook):
    _, token = hook
    unknown = post(client, "x" * 43, body())
    assert unknown.status_code == 404
    assert client.get(reverse("odoo-hook", args=[token])).status_code == 404
    assert client.put(reverse("odoo-hook", args=[token]), data=body()).status_code == 404
    odoo_hook_revoke(hook=hook[0])
    revoked = post(client, token, body())
    assert revoked.status_code == 404
    # The site's own 404 page, as for any unknown address: nothing tells a revoked token from a wrong one.
    site = client.get("/no-such-page/")
    for response in (unknown, revoked):
        assert response["Content-Type"] == site["Content-Type"]
        assert b"<title>Not found" in response.content
    assert queued_reads() == []


def test_no_refusal_logs_the_token(client, hook, caplog):
    hook_row, token = hook
    odoo_hook_revoke(hook=hook_row)
    live, live_token = odoo_hook_create(name="live")
    with caplog.at_level("DEBUG"):
        post(client, token, body())
        post(client, live_token, b"nope")
        client.get(reverse("odoo-hook", args=[live_token]))
    assert caplog.records and not any(t in caplog.text for t in (token, live_token))


def test_a_post_is_accepted_without_csrf_token_or_session_and_is_not_stored(hook):
    from django.test import Client

    _, token = hook
    client = Client(enforce_csrf_checks=True)
    response = post(client, token, body(42))
    assert response.status_code == 202
    assert response.json() == {"ticket": 42, "queued": True}
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie
    assert queued_reads() == [42, 42]  # now, and again once a 17/18 transaction has committed


@pytest.mark.parametrize("data,status,code", [
    (b"{not json", 400, "bad_json"),
    (b"\xff\xfe", 400, "bad_json"),
    (b"[7]", 400, "not_a_ticket"),
    (body(model="res.partner"), 400, "not_a_ticket"),
    (body(odoo_id="7"), 400, "bad_id"),
    (body(odoo_id=True), 400, "bad_id"),
    (body(odoo_id=-3), 400, "bad_id"),
    (body(odoo_id=2**40), 400, "bad_id"),
    (body(note="x" * 70_000), 413, "body_too_large"),
])
def test_bodies_that_are_not_odoos_ticket_webhook_are_refused_without_harm(client, hook, data, status, code):
    response = post(client, hook[1], data)
    assert (response.status_code, response.json()) == (status, {"error": code})
    assert queued_reads() == []


def test_a_body_announced_over_64_kb_is_refused_before_it_is_read(client, hook):
    response = client.generic("POST", reverse("odoo-hook", args=[hook[1]]), data=body(),
                              content_type="application/json", CONTENT_LENGTH=str(64 * 1024 + 1))
    assert response.status_code == 413


def test_only_the_ticket_id_is_taken_from_the_body(client, hook):
    response = post(client, hook[1], body(9, priority="3", name="<script>", user_id=1))
    assert response.status_code == 202
    assert queued_reads() == [9, 9]


def test_a_flood_is_refused_per_hook_with_429(client, hook, settings):
    settings.ODOO_HOOK_RATE_PER_MINUTE = 3
    other, other_token = odoo_hook_create(name="another")
    answers = [post(client, hook[1], body(i)).status_code for i in range(1, 6)]
    assert answers == [202, 202, 202, 429, 429]
    refused = post(client, hook[1], body(9))
    assert refused["Retry-After"] == "60" and refused.json() == {"error": "too_many_events"}
    assert post(client, other_token, body(10)).status_code == 202  # counted per hook
    assert sorted(set(queued_reads())) == [1, 2, 3, 10]


def test_events_for_one_ticket_within_two_seconds_make_one_read_and_one_reread(client, hook):
    for _ in range(5):
        assert post(client, hook[1], body(5)).status_code == 202
    post(client, hook[1], body(6))
    assert sorted(queued_reads()) == [5, 5, 6, 6]


def test_a_post_notes_when_the_hook_was_last_used(client, hook):
    post(client, hook[1], body())
    assert OdooHook.objects.get(pk=hook[0].pk).last_used_at is not None


def test_a_hook_address_masks_its_token_for_printing(hook):
    from escalations.push.tokens import odoo_hook_url

    url = odoo_hook_url(hook[1], base_url="https://console.example.com/")
    assert url == f"https://console.example.com/hooks/odoo/{hook[1]}/"
    assert odoo_hook_token_of(url) == hook[1]
    assert hook[1] not in odoo_hook_mask(url) and hook[1][:8] in odoo_hook_mask(url)
    assert OdooHook.objects.get().token_hash != hook[1]  # only its hash is kept


# -- the targeted read ----------------------------------------------------------------------------------


@pytest.fixture
def mirrored(odoo, db):
    sync_odoo(full=True)
    return odoo.state


def _open_ticket(state) -> int:
    return Ticket.objects.open().order_by("odoo_id").first().odoo_id


def test_a_targeted_read_saves_the_ticket_through_the_sync_and_moves_the_change_stamp(mirrored):
    state = mirrored
    odoo_id = _open_ticket(state)
    cursor = SyncState.load().cursor_write_date
    stamp = change_stamp(now=timezone.now())
    stages = state.call("helpdesk.stage", "search", [[]])
    other_stage = next(s for s in stages if s != Ticket.objects.get(odoo_id=odoo_id).stage.odoo_id
                       and not state.store.get("helpdesk.stage", s).get("fold"))
    state.clock.advance(timedelta(minutes=2))
    state.call("helpdesk.ticket", "write", [[odoo_id], {"name": "Pushed from Odoo", "stage_id": other_stage}],
               uid=state.admin_uid)

    result = push_ticket_read(odoo_id=odoo_id)

    ticket = Ticket.objects.get(odoo_id=odoo_id)
    assert result.outcome == "saved" and result.escalations is not None
    assert (ticket.name, ticket.stage.odoo_id) == ("Pushed from Odoo", other_stage)
    assert TicketStageChange.objects.filter(ticket=ticket, stage__odoo_id=other_stage).exists()
    state_row = SyncState.load()
    assert state_row.cursor_write_date == cursor  # the sync still reads everything that changed
    assert state_row.lease_owner == "" and state_row.pushed_at is not None
    assert change_stamp(now=timezone.now()) != stamp
    assert push_ticket_read(odoo_id=odoo_id).outcome == "unchanged"


def test_a_ticket_new_in_odoo_is_created_and_a_deleted_one_left_to_the_sync(mirrored):
    state = mirrored
    new_id = state.call("helpdesk.ticket", "create", [{"name": "Created in Odoo"}], uid=state.admin_uid)
    assert push_ticket_read(odoo_id=new_id).outcome == "saved"
    assert Ticket.objects.get(odoo_id=new_id).name == "Created in Odoo"
    state.delete_ticket(new_id)
    assert push_ticket_read(odoo_id=new_id).outcome == "missing"
    assert Ticket.objects.get(odoo_id=new_id).deleted_at is None  # the sync's deletion check decides


def test_before_the_first_sync_there_is_nothing_to_read_into(odoo, db):
    assert push_ticket_read(odoo_id=1).outcome == "not_synced"
    assert not Ticket.objects.exists()


def test_a_read_waits_while_a_sync_holds_the_lease_and_a_sync_knows_a_read_holds_it(mirrored):
    owner = _take_lease()
    try:
        with pytest.raises(SyncAlreadyRunning):
            push_ticket_read(odoo_id=_open_ticket(mirrored))
        assert sync_lease_held()
    finally:
        _release_lease(owner)
    from escalations.push import read

    push_owner = read._take_lease()
    try:
        assert not sync_lease_held()
        with pytest.raises(SyncAlreadyRunning):
            sync_odoo()
    finally:
        read._release_lease(push_owner)
    assert not sync_lease_held()


def test_the_read_task_leaves_a_change_to_the_sync_that_holds_the_lease_and_reads_it_after(mirrored):
    from escalations.tasks import push_read_ticket

    state, odoo_id = mirrored, _open_ticket(mirrored)
    state.call("helpdesk.ticket", "write", [[odoo_id], {"name": "Read by the task"}], uid=state.admin_uid)
    owner = _take_lease()
    try:  # each try finds the sync's lease: after its last one, the task gives up quietly
        assert push_read_ticket.apply(args=[odoo_id]).get() is None
    finally:
        _release_lease(owner)
    assert Ticket.objects.get(odoo_id=odoo_id).name != "Read by the task"
    assert push_read_ticket.apply(args=[odoo_id]).get() == "saved"
    assert Ticket.objects.get(odoo_id=odoo_id).name == "Read by the task"


def test_a_sync_that_finds_a_reads_lease_is_put_off_by_two_seconds_not_skipped(mirrored):
    from escalations import tasks
    from escalations.push import read

    queued_reads()
    owner = read._take_lease()
    try:
        assert tasks.sync_incremental() is None
    finally:
        read._release_lease(owner)
    from dashboard.celery import app

    with app.connection_for_read() as connection:
        queue = app.amqp.queues[app.conf.task_default_queue](connection.default_channel)
        message = queue.get(no_ack=False)
        assert message is not None and message.headers["task"] == "escalations.tasks.sync_incremental"
        assert message.headers["eta"] is not None
        message.reject(requeue=False)


@pytest.fixture
def released_after_the_next_failed_claim(monkeypatch):
    """Lets go of a lease right after the next claim of it fails: the moment between a failed claim and
    the look at who holds the lease, which a second worker's read can hit (it did, in CI)."""
    from django.db.models.query import QuerySet

    update, pending = QuerySet.update, []

    def racing_update(self, **kwargs):
        count = update(self, **kwargs)
        if count == 0 and "lease_owner" in kwargs and pending:
            held = SyncState.objects.filter(pk=1, lease_owner=pending.pop())
            update(held, lease_until=None, lease_owner="")
        return count

    monkeypatch.setattr(QuerySet, "update", racing_update)
    return pending.append


def test_a_read_claims_a_lease_let_go_between_its_failed_claim_and_its_look_at_the_holder(
        mirrored, released_after_the_next_failed_claim):
    from escalations.push import read

    state, odoo_id = mirrored, _open_ticket(mirrored)
    state.call("helpdesk.ticket", "write", [[odoo_id], {"name": "After the other read"}], uid=state.admin_uid)
    released_after_the_next_failed_claim(read._take_lease())
    assert push_ticket_read(odoo_id=odoo_id).outcome == "saved"
    assert Ticket.objects.get(odoo_id=odoo_id).name == "After the other read"


def test_a_sync_whose_claim_failed_on_a_read_that_has_let_go_since_is_put_off_not_skipped(
        mirrored, released_after_the_next_failed_claim):
    from escalations import tasks
    from escalations.push import read

    queued_reads()
    released_after_the_next_failed_claim(read._take_lease())
    assert tasks.sync_incremental() is None
    assert "escalations.tasks.sync_incremental" in [name for name, _ in queued_tasks()]


@pytest.mark.django_db(transaction=True)  # the other read releases its lease from a thread of its own
def test_a_read_waits_for_another_reads_save_rather_than_giving_up(mirrored):
    import threading

    from escalations.push import read

    state, odoo_id = mirrored, _open_ticket(mirrored)
    state.call("helpdesk.ticket", "write", [[odoo_id], {"name": "After the other read"}], uid=state.admin_uid)
    other = read._take_lease()
    threading.Timer(0.3, read._release_lease, args=[other]).start()
    assert push_ticket_read(odoo_id=odoo_id).outcome == "saved"


def test_values_read_before_a_sync_saved_a_later_write_are_not_saved(mirrored):
    from escalations.push import read

    state, odoo_id = mirrored, _open_ticket(mirrored)
    state.call("helpdesk.ticket", "write", [[odoo_id], {"name": "First"}], uid=state.admin_uid)
    schema = read.HelpdeskSchema.from_json(SyncState.load().schema)
    page = read.TicketReader(read.OdooClient.connect(), schema, synced_at=timezone.now()).read(odoo_id)
    state.clock.advance(timedelta(seconds=5))
    state.call("helpdesk.ticket", "write", [[odoo_id], {"name": "Second"}], uid=state.admin_uid)
    sync_odoo()
    assert read._save(page, timezone.now()) == "outdated"
    assert Ticket.objects.get(odoo_id=odoo_id).name == "Second"


def test_the_admin_lists_hook_addresses_by_prefix_and_revokes_them(client, hook):
    from django.contrib.auth.models import User

    hook_row, token = hook
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    changelist = reverse("admin:escalations_odoohook_changelist")
    page = client.get(changelist).content.decode()
    assert hook_row.token_prefix in page and token not in page and hook_row.token_hash not in page
    assert client.get(reverse("admin:escalations_odoohook_add")).status_code == 403  # made by the command
    client.post(changelist, {"action": "revoke_hooks", "_selected_action": [hook_row.pk]})
    assert post(client, token, body()).status_code == 404


def queued_read_delays() -> list[float | None]:
    """The delays (seconds from now) of the targeted reads waiting in the broker's queue; None: at once."""
    from dashboard.celery import app

    now = timezone.now()
    with app.connection_for_read() as connection:
        queue = app.amqp.queues[app.conf.task_default_queue](connection.default_channel)
        delays = []
        while (message := queue.get(no_ack=False)) is not None:
            if message.headers.get("task") == PUSH_READ_TICKET:
                eta = message.headers.get("eta")
                delays.append(None if eta is None else
                              (timezone.datetime.fromisoformat(eta) - now).total_seconds())
            message.reject(requeue=False)
        return delays


@pytest.mark.parametrize("version, first", [("17.0+e", 0.5), ("18.0", 0.5), ("19.0+e", None)])
def test_before_odoo_19_the_first_read_waits_for_the_commit_after_the_post(client, hook, version, first):
    # Odoo 17 and 18 post from inside the transaction and commit once answered: a read at once would
    # mostly see the ticket as it was. Odoo 19 posts after its commit.
    from django.core.cache import cache

    cache.delete("odoo-push:server-version")
    state = SyncState.load()
    state.server_version = version
    state.save(update_fields=["server_version"])
    assert post(client, hook[1], body(9)).status_code == 202
    delays = sorted(queued_read_delays(), key=lambda d: -1 if d is None else d)
    assert len(delays) == 2
    if first is None:
        assert delays[0] is None
    else:
        assert first - 0.3 < delays[0] <= first
    assert 2.5 < delays[1] <= 3
