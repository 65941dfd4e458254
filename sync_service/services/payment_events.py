"""Apply what a provider says about payments: the one place state changes.

Every change is one transaction: the event id is recorded (a repeat has no
second effect), the state machine decides (services/transitions.py), and
the payment row, the feed event and any outbox work are written together.
Webhooks that arrive together are applied as one batch (group commit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import structlog

from ..models import PaymentRecord, utc_now
from ..providers.base import CheckoutReader, Observation, ProviderNotice
from ..storage.group_commit import GroupCommitter
from ..storage.repository import Repository
from .attempt_match import Link, attention_note, match, takes_money
from .bill_ledger import BillLedger
from .donations import donation_refunded
from .feed import FeedNotifier
from .order_status import OrderStatuses
from .outbox import WorkSignal
from .pos_orders import PosOrders
from .transitions import Change, decide

log = structlog.get_logger(__name__)

DONATION_TOPIC = "donation.transfer"
DONATION_REVERSAL_TOPIC = "donation.reversal"
# Rejected (unsigned, forged) requests are kept for inspection within two caps, trimmed every
# REJECTED_TRIM_ROWS rows or REJECTED_TRIM_BYTES bytes stored: so the table's rejected rows never take
# more than REJECTED_KEPT_BYTES + REJECTED_TRIM_BYTES + one row (a row is at most ~3 KiB: a 1 KiB body
# head, four headers of 300 characters, the reason).
REJECTED_KEPT = 5000
REJECTED_KEPT_BYTES = 4 * 1024 * 1024
REJECTED_TRIM_ROWS = 100
REJECTED_TRIM_BYTES = 256 * 1024
REJECTED_REASON_CHARS = 300


@dataclass(frozen=True)
class RejectedRequest:
    """What is kept of a forged or unsigned request: never more than its first bytes."""

    head: bytes  # the body's first bytes, as sent
    size: int  # of the whole body
    sha256: str  # of the whole body
    headers: str  # the kept headers, JSON
    reason: str


class ChangeFollower(Protocol):
    def follow(self, change: Change) -> bool:
        """Inside the transaction writing `change`: queue what it causes; True when outbox work was queued."""
        ...


class ProviderNotices(Protocol):
    async def replay_notice(self, payload: str) -> ProviderNotice: ...


@dataclass(frozen=True)
class Accepted:
    # applied, unchanged, duplicate, unmatched (a payment we do not know), ignored, mismatch (about one of
    # ours but not its object, amount, currency or mode: not applied) or unlinked (an intent we have not
    # learnt from our checkout yet: not recorded, looked at again once the checkout is retrieved)
    outcome: str
    change: Change | None = None
    payment_id: str | None = None
    queued_work: bool = False  # outbox rows were written with it


class _BatchView:
    """The payments a batch has read or changed, so later events in it see earlier ones."""

    def __init__(self, repo: Repository, notices: Sequence[ProviderNotice]) -> None:
        self._repo = repo
        ids = list({n.observation.payment_id for n in notices if n.observation.payment_id})
        # Locked until the batch commits: another instance deciding about the same payment waits.
        self.by_id: dict[str, PaymentRecord] = repo.payments_by_id(ids, lock=True)

    def find(self, obs: Observation) -> PaymentRecord | None:
        if obs.payment_id and obs.payment_id in self.by_id:
            return self.by_id[obs.payment_id]
        for record in self.by_id.values():  # links learnt earlier in this batch
            if (obs.session_id and record.provider_session_id == obs.session_id) or (
                obs.payment_intent and record.provider_payment_intent == obs.payment_intent
            ):
                return record
        found = self._repo.find_payment(
            payment_id=obs.payment_id, session_id=obs.session_id, payment_intent=obs.payment_intent, lock=True
        )
        if found:
            self.by_id[found.payment_id] = found
        return found


class PaymentEvents:
    def __init__(
        self,
        repo: Repository,
        notifier: FeedNotifier,
        *,
        provider: CheckoutReader,
        donation_account: str | None,
        donation_partner: str,
        work: WorkSignal | None = None,
        pos: PosOrders | None = None,
        partners: ChangeFollower | None = None,
    ) -> None:
        """`work` is told after a commit that queued outbox rows; `pos` (when a POS is configured) and
        `partners` (partner orders' webhooks) are told of every change inside its transaction."""
        self._repo = repo
        self._notifier = notifier
        self._committer: GroupCommitter[ProviderNotice, Accepted] = GroupCommitter(
            repo, self._accept_batch, after_commit=self._after_batch
        )
        self._reader = provider
        self._provider = provider.name
        self._livemode = provider.livemode
        self._donation_account = donation_account
        self._donation_partner = donation_partner
        self._rejected_rows = self._rejected_bytes = 0  # stored since the last trim
        self._pos = pos
        self._partners = partners
        self._ledger = BillLedger(repo)
        self._statuses = OrderStatuses(repo)
        # Notified only after a commit that queued outbox work, so its worker starts at once
        # (and is not woken, to find nothing, by every other webhook).
        self._work = work or WorkSignal()

    async def accept_notice(self, notice: ProviderNotice) -> str:
        """Apply a verified provider event once; the answer comes after the commit.

        An event about an intent the attempt has not learnt yet is looked at again after our own
        checkout was retrieved (which links its intent): a ProviderError then propagates, so the
        webhook answers 5xx and the provider delivers it again.
        """
        accepted = await self._committer.submit(notice)
        if accepted.outcome != "unlinked" or accepted.payment_id is None:
            return accepted.outcome
        checkout = await self._our_checkout(accepted.payment_id)
        return (await self._committer.submit(replace(notice, links_checked=True, our_checkout=checkout))).outcome

    async def _our_checkout(self, payment_id: str) -> Observation | None:
        """The attempt's own checkout, retrieved: its intent is learnt from it, never from an event."""
        payment = self._repo.payment(payment_id)
        if not (payment and payment.provider_session_id and payment.provider_payment_intent is None):
            return None  # linked meanwhile (by the session's own event), or nothing to ask
        return await self._reader.observe_checkout(payment.provider_session_id)

    def _after_batch(self, notices: Sequence[ProviderNotice], results: list[Accepted]) -> None:
        """After the commit: wake the kiosks concerned and the outbox, and log the batch in one line."""
        kiosks = {a.change.after.kiosk_id for a in results if a.change and a.change.moved}
        for kiosk_id in kiosks:
            self._notifier.notify(kiosk_id)
        if any(a.queued_work for a in results):
            self._work.notify()
        log.info(
            "webhooks",
            count=len(notices),
            events=[
                {
                    "event_id": n.event_id,
                    "type": n.type,
                    "outcome": a.outcome,
                    "payment_id": a.payment_id,
                    **(
                        {"status": f"{a.change.before.status.value}->{a.change.after.status.value}"}
                        if a.change and a.change.moved
                        else {}
                    ),
                }
                for n, a in zip(notices, results, strict=True)
            ],
        )

    def _accept_batch(self, notices: Sequence[ProviderNotice]) -> list[Accepted]:
        """Inside the group transaction: dedupe, decide and write a batch of events."""
        # Claimed first: an event another instance is applying right now waits here, then is a repeat.
        claimed = self._repo.claim_events([n.event_id for n in notices], self._provider)
        seen = {n.event_id for n in notices} - claimed
        view = _BatchView(self._repo, [n for n in notices if n.event_id not in seen])
        unclaimed: list[str] = []
        now = utc_now()
        results: list[tuple[str, Change | None, str | None]] = []
        changes: list[Change] = []
        paid_in_batch: dict[str, set[str]] = {}
        event_rows: list[tuple[str, str, str, str | None, str, str]] = []
        for notice in notices:
            if notice.event_id in seen:
                results.append(("duplicate", None, None))
                continue
            seen.add(notice.event_id)
            payment = view.find(notice.observation)
            outcome, change = self._judge_notice(payment, notice, now)
            if outcome == "unlinked":
                # Not recorded: its second look (after our checkout is retrieved) records it.
                seen.discard(notice.event_id)
                unclaimed.append(notice.event_id)
                results.append((outcome, None, payment.payment_id if payment else None))
                continue
            if change:
                change = self._flag_double_payment(change, paid_in_batch, view.by_id)
                change = self._statuses.flag_late_payment(change)
                view.by_id[change.after.payment_id] = change.after
                changes.append(change)
            results.append((outcome, change, payment.payment_id if payment else None))
            event_rows.append(
                (
                    notice.event_id,
                    self._provider,
                    notice.type,
                    payment.payment_id if payment else None,
                    outcome,
                    # A webhook's body is kept once, in webhook_requests (same event_id); what was
                    # fetched for it (Mollie's payment) is kept here.
                    notice.fetched or ("" if notice.request_headers is not None else notice.payload),
                )
            )
        queued = self._write(changes)
        self._repo.settle_events(
            [(e, type_, pid, outcome, payload) for e, _, type_, pid, outcome, payload in event_rows]
        )
        self._repo.unclaim_events(unclaimed)
        self._repo.store_requests(
            [
                (n.event_id, outcome, n.request_headers, n.payload, None)
                for n, (outcome, _, _) in zip(notices, results, strict=True)
                if n.request_headers is not None and outcome != "unlinked"
            ]
        )
        return [
            Accepted(outcome, change, payment_id, queued_work=bool(change and id(change) in queued))
            for outcome, change, payment_id in results
        ]

    # raw requests that did not apply ---------------------------------------------------
    def store_rejected(self, request: RejectedRequest) -> None:
        """A forged or unsigned request, kept (the newest, within REJECTED_KEPT rows and
        REJECTED_KEPT_BYTES) so it can be looked at."""
        with self._repo.transaction():
            self._rejected_bytes += self._repo.store_rejected_request(
                request.headers, request.head, request.size, request.sha256, request.reason[:REJECTED_REASON_CHARS]
            )
            self._rejected_rows += 1
            if self._rejected_rows >= REJECTED_TRIM_ROWS or self._rejected_bytes >= REJECTED_TRIM_BYTES:
                self._repo.trim_rejected_requests(REJECTED_KEPT, REJECTED_KEPT_BYTES)
                self._rejected_rows = self._rejected_bytes = 0

    def store_malformed(self, body: bytes, headers: str, reason: str) -> None:
        """A request signed by the provider whose event cannot be read: kept whole, like an applied one."""
        with self._repo.transaction():
            self._repo.store_requests([(None, "malformed", headers, body.decode("utf-8", "replace"), reason)])

    def knows_checkout(self, session_id: str) -> bool:
        """Whether we created this provider checkout (a Mollie webhook's id is fetched only then)."""
        return self._repo.find_payment(session_id=session_id) is not None

    def store_unfetched(self, body: bytes, headers: str, reason: str) -> None:
        """A webhook about one of our checkouts that could not be fetched: kept raw, to replay."""
        with self._repo.transaction():
            self._repo.store_requests([(None, "failed", headers, body.decode("utf-8", "replace"), reason)])

    def store_failed(self, notice: ProviderNotice, error: str) -> None:
        """A verified event whose processing failed (rolled back): kept to inspect and replay."""
        with self._repo.transaction():
            self._repo.store_requests(
                [(notice.event_id, "failed", notice.request_headers or "{}", notice.payload, error)]
            )

    async def replay_failed(self, provider: ProviderNotices, request_id: int | None = None) -> dict[int, str]:
        """Process stored failed requests again (their signatures were checked when they came in)."""
        outcomes: dict[int, str] = {}
        for row in self._repo.webhook_requests(verdict="failed", request_id=request_id):
            try:
                outcome = await self.accept_notice(await provider.replay_notice(row["body"]))
            except Exception as exc:  # noqa: BLE001 - stays failed, with the new error
                with self._repo.transaction():
                    self._repo.set_request_verdict(row["id"], "failed", f"replay: {type(exc).__name__}: {exc}")
                outcomes[row["id"]] = "failed"
                continue
            with self._repo.transaction():
                self._repo.set_request_verdict(row["id"], f"replayed: {outcome}")
            outcomes[row["id"]] = outcome
        return outcomes

    def apply_observation(self, payment_id: str, obs: Observation, source: str) -> PaymentRecord:
        """Apply a server-side retrieve (refresh, reconcile, cancel); returns the payment as it now is."""
        with self._repo.transaction():
            payment = self._repo.payment(payment_id, lock=True)
            assert payment is not None, payment_id
            outcome, change = self._judge(payment, obs, f"the checkout as retrieved ({source})", True, utc_now())
            if change:
                change = self._statuses.flag_late_payment(self._flag_double_payment(change, {}, {}))
            queued = self._write([change] if change else [])
            self._repo.record_event(
                f"{source}:{payment_id}:{utc_now()}", self._provider, source, payment_id, outcome, ""
            )
        if change is None:
            return payment
        if queued:
            self._work.notify()
        if change.moved:
            self._notifier.notify(payment.kiosk_id)
            log.info(
                "payment_observed",
                source=source,
                payment_id=payment_id,
                status=f"{payment.status.value}->{change.after.status.value}",
            )
        return change.after

    def _judge_notice(
        self, payment: PaymentRecord | None, notice: ProviderNotice, now: str
    ) -> tuple[str, Change | None]:
        """`_judge` for an event; on its second look, our retrieved checkout is applied first, with it."""
        first: Change | None = None
        if payment is not None and notice.our_checkout is not None:
            _, first = self._judge(payment, notice.our_checkout, "the checkout as retrieved", True, now)
            payment = first.after if first else payment
        outcome, change = self._judge(payment, notice.observation, f"a {notice.type} event", notice.links_checked, now)
        if first is None:
            return outcome, change
        if change is None:
            return ("applied" if first.moved else outcome), first
        return ("applied" if first.moved or change.moved else outcome), Change(
            first.before, change.after, moved=first.moved or change.moved
        )

    def _judge(
        self, payment: PaymentRecord | None, obs: Observation, what: str, links_checked: bool, now: str
    ) -> tuple[str, Change | None]:
        """The outcome of `obs` (`what` names where it came from) and the change it makes.

        Only the attempt's own object, with its amount, currency and mode, moves it. A success that does
        not match is never applied: the money may really have been taken, so the attempt is flagged for
        a person (no state change, so nothing reaches the POS or the donation partner).
        """
        if payment is None:
            return ("unmatched" if obs.status else "ignored"), None
        verdict = match(payment, obs, livemode=self._livemode)
        if verdict.ok:
            change = decide(payment, obs, now)
            return ("applied" if change and change.moved else "unchanged"), change
        if not obs.can_move:
            return "ignored", None
        differences = verdict.differences
        if verdict.link is Link.UNKNOWN:
            if not links_checked and not differences:
                return "unlinked", None
            differences = (
                f"payment intent {obs.payment_intent} is not the one this attempt's checkout reports",
                *differences,
            )
        log.warning("provider_mismatch", payment_id=payment.payment_id, type=what, differences=list(differences))
        if not takes_money(obs):
            return "mismatch", None
        attention = attention_note(what, differences, payment.attention)
        if attention == payment.attention:
            return "mismatch", None
        return "mismatch", Change(payment, replace(payment, attention=attention, updated_at=now), moved=False)

    def _queues_donation(self, change: Change) -> bool:
        return bool(change.became_paid and change.after.donation_amount > 0 and self._donation_account)

    def _flag_double_payment(
        self, change: Change, paid_in_batch: dict[str, set[str]], batch: dict[str, PaymentRecord]
    ) -> Change:
        """An order paid by a second attempt keeps both payments (the money was taken) and flags the later one.

        A share of a split bill is one of several payments by design: the bill judges whether it fits
        (`batch`: the payments as this batch has changed them so far)."""
        if change.after.bill_id is not None:
            return self._ledger.judge(change, batch)
        if not change.became_paid:
            return change
        after = change.after
        if after.order_id not in paid_in_batch:
            paid_in_batch[after.order_id] = self._repo.paid_attempts([after.order_id]).get(after.order_id, set())
        others = paid_in_batch[after.order_id] - {after.payment_id}
        paid_in_batch[after.order_id].add(after.payment_id)
        if not others:
            return change
        log.warning("double_payment", payment_id=after.payment_id, order_id=after.order_id, other=sorted(others))
        note = (
            f"double_payment: order {after.order_id} was already paid by {', '.join(sorted(others))}; "
            "refund one of them"
        )
        return replace(change, after=replace(after, attention=note))

    def _queues_reversal(self, change: Change) -> bool:
        """A refund that newly reaches into a transferred donation."""
        before, after = change.before, change.after
        if not (self._donation_account and after.donation_amount and after.amount_refunded > before.amount_refunded):
            return False
        return donation_refunded(after.amount_total, after.donation_amount, after.amount_refunded) > donation_refunded(
            before.amount_total, before.donation_amount, before.amount_refunded
        )

    def _write(self, changes: list[Change]) -> set[int]:
        """Write the changes and the work they cause; returns id() of the changes that queued work."""
        queued: set[int] = set()
        if not changes:
            return queued
        self._repo.write_payments([c.after for c in changes])
        moved = [c for c in changes if c.moved]
        self._repo.append_feed_many([c.after for c in moved], *self._ledger.feed_rows(moved))
        for change in changes:
            after = change.after
            if self._queues_donation(change):
                self._repo.enqueue(
                    DONATION_TOPIC,
                    f"donation:{after.payment_id}",
                    after.payment_id,
                    {
                        "payment_id": after.payment_id,
                        "amount": after.donation_amount,
                        "currency": after.currency,
                        "destination": self._donation_account,
                        "partner": self._donation_partner,
                        "order_id": after.order_id,
                    },
                    ordering_key=f"donation:{after.payment_id}",
                )
                queued.add(id(change))
            if self._queues_reversal(change):
                target = donation_refunded(after.amount_total, after.donation_amount, after.amount_refunded)
                self._repo.enqueue(
                    DONATION_REVERSAL_TOPIC,
                    f"donation-reversal:{after.payment_id}:{target}",
                    after.payment_id,
                    {"payment_id": after.payment_id, "reversed_total": target},
                    ordering_key=f"donation:{after.payment_id}",
                )
                queued.add(id(change))
            # A share alone never pays the POS: its bill does, once settled (below).
            if (
                self._pos is not None
                and change.moved
                and self._pos.follow(after, change.became_paid and after.bill_id is None, change.charged_back)
            ):
                queued.add(id(change))
        for bill, payment_ids in self._ledger.settle(moved):
            if self._pos is not None and self._pos.follow_bill(bill.order_id, bill.bill_id, payment_ids):
                queued.update(id(c) for c in moved if c.after.bill_id == bill.bill_id)
        # A refund or chargeback of a paid payment leaves its order where it is.
        for order_id in dict.fromkeys(c.after.order_id for c in moved if not c.before.status.is_paid):
            self._statuses.refresh(order_id)
        # After the order statuses: a partner's webhook tells the order's status as this change left it.
        for change in changes:
            if self._partners is not None and self._partners.follow(change):
                queued.add(id(change))
        return queued
