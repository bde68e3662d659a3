/* Analyst page for the framing classifier: plain JS, no dependencies.
 * Everything is built with DOM methods and textContent (never innerHTML), so
 * article text can never become markup; styles are set through CSSOM only,
 * which the page's Content-Security-Policy (style-src 'self') allows. */
(function () {
  "use strict";

  /* Labels, names and badges come from the server (model/labels.py), rendered
   * into <body data-labels>: the page holds no copy of the label strings. */
  var DISPLAY = JSON.parse(document.body.getAttribute("data-labels"));
  var LABELS = DISPLAY.map(function (d) { return d.label; });
  var NAMES = {}, BADGES = {};
  DISPLAY.forEach(function (d) {
    NAMES[d.label] = d.name;
    BADGES[d.label] = d.badge;
  });
  /* Scope flags, also from the server (model/scope.py FLAG_DISPLAY). */
  var FLAGS = JSON.parse(document.body.getAttribute("data-flags"));
  function flagText(s) {
    return (s.flags || []).map(function (f) { return FLAGS[f] ? FLAGS[f].name : f; }).join(", ");
  }
  var FIELD_NAMES = { text: "Article text", top_terms: "Top terms", explain: "Explain", id: "Id", _schema: "Request" };
  var CSV_COLUMNS = ["index", "start", "end", "label", "confidence"]
    .concat(LABELS.map(function (label) { return "p_" + label; }), ["flags", "text"]);

  var state = { result: null, raw: "", text: "", busy: false, tipFor: null };
  var $ = function (id) { return document.getElementById(id); };
  var els = {};

  function pct(p, digits) {
    return (p * 100).toFixed(digits === undefined ? 0 : digits) + "%";
  }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }

  /* ---------- status and errors ---------- */

  function setStatus(message) {
    els.status.textContent = message || "";
  }

  function clearError() {
    els.error.hidden = true;
    els.error.replaceChildren();
  }

  function flattenErrors(errors, path, out) {
    if (Array.isArray(errors)) {
      errors.forEach(function (msg) {
        if (typeof msg === "string") out.push({ path: path, message: msg });
        else flattenErrors(msg, path, out);
      });
    } else if (errors && typeof errors === "object") {
      Object.keys(errors).forEach(function (key) {
        // "json" / "query" are locations, not fields the user knows about.
        var next = (key === "json" || key === "query" || key === "headers") && path.length === 0
          ? path : path.concat([key]);
        flattenErrors(errors[key], next, out);
      });
    } else if (errors !== undefined && errors !== null) {
      out.push({ path: path, message: String(errors) });
    }
    return out;
  }

  function fieldName(path) {
    if (!path.length) return "";
    var last = path[path.length - 1];
    return FIELD_NAMES[last] || path.join(".");
  }

  function showError(title, message, fieldErrors, hint) {
    els.error.replaceChildren();
    els.error.appendChild(make("p", "error-title", title));
    if (message) els.error.appendChild(make("p", "error-message", message));
    if (fieldErrors && fieldErrors.length) {
      var ul = make("ul", "error-fields");
      fieldErrors.forEach(function (fe) {
        var li = make("li");
        var name = fieldName(fe.path);
        if (name) li.appendChild(make("strong", null, name + ": "));
        li.appendChild(document.createTextNode(fe.message));
        ul.appendChild(li);
      });
      els.error.appendChild(ul);
    }
    if (hint) els.error.appendChild(make("p", "error-hint", hint));
    els.error.hidden = false;
  }

  function showApiError(status, body) {
    var message = body && typeof body.message === "string" ? body.message : "";
    var fieldErrors = body && body.errors ? flattenErrors(body.errors, [], []) : [];
    var title, hint = "";
    if (status === 401) {
      title = "An API key is needed.";
      hint = "Enter a valid key in the API key field and press Analyze again.";
      els.apiKeyField.hidden = false;
      els.apiKey.setAttribute("aria-invalid", "true");
      els.apiKey.focus();
    } else if (status === 503) {
      title = "The service is not ready.";
      hint = "No verified model is loaded yet. Try again in a moment, or ask the operator.";
    } else if (status === 422 || status === 400) {
      title = "The text could not be analysed.";
      els.text.setAttribute("aria-invalid", "true");
    } else if (status === 413) {
      title = "The article is too large to send.";
      hint = "Shorten the text, or split it into several parts.";
    } else if (status === 429) {
      title = "Too many requests.";
      hint = "Wait a moment and try again.";
    } else if (status >= 500) {
      title = "The service had a problem (" + status + ").";
      hint = "Try again; if it keeps happening, report the reference above.";
    } else {
      title = "The request failed (" + status + ").";
    }
    showError(title, message, fieldErrors, hint);
  }

  /* ---------- offsets: the API counts code points, JS strings count UTF-16 units ---------- */

  function offsetMapper(text) {
    if (!/[\uD800-\uDFFF]/.test(text)) {
      return function (i) { return i; };
    }
    var map = [];
    var unit = 0;
    for (var cp of text) { map.push(unit); unit += cp.length; }
    map.push(unit);
    return function (i) { return map[Math.max(0, Math.min(i, map.length - 1))]; };
  }

  /* ---------- rendering ---------- */

  function alphaFor(confidence) {
    // Confidence runs from 1/3 (no idea) to 1 (certain); map onto 0.12 ... 0.6.
    var t = Math.max(0, Math.min(1, (confidence - 1 / 3) / (2 / 3)));
    return (0.12 + 0.48 * t).toFixed(3);
  }

  function renderArticle(text, sentences) {
    var view = els.view;
    view.replaceChildren();
    var toUnit = offsetMapper(text);
    var ordered = sentences.slice().sort(function (a, b) { return a.start - b.start; });
    var cursor = 0;
    ordered.forEach(function (s) {
      var start = toUnit(s.start), end = toUnit(s.end);
      if (start > cursor) view.appendChild(document.createTextNode(text.slice(cursor, start)));
      start = Math.max(start, cursor);
      var flagged = s.flags && s.flags.length > 0;
      var mark = make("mark", "sentence " + s.label + (flagged ? " flagged" : ""));
      mark.id = "sentence-" + s.index;
      mark.dataset.flags = (s.flags || []).join(" ");
      mark.tabIndex = 0;
      mark.dataset.index = String(s.index);
      mark.dataset.label = s.label;
      mark.dataset.confidence = String(s.confidence);
      mark.dataset.start = String(s.start);
      mark.dataset.end = String(s.end);
      mark.style.setProperty("--alpha", alphaFor(s.confidence));
      var badge = make("span", "badge", flagged ? "—" : (BADGES[s.label] || "?"));
      badge.setAttribute("aria-hidden", "true");
      mark.appendChild(badge);
      mark.appendChild(make("span", "visually-hidden", flagged
        ? "Sentence " + (s.index + 1) + ", flagged " + flagText(s) + ", not scored: "
        : "Sentence " + (s.index + 1) + ", " + (NAMES[s.label] || s.label) + ", " + pct(s.confidence) + " confident: "));
      mark.appendChild(document.createTextNode(text.slice(start, end)));
      view.appendChild(mark);
      cursor = Math.max(cursor, end);
    });
    if (cursor < text.length) view.appendChild(document.createTextNode(text.slice(cursor)));
  }

  function renderSummary(result) {
    var doc = result.document;
    var warnings = doc.warnings || [];
    els.warnings.replaceChildren();
    warnings.forEach(function (w) {
      var p = make("p", "doc-warning");
      p.dataset.code = w.code;
      p.appendChild(make("strong", null, "Warning: "));
      p.appendChild(document.createTextNode(w.message));
      els.warnings.appendChild(p);
    });
    els.warnings.hidden = warnings.length === 0;
    var hasShares = doc.label_shares !== null && doc.label_shares !== undefined;
    els.shareBar.hidden = !hasShares;
    $("no-shares").hidden = hasShares;
    LABELS.forEach(function (label) {
      var share = hasShares ? doc.label_shares[label] : 0;
      var seg = els.shareBar.querySelector('.seg[data-label="' + label + '"]');
      seg.style.setProperty("--share", String(share));
      seg.textContent = share >= 0.18 ? BADGES[label] + " " + pct(share) : "";
      seg.title = NAMES[label] + ": " + pct(share, 1) + " (" + doc.label_counts[label] + ")";
      var b = document.querySelector('[data-share="' + label + '"]');
      b.textContent = hasShares ? pct(share, 1) + " (" + doc.label_counts[label] + ")" : "–";
    });
    var hasScore = doc.framing_score !== null && doc.framing_score !== undefined;
    var score = hasScore ? Math.max(-1, Math.min(1, doc.framing_score)) : 0;
    els.score.textContent = hasScore ? (score > 0 ? "+" : score < 0 ? "−" : "") + Math.abs(score).toFixed(2) : "–";
    els.scoreMarker.hidden = !hasScore;
    els.scoreMarker.style.setProperty("--pos", String((score + 1) / 2));
    els.scoreMarker.classList.toggle("neg", score < 0);
    els.scoreMarker.classList.toggle("pos", score > 0);
    $("n-flagged").textContent = String(doc.n_flagged || 0);
    $("n-sentences").textContent = String(doc.n_sentences);
    $("dominant-label").textContent = doc.dominant_label ? (NAMES[doc.dominant_label] || doc.dominant_label) : "–";
    $("model-name").textContent = result.model.name;
    $("model-version").textContent = result.model.version;
    $("model-version").title = "sha256 " + result.model.sha256;
  }

  /* ---------- tooltip / detail panel ---------- */

  var narrow = window.matchMedia("(max-width: 40rem)");

  function sentenceOf(el) {
    return el && el.closest ? el.closest("#article-view .sentence") : null;
  }

  function showTooltip(mark) {
    if (!state.result) return;
    var s = state.result.sentences.filter(function (x) { return String(x.index) === mark.dataset.index; })[0];
    if (!s) return;
    var tip = els.tooltip;
    tip.replaceChildren();
    var head = make("p", "tip-head");
    var badge = make("span", "badge " + s.label, BADGES[s.label]);
    badge.setAttribute("aria-hidden", "true");
    head.appendChild(badge);
    head.appendChild(make("strong", null, " " + (NAMES[s.label] || s.label)));
    head.appendChild(document.createTextNode(" · sentence " + (s.index + 1)));
    tip.appendChild(head);
    if (s.flags && s.flags.length) {
      var why = s.flags.map(function (f) { return FLAGS[f] ? FLAGS[f].why : ""; }).join(" ");
      tip.appendChild(make("p", "tip-flag", "Flagged " + flagText(s) + ": " + why +
        " The label below is shown for completeness; the summary leaves this sentence out."));
    }

    var probs = make("table", "tip-probs");
    var caption = make("caption", "visually-hidden", "Probabilities");
    probs.appendChild(caption);
    var tbody = make("tbody");
    LABELS.forEach(function (label) {
      var p = s.probabilities[label];
      var tr = make("tr", label === s.label ? "is-top" : "");
      tr.appendChild(make("th", null, NAMES[label]));
      var barCell = make("td", "tip-bar-cell");
      var bar = make("span", "tip-bar " + label);
      bar.style.setProperty("--p", String(p));
      barCell.appendChild(bar);
      tr.appendChild(barCell);
      tr.appendChild(make("td", "num", pct(p, 1)));
      tbody.appendChild(tr);
    });
    probs.appendChild(tbody);
    tip.appendChild(probs);

    if (s.top_terms && s.top_terms.length) {
      tip.appendChild(make("p", "tip-sub", "Top terms toward " + (NAMES[s.label] || s.label)));
      var ul = make("ul", "tip-terms");
      s.top_terms.forEach(function (t) {
        var li = make("li");
        li.appendChild(make("span", "term", t.term));
        li.appendChild(make("span", "weight", t.weight.toFixed(3)));
        ul.appendChild(li);
      });
      tip.appendChild(ul);
    } else {
      tip.appendChild(make("p", "tip-sub", "No terms listed for this sentence."));
    }
    tip.hidden = false;
    if (state.tipFor && state.tipFor !== mark) state.tipFor.removeAttribute("aria-describedby");
    state.tipFor = mark;
    mark.setAttribute("aria-describedby", "tooltip");
    positionTooltip(mark);
  }

  function positionTooltip(mark) {
    var tip = els.tooltip;
    if (narrow.matches) {
      tip.style.removeProperty("left");
      tip.style.removeProperty("top");
      return;
    }
    var panel = tip.offsetParent || document.body;
    var pr = panel.getBoundingClientRect();
    var rects = mark.getClientRects();
    var r = rects.length ? rects[rects.length - 1] : mark.getBoundingClientRect();
    var tw = tip.offsetWidth, th = tip.offsetHeight;
    var left = r.left - pr.left;
    left = Math.max(8, Math.min(left, panel.clientWidth - tw - 8));
    var top = r.bottom - pr.top + 6;
    // Flip above the sentence when there is no room below in the viewport.
    if (r.bottom + th + 12 > window.innerHeight && r.top - th - 6 > 0) {
      var first = rects.length ? rects[0] : r;
      top = first.top - pr.top - th - 6;
    }
    tip.style.left = left + "px";
    tip.style.top = top + "px";
  }

  function hideTooltip() {
    els.tooltip.hidden = true;
    if (state.tipFor) state.tipFor.removeAttribute("aria-describedby");
    state.tipFor = null;
  }

  /* ---------- filters ---------- */

  function confidenceLimit() {
    return parseFloat(els.confRange.value);
  }

  function applyFilters() {
    var label = els.filterLabel.value;
    var limit = confidenceLimit();
    var hide = els.filterHide.checked;
    var shown = 0, total = 0;
    els.view.querySelectorAll(".sentence[data-index]").forEach(function (mark) {
      total += 1;
      var conf = parseFloat(mark.dataset.confidence);
      var keep = (label === "all" || mark.dataset.label === label) && conf <= limit + 1e-9;
      mark.classList.toggle("is-filtered", !keep);
      mark.classList.toggle("is-hidden", !keep && hide);
      mark.dataset.filtered = keep ? "false" : "true";
      if (keep) shown += 1;
    });
    els.view.classList.toggle("has-filter", shown < total);
    els.filterStatus.textContent = total ? "Showing " + shown + " of " + total + " sentences." : "";
  }

  function syncConfidence(fromNumber) {
    if (fromNumber) {
      var v = parseFloat(els.confNumber.value);
      if (isNaN(v)) return;
      v = Math.max(33, Math.min(100, v));
      els.confRange.value = String(v / 100);
    } else {
      els.confNumber.value = String(Math.round(confidenceLimit() * 100));
    }
    applyFilters();
  }

  /* ---------- downloads ---------- */

  function csvCell(value) {
    var s = value === null || value === undefined ? "" : String(value);
    return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function toCsv(result) {
    var lines = [CSV_COLUMNS.join(",")];
    result.sentences.forEach(function (s) {
      lines.push([s.index, s.start, s.end, s.label, s.confidence]
        .concat(LABELS.map(function (label) { return s.probabilities[label]; }), [(s.flags || []).join(";"), s.text])
        .map(csvCell).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  function stamp() {
    return new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d+Z$/, "Z");
  }

  function download(content, type, filename) {
    var url = URL.createObjectURL(new Blob([content], { type: type }));
    var a = make("a");
    a.href = url;
    a.download = filename;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  /* ---------- analyze ---------- */

  function setBusy(busy) {
    state.busy = busy;
    els.analyze.disabled = busy;
    els.analyze.classList.toggle("is-busy", busy);
    els.analyze.textContent = busy ? "Analyzing…" : "Analyze";
    els.form.setAttribute("aria-busy", busy ? "true" : "false");
    els.results.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function analyze() {
    if (state.busy) return;
    var text = els.text.value;
    clearError();
    els.text.removeAttribute("aria-invalid");
    els.apiKey.removeAttribute("aria-invalid");
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    var key = els.apiKey.value.trim();
    if (key) headers.Authorization = "Bearer " + key;
    setBusy(true);
    setStatus("Analysing the article…");
    var started = performance.now();
    fetch("/v1/predict", {
      method: "POST",
      headers: headers,
      credentials: "same-origin",
      cache: "no-store",
      body: JSON.stringify({ text: text, explain: true, top_terms: 5 })
    }).then(function (response) {
      return response.text().then(function (raw) {
        var body = null;
        try { body = raw ? JSON.parse(raw) : null; } catch (e) { body = null; }
        return { response: response, body: body, raw: raw };
      });
    }).then(function (r) {
      if (!r.response.ok || !r.body || !Array.isArray(r.body.sentences)) {
        setStatus("");
        showApiError(r.response.status, r.body);
        return;
      }
      state.result = r.body;
      state.raw = r.raw;
      state.text = text;
      hideTooltip();
      renderArticle(text, r.body.sentences);
      renderSummary(r.body);
      els.results.hidden = false;
      applyFilters();
      var secs = ((performance.now() - started) / 1000).toFixed(2);
      setStatus("Analysed " + r.body.document.n_sentences + " sentences in " + secs + " s.");
    }).catch(function () {
      setStatus("");
      showError("Could not reach the service.", "Check your connection and that the service is running, then try again.");
    }).finally(function () {
      setBusy(false);
    });
  }

  /* ---------- file loading ---------- */

  function isTextFile(file) {
    return file && (file.type === "text/plain" || /\.txt$/i.test(file.name));
  }

  function loadFile(file) {
    if (!file) return;
    if (!isTextFile(file)) {
      showError("That file cannot be used.", "Only plain-text .txt files can be loaded (got " +
        (file.name || "a file") + ").");
      return;
    }
    file.text().then(function (content) {
      clearError();
      els.text.value = content;
      updateCount();
      setStatus("Loaded " + file.name + ".");
      els.text.focus();
    }, function () {
      showError("The file could not be read.", file.name);
    });
  }

  function updateCount() {
    var n = Array.from(els.text.value).length;
    var max = parseInt(document.body.dataset.maxChars, 10);
    els.count.textContent = n.toLocaleString("en") + " characters" + (max && n > max ? " — over the limit" : "");
    els.count.classList.toggle("over", !!max && n > max);
  }

  /* ---------- wiring ---------- */

  function init() {
    els = {
      form: $("analyze-form"), text: $("article-text"), file: $("article-file"),
      analyze: $("analyze"), status: $("status"), error: $("error"),
      apiKey: $("api-key"), apiKeyField: $("api-key-field"), count: $("char-count"),
      results: $("results"), view: $("article-view"), tooltip: $("tooltip"),
      shareBar: $("share-bar"), warnings: $("doc-warnings"), score: $("framing-score"), scoreMarker: $("score-marker"),
      filterLabel: $("filter-label"), confRange: $("filter-confidence"),
      confNumber: $("filter-confidence-number"), filterHide: $("filter-hide"),
      filterStatus: $("filter-status")
    };

    els.form.addEventListener("submit", function (e) { e.preventDefault(); analyze(); });
    els.text.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); analyze(); }
    });
    els.text.addEventListener("input", updateCount);
    els.file.addEventListener("change", function () {
      loadFile(els.file.files && els.file.files[0]);
      els.file.value = "";
    });

    ["dragenter", "dragover"].forEach(function (type) {
      els.text.addEventListener(type, function (e) {
        if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, "Files") >= 0) {
          e.preventDefault();
          e.dataTransfer.dropEffect = "copy";
          els.text.classList.add("is-drop-target");
        }
      });
    });
    ["dragleave", "dragend"].forEach(function (type) {
      els.text.addEventListener(type, function () { els.text.classList.remove("is-drop-target"); });
    });
    els.text.addEventListener("drop", function (e) {
      els.text.classList.remove("is-drop-target");
      if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) {
        e.preventDefault();
        loadFile(e.dataTransfer.files[0]);
      }
    });

    els.view.addEventListener("mouseover", function (e) {
      var mark = sentenceOf(e.target);
      if (mark) showTooltip(mark);
    });
    els.view.addEventListener("mouseout", function (e) {
      var mark = sentenceOf(e.target);
      if (!mark || mark.contains(e.relatedTarget)) return;
      // Back to the keyboard-focused sentence, if there is one.
      var focused = sentenceOf(document.activeElement);
      if (focused) showTooltip(focused);
      else hideTooltip();
    });
    els.view.addEventListener("focusin", function (e) {
      var mark = sentenceOf(e.target);
      if (mark) showTooltip(mark);
    });
    els.view.addEventListener("focusout", function (e) {
      if (sentenceOf(e.target) && !sentenceOf(e.relatedTarget)) hideTooltip();
    });
    els.view.addEventListener("keydown", function (e) {
      if (e.key === "Escape") hideTooltip();
    });
    window.addEventListener("resize", function () {
      var mark = sentenceOf(document.activeElement);
      if (mark && !els.tooltip.hidden) positionTooltip(mark);
    });

    els.filterLabel.addEventListener("change", applyFilters);
    els.confRange.addEventListener("input", function () { syncConfidence(false); });
    els.confNumber.addEventListener("input", function () { syncConfidence(true); });
    els.confNumber.addEventListener("change", function () { syncConfidence(true); syncConfidence(false); });
    els.filterHide.addEventListener("change", applyFilters);

    $("download-json").addEventListener("click", function () {
      if (!state.result) return;
      download(state.raw, "application/json", "framing-" + stamp() + ".json");
    });
    $("download-csv").addEventListener("click", function () {
      if (!state.result) return;
      download(toCsv(state.result), "text/csv;charset=utf-8", "framing-" + stamp() + ".csv");
    });

    updateCount();
    document.body.classList.add("js-ready");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
