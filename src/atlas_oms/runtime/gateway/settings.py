"""Futures account settings (leverage, margin mode) that never diverge from the venue.

Atlas margins a derivative position with the account's leverage and margin mode; on an external
venue the venue margins it with its own. So for an instrument of an external venue Atlas's
``SetLeverage`` / ``SetMarginMode`` go through :class:`FuturesSettings` (``Gateway.set_leverage``,
``Gateway.set_margin_mode``), never straight to the node:

1. **Checked before anything is sent**: the account trades that venue, the adapter can change
   settings, the leverage is at most the venue account's ``max_leverage`` (``accounts.yaml``,
   reason ``LEVERAGE_TOO_HIGH``), and the core would take the command (the same checks it runs
   when it processes it: a known derivative, leverage >= 1 and within the tiers, margin mode only
   while flat). A refusal here sends nothing and changes nothing.
2. **The venue first**: ``POST /fapi/v1/leverage`` / ``POST /fapi/v1/marginType`` (Binance's
   ``-4046 No need to change margin type`` is success: it already is).

   * acknowledged: the node processes the command, so Atlas's margin math uses the venue's number;
   * refused: :class:`VenueSettingRefused` with the venue's code and message; Atlas unchanged;
   * unknown (timeout, 5xx, dropped connection): the venue's setting is read back (symbolConfig,
     with backoff); Atlas is aligned with what the venue has; if that is not what was asked,
     :class:`VenueSettingRefused` ``SETTING_NOT_APPLIED``; if it cannot be read,
     :class:`SettingOutcomeUnknown` (Atlas unchanged; the next sync puts Atlas's value back).

3. **At connect and reconnect** (:meth:`FuturesSettings.sync`, the session's ``settings_hook``,
   after the instruments are loaded and before reconciliation): Atlas is the book of record for
   the settings chosen through it. For every derivative of that venue where the Atlas account
   has a leverage set or is margined ISOLATED, the venue's settings are read (symbolConfig) and,
   where they differ (or cannot be read), Atlas's are pushed to the venue. A push the venue
   refuses (or whose outcome stays unknown) makes the account untradable, ``SETTINGS_MISMATCH``
   with the symbol, both values and the venue's words; it becomes tradable again once a later
   sync (reconnect, :meth:`FuturesSettings.sync` via ``Gateway.sync_settings``) or a successful
   ``Gateway.set_leverage`` / ``set_margin_mode`` of that symbol agrees. Symbols where Atlas has
   chosen nothing are left as the venue has them (Atlas margins them at 1x cross: conservative).
   An explicit CROSS is indistinguishable from the default in Atlas's state, so a symbol is
   synced for its margin mode only when it has a leverage set or is ISOLATED.

The position mode (one-way or hedge) is checked by the session itself (``POSITION_MODE_MISMATCH``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import msgspec

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.margin import MarginMode
from atlas_oms.model.reasons import Reason
from atlas_oms.model.venue import Acknowledged, Outcome, Refused, VenueAccountSettings
from atlas_oms.runtime.errors import CommandRefused

if TYPE_CHECKING:
    from atlas_oms.runtime.gateway.session import VenueSession

log = logging.getLogger("atlas.gateway")

# Reasons of the errors raised here (the venue's own refusals keep the adapter's reason).
NO_VENUE_ACCOUNT = "NO_VENUE_ACCOUNT"
SETTINGS_NOT_SUPPORTED = "SETTINGS_NOT_SUPPORTED"
VENUE_DISCONNECTED = "VENUE_DISCONNECTED"
SETTING_NOT_APPLIED = "SETTING_NOT_APPLIED"
SETTING_OUTCOME_UNKNOWN = "SETTING_OUTCOME_UNKNOWN"
#: The session's status reason while a venue refuses Atlas's settings.
SETTINGS_MISMATCH = "SETTINGS_MISMATCH"

LEVERAGE = "leverage"
MARGIN = "margin mode"


class VenueSettingRefused(CommandRefused):
    """A leverage or margin mode change that did not happen; Atlas is unchanged (or, after an
    unknown outcome, aligned with the venue). ``code`` is the venue's own code when it refused
    ("" when Atlas refused before sending)."""

    def __init__(
        self, reason: str, message: str, *, code: str = "", venue: str = "", account_id: str = ""
    ) -> None:
        super().__init__(reason, message)
        self.code = code
        self.venue = venue
        self.account_id = account_id


class SettingOutcomeUnknown(VenueSettingRefused):
    """The venue did not answer and its setting could not be read back: the change may or may
    not have happened there. Atlas is unchanged; the next sync pushes Atlas's value."""


@runtime_checkable
class SettingsAdapter(Protocol):
    """What an adapter offers to change and read a derivative account's settings."""

    async def set_leverage(self, symbol: str, leverage: Decimal) -> Outcome: ...

    async def set_margin_mode(self, symbol: str, mode: str) -> Outcome: ...

    async def symbol_settings(self, symbol: str) -> VenueAccountSettings: ...

    async def account_settings(self) -> VenueAccountSettings: ...


class SettingsNode(Protocol):
    """The node reads the settings need (runtime/queries.py)."""

    def process(self, message: Any) -> list[Any]: ...

    def derivative_settings(
        self, account_id: str
    ) -> dict[str, tuple[Decimal | None, MarginMode]]: ...

    def settings_refusal(
        self, command: c.SetLeverage | c.SetMarginMode
    ) -> tuple[str, str] | None: ...


@dataclass(frozen=True)
class SyncResult:
    """One sync of a venue account: what was pushed and what the venue refused."""

    pushed: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


def _mode(value: str | MarginMode | None) -> MarginMode | None:
    if value is None:
        return None
    text = str(value).upper()
    return MarginMode.CROSS if text.startswith("CROSS") else MarginMode(text)


def _words(outcome: Refused | Any) -> str:
    code = getattr(outcome, "code", "")
    message = getattr(outcome, "message", "") or getattr(outcome, "reason", "")
    return f"{message} (venue code {code})" if code else message


class FuturesSettings:
    """Leverage and margin mode of the gateway's venue accounts (see the module docstring).

    ``max_leverage``: the highest leverage Atlas may set, per Atlas account id (accounts.yaml's
    ``max_leverage`` of its futures venue account). ``read_tries``/``read_backoff_s``: how the
    venue's setting is read back after an unknown outcome."""

    def __init__(
        self,
        node: Any,
        *,
        max_leverage: Mapping[str, Decimal] | None = None,
        read_tries: int = 3,
        read_backoff_s: float = 0.2,
    ) -> None:
        self.node = cast(SettingsNode, node)
        self.max_leverage: dict[str, Decimal] = dict(max_leverage or {})
        self.read_tries = read_tries
        self.read_backoff_s = read_backoff_s
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        #: (venue, account) -> {(symbol, setting): why the venue and Atlas differ}
        self.mismatches: dict[tuple[str, str], dict[tuple[str, str], str]] = {}

    # ------------------------------------------------------------------ commands
    async def set_leverage(
        self, session: VenueSession, symbol: str, leverage: Decimal | int | str
    ) -> Decimal:
        """Set the leverage at the venue, then in Atlas; return it. Raises
        :class:`VenueSettingRefused` (or :class:`SettingOutcomeUnknown`)."""
        try:
            lev = Decimal(str(leverage))
        except InvalidOperation:
            raise self._refused(
                session, Reason.INVALID_LEVERAGE, f"leverage must be a number, got {leverage!r}"
            ) from None
        cap = self.max_leverage.get(session.account_id)
        if cap is not None and lev > cap:
            raise self._refused(
                session,
                Reason.LEVERAGE_TOO_HIGH,
                f"leverage {lev}x is above the maximum {cap}x of venue account "
                f"{session.venue}/{session.account_id} (max_leverage in accounts.yaml)",
            )
        command = c.SetLeverage(
            ts=session.now(), account_id=session.account_id, symbol=symbol, leverage=lev
        )
        self._atlas_would_take(session, command)
        adapter = self._adapter(session)
        async with self._lock(session):
            self._require_connected(session)
            outcome = await adapter.set_leverage(symbol, lev)
            if isinstance(outcome, Acknowledged):
                self._book(session, command)
                self._agreed(session, symbol, LEVERAGE)
                return lev
            if isinstance(outcome, Refused):
                raise self._refused(session, outcome.reason, outcome.message, code=outcome.code)
            log.warning(
                "venue %s/%s: leverage %s %sx unknown (%s): reading it back",
                session.venue,
                session.account_id,
                symbol,
                lev,
                _words(outcome),
            )
            venue = await self._read_back(session, symbol)
            have = None if venue is None else venue.leverage.get(symbol)
            if have is None:
                raise SettingOutcomeUnknown(
                    SETTING_OUTCOME_UNKNOWN,
                    f"{session.venue} did not answer the leverage change of {symbol} to {lev}x "
                    f"({_words(outcome)}) and its setting could not be read: Atlas keeps its "
                    "own; the next sync sets it on the venue",
                    code=outcome.code,
                    venue=session.venue,
                    account_id=session.account_id,
                )
            self._align(
                session,
                c.SetLeverage(
                    ts=session.now(), account_id=session.account_id, symbol=symbol, leverage=have
                ),
            )
            if have != lev:
                raise self._refused(
                    session,
                    SETTING_NOT_APPLIED,
                    f"{session.venue} did not answer the leverage change of {symbol} to {lev}x "
                    f"({_words(outcome)}); it has {have}x, which Atlas now uses too",
                    code=outcome.code,
                )
            self._agreed(session, symbol, LEVERAGE)
            return lev

    async def set_margin_mode(
        self, session: VenueSession, symbol: str, mode: MarginMode | str
    ) -> MarginMode:
        """Set the margin mode at the venue, then in Atlas; return it. Raises
        :class:`VenueSettingRefused` (or :class:`SettingOutcomeUnknown`)."""
        try:
            wanted = MarginMode(str(mode).upper())
        except ValueError:
            raise self._refused(
                session,
                Reason.INVALID_FIELD,
                f"margin mode must be CROSS or ISOLATED, got {mode!r}",
            ) from None
        command = c.SetMarginMode(
            ts=session.now(), account_id=session.account_id, symbol=symbol, mode=wanted
        )
        self._atlas_would_take(session, command)
        adapter = self._adapter(session)
        async with self._lock(session):
            self._require_connected(session)
            outcome = await adapter.set_margin_mode(symbol, wanted.value)
            if isinstance(outcome, Acknowledged):
                self._book(session, command)
                self._agreed(session, symbol, MARGIN)
                return wanted
            if isinstance(outcome, Refused):
                raise self._refused(session, outcome.reason, outcome.message, code=outcome.code)
            venue = await self._read_back(session, symbol)
            have = None if venue is None else _mode(venue.margin_mode.get(symbol))
            if have is None:
                raise SettingOutcomeUnknown(
                    SETTING_OUTCOME_UNKNOWN,
                    f"{session.venue} did not answer the margin mode change of {symbol} to "
                    f"{wanted} ({_words(outcome)}) and its setting could not be read: Atlas "
                    "keeps its own; the next sync sets it on the venue",
                    code=outcome.code,
                    venue=session.venue,
                    account_id=session.account_id,
                )
            self._align(
                session,
                c.SetMarginMode(
                    ts=session.now(), account_id=session.account_id, symbol=symbol, mode=have
                ),
            )
            if have is not wanted:
                raise self._refused(
                    session,
                    SETTING_NOT_APPLIED,
                    f"{session.venue} did not answer the margin mode change of {symbol} to "
                    f"{wanted} ({_words(outcome)}); it has {have}, which Atlas now uses too",
                    code=outcome.code,
                )
            self._agreed(session, symbol, MARGIN)
            return wanted

    # ------------------------------------------------------------------ sync at connect
    async def sync(self, session: VenueSession) -> SyncResult:
        """Push Atlas's settings (leverage, margin mode) to the venue where they differ; a
        refused push makes the account untradable (``SETTINGS_MISMATCH``)."""
        adapter = session.adapter
        if not isinstance(adapter, SettingsAdapter):
            return SyncResult()
        wanted = {
            symbol: setting
            for symbol, setting in self.node.derivative_settings(session.account_id).items()
            if (inst := session.node.instrument(symbol)) is not None and inst.venue == session.venue
        }
        pushed: list[str] = []
        problems: dict[tuple[str, str], str] = {}
        async with self._lock(session):
            if wanted:
                venue = await adapter.account_settings()
                for symbol, (lev, mode) in sorted(wanted.items()):
                    checks: list[tuple[str, Any, Any]] = []
                    if lev is not None and venue.leverage.get(symbol) != lev:
                        checks.append((LEVERAGE, lev, venue.leverage.get(symbol)))
                    have = _mode(venue.margin_mode.get(symbol))
                    if have is not mode:
                        checks.append((MARGIN, mode, have))
                    for setting, value, venue_has in checks:
                        why = await self._push(session, symbol, setting, value, venue_has)
                        if why:
                            problems[(symbol, setting)] = why
                        else:
                            pushed.append(f"{symbol} {setting} {value}")
            self.mismatches[(session.venue, session.account_id)] = problems
            self._show(session)
        for line in pushed:
            log.info("venue %s/%s: set %s (Atlas's)", session.venue, session.account_id, line)
        return SyncResult(tuple(pushed), tuple(problems.values()))

    async def _push(
        self, session: VenueSession, symbol: str, setting: str, value: Any, venue_has: Any
    ) -> str:
        """Set Atlas's value on the venue; return "" when it took, else why not."""
        adapter = cast(SettingsAdapter, session.adapter)
        if setting == LEVERAGE:
            outcome = await adapter.set_leverage(symbol, value)
        else:
            outcome = await adapter.set_margin_mode(symbol, str(value))
        if isinstance(outcome, Acknowledged):
            return ""
        shown = (
            "unknown"
            if venue_has is None
            else (f"{venue_has}x" if setting == LEVERAGE else str(venue_has))
        )
        wanted = f"{value}x" if setting == LEVERAGE else str(value)
        if not isinstance(outcome, Refused):
            venue = await self._read_back(session, symbol)
            if venue is not None:
                got = (
                    venue.leverage.get(symbol)
                    if setting == LEVERAGE
                    else _mode(venue.margin_mode.get(symbol))
                )
                if got == value:
                    return ""
            return (
                f"{symbol} {setting}: Atlas has {wanted}, the venue {shown}; setting it got no "
                f"answer ({_words(outcome)})"
            )
        return (
            f"{symbol} {setting}: Atlas has {wanted}, the venue {shown} and refused {wanted}: "
            f"{_words(outcome)}"
        )

    # ------------------------------------------------------------------ helpers
    def _lock(self, session: VenueSession) -> asyncio.Lock:
        key = (session.venue, session.account_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def _refused(
        self, session: VenueSession, reason: str, message: str, *, code: str = ""
    ) -> VenueSettingRefused:
        return VenueSettingRefused(
            str(reason), message, code=code, venue=session.venue, account_id=session.account_id
        )

    def _adapter(self, session: VenueSession) -> SettingsAdapter:
        adapter = session.adapter
        if not isinstance(adapter, SettingsAdapter):
            raise self._refused(
                session,
                SETTINGS_NOT_SUPPORTED,
                f"{session.venue} has no leverage or margin mode to set (not a futures venue)",
            )
        return adapter

    def _require_connected(self, session: VenueSession) -> None:
        if not session.connected:
            raise self._refused(
                session,
                VENUE_DISCONNECTED,
                f"{session.venue}/{session.account_id} is not connected"
                + (f": {session.error}" if session.error else "")
                + "; nothing was changed",
            )

    def _atlas_would_take(
        self, session: VenueSession, command: c.SetLeverage | c.SetMarginMode
    ) -> None:
        refusal = self.node.settings_refusal(command)
        if refusal is not None:
            raise self._refused(session, refusal[0], refusal[1])

    def _book(self, session: VenueSession, command: c.SetLeverage | c.SetMarginMode) -> None:
        """Process the command the venue took. Should the core refuse it now (its state moved
        since the check), Atlas and the venue differ: the account is made untradable. The
        command is stamped now (the venue's answer took a while)."""
        command = msgspec.structs.replace(command, ts=session.now())
        for event in self.node.process(command):
            if isinstance(event, ev.CommandRejected):
                setting = LEVERAGE if isinstance(command, c.SetLeverage) else MARGIN
                why = (
                    f"{command.symbol} {setting}: the venue took the change, Atlas refused it: "
                    f"{event.reason}: {event.message}"
                )
                self._differ(session, command.symbol, setting, why)
                raise self._refused(session, event.reason, why)

    def _align(self, session: VenueSession, command: c.SetLeverage | c.SetMarginMode) -> None:
        """Make Atlas use what the venue has (after an unknown outcome), if it differs."""
        has = self.node.derivative_settings(session.account_id).get(command.symbol)
        if isinstance(command, c.SetLeverage):
            same = has is not None and has[0] == command.leverage
        else:
            same = (has[1] if has is not None else MarginMode.CROSS) is command.mode
        if not same:
            self._book(session, command)

    def _differ(self, session: VenueSession, symbol: str, setting: str, why: str) -> None:
        self.mismatches.setdefault((session.venue, session.account_id), {})[(symbol, setting)] = why
        self._show(session)

    def _agreed(self, session: VenueSession, symbol: str, setting: str) -> None:
        known = self.mismatches.get((session.venue, session.account_id))
        if known and known.pop((symbol, setting), None) is not None:
            self._show(session)

    def _show(self, session: VenueSession) -> None:
        problems = self.mismatches.get((session.venue, session.account_id)) or {}
        text = "; ".join(problems[k] for k in sorted(problems))
        if text != session.settings_mismatch:
            session.settings_mismatch = text
            session.update_status()

    async def _read_back(self, session: VenueSession, symbol: str) -> VenueAccountSettings | None:
        """The venue's settings of ``symbol``, read with backoff; None if they cannot be read."""
        adapter = cast(SettingsAdapter, session.adapter)
        delay = self.read_backoff_s
        for attempt in range(self.read_tries):
            try:
                return await adapter.symbol_settings(symbol)
            except VenueQueryFailed as exc:
                log.warning(
                    "venue %s/%s: reading %s settings failed: %s",
                    session.venue,
                    session.account_id,
                    symbol,
                    exc,
                )
                if attempt < self.read_tries - 1:
                    await asyncio.sleep(max(delay, exc.retry_after_s or 0.0))
                    delay *= 2
        return None
