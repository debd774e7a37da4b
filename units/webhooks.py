"""Partner webhooks: the agency's journal events POSTed to its URL, signed, in order, each once.

How it flows:
1. `webhook_deliveries_enqueue` walks the journal past the subscription's cursor and creates one
   `WebhookDelivery` row per event addressed to the agency (`agency:<code>` in the audience). The
   rows are unique per (subscription, seq), so walking twice creates nothing twice.
2. `webhook_deliver_due` sends the subscription's oldest undelivered event, and only that one: the
   next is not even looked at until it is delivered, so events arrive in journal order. A delivery is
   claimed by a conditional update (pending → sending); a second worker that loses the claim stops.
   No lock is held while the POST is in flight.
3. A 2xx marks it delivered (again conditionally: only the claim's holder can). Anything else puts it
   back to pending with `next_attempt_at` pushed out exponentially (capped) and the error kept for the
   admin. A receiver that is down simply accumulates pending rows; when it returns it gets them all,
   in order. A claim abandoned by a killed worker is released after PSCC_WEBHOOK_STUCK_SECONDS.

Signature: `X-PSCC-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>` with the
Unix timestamp in `X-PSCC-Timestamp`. Receivers should refuse stale timestamps and may de-duplicate
on `X-PSCC-Event-Seq` (a worker killed between the receiver's 2xx and our commit resends once).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from pscc.errors import ServiceError
from pscc.journal import agency_audience
from pscc.models import JournalEvent
from units.models import Agency, PartnerCredential, WebhookDelivery, WebhookDeliveryState, WebhookSubscription
from units.partners import journal_head, partner_event_message

log = logging.getLogger(__name__)
D = WebhookDeliveryState
USER_AGENT = "PSCC-CAD-Webhooks/1"


def webhook_sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def webhook_subscription_create(*, agency: Agency, url: str, include_caller_data: bool = False,
                                credential: PartnerCredential | None = None) -> WebhookSubscription:
    """Subscribe a URL to the agency's events from now on; the secret is generated (shown once)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    url = (url or "").strip()
    try:
        URLValidator(schemes=["https"] if settings.PSCC_WEBHOOK_REQUIRE_HTTPS else ["http", "https"])(url)
    except ValidationError:
        raise ServiceError("Give a valid " + ("https " if settings.PSCC_WEBHOOK_REQUIRE_HTTPS else "")
                           + "URL for the webhook.", field="url") from None
    if len(url) > 500:
        raise ServiceError("The URL is at most 500 characters.", field="url")
    head = journal_head()
    return WebhookSubscription.objects.create(
        agency=agency, url=url, secret=secrets.token_urlsafe(32), include_caller_data=include_caller_data,
        created_by_credential=credential, start_after_seq=head, cursor_seq=head, last_delivered_seq=head,
    )


def webhook_subscription_deactivate(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """Stop sending to a URL; undelivered rows stay (visible in the admin) and are not sent."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(active=False)
    subscription.refresh_from_db()
    return subscription


def webhook_deliveries_enqueue(subscription_id: int, *, batch: int = 1000) -> int:
    """Create delivery rows for the agency's events past the subscription's cursor; returns how many."""
    created = 0
    while True:
        with transaction.atomic():
            sub = (WebhookSubscription.objects.select_for_update().select_related("agency")
                   .filter(pk=subscription_id, active=True).first())
            if sub is None:
                return created
            head = journal_head()
            if head <= sub.cursor_seq:
                return created
            events = list(
                JournalEvent.objects.filter(seq__gt=sub.cursor_seq, seq__lte=head,
                                            audience__contains=[agency_audience(sub.agency.code)])
                .order_by("seq").values_list("seq", "kind")[:batch]
            )
            rows = [WebhookDelivery(subscription=sub, seq=seq, kind=kind[:64]) for seq, kind in events]
            WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
            created += len(rows)
            full = len(events) == batch
            sub.cursor_seq = events[-1][0] if full else head
            sub.save(update_fields=["cursor_seq"])
        if not full:
            return created


def _head_of_line(subscription_id: int) -> WebhookDelivery | None:
    return (WebhookDelivery.objects.filter(subscription_id=subscription_id).exclude(state=D.DELIVERED)
            .order_by("seq").first())


def backoff_seconds(attempts: int) -> float:
    base = float(settings.PSCC_WEBHOOK_RETRY_BASE_SECONDS)
    return min(base * (2 ** max(0, attempts - 1)), float(settings.PSCC_WEBHOOK_RETRY_MAX_SECONDS))


def _post(sub: WebhookSubscription, delivery: WebhookDelivery, body: bytes) -> tuple[bool, int | None, str]:
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-PSCC-Timestamp": timestamp,
        "X-PSCC-Signature": webhook_sign(sub.secret, timestamp, body),
        "X-PSCC-Event-Seq": str(delivery.seq),
        "X-PSCC-Delivery": str(delivery.pk),
    }
    try:
        with httpx.Client(timeout=settings.PSCC_WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = client.post(sub.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return False, None, f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
    if 200 <= response.status_code < 300:
        return True, response.status_code, ""
    return False, response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def webhook_body(sub: WebhookSubscription, seq: int) -> bytes | None:
    event = JournalEvent.objects.filter(seq=seq).first()
    if event is None:
        return None
    message = partner_event_message(event, caller_data=sub.include_caller_data)
    message["agency"] = sub.agency.code
    return json.dumps(message, separators=(",", ":"), sort_keys=True, default=str).encode()


def webhook_deliver_one(subscription_id: int, *, now: datetime | None = None) -> str:
    """Try to send the subscription's oldest undelivered event if it is due.

    Returns "delivered", "failed", "idle" (nothing due) or "busy" (someone else holds the claim).
    """
    now = now or timezone.now()
    sub = WebhookSubscription.objects.select_related("agency").filter(pk=subscription_id, active=True).first()
    if sub is None:
        return "idle"
    head = _head_of_line(subscription_id)
    if head is None or head.state != D.PENDING or head.next_attempt_at > now:
        return "busy" if head is not None and head.state == D.SENDING else "idle"
    # The claim: only one worker moves this row from pending to sending.
    claimed = WebhookDelivery.objects.filter(pk=head.pk, state=D.PENDING, attempts=head.attempts).update(
        state=D.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    if not claimed:
        return "busy"
    head.refresh_from_db()
    body = webhook_body(sub, head.seq)
    if body is None:  # the event is gone (journal retention): nothing to send, move on
        ok, status, error = True, None, "journal event no longer exists; skipped"
    else:
        ok, status, error = _post(sub, head, body)
    finished = timezone.now()
    if ok:
        with transaction.atomic():
            done = WebhookDelivery.objects.filter(pk=head.pk, state=D.SENDING, attempts=head.attempts).update(
                state=D.DELIVERED, delivered_at=finished, last_status_code=status, last_error=error)
            if done:
                WebhookSubscription.objects.filter(pk=sub.pk, last_delivered_seq__lt=head.seq).update(
                    last_delivered_seq=head.seq)
        return "delivered"
    WebhookDelivery.objects.filter(pk=head.pk, state=D.SENDING, attempts=head.attempts).update(
        state=D.PENDING, last_status_code=status, last_error=error,
        next_attempt_at=max(finished, now) + timedelta(seconds=backoff_seconds(head.attempts)))
    log.info("webhook %s #%s failed (attempt %s): %s", sub.pk, head.seq, head.attempts, error)
    return "failed"


def webhook_deliver_due(subscription_id: int, *, now: datetime | None = None, budget: int | None = None,
                        seconds: float | None = None) -> int:
    """Send due events of one subscription in order until one fails, none is due, or the budget ends.

    Returns how many were delivered."""
    budget = budget if budget is not None else settings.PSCC_WEBHOOK_BATCH
    deadline = time.monotonic() + (seconds if seconds is not None else settings.PSCC_WEBHOOK_RUN_SECONDS)
    webhook_deliveries_enqueue(subscription_id)
    delivered = 0
    while delivered < budget and time.monotonic() < deadline:
        outcome = webhook_deliver_one(subscription_id, now=now)
        if outcome != "delivered":
            break
        delivered += 1
    return delivered


def webhook_release_stuck(now: datetime | None = None) -> int:
    """Give back claims whose worker died mid-POST (sending for longer than the stuck limit)."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.PSCC_WEBHOOK_STUCK_SECONDS)
    return WebhookDelivery.objects.filter(state=D.SENDING, claimed_at__lt=limit).update(
        state=D.PENDING, next_attempt_at=timezone.now(), last_error="claim released: the worker stopped mid-delivery")


def webhook_subscriptions_due(now: datetime | None = None) -> list[int]:
    """Active subscriptions whose oldest undelivered event is due (or whose cursor lags the journal)."""
    now = now or timezone.now()
    head = journal_head()
    oldest = (WebhookDelivery.objects.filter(subscription=OuterRef("pk")).exclude(state=D.DELIVERED)
              .order_by("seq"))
    subs = WebhookSubscription.objects.filter(active=True).annotate(
        head_state=Subquery(oldest.values("state")[:1]), head_due=Subquery(oldest.values("next_attempt_at")[:1]))
    due = []
    for pk, cursor, state, due_at in subs.values_list("pk", "cursor_seq", "head_state", "head_due"):
        if (state == D.PENDING and due_at <= now) or (state is None and cursor < head):
            due.append(pk)
    return due


def webhooks_sweep() -> int:
    """The sweeper: release stuck claims, then enqueue a delivery task per subscription with due work."""
    from units.tasks import webhook_deliver

    webhook_release_stuck()
    due = webhook_subscriptions_due()
    for pk in due:
        webhook_deliver.delay(pk)
    return len(due)
