"""The report page: one self-contained HTML file (CSS inline, charts as inline SVG, no URL to fetch).

Everything that comes from the data is escaped here; source text is untrusted (markup, bidirectional
controls, right-to-left scripts), so its cells take their direction from their own content.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from pipeline.report.charts import STATUS_COLOURS, STATUS_LABELS
from pipeline.report.data import LargeDocument, RejectGroup, ReportData, SamplePair
from pipeline.report.template import PAGE
_CODE = re.compile(r"`([^`]+)`")


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _code_spans(text: str) -> str:
    """Escaped text whose `backquoted` commands (the model hints have them) show as code."""
    return _CODE.sub(r"<code>\1</code>", _e(text))


def _table(headers: Sequence[str], rows: Iterable[str], css: str = "", numeric: Sequence[int] = ()) -> str:
    head = "".join(f'<th class="num">{_e(header)}</th>' if index in numeric else f"<th>{_e(header)}</th>"
                   for index, header in enumerate(headers))
    body = "\n".join(rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>'


def _cards(data: ReportData) -> str:
    counts = data.manifest.get("counts", {})
    by_status = counts.get("sentences_by_status", {})
    rejects = sum(group.count for group in data.rejects)
    cards = [
        ("documents", sum(data.documents.values()), ""),
        ("sentences", sum(by_status.values()), ""),
        ("translated", by_status.get("translated", 0), "translated"),
        ("source is English", by_status.get("source_is_english", 0), "source_is_english"),
        ("untranslated", by_status.get("untranslated", 0), "untranslated"),
        ("rejected inputs", rejects, "rejects" if rejects else ""),
    ]
    if counts.get("skipped_documents"):
        cards.append(("already in the output", counts["skipped_documents"], ""))
    return "\n".join(
        f'<div class="card {css}" data-card="{_e(label)}"><span class="value">{value:,}</span>'
        f'<span class="label">{_e(label)}</span></div>' for label, value, css in cards)


def _run_facts(manifest: Mapping[str, Any]) -> str:
    settings = manifest.get("settings", {})
    facts = [
        ("started", str(manifest.get("started_at", ""))[:19].replace("T", " ") + " UTC"),
        ("took", f"{float(manifest.get('seconds', 0)):.1f} s"),
        ("translator", f"{settings.get('translator', '?')} on {settings.get('device', '?')}, "
                       f"{settings.get('num_beams', '?')} beam(s)"),
        ("output", settings.get("output", "")),
    ]
    inputs = manifest.get("inputs", [])
    more = f" and {len(inputs) - 6} more" if len(inputs) > 6 else ""
    facts.append(("inputs", ", ".join(inputs[:6]) + more))
    return "\n".join(f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in facts)


def _status_numbers(languages: Sequence[str], data: ReportData) -> str:
    """The numbers behind the two language charts, for those who want them exactly."""
    rows = []
    for lang in languages:
        counts = data.sentences.get(lang, {})
        cells = "".join(f'<td class="num" data-status="{status}">{counts.get(status, 0):,}</td>'
                        for status in STATUS_COLOURS)
        rows.append(f'<tr data-lang="{_e(lang)}"><th scope="row">{_e(lang)}</th>'
                    f'<td class="num" data-count="documents">{data.documents.get(lang, 0):,}</td>'
                    f'<td class="num" data-count="sentences">{sum(counts.values()):,}</td>{cells}</tr>')
    headers = ["language", "documents", "sentences", *STATUS_LABELS.values()]
    return _table(headers, rows, "numbers", numeric=range(1, len(headers)))


def _languages(data: ReportData, charts: Mapping[str, str]) -> str:
    languages = data.languages()
    if not languages:
        skipped = data.manifest.get("counts", {}).get("skipped_documents", 0)
        why = f": the {skipped:,} it read were already in the output" if skipped else ""
        return f'<p class="quiet">This run wrote no document{_e(why)}.</p>'
    return (f'{charts.get("volume", "")}\n<h3>Sentence status</h3>\n{charts.get("status", "")}\n'
            f'<details><summary>The numbers</summary>\n{_status_numbers(languages, data)}\n</details>')


def _rejects(groups: Sequence[RejectGroup]) -> str:
    if not groups:
        return '<p class="quiet">No input was rejected.</p>'
    rows = []
    for group in groups:
        examples = "".join(f"<li><span class=\"path\">{_e(source)}</span> — {_e(detail)}</li>"
                           for source, detail in group.examples)
        more = group.count - len(group.examples)
        if not group.examples:
            examples = '<li class="quiet">none of them in rejects/ any more (a later run replaced them)</li>'
        elif more > 0:
            examples += f'<li class="quiet">and {more:,} more</li>'
        rows.append(f'<tr class="reject" data-reason="{_e(group.reason)}" data-count="{group.count}">'
                    f'<th scope="row">{_e(group.reason)}</th><td class="num">{group.count:,}</td>'
                    f'<td><ul class="examples">{examples}</ul></td></tr>')
    return _table(["reason", "inputs", "examples"], rows, "rejects", numeric=(1,))


def _largest(documents: Sequence[LargeDocument], written: int) -> str:
    if not documents:
        if written:
            return ('<p class="quiet">None of the documents of this run are in documents/ any more '
                    '(a later run replaced them).</p>')
        return '<p class="quiet">The run wrote no document.</p>'
    widest = max(document.n_sentences for document in documents) or 1
    rows = []
    for document in documents:
        width = round(100 * document.n_sentences / widest)
        rows.append(
            f'<tr><td><span class="path">{_e(document.source)}</span>'
            f'<div class="title" dir="auto">{_e(document.title)}</div></td>'
            f'<td class="lang">{_e(document.src_lang)}</td>'
            f'<td class="num">{document.n_bytes:,}</td>'
            f'<td class="meter"><span style="width:{width}%"></span>'
            f'<b>{document.n_sentences:,}</b></td></tr>')
    return _table(["document", "language", "bytes", "sentences"], rows, "largest", numeric=(2,))


def _models(manifest: Mapping[str, Any]) -> str:
    used = manifest.get("models", {})
    missing = manifest.get("missing_models", {})
    rows = [f'<tr class="model-used" data-lang="{_e(lang)}"><th scope="row">{_e(lang)}</th>'
            f'<td><span class="ok">used</span></td>'
            f'<td>{"<br>".join(f"<code>{_e(model)}</code>" for model in models)}</td></tr>'
            for lang, models in used.items()]
    rows += [f'<tr class="model-missing" data-lang="{_e(lang)}"><th scope="row">{_e(lang)}</th>'
             f'<td><span class="missing">missing</span></td><td>{_code_spans(hint)}</td></tr>'
             for lang, hint in missing.items()]
    if not rows:
        return '<p class="quiet">No sentence needed a translation model.</p>'
    return _table(["language", "model", "which, or how to get it"], rows, "models")


def _translation_facts(manifest: Mapping[str, Any]) -> str:
    translation = manifest.get("translation", {})
    if not translation:
        return ""
    facts = [("sentences sent to a model", translation.get("sentences", 0)),
             ("answered from the cache", translation.get("cache_hits", 0)),
             ("model loads", translation.get("model_loads", 0)),
             ("seconds loading models", translation.get("model_load_seconds", 0)),
             ("translation tasks", manifest.get("translation_tasks", 0))]
    return '<dl class="facts inline">' + "".join(
        f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in facts) + "</dl>"


def _pair_row(pair: SamplePair) -> str:
    flags = "".join(f'<span class="flag">{_e(flag)}</span>' for flag in pair.flags)
    if pair.status == "translated" and not pair.flags:
        flags = '<span class="ok">no flag</span>'
    if pair.en_text is None:
        english = f'<span class="quiet">untranslated: {_e(pair.status_detail or "no reason given")}</span>'
    else:
        english = _e(pair.en_text)
    ratio = "" if pair.len_ratio is None else f"{pair.len_ratio:.2f}"
    return (f'<tr class="pair" data-lang="{_e(pair.src_lang)}" data-status="{_e(pair.status)}">'
            f'<td class="src" dir="auto" lang="{_e(pair.src_lang)}">{_e(pair.src_text)}</td>'
            f'<td class="en" lang="en">{english}</td><td class="num">{ratio}</td><td>{flags}</td></tr>')


def _samples(samples: Mapping[str, Sequence[SamplePair]], sentences: Mapping[str, Mapping[str, int]]) -> str:
    """A table per language with English; the languages without any share one table of their source."""
    if not samples:
        return '<p class="quiet">The run wrote no sentence in a language other than English.</p>'
    parts, untranslated = [], []
    for lang, pairs in samples.items():
        if not any(pair.status == "translated" for pair in pairs):
            untranslated.extend(pairs)
            continue
        counts = sentences.get(lang, {})
        translated, total = counts.get("translated", 0), sum(counts.values())
        rows = [_pair_row(pair) for pair in pairs]
        parts.append(f'<h3 data-lang="{_e(lang)}">{_e(lang)} <small>{translated:,} of {total:,} sentences '
                     f'translated</small></h3>'
                     + _table(["source", "English", "length ratio", "quality flags"], rows, "pairs"))
    if untranslated:
        rows = [f'<tr class="pair" data-lang="{_e(pair.src_lang)}" data-status="{_e(pair.status)}">'
                f'<td class="lang">{_e(pair.src_lang)}</td>'
                f'<td class="src" dir="auto" lang="{_e(pair.src_lang)}">{_e(pair.src_text)}</td>'
                f'<td class="quiet">{_e(pair.status_detail or pair.status)}</td></tr>'
                for pair in untranslated]
        parts.append('<h3>Languages without English in this run</h3>'
                     + _table(["language", "source", "why no English"], rows, "pairs untranslated"))
    return "\n".join(parts)


def _versions(manifest: Mapping[str, Any]) -> str:
    return ", ".join(f"{_e(name)} {_e(version)}" for name, version in manifest.get("versions", {}).items())


def render_page(data: ReportData, charts: Mapping[str, str]) -> str:
    """The whole page. `charts` maps volume, status, rejects and timing to their SVG (may be empty)."""
    manifest = data.manifest
    return PAGE.substitute(
        run_id=_e(data.run_id),
        facts=_run_facts(manifest),
        cards=_cards(data),
        languages=_languages(data, charts),
        timing_chart=charts.get("timing", ""),
        translation_facts=_translation_facts(manifest),
        rejects_chart=charts.get("rejects", ""),
        rejects_table=_rejects(data.rejects),
        largest=_largest(data.largest, sum(data.documents.values())),
        models=_models(manifest),
        samples=_samples(data.samples, data.sentences),
        hub=_e(manifest.get("hub", "")),
        versions=_versions(manifest),
    )
