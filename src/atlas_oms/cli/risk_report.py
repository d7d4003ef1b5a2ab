"""The risk book as text: ``Node.risk_status()`` as tables, circuit breakers side by side, and a
scope's limits as rows (``atlas risk status``, ``atlas risk limits`` and the demo)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from atlas_oms.cli.options import scope_name
from atlas_oms.cli.tables import fmt, render, utc
from atlas_oms.model.numbers import NotANumber, parse_decimal
from atlas_oms.model.risk import BreakerConfig, RiskLimits, explicit

__all__ = ["breaker_table", "limit_items", "status_text"]


def limit_items(limits: RiskLimits) -> list[tuple[str, str]]:
    """The limits a scope sets (defaults left out), as (name, value) rows; the breaker in one row."""
    items = explicit(limits)
    breaker: Any = items.pop("breaker", None)
    rows = [(k, _show(v)) for k, v in items.items()]
    if limits.breaker is not None:
        own = ", ".join(f"{k}={_show(v)}" for k, v in (breaker or {}).items())
        rows.append(("breaker", (own + "; others default") if own else "defaults"))
    return rows or [("(none)", "")]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        try:
            return fmt(parse_decimal(value))
        except NotANumber:
            return value
    return str(value)


def _of(report: dict[str, Any], name: str, limit: Any) -> str:
    return f"{report[name]} of {limit}" if limit is not None else str(report[name])


def _cause(report: dict[str, Any]) -> str:
    """Why the breaker tripped; for a closed one, why it tripped last (the report keeps it)."""
    if not report["cause"]:
        return "-"
    text = f"{report['cause']}: {report['message']}"
    return text if report["state"] == "OPEN" else f"last trip: {text}"


def _pct(value: Decimal | None, limit: Decimal | None) -> str:
    text = fmt(value, 4)
    return f"{text} (limit {fmt(limit)})" if limit is not None else text


_BREAKER_ROWS = [
    "state",
    "cause",
    "tripped at",
    "may reset at",
    "auto-reset at",
    "equity",
    "daily P&L",
    "daily loss %",
    "drawdown %",
    "consecutive losses",
    "consecutive errors",
    "orders last minute",
    "orders last hour",
    "trips",
]


def breaker_table(reports: Sequence[dict[str, Any]], now: int | None = None) -> str:
    """Circuit-breaker status reports side by side: one column per breaker."""
    headers = ["circuit breaker", *(scope_name(r["scope"], r["scope_id"]) for r in reports)]
    columns = []
    for r in reports:
        cfg: BreakerConfig = r["config"]
        state = r["state"]
        due = r["auto_reset_at"]
        if state == "OPEN" and now is not None and due is not None and now >= due:
            state += " (auto-reset due: on the next order or timer tick)"
        columns.append(
            [
                state,
                _cause(r),
                utc(r["tripped_at"]),
                utc(r["may_reset_at"]),
                utc(r["auto_reset_at"]),
                "-" if r["equity"] is None else f"{fmt(r['equity'], 2)} {cfg.currency}",
                fmt(r["daily_pnl"], 2),
                _pct(r["daily_loss_pct"], cfg.max_daily_loss_pct),
                _pct(r["drawdown_pct"], cfg.max_drawdown_pct),
                _of(r, "consecutive_losses", cfg.max_consecutive_losses),
                _of(r, "consecutive_errors", cfg.max_consecutive_errors),
                _of(r, "orders_last_minute", cfg.max_orders_per_minute),
                _of(r, "orders_last_hour", cfg.max_orders_per_hour),
                str(r["trips"]),
            ]
        )
    rows = [[label, *(col[i] for col in columns)] for i, label in enumerate(_BREAKER_ROWS)]
    return render(headers, rows if reports else [], align="l" * len(headers))


def status_text(status: dict[str, Any], now: int) -> str:
    """``Node.risk_status()`` as readable tables; an empty section is one line."""
    parts: list[str] = []

    def section(title: str, none: str, headers: list[str], rows: list[list[Any]]) -> None:
        if not rows:
            parts.append(f"{title}: {none}")
        else:
            parts.extend([f"{title}:", render(headers, rows, align="l" * len(headers))])

    section(
        "Trading states",
        "none set (everything ACTIVE)",
        ["scope", "id", "state", "since", "actor", "reason"],
        [
            [s["scope"], s["scope_id"], s["state"], utc(s["since"]), s["actor"], s["reason"]]
            for s in status["trading_states"]
        ],
    )
    section(
        "Kill switches",
        "none active",
        ["scope", "id", "since", "actor", "reason", "flatten"],
        [
            [k["scope"], k["scope_id"], utc(k["since"]), k["actor"], k["reason"], k["flatten"]]
            for k in status["kill_switches"]
        ],
    )
    if status["circuit_breakers"]:
        parts += ["Circuit breakers:", breaker_table(status["circuit_breakers"], now)]
    else:
        parts.append("Circuit breakers: none configured")
    section(
        "Limits (per scope; where several scopes set one, the tightest wins)",
        "none set",
        ["scope", "id", "limit", "value"],
        [
            [entry["scope"], entry["scope_id"], name, value]
            for entry in status["limits"]
            for name, value in limit_items(entry["limits"])
        ],
    )
    section(
        "Market status overrides",
        "none (every instrument follows its schedule)",
        ["symbol", "status"],
        [[symbol, value] for symbol, value in status["market_status"].items()],
    )
    return "\n".join(parts)
