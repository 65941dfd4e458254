"""Manager mode with a split bill: each share its own line, labelled share, in the history, the order's
detail and the CSV export; a refund of one share."""

from __future__ import annotations

import csv

from pos_app.client import SyncClient
from pos_app.viewmodels import HistoryModel, RefundViewModel

from .test_manager import manager_vm
from .test_split_bill_store import PAGE, bill, bill_event, share_event


def split_and_settled(vm) -> None:
    vm.store.create_order("o1", "7", "EUR")
    vm.store.add_line("o1", "PIZ", "Pizza", 3200, 3)
    vm.store.apply_events(
        [
            *PAGE,
            share_event(4, "paid", "bill.share_paid", "s2", 5490, bill(paid=9600)),
            bill_event(5, "bill.settled", bill("settled", paid=9600)),
        ],
        5,
    )


def test_shares_are_labelled_in_the_history_the_detail_and_the_export(tmp_path, qapp):
    vm = manager_vm(tmp_path, [1_800_000_000.0])
    split_and_settled(vm)
    model = HistoryModel(vm)
    model.reload()
    assert sorted(model.text(row, "state") for row in model.rows) == ["Paid · share", "Paid · share"]
    detail = vm.detail("o1")
    assert [vm.attempt_heading(a.payment) for a in detail.attempts] == [
        "SHARE · ATTEMPT 3 · s1",
        "SHARE · ATTEMPT 4 · s2",
    ]
    assert [e.event for e in detail.attempts[0].events] == ["bill.share_open", "bill.share_paid"]
    assert vm.bill_text(detail.order) == "Split bill, settled: €96.00 of €96.00 paid"
    path, count = vm.export_history(model.filter)
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert count == 2 and [r["share"] for r in rows] == ["share", "share"]


def test_a_refund_is_of_one_share(tmp_path, qapp):
    vm = manager_vm(tmp_path, [1_800_000_000.0])
    split_and_settled(vm)
    refund = RefundViewModel(vm, SyncClient("http://127.0.0.1:9", "t"))
    assert refund.begin("s1") and refund.left == 4310  # that share's own total, not the order's
    refund.set_amount(4311)
    assert refund.problem() == "At most €43.10 can be refunded."
