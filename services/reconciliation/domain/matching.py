"""Cash matching: which customer (and which of its open items) a bank credit line pays.

Evidence, strongest first: an invoice number in the remittance text read exactly; a number
with a typo (within `max_typos` edits, among the invoices of the payer's customers or of
exactly the paid amount); the payer's name against the customers' known names; the amount
against open items (one invoice, an instalment of a repayment agreement, or a combination
of the oldest open items that sums exactly). Each candidate customer gets a confidence
from its evidence; the line is matched only when the best is at least the policy's
threshold and no other customer comes close. In doubt a line stays unmatched, with the
candidates as suggestions for the person who decides: a line paid to the wrong customer
is worse than one that waits.

Only open items in the line's own currency are considered: nothing converts currencies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from services.reconciliation.domain.names import blocks, name_key
from services.reconciliation.domain.references import Token, outermost, ref_key, tokens

# Below this many characters a number with a typo is too likely another number.
MIN_TYPO_KEY_LENGTH = 6
# A second customer this close to the best makes the line doubtful.
DOUBT_MARGIN = 0.1
AMOUNT_FITS = ("invoice", "instalment", "combination")
# The most a candidate with conflicting evidence can be: never enough to match.
CONFLICTED = 0.7


@dataclass(frozen=True)
class Policy:
    auto_match_confidence: float = 0.9
    max_typos: int = 1
    min_reference_length: int = 4
    name_match_score: int = 90
    combination_limit: int = 12


@dataclass(frozen=True)
class CreditLine:
    """What matching needs of a bank line that brought money in."""

    line_id: str
    amount: int
    currency: str
    booking_date: date
    payer_name: str | None = None
    reference: str | None = None


@dataclass
class OpenItem:
    doc_id: str
    customer_id: str
    currency: str
    open_amount: int
    due_date: date
    key: str = ""

    def __post_init__(self) -> None:
        self.key = self.key or ref_key(self.doc_id)


@dataclass(frozen=True)
class AgreementPlan:
    agreement_id: str
    customer_id: str
    currency: str
    invoice_ids: tuple[str, ...]
    instalments: tuple[tuple[date, int], ...]  # (due date, amount)


@dataclass
class Candidate:
    customer_id: str
    invoice_ids: list[str] = field(default_factory=list)
    reference: str | None = None  # "exact" or "typo"
    reference_note: str = ""
    amount: str | None = None  # invoice, instalment, combination, several_combinations
    amount_note: str = ""
    name_score: float = 0.0
    name_conflict: str | None = None
    discrepancy: str | None = None
    confidence: float = 0.0
    evidence: float = 0.0  # the confidence before a conflict capped it: what makes it a rival
    against_exact: bool = False  # a typo reading, where another invoice's number is written exactly

    def reason(self) -> str:
        parts = [p for p in (self.reference_note, self.amount_note) if p]
        if self.name_score:
            parts.append("payer name is a known name of the customer" if self.name_score >= 100
                         else f"payer name resembles the customer's ({self.name_score:.0f}%)")
        if self.name_conflict:
            parts.append(self.name_conflict)
        return "; ".join(parts) or "no evidence"


@dataclass
class Match:
    status: str  # matched or unmatched
    customer_id: str | None
    invoice_ids: list[str]
    confidence: float
    reason: str
    discrepancy: str | None = None
    suggestions: list[dict[str, object]] = field(default_factory=list)


class Book:
    """The open items, the customers' known names and the agreements, indexed for matching.
    Matching a line claims what it pays, so a later line in the same run sees it paid: the
    book owns the items it is given (it changes their open amounts)."""

    def __init__(self, items: Iterable[OpenItem], names: Iterable[tuple[str, str]] = (),
                 agreements: Iterable[AgreementPlan] = ()) -> None:
        self.by_key: dict[str, list[OpenItem]] = defaultdict(list)
        self.by_customer: dict[tuple[str, str], list[OpenItem]] = defaultdict(list)
        self.by_amount: dict[tuple[str, int], list[OpenItem]] = defaultdict(list)
        self.by_doc: dict[str, OpenItem] = {}
        for item in items:  # paid ones too: a number in a remittance text still names its payer
            self.by_key[item.key].append(item)
            self.by_doc[item.doc_id] = item
            if item.open_amount > 0:
                self.by_customer[(item.customer_id, item.currency)].append(item)
                self.by_amount[(item.currency, item.open_amount)].append(item)
        for held in self.by_customer.values():
            held.sort(key=lambda i: (i.due_date, i.doc_id))
        self.customers_by_name: dict[str, set[str]] = defaultdict(set)
        self.names_by_block: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for customer_id, name in names:
            key = name_key(name)
            if key:
                self.customers_by_name[key].add(customer_id)
                for block in blocks(key):
                    self.names_by_block[block].add(key)
        self.agreements: dict[tuple[str, str], list[AgreementPlan]] = defaultdict(list)
        for plan in agreements:
            self.agreements[(plan.customer_id, plan.currency)].append(plan)
        self.currencies = {currency for _, currency in self.by_customer}
        self._named: dict[str, tuple[dict[str, float], bool]] = {}
        self.reopened: dict[str, list[str]] = {}  # a reversal's doc id -> the invoices it reopens

    def reopens(self, doc_id: str, invoice_id: str) -> None:
        """The open item `doc_id` (a returned payment's reversal) owes again what the invoice
        was paid: the invoice's number names it too (a payer paying again writes that)."""
        item = self.by_doc.get(doc_id)
        key = ref_key(invoice_id)
        if item is not None and key and item not in self.by_key[key]:
            self.by_key[key].append(item)
            self.reopened.setdefault(doc_id, []).append(invoice_id)

    def open_items(self, customer_id: str, currency: str) -> list[OpenItem]:
        """Oldest due first; paid items leave the list as they are claimed (do not change it)."""
        return self.by_customer.get((customer_id, currency), [])

    def named(self, invoice_ids: list[str], customer_id: str, currency: str) -> list[OpenItem]:
        """The customer's open items among `invoice_ids`, in their order."""
        found = (self.by_doc.get(i) for i in dict.fromkeys(invoice_ids))
        return [i for i in found if i is not None and i.open_amount > 0
                and i.customer_id == customer_id and i.currency == currency]

    def open_of_amount(self, customer_id: str, currency: str, amount: int) -> list[OpenItem]:
        return [i for i in self.by_amount.get((currency, amount), ()) if i.customer_id == customer_id]

    def customers_named(self, payer_name: str | None, min_score: int) -> tuple[dict[str, float], bool]:
        """Customers the payer's name points at, with a score (100: a known name exactly,
        less: a name that resembles one), and whether the name is known exactly. Resembling
        names count even when one is known exactly: a typo can turn one customer's name
        into another's."""
        if not payer_name:
            return {}, False
        if payer_name in self._named:
            return self._named[payer_name]
        key = name_key(payer_name)
        scores: dict[str, float] = {}
        if key:
            for other, score, _ in process.extract(key, self._similar(key), scorer=fuzz.token_sort_ratio,
                                                   score_cutoff=min_score, limit=None):
                for customer_id in self.customers_by_name[other]:
                    scores[customer_id] = max(scores.get(customer_id, 0.0), min(score, 99.0))
        exact = key in self.customers_by_name
        for customer_id in self.customers_by_name.get(key, ()):
            scores[customer_id] = 100.0
        self._named[payer_name] = (scores, exact)
        return scores, exact

    def _similar(self, key: str) -> list[str]:
        """Known names that share a block with the name: few enough to score each."""
        return list({k for b in blocks(key) for k in self.names_by_block.get(b, ())})

    def claim(self, invoice_ids: list[str], amount: int, currency: str, customer_id: str) -> None:
        """Take what a matched line pays off the open items it names (in order), or else
        off the customer's oldest, as the ledger will allocate it."""
        order = self.named(invoice_ids, customer_id, currency) or list(self.open_items(customer_id, currency))
        for item in order:
            if amount <= 0:
                break
            share = min(amount, item.open_amount)
            self._set_open(item, item.open_amount - share)
            amount -= share

    def _set_open(self, item: OpenItem, open_amount: int) -> None:
        same = self.by_amount.get((item.currency, item.open_amount))
        if same is not None and item in same:
            same.remove(item)
        item.open_amount = open_amount
        if open_amount > 0:
            self.by_amount[(item.currency, open_amount)].append(item)
        else:
            self.by_customer[(item.customer_id, item.currency)].remove(item)


def match(line: CreditLine, book: Book, policy: Policy = Policy()) -> Match:
    names, exact_name = book.customers_named(line.payer_name, policy.name_match_score)
    candidates: dict[str, Candidate] = {}

    def candidate(customer_id: str) -> Candidate:
        return candidates.setdefault(customer_id, Candidate(customer_id))

    notes = _by_reference(line, book, policy, names, candidate)  # notes: other currencies
    for customer_id, score in names.items():
        candidate(customer_id).name_score = score
    referenced = any(c.reference for c in candidates.values())
    for c in candidates.values():
        _judge_amount(c, line, book, policy)
        if c.name_conflict:
            pass
        elif notes:
            c.name_conflict = "but the remittance text names an invoice in another currency"
        elif exact_name and c.name_score < 100:
            c.name_conflict = "but the payer name is a known name of another customer"
        elif referenced and not c.reference:
            c.name_conflict = "but the remittance text names another customer's invoice"
        c.evidence = _confidence(c)
        c.confidence = min(c.evidence, CONFLICTED) if c.name_conflict else c.evidence
    if not candidates:
        return Match("unmatched", None, [], 0.0, "; ".join(notes) or _nothing_found(line, book),
                     suggestions=_amount_only(line, book))
    ranked = sorted(candidates.values(), key=lambda c: (-c.confidence, c.customer_id))
    best = ranked[0]
    rivals = [c for c in ranked[1:] if _rivals(c, best)]
    suggestions = [{"customer_id": c.customer_id, "invoice_ids": c.invoice_ids,
                    "confidence": c.confidence, "reason": c.reason()} for c in ranked[:3]]
    if rivals:
        others = ", ".join(c.customer_id for c in rivals)
        return Match("unmatched", None, [], best.confidence,
                     f"in doubt between {best.customer_id} and {others}", suggestions=suggestions)
    if best.confidence < policy.auto_match_confidence:
        return Match("unmatched", None, [], best.confidence,
                     "; ".join([f"not sure enough ({best.confidence:.2f}): {best.reason()}", *notes]),
                     suggestions=suggestions)
    book.claim(best.invoice_ids, line.amount, line.currency, best.customer_id)
    return Match("matched", best.customer_id, best.invoice_ids, best.confidence, best.reason(),
                 best.discrepancy)


def assess(line: CreditLine, book: Book, customer_id: str, invoice_ids: list[str]) -> Candidate:
    """What a person's assignment of a line means: the discrepancy against what was due.
    The invoices the person named stay the ones paid."""
    c = Candidate(customer_id, list(invoice_ids))
    _judge_amount(c, line, book, Policy())
    c.invoice_ids = list(invoice_ids) or c.invoice_ids
    return c


def _by_reference(line: CreditLine, book: Book, policy: Policy, names: dict[str, float],
                  candidate: Callable[[str], Candidate]) -> list[str]:
    """Candidates from document numbers in the text: exact ones; and ones with a typo when
    no exact number is borne out by the amount or the payer's name (a mistyped digit of a
    sequential number is often another customer's number). Answers notes on numbers found
    that this line cannot pay."""
    notes: list[str] = []
    found = tokens(line.reference, policy.min_reference_length)
    exact = outermost([t for t in found if t.key in book.by_key])
    hits: dict[str, list[OpenItem]] = defaultdict(list)
    for token in exact:
        for item in book.by_key[token.key]:
            if item.currency != line.currency:
                notes.append(f"{item.doc_id} is in {item.currency}, the line in {line.currency}: "
                             "nothing converts currencies")
            else:
                hits[item.customer_id].append(item)
    for customer_id, items in hits.items():
        c = candidate(customer_id)
        c.invoice_ids = [i.doc_id for i in items if i.open_amount > 0]
        paid = [i.doc_id for i in items if i.open_amount <= 0]
        c.reference = "exact" if c.invoice_ids else "paid"
        written = [f"{i} (reopening {', '.join(book.reopened[i])})" if i in book.reopened else i
                   for i in c.invoice_ids]
        c.reference_note = ", ".join(
            ([f"{', '.join(written)} in the remittance text"] if c.invoice_ids else [])
            + ([f"{', '.join(paid)} in the remittance text, already paid"] if paid else []))
    borne_out = any(customer_id in names or sum(i.open_amount for i in items) == line.amount
                    for customer_id, items in hits.items() if any(i.open_amount > 0 for i in items))
    if borne_out or notes or policy.max_typos == 0:
        return notes
    typed = [t for t in found if len(t.key) >= MIN_TYPO_KEY_LENGTH]
    for customer_id, (distance, items, written) in _typos(line, book, policy, names, typed).items():
        if customer_id in hits:
            continue
        c = candidate(customer_id)
        c.invoice_ids = [i.doc_id for i in items]
        c.reference = "typo"
        c.against_exact = bool(hits)
        c.reference_note = (f"{written} in the remittance text read as "
                            f"{', '.join(c.invoice_ids)} ({distance} typo{'s' if distance > 1 else ''})")
    return notes


def _typos(line: CreditLine, book: Book, policy: Policy, names: dict[str, float], typed: list[Token]
           ) -> dict[str, tuple[int, list[OpenItem], str]]:
    """Per customer, the invoices nearest a written number (within `max_typos` edits),
    among those the payer's name or the exact amount points at."""
    if not typed:
        return {}
    pool = {id(i): i for i in book.by_amount.get((line.currency, line.amount), ())}
    for customer_id in names:
        pool.update((id(i), i) for i in book.open_items(customer_id, line.currency))
    choices: dict[str, list[OpenItem]] = defaultdict(list)
    for item in pool.values():
        if len(item.key) >= MIN_TYPO_KEY_LENGTH:
            choices[item.key].append(item)
    found: dict[str, tuple[int, list[OpenItem], str]] = {}
    keys = list(choices)
    for token in typed:
        for key, distance, _ in process.extract(token.key, keys, scorer=OSA.distance,
                                                score_cutoff=policy.max_typos, limit=None):
            if distance == 0:  # read exactly: not a typo
                continue
            for item in choices[key]:
                best = found.get(item.customer_id)
                if best is None or distance < best[0]:
                    found[item.customer_id] = (int(distance), [item], token.key)
                elif distance == best[0] and item not in best[1]:
                    best[1].append(item)
    return found


def _judge_amount(c: Candidate, line: CreditLine, book: Book, policy: Policy) -> None:
    """Whether the amount is what was due (an instalment, the named invoices, one open item,
    a combination), and the discrepancy when it differs from what was agreed."""
    held = book.open_items(c.customer_id, line.currency)
    if not held:
        c.name_conflict = f"but the customer has nothing open in {line.currency}"
        c.discrepancy = f"paid {line.amount} {line.currency}; nothing is open in {line.currency}"
        return
    named = book.named(c.invoice_ids, c.customer_id, line.currency)
    plans = book.agreements.get((c.customer_id, line.currency), [])
    if named:  # only the agreements that cover the named invoices
        plans = [p for p in plans if {i.doc_id for i in named} & set(p.invoice_ids)]
    for plan in plans:
        equal = [i for i in plan.instalments if i[1] == line.amount]
        if equal:
            due_on = _nearest(equal, line.booking_date)[0]
            c.amount, c.amount_note = "instalment", (
                f"amount equals the instalment due {due_on} of agreement {plan.agreement_id}")
            open_ids = {i.doc_id for i in held}
            c.invoice_ids = c.invoice_ids or [i for i in plan.invoice_ids if i in open_ids]
            return
    if named:
        expected = sum(i.open_amount for i in named)
        if line.amount == expected:
            c.amount, c.amount_note = "invoice", "amount equals what is open on it"
            return
    else:
        single = sorted(book.open_of_amount(c.customer_id, line.currency, line.amount),
                        key=lambda i: (i.due_date, i.doc_id))
        if single:
            c.invoice_ids = [single[0].doc_id]  # the oldest due of that amount
            c.amount, c.amount_note = "invoice", f"amount equals what is open on {single[0].doc_id}"
            return
        combos = _combinations(held[: policy.combination_limit], line.amount)
        if len(combos) == 1:
            c.invoice_ids = [i.doc_id for i in combos[0]]
            c.amount, c.amount_note = "combination", (
                f"amount equals {' + '.join(i.doc_id for i in combos[0])}")
            return
        if combos:
            c.amount, c.amount_note = "several_combinations", (
                "amount equals more than one combination of open items; the oldest due are "
                "paid first")
            return
    c.discrepancy = _discrepancy(line.amount, named, held, plans, line.booking_date)


def _discrepancy(paid: int, named: list[OpenItem], held: list[OpenItem],
                 plans: list[AgreementPlan], on: date) -> str:
    plan = next((p for p in plans if p.instalments), None)
    if plan is not None:
        due_on, expected = _nearest(list(plan.instalments), on)
        side = "short of" if paid < expected else "more than"
        return (f"{side} the instalment due {due_on} of agreement {plan.agreement_id}: "
                f"paid {paid} of {expected}")
    if named:
        expected = sum(i.open_amount for i in named)
        ids = ", ".join(i.doc_id for i in named)
        if paid < expected:
            return f"short of {ids}: paid {paid} of {expected} open"
        return f"more than {ids}: paid {paid} of {expected} open; the rest stays as unapplied credit"
    return f"paid {paid}; matches no open item or combination ({len(held)} items open)"


def _nearest(instalments: list[tuple[date, int]], on: date) -> tuple[date, int]:
    return min(instalments, key=lambda i: (abs((i[0] - on).days), i[0]))


def _combinations(items: list[OpenItem], amount: int) -> list[list[OpenItem]]:
    """Sets of two or more of `items` whose open amounts sum to `amount`: at most two (one
    is an answer, two are a doubt). Meet in the middle: the sums of each half's subsets,
    then the pairs that add up (2 x 2^(n/2) sums instead of 2^n)."""
    amounts = [i.open_amount for i in items]
    if len(items) < 2 or sum(amounts) < amount:
        return []
    half = len(items) // 2
    left, right = _subset_sums(amounts[:half], amount, 0), _subset_sums(amounts[half:], amount, half)
    found: list[list[OpenItem]] = []
    for total, left_ways in left.items():
        for a in left_ways:
            for b in right.get(amount - total, ()):
                if len(a) + len(b) >= 2:
                    found.append([items[n] for n in (*a, *b)])
                    if len(found) == 2:
                        return found
    return found


def _subset_sums(amounts: list[int], limit: int, offset: int) -> dict[int, list[tuple[int, ...]]]:
    """Sum -> up to two subsets (as indexes) of `amounts` with that sum, at most `limit`."""
    sums: dict[int, list[tuple[int, ...]]] = {0: [()]}
    for n, value in enumerate(amounts, start=offset):
        for total, ways in list(sums.items()):
            new = total + value
            if new <= limit:
                bucket = sums.setdefault(new, [])
                bucket.extend((*way, n) for way in ways[: 2 - len(bucket)])
    return sums


def _rivals(c: Candidate, best: Candidate) -> bool:
    """Whether `c` makes the best doubtful: judged by its evidence (a conflict lowers its
    own chances, not the doubt it casts), unless all it has is a name the best is known by
    as well while the best has a number (a name two customers share says nothing between
    them, and an amount alone only suggests: the number decides)."""
    name_only = not c.reference and not c.amount and c.name_score <= best.name_score
    if name_only and best.reference:
        return False
    return c.evidence >= best.confidence - DOUBT_MARGIN


def _confidence(c: Candidate) -> float:
    """How sure a candidate is, from its evidence (the policy's threshold decides)."""
    amount_fits = c.amount in AMOUNT_FITS
    named = c.name_score >= 100
    resembles = 0 < c.name_score < 100
    if c.reference == "exact":
        score = 0.99 if amount_fits else 0.97 if (named or resembles) else 0.85
    elif c.reference == "paid":  # paid twice, or a number from an old remittance: a person looks
        score = 0.85
    elif c.reference == "typo":
        score = (0.97 if amount_fits and (named or resembles) else 0.92 if amount_fits
                 else 0.9 if named and not c.against_exact else 0.8)
    elif named:
        score = 0.95 if amount_fits else 0.9
    elif resembles:
        score = 0.92 if amount_fits else 0.75
    else:
        score = 0.5
    return score


def _amount_only(line: CreditLine, book: Book) -> list[dict[str, object]]:
    same = book.by_amount.get((line.currency, line.amount), [])[:3]
    return [{"customer_id": i.customer_id, "invoice_ids": [i.doc_id], "confidence": 0.5,
             "reason": f"amount equals what is open on {i.doc_id}; nothing else points there"}
            for i in same]


def _nothing_found(line: CreditLine, book: Book) -> str:
    if line.currency not in book.currencies:
        return f"no open items in {line.currency}"
    return "no invoice number, known payer name or amount points at a customer"
