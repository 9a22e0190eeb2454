"""The customers' accounts in memory, and what each document does to them: the one
implementation of the ledger's posting rules.

The persistence layer loads the state of the customers a request concerns (under their
locks), each command runs here, and what it caused (rows to write, events to send) is
collected in `Effects`. A single POST and a batch of thousands of rows take the same path:
the batch only applies more commands before the effects are written.

Every operation checks everything before it changes anything, so a refused command leaves
the state as it found it (the batch carries on with the next row).
"""

from __future__ import annotations

import bisect
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from services.ledger.domain import allocation as alloc
from services.ledger.domain.aging import overdue_announcements, thresholds_crossed
from services.ledger.domain.commands import (
    ApplyCredit,
    PostCreditNote,
    PostInvoice,
    PostPayment,
    ReversePayment,
    WriteOff,
)
from services.ledger.domain.documents import (
    AllocationRow,
    Credit,
    Customer,
    Effects,
    Event,
    Invoice,
    JournalEntry,
    NoticeRow,
)
from services.ledger.domain.position import CurrencyTotals, position
from services.ledger.domain.terms import TermsError, due_date_for
from shared.clock import latest_business_day
from shared.errors import Conflict, Invalid, NotFound
from shared.events.contracts import reversal_id

# Where the other side of a debit document goes.
INCOME_ACCOUNTS = {"invoice": "revenue", "interest": "interest_income", "fee": "fee_income",
                   "refund": "cash", "reversal": "cash"}
# The account a credit document's money comes from.
DEBIT_ACCOUNTS = {"payment": "cash", "credit_note": "sales_returns",
                  "write_off": "bad_debt_expense"}
# The date each credit document is booked on, as its request names it.
DATE_FIELDS = {"payment": "received_on", "credit_note": "issue_date",
               "write_off": "written_off_on"}
# Credit documents that take an amount off the bill rather than pay it.
CREDITING = ("credit_note", "write_off")
ID_LENGTH = 64
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT = 10**15


class _OpenItems:
    """One customer's open invoices in one currency, kept in payment order; settled ones
    are skipped when met and dropped now and then (many payments in a batch stay cheap)."""

    def __init__(self) -> None:
        self._keys: list[tuple[date, date, str]] = []
        self._items: list[Invoice] = []
        self._settled = 0

    def add(self, invoice: Invoice) -> None:
        index = bisect.bisect(self._keys, invoice.order_key)
        self._keys.insert(index, invoice.order_key)
        self._items.insert(index, invoice)

    def settled(self) -> None:
        self._settled += 1
        if self._settled > 64 and self._settled * 2 > len(self._items):
            kept = [(k, i) for k, i in zip(self._keys, self._items, strict=True) if i.open_amount]
            self._keys = [k for k, _ in kept]
            self._items = [i for _, i in kept]
            self._settled = 0

    def __iter__(self) -> Iterator[Invoice]:
        return (i for i in self._items if i.open_amount > 0)


class Books:
    """The loaded accounts. Holds, for every customer in `customers` (locked by the
    caller), all its open invoices and all its credit with an unapplied rest; and any
    other document the commands name by id, of any customer."""

    def __init__(self, customers: Iterable[Customer], invoices: Iterable[Invoice],
                 credits: Iterable[Credit], *, actor: str, recorded_at: datetime,
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex) -> None:
        self.customers = {c.customer_id: c for c in customers}
        self.invoices: dict[str, Invoice] = {}
        self.credits: dict[tuple[str, str], Credit] = {}
        # per customer and currency: open invoices in payment order, credit oldest first
        self._open: dict[str, dict[str, _OpenItems]] = defaultdict(lambda: defaultdict(_OpenItems))
        self._unapplied: dict[str, dict[str, list[Credit]]] = defaultdict(lambda: defaultdict(list))
        self._touched: dict[str, date] = {}  # customer -> latest date of its postings
        # customer -> debts declared missed on posting: (invoice, as of, lowest and highest
        # threshold crossed)
        self._declared: dict[str, list[tuple[Invoice, date, int, int]]] = defaultdict(list)
        self.actor = actor
        self.recorded_at = recorded_at
        # Money is received, credited, written off or paid back on a day that has come: a
        # date ahead would settle invoices now for the sweep and the position while the
        # books as of today still show them owed.
        self._latest = latest_business_day(recorded_at.date())
        self._new_id = new_id
        self.effects = Effects()
        for invoice in invoices:
            self._index_invoice(invoice)
        for credit in credits:
            self._index_credit(credit)

    # --- commands ---------------------------------------------------------------------
    def post_invoice(self, cmd: PostInvoice, *, counterpart: tuple[tuple[str, int], ...] = ()
                     ) -> tuple[Invoice, bool]:
        """Book what the customer owes. Answers (document, created); the same again is a
        no-op, other content under the same id a conflict. `counterpart`: the journal's
        other side when it is not the kind's one account."""
        _check_document(cmd.id, cmd.amount, cmd.currency)
        if cmd.kind not in INCOME_ACCOUNTS:
            raise Invalid(f"one of {', '.join(INCOME_ACCOUNTS)}", field="kind")
        if cmd.due_date is not None and cmd.due_date < cmd.issue_date and cmd.kind != "reversal":
            raise Invalid("the due date is before the issue date", field="due_date")
        customer = self._customer(cmd.customer_id)
        content = dict(kind=cmd.kind, customer_id=cmd.customer_id, amount=cmd.amount,
                       currency=cmd.currency, issue_date=cmd.issue_date,
                       shipment_id=cmd.shipment_id, salesperson=cmd.salesperson,
                       reference_id=cmd.reference_id, memo=cmd.memo, order_id=cmd.order_id)
        existing = self.invoices.get(cmd.id)
        if existing is not None:
            # A retry without due_date matches whatever the terms gave the first time.
            if _same(existing, content) and cmd.due_date in (None, existing.due_date):
                return existing, False
            raise Conflict(f"{cmd.kind} {cmd.id} exists with different content", field="id")
        due = cmd.due_date
        if due is None:
            due = cmd.issue_date if cmd.kind != "invoice" else _due_date(customer, cmd.issue_date)

        # Money the customer already has with us pays it, oldest credit first.
        credits = self._unapplied_of(cmd.customer_id, cmd.currency)
        discount, earned_by = self._paid_ahead(cmd, customer, credits)
        plan: list[tuple[Credit, int]] = []
        remaining = cmd.amount - discount
        for credit in credits:
            if remaining == 0:
                break
            share = min(credit.unapplied, remaining)
            plan.append((credit, share))
            remaining -= share
        if cmd.kind == "refund":
            self._check_come(cmd.issue_date, "refunded_on")
        if cmd.kind == "refund" and remaining:
            raise Invalid(f"a refund pays back credit the customer has with us; "
                          f"{cmd.amount - remaining} {cmd.currency} is all there is",
                          field="amount")

        invoice = Invoice(id=cmd.id, **content, due_date=due, open_amount=cmd.amount,
                          recorded_by=self.actor, recorded_at=self.recorded_at)
        self._index_invoice(invoice)
        self.effects.invoices_added[invoice.id] = invoice
        self._journal(cmd.kind, cmd.id, cmd.customer_id, cmd.currency, cmd.issue_date,
                      ("receivable", cmd.amount),
                      *(counterpart or ((INCOME_ACCOUNTS[cmd.kind], -cmd.amount),)))
        self._emit("ledger.invoice.posted", customer_id=cmd.customer_id, invoice_id=cmd.id,
                   amount=cmd.amount, currency=cmd.currency, issue_date=cmd.issue_date,
                   due_date=due, salesperson=cmd.salesperson, shipment_id=cmd.shipment_id,
                   kind=cmd.kind, reference_id=cmd.reference_id, order_id=cmd.order_id,
                   # the position announced at the end includes it: one per customer
                   balance_version=customer.balance_version + 1)
        if discount and earned_by is not None:
            on = max(invoice.issue_date, earned_by.document_date)
            self._book_discount(invoice, discount, on, earned_by=earned_by.id)
            # No payment.received carries it: the discount is announced as applied.
            self._emit("ledger.credit.applied", customer_id=invoice.customer_id,
                       document_kind="discount", document_id=invoice.id, invoice_id=invoice.id,
                       amount=discount, currency=invoice.currency, applied_on=on)
        for credit, share in plan:
            self._apply(credit, invoice, share, max(invoice.issue_date, credit.document_date))
        self._touch(cmd.customer_id, cmd.issue_date)
        return invoice, True

    def _paid_ahead(self, cmd: PostInvoice, customer: Customer, credits: list[Credit]
                    ) -> tuple[int, Credit | None]:
        """The early-payment discount a new invoice earns from payments already with us
        (cash before delivery), as it would if they were booked after it: payments only,
        oldest first, the one that completes the invoice less its discount received in
        time. Answers (discount, that payment)."""
        terms = customer.terms
        if cmd.kind != "invoice" or terms is None or not terms.discount_percent:
            return 0, None
        covered = 0
        for credit in credits:
            if credit.kind != "payment":
                return 0, None
            covered += credit.unapplied
            discount = terms.early_payment_discount(cmd.amount, cmd.issue_date,
                                                    credit.document_date)
            if 0 < discount < cmd.amount and covered >= cmd.amount - discount:
                return discount, credit
        return 0, None

    def post_payment(self, cmd: PostPayment) -> tuple[Credit, bool]:
        return self._post_credit(
            "payment", cmd.id, cmd.customer_id, cmd.amount, cmd.currency, cmd.received_on,
            method=cmd.method,
            requested=list(cmd.allocations) if cmd.allocations is not None else None,
            only_invoices=cmd.invoice_ids)

    def post_credit_note(self, cmd: PostCreditNote) -> tuple[Credit, bool]:
        _check_document(cmd.id, cmd.amount, cmd.currency)
        self._customer(cmd.customer_id)
        requested = None
        if cmd.invoice_id is not None:
            invoice = self.invoices.get(cmd.invoice_id)
            if invoice is None or invoice.customer_id != cmd.customer_id:
                raise Invalid(f"invoice {cmd.invoice_id} is not an invoice of this customer",
                              field="invoice_id")
            if invoice.currency != cmd.currency:
                raise Invalid(f"invoice {cmd.invoice_id} is in {invoice.currency}",
                              field="currency")
            share = min(cmd.amount, invoice.open_amount)
            requested = [alloc.Allocation(cmd.invoice_id, share)] if share else []
        return self._post_credit(
            "credit_note", cmd.id, cmd.customer_id, cmd.amount, cmd.currency, cmd.issue_date,
            invoice_id=cmd.invoice_id, requested=requested)

    def write_off(self, cmd: WriteOff) -> tuple[Credit, bool]:
        """An invoice (or part of it) as bad debt, with the reason: a document of its own,
        never an edit of the invoice."""
        invoice = self.invoices.get(cmd.invoice_id)
        if invoice is None:
            raise NotFound(f"invoice {cmd.invoice_id!r} not found", field="invoice_id")
        if cmd.customer_id is not None and cmd.customer_id != invoice.customer_id:
            raise Invalid(f"invoice {cmd.invoice_id} is not an invoice of customer "
                          f"{cmd.customer_id}", field="invoice_id")
        if cmd.currency is not None and cmd.currency != invoice.currency:
            raise Invalid(f"invoice {cmd.invoice_id} is in {invoice.currency}", field="currency")
        if cmd.written_off_on < invoice.issue_date:
            raise Invalid(f"invoice {cmd.invoice_id} was issued on {invoice.issue_date}: it cannot "
                          "be written off before", field="written_off_on")
        existing = self.credits.get(("write_off", cmd.id))
        amount = cmd.amount if cmd.amount is not None else (
            existing.amount if existing is not None else invoice.open_amount)
        if existing is None and invoice.open_amount == 0:
            raise Invalid(f"invoice {cmd.invoice_id} has nothing open to write off",
                          field="invoice_id")
        if existing is None and amount > invoice.open_amount:  # named as the asker named it
            raise Invalid(f"{amount} is more than the {invoice.open_amount} open on invoice "
                          f"{cmd.invoice_id}", field="amount")
        return self._post_credit(
            "write_off", cmd.id, invoice.customer_id, amount, invoice.currency,
            cmd.written_off_on, invoice_id=cmd.invoice_id, memo=cmd.reason,
            requested=[alloc.Allocation(cmd.invoice_id, amount)])

    def apply_credit(self, cmd: ApplyCredit) -> Credit:
        """A payment's or credit note's unapplied rest, to the invoices the customer names."""
        credit = self.credits.get((cmd.document_kind, cmd.document_id))
        if credit is None or cmd.document_kind not in ("payment", "credit_note"):
            raise NotFound(f"{cmd.document_kind} {cmd.document_id!r} not found",
                           field="document_id")
        if cmd.applied_on < credit.document_date:
            raise Invalid("credit cannot be applied before it was received", field="applied_on")
        self._check_come(cmd.applied_on, "applied_on")
        allocations = alloc.check_explicit(credit.unapplied, list(cmd.allocations), self._views(
            credit.customer_id, credit.currency, {a.invoice_id for a in cmd.allocations}))
        for a in allocations:
            if cmd.applied_on < (issued := self.invoices[a.invoice_id].issue_date):
                raise Invalid(f"invoice {a.invoice_id} was issued on {issued}: credit cannot be "
                              "applied to it before", field="applied_on")
        for a in allocations:
            self._apply(credit, self.invoices[a.invoice_id], a.amount, cmd.applied_on)
        self._touch(credit.customer_id, cmd.applied_on)
        return credit

    def reverse_payment(self, cmd: ReversePayment) -> tuple[Invoice, bool]:
        """A payment that bounced: its amount is owed again. The payment and what it settled
        stay on the books; a reversal item is added, due when the oldest invoice the payment
        had paid was due, so the debt keeps its age (aging, sweep, collection)."""
        payment = self.credits.get(("payment", cmd.payment_id))
        if payment is None:
            raise NotFound(f"payment {cmd.payment_id!r} not found")
        if cmd.reversed_on < payment.document_date:
            raise Invalid("a payment cannot bounce before it was received", field="reversed_on")
        self._check_come(cmd.reversed_on, "reversed_on")
        oldest_due = min((self.invoices[i].due_date for i, _ in payment.allocations or ()),
                         default=cmd.reversed_on)
        # Money that never came was not paid in time: the discounts it earned are owed too,
        # and their expense taken back.
        discount = sum(d.amount for d in self._discounts_earned_by(payment))
        reversal, created = self.post_invoice(PostInvoice(
            id=reversal_id(payment.id), customer_id=payment.customer_id,
            amount=payment.amount + discount,
            currency=payment.currency, issue_date=cmd.reversed_on,
            due_date=min(oldest_due, cmd.reversed_on), kind="reversal",
            reference_id=payment.id, memo=cmd.reason),
            counterpart=(("cash", -payment.amount), ("sales_discounts", -discount)))
        if created:
            self._declare_if_past_due(reversal, cmd.reversed_on)
        return reversal, created

    def _declare_if_past_due(self, invoice: Invoice, as_of: date) -> None:
        """A debt already past due on the day it is booked (a bounced payment keeps the age
        of what it paid) is declared missed at once, as the sweep of that day would declare
        it: the notices that keep the sweep from announcing it again, and its news, which
        `close` sends after the position that counts it overdue."""
        crossed = thresholds_crossed(invoice.due_date, as_of)
        if not crossed or invoice.open_amount == 0:  # not due yet, or credit paid it
            return
        invoice.declared = True
        self.effects.notices.extend(NoticeRow(invoice.id, t, as_of) for t in crossed)
        self._declared[invoice.customer_id].append((invoice, as_of, crossed[0], crossed[-1]))

    def _discounts_earned_by(self, payment: Credit) -> list[Credit]:
        found = []
        for invoice_id in sorted({i for i, _ in payment.allocations or ()}):
            discount = self.credits.get(("discount", invoice_id))
            if discount is not None and (discount.memo == _earned_by(payment.id) or (
                    # booked before discounts named their payment: the payment's day
                    discount.memo is None and discount.document_date == payment.document_date)):
                found.append(discount)
        return found

    def close(self) -> Effects:
        """Announce the position of every customer the postings touched, once each (its
        version grows by one), and answer all the effects."""
        for customer_id, as_of in sorted(self._touched.items()):
            customer = self.customers[customer_id]
            customer.balance_version += 1
            self.effects.versions[customer_id] = customer.balance_version
            self._emit("ledger.balance.changed", customer_id=customer_id,
                       version=customer.balance_version, as_of=as_of,
                       balances=self.position(customer_id))
            for invoice, on, lowest, highest in self._declared.pop(customer_id, ()):
                for event_type, data in overdue_announcements(
                        customer_id=customer_id, invoice_id=invoice.id, currency=invoice.currency,
                        open_amount=invoice.open_amount, due_date=invoice.due_date, as_of=on,
                        lowest=lowest, highest=highest, balance_version=customer.balance_version):
                    self._emit(event_type, **data)
        self._touched.clear()
        return self.effects

    def position(self, customer_id: str) -> list[dict[str, Any]]:
        totals: dict[str, CurrencyTotals] = {}
        for currency, items in self._open.get(customer_id, {}).items():
            for invoice in items:
                totals.setdefault(currency, CurrencyTotals()).add(
                    invoice.open_amount, invoice.due_date if invoice.declared else None)
        unapplied = {currency: sum(c.unapplied for c in credits)
                     for currency, credits in self._unapplied.get(customer_id, {}).items()}
        return position(totals, unapplied)

    # --- the rules shared by the credit documents ------------------------------------------
    def _post_credit(
        self, kind: str, doc_id: str, customer_id: str, amount: int, currency: str, on: date,
        *, method: str | None = None, invoice_id: str | None = None, memo: str | None = None,
        requested: list[alloc.Allocation] | None, only_invoices: tuple[str, ...] | None = None,
    ) -> tuple[Credit, bool]:
        _check_document(doc_id, amount, currency)
        self._check_come(on, DATE_FIELDS[kind])
        customer = self._customer(customer_id)
        content = dict(customer_id=customer_id, amount=amount, currency=currency,
                       document_date=on, method=method, invoice_id=invoice_id, memo=memo)
        existing = self.credits.get((kind, doc_id))
        if existing is not None:
            if _same(existing, content) and (
                requested is None or kind != "payment"  # their allocations were derived, not sent
                or _posted_allocations(existing) == sorted(
                    (a.invoice_id, a.amount) for a in requested)
            ):
                return existing, False
            raise Conflict(f"{kind.replace('_', ' ')} {doc_id} exists with different content",
                           field="id")

        terms = customer.terms

        def view(invoice: Invoice) -> alloc.OpenInvoice:
            # The reward is for paying for goods in time: not for interest, fees or a
            # bounced payment brought back (paid "in time" of their own dates).
            discount = terms.early_payment_discount(
                invoice.amount - invoice.credited, invoice.issue_date, on) \
                if kind == "payment" and invoice.kind == "invoice" and terms is not None else 0
            return alloc.OpenInvoice(invoice.id, invoice.issue_date, invoice.due_date,
                                     invoice.open_amount, discount=discount)

        for n, invoice_id in enumerate(only_invoices or ()):
            named = self.invoices.get(invoice_id)
            if named is None or named.customer_id != customer_id or named.currency != currency:
                raise Invalid(f"{invoice_id} is not an invoice of {customer_id} in {currency}",
                              field=f"invoice_ids.{n}")
        if requested is None:
            eligible = (view(i) for i in self._open[customer_id][currency]
                        if only_invoices is None or i.id in only_invoices)
            allocations = alloc.allocate_in_order(amount, eligible)
        else:
            allocations = alloc.check_explicit(amount, requested, self._views(
                customer_id, currency, {a.invoice_id for a in requested}, view))

        allocated = sum(a.amount for a in allocations)
        credit = Credit(kind=kind, id=doc_id, **content, unapplied=amount - allocated,
                        recorded_by=self.actor, recorded_at=self.recorded_at,
                        allocations=[(a.invoice_id, a.amount) for a in allocations],
                        allocated_on_posting=allocated)
        settled = []
        # Money dated before the invoice it pays (a prepayment booked late) is credit on
        # the account until the invoice's issue date: the allocation takes effect then, so
        # the books as of the days between show the money, and the journal moves it from
        # customer credit to the receivable on that day.
        later: list[tuple[str, int, date]] = []
        for a in allocations:
            invoice = self.invoices[a.invoice_id]
            effective = max(on, invoice.issue_date)
            self._reduce(invoice, a.amount)
            if kind in CREDITING:
                invoice.credited += a.amount
            self.effects.allocations.append(
                AllocationRow(kind, doc_id, a.invoice_id, a.amount, effective))
            if effective > on:
                later.append((a.invoice_id, a.amount, effective))
            if a.discount:
                self._book_discount(invoice, a.discount, effective, earned_by=doc_id)
            if invoice.open_amount == 0:
                self._settle(invoice, effective, announce=False)
                settled.append(invoice)
            self._touch(customer_id, effective)
        self._index_credit(credit)
        self.effects.credits_added[credit.key] = credit
        on_account = amount - allocated + sum(share for _, share, _ in later)
        self._journal(kind, doc_id, customer_id, currency, on, (DEBIT_ACCOUNTS[kind], amount),
                      ("receivable", -(amount - on_account)), ("customer_credit", -on_account))
        for _, share, effective in later:
            self._journal("application", self._new_id(), customer_id, currency, effective,
                          ("customer_credit", share), ("receivable", -share))

        shares = [{"invoice_id": a.invoice_id, "amount": a.amount} for a in allocations]
        if kind == "payment":
            self._emit("ledger.payment.received", customer_id=customer_id, payment_id=doc_id,
                       amount=amount, currency=currency, received_on=on, method=method,
                       allocations=shares, unapplied=credit.unapplied,
                       discounts=[{"invoice_id": a.invoice_id, "amount": a.discount}
                                  for a in allocations if a.discount])
        elif kind == "credit_note":
            self._emit("ledger.credit_note.posted", customer_id=customer_id,
                       credit_note_id=doc_id, amount=amount, currency=currency, issue_date=on,
                       invoice_id=invoice_id, allocations=shares)
        else:
            self._emit("ledger.invoice.written_off", customer_id=customer_id,
                       write_off_id=doc_id, invoice_id=invoice_id or "", amount=amount,
                       currency=currency, written_off_on=on, reason=memo or "")
        for invoice in settled:
            self._emit("ledger.invoice.settled", customer_id=customer_id, invoice_id=invoice.id,
                       currency=currency, settled_on=invoice.settled_on)
        self._touch(customer_id, on)
        return credit, True

    def _book_discount(self, invoice: Invoice, discount: int, on: date, *, earned_by: str
                       ) -> None:
        """The early-payment discount as a document of its own (id = the invoice's), naming
        the payment that earned it (which loses it if it bounces)."""
        self._reduce(invoice, discount)
        credit = Credit(kind="discount", id=invoice.id, customer_id=invoice.customer_id,
                        amount=discount, currency=invoice.currency, document_date=on,
                        memo=_earned_by(earned_by),
                        unapplied=0, invoice_id=invoice.id, recorded_by=self.actor,
                        recorded_at=self.recorded_at, allocations=[(invoice.id, discount)])
        self._index_credit(credit)
        self.effects.credits_added[credit.key] = credit
        self.effects.allocations.append(
            AllocationRow("discount", invoice.id, invoice.id, discount, on))
        self._journal("discount", invoice.id, invoice.customer_id, invoice.currency, on,
                      ("sales_discounts", discount), ("receivable", -discount))

    def _apply(self, credit: Credit, invoice: Invoice, share: int, on: date) -> None:
        """Part of a credit's unapplied rest pays an invoice."""
        credit.unapplied -= share
        if credit.allocations is not None:
            credit.allocations.append((invoice.id, share))
        if credit.key not in self.effects.credits_added:
            self.effects.credits_changed[credit.key] = credit
        if credit.unapplied == 0:
            self._unapplied[credit.customer_id][credit.currency].remove(credit)
        self._reduce(invoice, share)
        if credit.kind in CREDITING:
            invoice.credited += share
        self.effects.allocations.append(AllocationRow(credit.kind, credit.id, invoice.id, share, on))
        self._journal("application", self._new_id(),  # credit and invoice: in the allocation
                      invoice.customer_id, invoice.currency, on,
                      ("customer_credit", share), ("receivable", -share))
        self._emit("ledger.credit.applied", customer_id=invoice.customer_id,
                   document_kind=credit.kind, document_id=credit.id, invoice_id=invoice.id,
                   amount=share, currency=invoice.currency, applied_on=on)
        if invoice.open_amount == 0:
            self._settle(invoice, on, announce=True)

    # --- bookkeeping helpers -----------------------------------------------------------
    def _check_come(self, on: date, field: str) -> None:
        if on > self._latest:
            raise Invalid(f"{on} has not come yet: money cannot be booked ahead", field=field)

    def _customer(self, customer_id: str) -> Customer:
        customer = self.customers.get(customer_id)
        if customer is None or customer.terms is None:
            raise Invalid(f"customer {customer_id!r} is unknown to the ledger; register it with "
                          "credit first", field="customer_id")
        return customer

    def _views(self, customer_id: str, currency: str, ids: set[str],
               view: Callable[[Invoice], alloc.OpenInvoice] | None = None
               ) -> dict[str, alloc.OpenInvoice]:
        """The named invoices that are open invoices of this customer in this currency."""
        found = {}
        for invoice_id in ids:
            invoice = self.invoices.get(invoice_id)
            if invoice is not None and invoice.customer_id == customer_id \
                    and invoice.currency == currency and invoice.open_amount > 0:
                found[invoice_id] = view(invoice) if view else alloc.OpenInvoice(
                    invoice.id, invoice.issue_date, invoice.due_date, invoice.open_amount)
        return found

    def _unapplied_of(self, customer_id: str, currency: str) -> list[Credit]:
        return list(self._unapplied.get(customer_id, {}).get(currency, ()))

    def _index_invoice(self, invoice: Invoice) -> None:
        self.invoices[invoice.id] = invoice
        if invoice.customer_id in self.customers and invoice.open_amount > 0:
            self._open[invoice.customer_id][invoice.currency].add(invoice)

    def _index_credit(self, credit: Credit) -> None:
        self.credits[credit.key] = credit
        if credit.customer_id in self.customers and credit.unapplied > 0:
            queue = self._unapplied[credit.customer_id][credit.currency]
            bisect.insort(queue, credit, key=lambda c: c.order_key)

    def _reduce(self, invoice: Invoice, amount: int) -> None:
        invoice.open_amount -= amount
        if invoice.id not in self.effects.invoices_added:
            self.effects.invoices_changed[invoice.id] = invoice

    def _settle(self, invoice: Invoice, on: date, *, announce: bool) -> None:
        invoice.settled_on = on
        self._open[invoice.customer_id][invoice.currency].settled()
        if announce:
            self._emit("ledger.invoice.settled", customer_id=invoice.customer_id,
                       invoice_id=invoice.id, currency=invoice.currency, settled_on=on)

    def _journal(self, kind: str, doc_id: str, customer_id: str, currency: str, booked_on: date,
                 *lines: tuple[str, int]) -> None:
        self.effects.journal.append(JournalEntry(
            f"{kind}:{doc_id}", kind, doc_id, customer_id, currency, booked_on,
            tuple(line for line in lines if line[1])))

    def _emit(self, event_type: str, **data: Any) -> None:
        self.effects.events.append(Event(event_type, data))

    def _touch(self, customer_id: str, on: date) -> None:
        self._touched[customer_id] = max(on, self._touched.get(customer_id, on))


def _check_document(doc_id: str, amount: int, currency: str) -> None:
    """What HTTP schemas check already; documents asked for by event are checked here."""
    if not 0 < len(doc_id) <= ID_LENGTH:
        raise Invalid(f"an id has 1 to {ID_LENGTH} characters", field="id")
    if not 0 < amount <= MAX_AMOUNT:
        raise Invalid("the amount must be positive (integer minor units)", field="amount")
    if not CURRENCY.match(currency):
        raise Invalid("an ISO 4217 code, e.g. CNY", field="currency")


def _due_date(customer: Customer, issue_date: date) -> date:
    assert customer.terms is not None  # _customer() refused the others
    try:
        return due_date_for(customer.terms, issue_date)
    except (TermsError, OverflowError) as exc:
        raise Invalid(str(exc), field="due_date") from exc


def _earned_by(payment_id: str) -> str:
    return f"paid in time by payment {payment_id}"


def _posted_allocations(credit: Credit) -> list[tuple[str, int]]:
    """The allocations the posting made, sorted: the first ones, up to what it allocated
    (the later ones are its unapplied rest paying other invoices)."""
    made = credit.allocations or []
    if credit.allocated_on_posting is None:
        return sorted(made)
    posted, total = [], 0
    for invoice_id, amount in made:
        if total >= credit.allocated_on_posting:
            break
        posted.append((invoice_id, amount))
        total += amount
    return sorted(posted)


def _same(existing: Any, fields: dict[str, Any]) -> bool:
    return all(getattr(existing, k) == v for k, v in fields.items())
