"""Generated books and bank lines with known answers, for the matching tests and the
benchmark: customers with dossier names and legal representatives, sequentially numbered
open invoices, and credit lines written the ways payers write them (clean references,
references with noise or typos, partial payments, combinations, payer names that differ
from the dossier, parents paying for subsidiaries, strangers, other currencies).

Every line knows whose money it is (`truth`, None for money that is no customer's), so a
run can count automatic matches and wrong matches."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.reconciliation.domain.matching import CreditLine, OpenItem

CITIES = ["Shenzhen", "Guangzhou", "Dongguan", "Foshan", "Xiamen", "Ningbo", "Wenzhou", "Suzhou",
          "Wuxi", "Hefei", "Nanning", "Kunming", "Chengdu", "Wuhan", "Changsha", "Jinan",
          "Qingdao", "Dalian", "Harbin", "Xian", "Lanzhou", "Taiyuan", "Shijiazhuang", "Tianjin"]
SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
            "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao", "Zheng", "Liang", "Xie",
            "Song", "Tang", "Han", "Feng", "Deng", "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong"]
TRADES = ["Electric", "Hardware", "Building Materials", "Auto Parts", "Appliances", "Lighting",
          "Tools", "Plumbing", "Machinery", "Paints", "Textiles", "Furniture", "Cables",
          "Ceramics", "Pumps", "Fasteners", "Instruments", "Packaging", "Chemicals", "Tyres"]
GIVEN = ["Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Jun", "Yan", "Tao", "Ming", "Chao",
         "Xiu", "Hui", "Bo", "Ping", "Gang", "Hong", "Dan", "Yu"]
START = date(2026, 1, 1)


@dataclass
class Line:
    line: CreditLine
    truth: str | None  # whose money it is; None: no customer's
    scenario: str
    invoice_ids: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    items: list[OpenItem]
    names: list[tuple[str, str]]  # (customer id, a name it is known by)
    lines: list[Line]
    customer_names: dict[str, str]


def _customers(rng: random.Random, count: int) -> tuple[dict[str, str], dict[str, str]]:
    names: dict[str, str] = {}
    reps: dict[str, str] = {}
    used: set[str] = set()
    n = 0
    while len(names) < count:
        name = f"{rng.choice(CITIES)} {rng.choice(SURNAMES)} {rng.choice(TRADES)} Co., Ltd."
        if name in used:
            n += 1
            if n > count * 20:
                name = f"{name[:-10]} {len(names)} Co., Ltd."
            else:
                continue
        used.add(name)
        customer_id = f"D-{len(names) + 1:06d}"
        names[customer_id] = name
        reps[customer_id] = f"{name.split()[1]} {rng.choice(GIVEN)}"
    return names, reps


def _typo(rng: random.Random, text: str) -> str:
    """One edit a hand makes on the digits: a substitution, a swap, a drop or a double."""
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    i = rng.choice(digits[-6:])
    kind = rng.choice(["substitute", "swap", "drop", "double"])
    if kind == "swap" and i + 1 < len(text) and text[i + 1].isdigit() and text[i + 1] != text[i]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if kind == "drop":
        return text[:i] + text[i + 1:]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + rng.choice([d for d in "0123456789" if d != text[i]]) + text[i + 1:]


def _noisy(rng: random.Random, doc_id: str) -> str:
    number = doc_id.replace("-", rng.choice(["-", " ", "", "/", "."]))
    return rng.choice(["{}", "Payment {}", "INV {} thanks", "pay for {} goods", "{} / order",
                       "Remit {} balance"]).format(number.lower() if rng.random() < 0.3 else number)


def _variant(rng: random.Random, name: str) -> str:
    """The dossier's name as a bank writes it: case, punctuation, legal form, a typo."""
    base = name.replace(" Co., Ltd.", "")
    choice = rng.random()
    if choice < 0.3:
        return f"{base.upper()} CO LTD"
    if choice < 0.55:
        return f"{base} Company Limited"
    if choice < 0.8:
        words = base.split()
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 4:
            j = rng.randrange(1, len(w) - 1)
            words[i] = w[:j] + w[j + 1:]
        return " ".join(words)
    return base


def generate(*, customers: int, invoices: int, lines: int, seed: int = 7) -> Dataset:
    rng = random.Random(seed)
    names, reps = _customers(rng, customers)
    ids = list(names)
    items: list[OpenItem] = []
    by_customer: dict[str, list[OpenItem]] = {c: [] for c in ids}
    for n in range(invoices):
        customer_id = ids[rng.randrange(len(ids))]
        amount = rng.randrange(500, 200_000) * 100 + (rng.randrange(100) if rng.random() < 0.5 else 0)
        item = OpenItem(f"INV-2026-{n + 1:07d}", customer_id, "CNY", amount,
                        START + timedelta(days=rng.randrange(120)))
        items.append(item)
        by_customer[customer_id].append(item)
    aliases = [(c, names[c]) for c in ids] + [(c, reps[c]) for c in ids]
    unpaid = items[:]
    rng.shuffle(unpaid)
    taken: set[str] = set()

    def invoice() -> OpenItem:
        while True:
            item = unpaid.pop()
            if item.doc_id not in taken:
                taken.add(item.doc_id)
                return item

    out: list[Line] = []
    scenarios = [("exact_reference", 30), ("noisy_reference", 12), ("typo_reference", 15),
                 ("partial_known_payer", 8), ("amount_and_name", 10), ("combination", 5),
                 ("stranger", 5), ("parent_pays", 3), ("typo_partial_stranger", 4),
                 ("other_currency", 3), ("legal_representative", 5)]
    weights = [w for _, w in scenarios]
    booked = START + timedelta(days=130)
    for n in range(lines):
        scenario = rng.choices([s for s, _ in scenarios], weights)[0]
        line_id = f"L{n + 1:07d}"
        if scenario == "combination":
            owner = ids[rng.randrange(len(ids))]
            pair = [i for i in by_customer[owner] if i.doc_id not in taken][:2]
            if len(pair) < 2:
                scenario = "exact_reference"
            else:
                taken.update(i.doc_id for i in pair)
                out.append(Line(CreditLine(line_id, sum(i.open_amount for i in pair), "CNY", booked,
                                           names[owner], None), owner, scenario,
                                [i.doc_id for i in pair]))
                continue
        item = invoice()
        owner = item.customer_id
        amount, payer, reference, currency, truth = item.open_amount, names[owner], item.doc_id, "CNY", owner
        if scenario == "noisy_reference":
            reference, payer = _noisy(rng, item.doc_id), _variant(rng, names[owner])
        elif scenario == "typo_reference":
            reference, payer = _typo(rng, item.doc_id), _variant(rng, names[owner])
        elif scenario == "partial_known_payer":
            amount = max(1, amount * rng.choice([25, 50, 75, 90]) // 100)
        elif scenario == "amount_and_name":
            reference, payer = rng.choice([None, "goods payment", "March"]), _variant(rng, names[owner])
        elif scenario == "stranger":
            reference, payer, truth = rng.choice([None, "loan", "deposit"]), "Zhou Private", None
            amount = rng.randrange(1, 10_000_000)
        elif scenario == "parent_pays":
            other = ids[rng.randrange(len(ids))]
            payer = names[other] if other != owner else f"{names[owner]} Holding"
        elif scenario == "typo_partial_stranger":
            reference, payer, amount = _typo(rng, item.doc_id), "Chen Private", amount // 2 or 1
        elif scenario == "other_currency":
            currency = "USD"  # the customer's money, but nothing is owed in USD
        elif scenario == "legal_representative":
            payer, reference = reps[owner], rng.choice([item.doc_id, None])
        out.append(Line(CreditLine(line_id, amount, currency, booked, payer, reference), truth,
                        scenario, [item.doc_id]))
    return Dataset(items, aliases, out, names)
