"""The page's stylesheet and script (Gradio 6: passed to launch() as css and head)."""

from __future__ import annotations

CSS = """
.gradio-container { max-width: 1480px !important; margin: 0 auto !important; }
/* Gradio hides the container's overflow, which turns off position: sticky below it; clip keeps it working. */
.gradio-container { overflow-x: clip !important; overflow-y: visible !important; }
#pq-header-row { align-items: center; flex-wrap: wrap; gap: 8px 16px; }
#pq-header { padding: 4px 2px 0; min-width: 0; }
#pq-header h1 { margin: 0; font-size: 1.55rem; }
#pq-header .pq-subtitle { color: var(--body-text-color-subdued); font-size: .92rem; margin-top: 2px; }
#pq-backend { font-size: .85rem; padding: 6px 14px; border-radius: 999px; background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); flex: 0 1 auto !important; width: auto !important; min-width: 0 !important;
  align-self: center; }
#pq-backend p { margin: 0; }
#pq-chat { height: calc(100vh - 360px) !important; min-height: 340px; }
#pq-chat .pq-msg { min-width: 0; }
.pq-cite { position: relative; text-decoration: none !important; font-weight: 600; color: var(--color-accent) !important;
  background: var(--color-accent-soft); border-radius: 4px; padding: 0 2px; white-space: nowrap; }
.pq-cite.pq-attributed { font-weight: 500; background: transparent; border: 1px dashed var(--color-accent); }
.pq-tip { display: none; position: absolute; left: 0; top: 1.6em; z-index: 50; width: max-content; max-width: min(360px, 80vw);
  white-space: normal; font-weight: 400; font-size: .85rem; line-height: 1.5; color: var(--body-text-color);
  background: var(--background-fill-primary); border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 6px 10px; box-shadow: 0 4px 14px rgba(0,0,0,.15); }
.pq-cite:hover .pq-tip, .pq-cite:focus-visible .pq-tip { display: block; }
.pq-tip-note { display: block; margin-top: 4px; font-size: .75rem; color: var(--body-text-color-subdued); }
.pq-note { color: var(--body-text-color-subdued); }
.pq-error { color: #b42318; }
.pq-md { display: none !important; }
.pq-actions { margin-top: 6px; font-size: .8rem; }
.pq-actions a { text-decoration: none; color: var(--body-text-color-subdued); border: 1px solid var(--border-color-primary);
  border-radius: 6px; padding: 1px 8px; }
.pq-actions a.pq-done::after { content: " ✓"; }
.pq-msg-sources { display: none; margin-top: 8px; }
.pq-msg-sources summary { cursor: pointer; font-weight: 600; font-size: .9rem; }
#pq-send { white-space: normal; line-height: 1.2; }
.pq-wrap { flex-wrap: wrap !important; }
#pq-sources-box { position: sticky; top: 8px; align-self: flex-start; max-height: calc(100vh - 120px); overflow-y: auto; }
.pq-src-group { display: none; }
.pq-src-group.pq-current { display: block; }
.pq-src-question { font-size: .85rem; color: var(--body-text-color-subdued); margin: -4px 0 10px; }
.pq-sources-head { display: flex; justify-content: space-between; align-items: baseline; font-weight: 600;
  margin: 2px 0 10px; font-size: 1rem; gap: 8px; }
.pq-meta { font-weight: 400; font-size: .8rem; color: var(--body-text-color-subdued); }
.pq-empty { color: var(--body-text-color-subdued); text-align: center; padding: 48px 24px; line-height: 1.7;
  border: 1px dashed var(--border-color-primary); border-radius: 12px; }
.pq-card { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 12px 14px; margin-bottom: 14px;
  background: var(--background-fill-primary); box-shadow: 0 1px 2px rgba(0,0,0,.04); scroll-margin-top: 12px; }
.pq-card:target, .pq-flash { outline: 2px solid var(--color-accent); outline-offset: 1px; }
.pq-card-head { margin-bottom: 8px; }
.pq-badge { display: inline-block; font-size: .78rem; font-weight: 600; padding: 1px 8px; border-radius: 999px;
  background: var(--color-accent-soft); color: var(--color-accent); margin-right: 6px; }
.pq-badge-en { background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
.pq-card-title { font-weight: 600; font-size: 1.02rem; margin-top: 6px; }
.pq-card-title-en { color: var(--body-text-color-subdued); font-size: .88rem; font-style: italic; }
.pq-card-section { font-size: .8rem; color: var(--body-text-color-subdued); margin-top: 4px; }
.pq-en-inline { font-style: italic; }
.pq-cols { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.pq-col { min-width: 0; }
.pq-col-head { font-size: .72rem; text-transform: uppercase; letter-spacing: .04em; color: var(--body-text-color-subdued);
  margin-bottom: 4px; }
.pq-text { white-space: pre-line; }
.pq-zh { font-size: .93rem; line-height: 1.75; }
.pq-en { font-size: .86rem; line-height: 1.55; color: var(--body-text-color); border-left: 1px solid var(--border-color-primary);
  padding-left: 12px; }
.pq-card mark, .pq-doc mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.pq-doc mark.pq-hit { background: #bfdbfe; }
.pq-doc mark.pq-hit-current { background: #60a5fa; }
.pq-context { display: inline-block; margin-top: 8px; font-size: .82rem; }
.pq-doc, .pq-sources { text-align: left; }
.pq-doc[hidden] { display: none !important; }
#pq-doc-switch { max-width: 320px; padding: 6px 8px; border-radius: 8px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); color: var(--body-text-color); }
.pq-doc-tools { display: flex; gap: 12px; align-items: center; flex-wrap: wrap;
  padding: 8px 0; background: var(--background-fill-primary); border-bottom: 1px solid var(--border-color-primary); }
.pq-doc-tools input { flex: 1 1 200px; min-width: 0; padding: 6px 10px; border-radius: 8px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); color: var(--body-text-color); }
.pq-back { text-decoration: none; font-weight: 600; white-space: nowrap; }
.pq-doc-count { font-size: .85rem; color: var(--body-text-color-subdued); white-space: nowrap; }
.pq-doc-head h2 { margin: 4px 0; font-size: 1.35rem; }
.pq-doc-title-en { color: var(--body-text-color-subdued); font-style: italic; }
/* The table of contents and the text scroll on their own, so the toolbar (search, back) stays in view. */
.pq-doc-body { display: grid; grid-template-columns: minmax(240px, 330px) 1fr; gap: 24px; margin-top: 14px;
  height: calc(100vh - 260px); min-height: 360px; }
.pq-toc { overflow-y: auto; font-size: .86rem; border-right: 1px solid var(--border-color-primary); padding-right: 10px; }
.pq-doc-text { overflow-y: auto; padding-right: 8px; }
.pq-toc-head { font-weight: 600; margin-bottom: 6px; }
.pq-toc ol { list-style: none; padding-left: 0; margin: 0; }
.pq-toc ol.pq-toc-articles { padding-left: 14px; margin-bottom: 6px; }
.pq-toc a { display: block; padding: 3px 4px; border-radius: 6px; text-decoration: none; color: inherit; }
.pq-toc a:hover { background: var(--background-fill-secondary); }
.pq-toc-section > a { font-weight: 600; margin-top: 6px; }
.pq-toc-label { color: var(--color-accent); }
.pq-toc-en { display: block; font-size: .76rem; color: var(--body-text-color-subdued); font-weight: 400; }
.pq-unit { padding: 12px 0; border-bottom: 1px solid var(--border-color-primary); scroll-margin-top: 60px; }
.pq-unit-section { background: var(--background-fill-secondary); padding: 12px; border-radius: 10px; margin-top: 10px; }
.pq-unit-section .pq-zh p:first-child { font-weight: 700; }
.pq-unit p { margin: 0 0 6px; }
.pq-unit:target, .pq-unit.pq-flash { outline: 2px solid var(--color-accent); border-radius: 8px; }
#pq-library-table td { word-break: break-word; }  /* long document ids wrap instead of widening the page */
@media (max-width: 900px) {
  .pq-cols, .pq-doc-body { grid-template-columns: 1fr; }
  .pq-en { border-left: 0; padding-left: 0; }
  #pq-sources-box { display: none !important; }
  .pq-msg-sources { display: block; }
  .pq-doc-body { height: auto; }
  .pq-toc { max-height: 30vh; border-right: 0; }
  .pq-doc-text { height: calc(100vh - 220px); }
  #pq-chat { height: calc(100vh - 300px) !important; }
  #pq-header h1 { font-size: 1.3rem; }
  #pq-tabs .tab-container:not(.visually-hidden) { flex-wrap: wrap; height: auto !important; }
  #pq-tabs [role="tab"] { padding-left: 8px !important; padding-right: 8px !important; }
}
"""

# Everything the page does by itself (no server round trip): citation clicks show the sources of *that* answer
# (panel on wide screens, the answer's own list on narrow ones), copy, opening the document at the cited sentence,
# searching the document, and going back. Event delegation, because Gradio re-renders the chat.
HEAD = """
<script>
(function () {
  function cfg(key) { var c = document.getElementById('pq-config'); return c ? c.getAttribute('data-' + key) : ''; }
  function tab(label) {
    var bs = document.querySelectorAll('button[role="tab"]');
    for (var i = 0; i < bs.length; i++) { if (bs[i].textContent.trim() === label) return bs[i]; }
    return null;
  }
  function when(find, fn) {
    var tries = 40;
    (function go() {
      var el = find();
      if (el && el.offsetParent !== null) { fn(el); } else if (tries-- > 0) { setTimeout(go, 75); }
    })();
  }
  function flash(el) { el.classList.add('pq-flash'); setTimeout(function () { el.classList.remove('pq-flash'); }, 1800); }
  function wide() { var box = document.getElementById('pq-sources-box'); return !!(box && box.offsetParent !== null); }
  function scrollWithin(box, el) { box.scrollTop += el.getBoundingClientRect().top - box.getBoundingClientRect().top - 8; }
  function esc(s) { return s.replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  // Repaint one paragraph of the document from its original text, with cited sentences and search hits marked.
  function paint(p) {
    if (p.__text === undefined) p.__text = p.textContent;
    var text = p.__text, ranges = [];
    (p.__cited || []).forEach(function (q) { var i = text.indexOf(q); if (q && i >= 0) ranges.push([i, i + q.length, 'pq-cited']); });
    (p.__hits || []).forEach(function (r) { ranges.push([r[0], r[1], 'pq-hit']); });
    // Cut the text at every range boundary; each piece is marked with the classes of the ranges covering it.
    var cuts = [0, text.length];
    ranges.forEach(function (r) { cuts.push(r[0], r[1]); });
    cuts = cuts.filter(function (c, i, all) { return all.indexOf(c) === i; }).sort(function (a, b) { return a - b; });
    var out = '';
    for (var i = 0; i + 1 < cuts.length; i++) {
      var a = cuts[i], b = cuts[i + 1], piece = esc(text.slice(a, b));
      var cls = ranges.filter(function (r) { return r[0] <= a && b <= r[1]; }).map(function (r) { return r[2]; })
        .filter(function (c, j, all) { return all.indexOf(c) === j; });
      out += cls.length ? '<mark class="' + cls.join(' ') + '">' + piece + '</mark>' : piece;
    }
    p.innerHTML = out;
  }
  function docParagraphs(shownOnly) {
    return document.querySelectorAll('#pq-document .pq-doc' + (shownOnly ? ':not([hidden])' : '') + ' .pq-doc-text p');
  }
  // Several documents: one shown at a time (unit ids repeat across documents, so look inside the shown one).
  function showDoc(key) {
    document.querySelectorAll('#pq-document .pq-doc').forEach(function (d) { d.hidden = d.id !== 'pq-doc-' + key; });
    var sel = document.getElementById('pq-doc-switch');
    if (sel) sel.value = key;
    var box = document.getElementById('pq-doc-search');
    if (box && box.value) search(box.value);
  }
  function markCited(unit, quotes) {
    docParagraphs(false).forEach(function (p) { if (p.__cited && p.__cited.length) { p.__cited = []; paint(p); } });
    unit.querySelectorAll('p').forEach(function (p) {
      var t = p.__text === undefined ? p.textContent : p.__text;
      p.__cited = quotes.filter(function (q) { return q && t.indexOf(q) >= 0; });
      paint(p);
    });
  }
  var hitIndex = -1;
  function search(term) {
    var n = 0, needle = term.trim().toLowerCase();
    docParagraphs(false).forEach(function (p) { if (p.__hits && p.__hits.length) { p.__hits = []; paint(p); } });
    docParagraphs(true).forEach(function (p) {
      var t = (p.__text === undefined ? p.textContent : p.__text), low = t.toLowerCase(), hits = [];
      if (needle) { for (var i = low.indexOf(needle); i >= 0; i = low.indexOf(needle, i + needle.length)) { hits.push([i, i + needle.length]); } }
      if (hits.length || (p.__hits && p.__hits.length)) { p.__hits = hits; paint(p); }
      n += hits.length;
    });
    var count = document.getElementById('pq-doc-count'), label = document.querySelector('.pq-doc-count-label');
    if (count) count.textContent = needle ? n + ' ' + (label ? label.textContent : '') : '';
    hitIndex = -1;
    next();
  }
  function next() {
    var hits = document.querySelectorAll('#pq-document mark.pq-hit');
    if (!hits.length) return;
    if (hitIndex >= 0 && hits[hitIndex]) hits[hitIndex].classList.remove('pq-hit-current');
    hitIndex = (hitIndex + 1) % hits.length;
    hits[hitIndex].classList.add('pq-hit-current');
    hits[hitIndex].scrollIntoView({block: 'center'});
  }
  var fromTurn = null;
  document.addEventListener('click', function (e) {
    var toc = e.target.closest && e.target.closest('.pq-toc a');
    if (toc) {  // within the document's own panel, never the first document that has the same unit id
      e.preventDefault();
      var doc = toc.closest('.pq-doc'), unit = doc && doc.querySelector('[id="' + toc.getAttribute('href').slice(1) + '"]');
      if (unit) { unit.scrollIntoView({block: 'start'}); flash(unit); }
      return;
    }
    var a = e.target.closest && e.target.closest('a.pq-cite, a.pq-context, a.pq-copy, a.pq-back');
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    if (a.classList.contains('pq-copy')) {
      var md = a.closest('.pq-msg').querySelector('.pq-md').textContent;
      window.__pqCopied = md;
      if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(md).catch(function () {}); }
      a.classList.add('pq-done');
      setTimeout(function () { a.classList.remove('pq-done'); }, 1500);
      return;
    }
    if (a.classList.contains('pq-back')) {
      var chat = tab(cfg('chat-tab'));
      if (chat) chat.click();
      var turn = fromTurn;
      when(function () { return turn !== null ? document.getElementById('pq-turn-' + turn) : document.getElementById('pq-question'); },
           function (el) { el.scrollIntoView({block: 'nearest'}); flash(el); });
      return;
    }
    if (a.classList.contains('pq-cite')) {
      var m = /^src-(\\d+)-(.*)$/.exec(a.getAttribute('href').slice(1));
      if (!m) return;
      if (wide()) {
        document.querySelectorAll('#pq-sources .pq-src-group').forEach(function (g) {
          g.classList.toggle('pq-current', g.id === 'pq-grp-' + m[1]);
        });
        when(function () { return document.getElementById('src-' + m[1] + '-' + m[2]); },
             function (el) { scrollWithin(document.getElementById('pq-sources-box'), el); flash(el); });
      } else {
        var det = document.getElementById('pq-msrc-' + m[1]);
        if (det) det.open = true;
        when(function () { return document.getElementById('msrc-' + m[1] + '-' + m[2]); },
             function (el) { el.scrollIntoView({block: 'nearest'}); flash(el); });
      }
      return;
    }
    // "Read in context": open the Document tab at the unit, the card's quoted sentences highlighted there too.
    var card = a.closest('.pq-card');
    var quotes = card ? Array.prototype.map.call(card.querySelectorAll('.pq-text mark'), function (x) { return x.textContent; }) : [];
    var tm = card ? /^m?src-(\\d+)-/.exec(card.id) : null;
    fromTurn = tm ? tm[1] : null;
    var docTab = tab(cfg('doc-tab'));
    if (docTab) docTab.click();
    var km = card ? /(?:^| )pq-in-([0-9a-f]+)/.exec(card.className) : null;
    if (km && document.getElementById('pq-doc-' + km[1])) showDoc(km[1]);
    var id = a.getAttribute('href').slice(1);
    when(function () {
      return document.querySelector('#pq-document .pq-doc:not([hidden]) [id="' + id + '"]') || document.getElementById(id);
    }, function (el) {
      markCited(el, quotes);
      el.scrollIntoView({block: 'start'});
      flash(el);
    });
  }, true);
  document.addEventListener('input', function (e) { if (e.target && e.target.id === 'pq-doc-search') search(e.target.value); });
  document.addEventListener('change', function (e) { if (e.target && e.target.id === 'pq-doc-switch') showDoc(e.target.value); });
  document.addEventListener('keydown', function (e) {
    if (e.target && e.target.id === 'pq-doc-search' && e.key === 'Enter') { e.preventDefault(); next(); }
  });
})();
</script>
"""
