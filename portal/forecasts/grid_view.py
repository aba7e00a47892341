"""What the two large grids show in each cell, worked out once per batch of rows.

A batch of the customer's draft or the planner's commit grid has 700 or more cells.
Jinja spends more on an attribute lookup, a filter call, a string concatenation or a
translation than the cell's markup itself costs, and did them once per cell (a
condition on the cell's status, the key built from product and month, a number
written by Babel, the label translated). Here each cell becomes one tuple of
finished texts: the templates unpack it in one loop and write it out. The words go
through gettext once per batch (a format with named placeholders), the numbers
through Babel once per distinct value and locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from babel.numbers import format_decimal
from flask import current_app, url_for
from flask_babel import gettext
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from portal.catalog.models import Product
from portal.formatting import day, day_in, localtime, localtimes, number_in, reader_locale

from . import commits
from .drafts import Grid
from .months import month_label


def quantity(value: int | None) -> str:
    """A quantity as the reader writes numbers: 1,234 (en), 1.234 (id)."""
    if value is None:
        return "—"
    return _quantity(value, str(reader_locale()))


def quantity_writer():
    """`quantity` for one batch of cells: the reader's locale read once, each value
    written once."""
    locale, written = str(reader_locale()), {}

    def write(value: int) -> str:
        text = written.get(value)
        if text is None:
            text = written[value] = _quantity(value, locale)
        return text

    return write


# A pure function of its arguments (the CLDR data does not change while the process
# runs): bounded, nothing to invalidate, no host can disagree. Babel takes ~10 µs a
# number; a grid's quantities repeat (a batch of 720 cells has a few hundred values).
@lru_cache(maxsize=8192)
def _quantity(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale)


def month_names(months: list[date]) -> list[str]:
    """The months as a cell's label names them: "Dec 2026", "Des 2026" (the reader's
    locale looked up once, not per month)."""
    locale = reader_locale()
    return [day_in(m, locale, "%b %Y") for m in months]


# --- the customer's draft --------------------------------------------------------------------


# One editable cell of the forecast grid. It owns its <td>: htmx swaps the cell that was
# saved, never the one the person has moved on to. hx-target and hx-swap come from the
# table (inherited); "change" is an input's default trigger; the product id from the
# row's hx-vals. Per-cell names, ids, labels and data attributes are what the keyboard
# navigation (js/forecast-grid.js), the lazy loading of rows and the saving rely on.
# Written here rather than in a Jinja macro: a batch has 700 cells or more, and the
# template's escaping of each of a cell's five values cost more than the cell; here
# the texts that can hold markup (the SKU, the month's name, the URL, a typed value)
# are escaped once each, the key and month are digits and dashes.
def _cell(css, key, value, label, invalid, url, month, after) -> str:
    return (
        f'<td class="{css}"><input id="q-{key}" name="quantity" value="{value}"'
        f' inputmode="numeric" autocomplete="off" data-cell aria-label="{label}"{invalid}'
        f' hx-post="{url}" hx-vals=\'{{"month": "{month}"}}\'>{after}</td>'
    )


def _written(value) -> str:
    # A quantity from the database is an int (nothing to escape); a refused cell
    # shows what was typed.
    return str(value) if type(value) is int else str(escape(value))


def _row(pid, sku, name, badge, cells, total, fill_url, token, copy_label, copy_title, copy_text):
    # As the template wrote it, its whitespace included (the template's loop writes
    # these strings one after another).
    return f"""
      <tr hx-vals='{{"product_id": "{pid}"}}'>
        <th scope="row" class="fc-product"><span class="sku">{sku}</span><span class="muted small" title="{name}">{name}</span>{badge}</th>
        {cells}
        <td class="num total" id="row-total-{pid}">{total}</td>
        <td>
          <form method="post" action="{fill_url}" hx-post="{fill_url}" hx-target="closest tr" hx-swap="outerHTML">
            <input type="hidden" name="csrf_token" value="{token}">
            <input type="hidden" name="product_id" value="{pid}">
            <button type="submit" class="linklike small nowrap" aria-label="{copy_label}" title="{copy_title}">{copy_text}</button>
          </form>
        </td>
      </tr>
    """  # noqa: E501


def draft_rows(grid: Grid, save_url: str, fill_url: str, token: str) -> list[Markup]:
    """The batch's rows of the draft grid, written out: a row's product, its month
    cells, its total and its "Copy →" form. A batch has 30 rows of 12-24 cells; in the
    template each row's fifteen values were looked up and escaped one by one."""
    labels = [month_label(m) for m in grid.months]
    names = month_names(grid.months)
    url, fill_url, token = escape(save_url), escape(fill_url), escape(token)
    months = list(zip(grid.months, labels, [str(escape(n)) for n in names], strict=True))
    quantity = quantity_writer()
    # Translated once per batch, as Jinja's _() writes them: the translation as
    # Markup, filled in with the values escaped.
    copy_label = Markup(gettext("Copy %(month)s of %(sku)s to every month"))
    first_name = names[0] if names else ""
    first_month = day_in(grid.months[0], reader_locale(), "%b") if grid.months else ""
    copy_title = Markup(gettext("Copy %(month)s to every month")) % {"month": first_month}
    copy_text = Markup(gettext("Copy →"))
    badge = Markup(' <span class="badge badge-late">%s</span>') % Markup(gettext("discontinued"))
    # Each month's cell as `_cell` writes it, the part after the SKU written once per
    # batch: a cell fills in the product's id and SKU and its quantity alone (a call of
    # `_cell` and its eight values per cell was most of the rows' cost).
    tails = [
        (m, label, f', {name}" hx-post="{url}" hx-vals=\'{{"month": "{label}"}}\'></td>')
        for m, label, name in months
    ]
    rows = []
    for row in grid.rows:
        product = row.product
        pid, values = product.id, row.quantities
        sku = escape(product.sku)
        cells = "".join(
            [
                f'<td class="fc-cell"><input id="q-{pid}-{label}" name="quantity"'
                f' value="{_written(values[m])}" inputmode="numeric" autocomplete="off"'
                f' data-cell aria-label="{sku}{tail}'
                for m, label, tail in tails
            ]
        )
        rows.append(
            Markup(
                _row(
                    pid,
                    sku,
                    escape(product.name),
                    badge if product.is_discontinued else "",
                    cells,
                    escape(quantity(row.total())),
                    fill_url,
                    token,
                    copy_label % {"month": first_name, "sku": product.sku},
                    copy_title,
                    copy_text,
                )
            )
        )
    return rows


def draft_head(grid: Grid) -> Markup:
    """The grid's month headers ("Dec" over "2026"), written once per page rather than
    through a filter and two lookups per month in the template."""
    locale = reader_locale()
    return Markup(
        "".join(
            [
                f'<th scope="col" class="num">{escape(day_in(m, locale, "%b"))}<br>'
                f'<span class="muted small">{m.year}</span></th>'
                for m in grid.months
            ]
        )
    )


def month_totals(grid: Grid, *, swap: bool = False) -> Markup:
    """The grid's month totals as the footer's cells, or (`swap`) as the out-of-band
    cells that replace them after a row changes; the grand total is apart."""
    locale = reader_locale()
    if swap:
        cell = (
            '<template><td class="num total" id="month-total-{}" hx-swap-oob="true">{}</td>'
            "</template>"
        )
    else:
        cell = '<td class="num total" id="month-total-{}">{}</td>'
    totals = grid.month_totals
    return Markup(
        "".join(
            [cell.format(month_label(m), escape(number_in(totals[m], locale))) for m in grid.months]
        )
    )


def draft_cell(
    product: Product, month: date, value, save_url: str, *, error: str | None = None
) -> Markup:
    """One cell of the draft as `draft_rows` writes it, after a save: marked saved,
    or refused with what was typed and why."""
    label = month_label(month)
    key = f"{product.id}-{label}"
    if error:
        css, invalid = "fc-cell has-error", f' aria-invalid="true" aria-describedby="e-{key}"'
        after = f'<p class="cell-error" id="e-{key}" role="alert">{escape(error)}</p>'
    else:
        css, invalid = "fc-cell is-saved", ""
        # Translations are written as they are (as Jinja's _() does).
        after = (
            f'<span class="saved-mark" title="{gettext("Saved")}">✓'
            f'<span class="sr-only"> {gettext("saved")}</span></span>'
        )
    return Markup(
        _cell(
            css,
            key,
            _written(value),
            f"{escape(product.sku)}, {escape(day(month, '%b %Y'))}",
            invalid,
            escape(save_url),
            label,
            after,
        )
    )


# --- the draft page's latest versions ---------------------------------------------------


def recent_version_items(versions) -> list[Markup]:
    """The draft page's list of the newest published versions, each an <li> written
    out: (id, number, published_at, comment, publisher) rows from
    `drafts.grid`'s `published`. The template translated, looked up the zone and
    locale, and truncated per version."""
    when = localtimes()
    label = Markup(gettext("Version %(number)s"))
    env = current_app.jinja_env
    items = []
    for v in versions:
        comment = ""
        if v.comment:
            comment = f' · <span class="muted">{escape(do_truncate(env, v.comment, 60))}</span>'
        publisher = v.publisher if v.publisher is not None else "—"
        items.append(
            Markup(
                f'<li><a href="{escape(url_for("forecasts.version", version_id=v.id))}">'
                f"{label % {'number': v.number}}</a> · {escape(when(v.published_at))}"
                f" · {escape(publisher)}{comment}</li>"
            )
        )
    return items


# --- the planner's commit grid ---------------------------------------------------------------


@dataclass(slots=True)
class CommitRow:
    product: Product
    mismatched: bool
    new_badge: bool  # new in the latest version (shown to vendor staff)
    # The planner's grid: (key, td class, forecast, earlier figure or None, value typed
    # or pre-filled, forecast as a plain number, aria-label, error or None) per month.
    # The read-only grid: (td class, committed or None, "of 100" / "for 90" or "",
    # earlier figure or None) per month.
    cells: list[tuple]
    reason: str  # the reason chosen (the select's value), or its name when read-only
    reason_text: str


def commit_rows(
    board: commits.Board,
    *,
    editable: bool,
    vendor_view: bool,
    errors: dict[str, str],
    typed,
) -> list[CommitRow]:
    """The batch's rows of the commit grid: `editable` for the planner's inputs
    (with `typed` values and `errors` of a refused commit), else what was committed."""
    labels = [month_label(m) for m in board.months]
    names = month_names(board.months)
    compared = vendor_view and board.previous is not None
    # Formats translated once per batch; a cell fills in its figures.
    committed_label = gettext("%(sku)s, %(month)s, committed (forecast %(forecast)s)")
    of_forecast = gettext("of %(forecast)s")
    for_forecast = gettext("for %(forecast)s")
    reasons = {code: str(name) for code, name in commits.REASONS.items()}
    quantity = quantity_writer()
    rows = []
    for row in board.rows:
        pid, sku = row.product.id, row.product.sku
        flag_row = compared and row.is_new
        cells = []
        for c, label, name in zip(row.cells, labels, names, strict=True):
            status = c.status
            css = f"cm-cell cm-{status}"
            if vendor_view and (c.exception or flag_row):
                css += " cm-exception"
            was = quantity(c.previous) if vendor_view and c.exception else None
            if editable:
                key = f"{pid}-{label}"
                error = errors.get(key)
                if error:
                    css += " has-error"
                figure = quantity(c.forecast)
                cells.append(
                    (
                        key,
                        css,
                        figure,
                        was,
                        typed.get(f"q-{key}", c.prefill),
                        c.forecast,
                        committed_label % {"sku": sku, "month": name, "forecast": figure},
                        error,
                    )
                )
                continue
            commit = c.commit
            if status == "below":
                of = of_forecast % {"forecast": quantity(c.forecast)}
            elif status == "forecast_changed":
                of = for_forecast % {"forecast": quantity(commit.forecast_quantity)}
            elif commit is None:
                of = of_forecast % {"forecast": quantity(c.forecast)}
            else:
                of = ""
            cells.append((css, quantity(commit.quantity) if commit else None, of, was))
        if editable:
            reason = typed.get(f"reason-{pid}", row.reason or "")
            reason_text = typed.get(f"note-{pid}", row.reason_text)
        else:
            reason = reasons[row.reason] if row.reason else ""
            reason_text = row.reason_text
        rows.append(
            CommitRow(row.product, bool(row.mismatches), flag_row, cells, reason, reason_text)
        )
    return rows


def mismatch_rows(board: commits.Board) -> list[tuple]:
    """The mismatch list under the commit grid (50 rows unless all are asked for):
    (SKU, name, month, forecast, committed, badge class, badge, reason, committed on)."""
    below_format = gettext("%(count)s below")
    was_format = gettext("forecast was %(count)s")
    reason_format = gettext("%(reason)s: %(text)s")
    reasons = {code: str(name) for code, name in commits.REASONS.items()}
    quantity = quantity_writer()
    rows = []
    for m in board.mismatches:
        if m.status == "below":
            badge = ("badge-late", below_format % {"count": quantity(m.forecast - m.quantity)})
        else:
            badge = ("badge-request", was_format % {"count": quantity(m.forecast_quantity)})
        reason = reasons[m.reason] if m.reason else "—"
        if m.reason and m.reason_text:
            reason = reason_format % {"reason": reason, "text": m.reason_text}
        when = localtime(m.committed_at)
        rows.append(
            (
                m.sku,
                m.name,
                day(m.month, "%b %Y"),
                quantity(m.forecast),
                quantity(m.quantity),
                *badge,
                reason,
                f"{when} · {m.committed_by}" if m.committed_by else when,
            )
        )
    return rows
