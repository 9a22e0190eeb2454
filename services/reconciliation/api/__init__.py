"""Reconciliation's HTTP edge, by area: statements and disputes, the customers' links (no
API key), bank statements and their lines."""

from __future__ import annotations

from services.reconciliation.api import bank, links, statements

routers = [statements.router, links.router, bank.router]
