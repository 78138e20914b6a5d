"""The report's page skeleton and style. `$name` marks where page.py puts escaped content."""
from __future__ import annotations

from string import Template

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Run $run_id</title>
<style>
:root { --ink: #27303a; --quiet: #6b7580; --line: #e3e7ec; --panel: #ffffff; --page: #f4f6f9;
        --accent: #2f7ed8; --warn: #e39b2d; --bad: #d1495b; --good: #2e9c85; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", Roboto,
             "Helvetica Neue", Arial, "Noto Sans Arabic", "Noto Sans CJK SC", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { margin: 0 0 4px; font-size: 24px; letter-spacing: -0.01em; }
header h1 small { color: var(--quiet); font-weight: normal; font-size: 15px; }
h2 { font-size: 17px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 18px 0 6px; text-transform: uppercase; letter-spacing: 0.04em;
     color: var(--quiet); }
h3 small { text-transform: none; letter-spacing: 0; font-weight: normal; margin-left: 6px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
          padding: 18px 20px; margin: 18px 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 10px 0 0;
         color: var(--quiet); font-size: 13px; }
.facts dd { margin: 0; color: var(--ink); overflow-wrap: anywhere; }
.facts.inline { display: flex; flex-wrap: wrap; gap: 4px 18px; }
.facts.inline dt::after { content: ":"; }
.facts.inline dt { margin-right: -14px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px;
         margin: 18px 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px;
        border-top: 4px solid #c5ccd5; }
.card .value { display: block; font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--quiet); font-size: 12.5px; }
.card.translated { border-top-color: #2f7ed8; }
.card.source_is_english { border-top-color: #a7b1bd; }
.card.untranslated { border-top-color: var(--warn); }
.card.rejects { border-top-color: var(--bad); }
svg.chart { display: block; width: 100%; max-width: 100%; height: auto; }
.note { color: var(--quiet); font-size: 12.5px; margin: 4px 0 10px; }
.quiet { color: var(--quiet); }
details { margin-top: 10px; }
summary { cursor: pointer; color: var(--quiet); font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 6px; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--line); }
thead th { font-size: 11.5px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--quiet);
           font-weight: 600; border-bottom: 2px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td, th { unicode-bidi: isolate; }
table.pairs { table-layout: fixed; }
table.pairs th:nth-child(1), table.pairs th:nth-child(2) { width: 38%; }
table.pairs th:nth-child(3) { width: 9%; text-align: right; }
table.rejects th:nth-child(1) { width: 22%; }
table.rejects th:nth-child(2) { width: 10%; }
table.pairs.untranslated th:nth-child(1) { width: 9%; }
table.pairs.untranslated th:nth-child(2) { width: 66%; }
table.pairs.untranslated th:nth-child(3) { width: 25%; text-align: left; }
table.pairs td { overflow-wrap: anywhere; }
table.pairs td.src { font-size: 14px; }
table.pairs td.en { color: #1f2a36; }
table.pairs td.src:dir(rtl) { text-align: right; }
code { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
       background: #f0f2f5; padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
.path { font: 12px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; color: var(--ink); }
.title { color: var(--quiet); font-size: 12.5px; }
.flag, .ok, .missing { display: inline-block; font-size: 11.5px; border-radius: 10px; padding: 1px 8px;
                       margin: 1px 3px 1px 0; white-space: nowrap; }
.flag { background: #fdf0dc; color: #8a5300; }
.ok { background: #e2f4ef; color: #1d6b5a; }
.missing { background: #fbe3e6; color: #9b2335; }
ul.examples { margin: 0; padding-left: 16px; }
td.meter { position: relative; width: 30%; }
td.meter span { display: inline-block; height: 10px; background: #2e9c85; border-radius: 3px;
                vertical-align: middle; margin-right: 8px; max-width: 80%; }
td.meter b { font-weight: 600; font-variant-numeric: tabular-nums; }
.legend { display: flex; gap: 16px; font-size: 12.5px; color: var(--quiet); }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px;
            vertical-align: -1px; }
.grid2 { display: grid; grid-template-columns: 1fr; gap: 8px; }
footer { color: var(--quiet); font-size: 12px; margin-top: 24px; }
@media print { body { background: white; } section { break-inside: avoid; } }
</style>
</head>
<body>
<main>
<header>
<h1>Run <span id="run-id">$run_id</span> <small>run report</small></h1>
<dl class="facts">
$facts
</dl>
</header>

<div class="cards">
$cards
</div>

<section id="languages">
<h2>Languages</h2>
<p class="note">Documents are counted by their own language; sentences by the language of their paragraph,
so a language can have sentences without documents.</p>
$languages
</section>

<section id="samples">
<h2>Sample of aligned pairs</h2>
<p class="note">A few sentences of this run per language, the same ones each time the report is drawn;
translated sentences are preferred where there are any. Flags are the run's quality warnings.</p>
$samples
</section>

<section id="models">
<h2>Translation models</h2>
$models
$translation_facts
<p class="note">Hugging Face hub: $hub</p>
</section>

<section id="timing">
<h2>Where the time went</h2>
<p class="note">Stage seconds add up the work of every task of the run, so they can exceed the wall clock;
phases are the run's steps one after the other.</p>
$timing_chart
</section>

<section id="rejects">
<h2>Rejected inputs</h2>
$rejects_chart
$rejects_table
</section>

<section id="documents">
<h2>Largest documents</h2>
<p class="note">The run does not time documents one by one; the documents with the most sentences are
the ones that cost the most to translate.</p>
$largest
</section>

<footer>Versions: $versions</footer>
</main>
</body>
</html>
""")
