/* Review page: label sentences one at a time, undo, skip, adjudicate conflicts.
 * Plain JS, no dependencies; DOM built with textContent only (sentence text
 * never becomes markup) and no inline styles, as the CSP (style-src 'self')
 * requires. Every failed request ends in the status area, never silently. */
(function () {
  "use strict";

  var DISPLAY = JSON.parse(document.body.getAttribute("data-labels"));
  var LABELS = DISPLAY.map(function (d) { return d.label; });
  var NAMES = {}, BADGES = {};
  DISPLAY.forEach(function (d) { NAMES[d.label] = d.name; BADGES[d.label] = d.badge; });
  var FLAGS = JSON.parse(document.body.getAttribute("data-flags"));
  var AUTH_REQUIRED = document.body.getAttribute("data-auth-required") === "true";
  var ANNOTATOR_RE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/;  // as the API's schema
  var BATCH = 10;
  var FEEDBACK_MS = 5000;
  var KEY_NAME = "framing.review.annotator", KEY_SUGGEST = "framing.review.showSuggestion";

  var state = {
    project: null, annotator: "", named: null, running: false, busy: false,
    items: [], done: [], projectsKey: null, loading: null, feedbackTimer: null
  };
  var els = {};
  var $ = function (id) { return document.getElementById(id); };

  function make(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }
  function pct(p) { return Math.round(p * 100) + "%"; }
  function enc(s) { return encodeURIComponent(s); }

  /* localStorage may be disabled (private mode, policy): then nothing is remembered. */
  function recall(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } }
  function remember(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* not kept */ } }

  /* ---------- status and errors ---------- */

  function say(message, isError) {
    els.status.textContent = message || "";
    els.status.classList.toggle("is-error", !!isError);
  }

  function UserError(message, field) { this.message = message; this.field = field; }
  function ApiError(status, body) { this.status = status; this.body = body; }

  function fieldErrors(errors, out) {
    if (Array.isArray(errors)) errors.forEach(function (e) { fieldErrors(e, out); });
    else if (errors && typeof errors === "object") {
      Object.keys(errors).forEach(function (k) {
        var inner = [];
        fieldErrors(errors[k], inner);
        var loc = k === "json" || k === "query" || k === "_schema";
        inner.forEach(function (m) { out.push(loc || m.indexOf(": ") > 0 ? m : k + ": " + m); });
      });
    } else if (errors !== undefined && errors !== null) out.push(String(errors));
    return out;
  }

  function fail(err) {
    if (err instanceof UserError) {
      say(err.message, true);
      if (err.field) { err.field.setAttribute("aria-invalid", "true"); err.field.focus(); }
      return;
    }
    if (!(err instanceof ApiError)) {
      say("Unexpected error in the page: " + (err && err.message ? err.message : err), true);
      console.error(err);  // a bug in this page: make it loud
      return;
    }
    if (err.status === 0) { say("Could not reach the service. Check that it is running, then try again.", true); return; }
    var body = err.body || {};
    var parts = [body.message || ("The request failed (" + err.status + ").")].concat(fieldErrors(body.errors, []));
    if (err.status === 401) {
      parts.push("Enter a valid API key and press Enter.");
      els.apiKeyField.hidden = false;
      els.apiKey.setAttribute("aria-invalid", "true");
      els.apiKey.focus();
    } else if (err.status === 409 || err.status === 503) {
      parts.push("Try again in a moment.");
    }
    say(parts.join(" "), true);
  }

  /* One JSON request; resolves with the parsed body, rejects with ApiError. */
  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    var key = els.apiKey.value.trim();
    if (key) headers.Authorization = "Bearer " + key;
    return fetch(path, {
      method: method, headers: headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (raw) {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
        if (!response.ok) throw new ApiError(response.status, data);
        return data;
      });
    }, function () { throw new ApiError(0, null); });
  }

  function base() { return "/v1/projects/" + enc(state.project); }
  /* A named key decides the annotator itself; sending a name would only risk a 403. */
  function whoQuery() { return state.named ? "" : "annotator=" + enc(state.annotator); }
  function whoBody(extra) {
    if (!state.named) extra.annotator = state.annotator;
    return extra;
  }

  /* ---------- projects and start ---------- */

  /* Enter in the key field fires both change and submit: one request serves both. */
  function loadProjects() {
    var key = els.apiKey.value.trim();
    if (state.loading && state.loading.key === key) return state.loading.promise;
    var promise = api("GET", "/v1/projects").then(function (data) {
      var keep = els.project.value;
      while (els.project.options.length > 1) els.project.remove(1);
      data.projects.forEach(function (p) {
        var opt = make("option", null, p.name + " (" + p.documents + " documents)");
        opt.value = p.name;
        els.project.appendChild(opt);
      });
      els.project.value = keep;
      if (els.project.value !== keep) els.project.value = "";
      state.projectsKey = key;
      els.apiKey.removeAttribute("aria-invalid");
      say(data.projects.length ? "Choose a project and press Enter."
        : "No projects yet: import documents with POST /v1/projects/{name}/documents.");
    });
    var done = function () { if (state.loading && state.loading.promise === promise) state.loading = null; };
    promise.then(done, done);
    state.loading = { key: key, promise: promise };
    return promise;
  }

  function submit() {
    if (AUTH_REQUIRED && !els.apiKey.value.trim()) {
      fail(new UserError("An API key is needed: enter it and press Enter.", els.apiKey));
      return;
    }
    if (state.projectsKey !== els.apiKey.value.trim()) {
      loadProjects().then(function () {
        if (els.project.value) return start();
        els.project.focus();
      }).catch(fail);
      return;
    }
    start().catch(fail);
  }

  function queueFor(name) {
    return api("GET", base() + "/queue?n=" + BATCH + (name ? "&annotator=" + enc(name) : ""));
  }

  /* A named API key decides the annotator: another name is refused (403) and no
   * name is accepted, so the first queue request tells whether the key is named.
   * (GET progress's "annotator" cannot tell: see setWho.) */
  function start() {
    var project = els.project.value;
    var typed = els.annotator.value.trim();
    if (!project) return Promise.reject(new UserError("Choose a project first.", els.project));
    if (typed && !ANNOTATOR_RE.test(typed)) {
      return Promise.reject(new UserError(
        "A name is letters, digits, '.', '_', '@' or '-', starting with a letter or digit.", els.annotator));
    }
    if (!typed && !AUTH_REQUIRED) return Promise.reject(new UserError("Type your name first, then press Enter.", els.annotator));
    stop();
    state.project = project;
    setWho(typed, false);
    return queueFor(typed).catch(function (err) {
      if (!(err instanceof ApiError)) throw err;
      if (typed && err.status === 403) { setWho("", true); return queueFor(""); }
      if (!typed && err.status === 422) throw new UserError("Type your name first, then press Enter.", els.annotator);
      throw err;
    }).then(function (data) {
      if (!typed) setWho("", true);  // answered without a name: the key names the annotator
      else if (!state.named) remember(KEY_NAME, typed);
      els.annotator.removeAttribute("aria-invalid");
      state.items = data.items;
      state.done = [];
      state.running = true;
      selectTab(els.tabLabel, false);
      say("Labeling " + project + (state.annotator ? " as " + state.annotator : "") + ".");
      showCurrent();
      focusItem();
      refreshProgress().catch(fail);
    });
  }

  /* The key's name is learnt from the first label (or gold) it stores. GET progress's
   * "annotator" field is not used: labeling.store.progress currently names the last
   * annotator it counted there, not the one asked about. */
  function setWho(name, named) {
    state.named = named;
    state.annotator = name;
    els.named.hidden = !named;
    els.annotatorField.hidden = named;
    els.namedAnnotator.textContent = name || "the annotator your API key names";
  }

  /* The shown item no longer matches the form (another project chosen): wait for Start. */
  function stop() {
    state.running = false;
    els.item.hidden = true;
    els.answer.hidden = true;
    els.empty.hidden = true;
    els.idle.hidden = false;
    els.progress.textContent = "";
    hideFeedback();
  }

  /* ---------- the item ---------- */

  function next() {
    if (state.items.length) { showCurrent(); return Promise.resolve(); }
    return queueFor(state.named ? "" : state.annotator).then(function (data) {
      state.items = data.items;
      showCurrent();
    });
  }

  function suggestionText(s) {
    return "Model: " + (NAMES[s.label] || s.label) + ", " + pct(s.confidence) + " confident";
  }

  function showCurrent() {
    var item = state.items[0];
    els.idle.hidden = true;
    els.answer.hidden = false;
    els.empty.hidden = !!item;
    els.item.hidden = !item;
    els.labelButtons.concat([els.skip]).forEach(function (b) { b.disabled = !item; });
    if (!item) {
      els.item.removeAttribute("data-sentence-id");
      say("Nothing left to label in this project.");
      return;
    }
    els.item.dataset.sentenceId = String(item.sentence_id);
    els.docId.textContent = item.doc_id;
    els.before.textContent = item.context_before;
    els.before.hidden = !item.context_before;
    els.text.textContent = item.text;
    els.after.textContent = item.context_after;
    els.after.hidden = !item.context_after;
    var flags = (item.flags || []).map(function (f) { return FLAGS[f] ? FLAGS[f].name : f; });
    els.flags.textContent = flags.length ? "Flagged: " + flags.join(", ") : "";
    els.flags.hidden = !flags.length;
    els.suggestion.replaceChildren();
    var badge = make("span", "badge " + item.suggestion.label, BADGES[item.suggestion.label] || "?");
    badge.setAttribute("aria-hidden", "true");
    els.suggestion.append(badge, " " + suggestionText(item.suggestion));
    els.suggestion.dataset.label = item.suggestion.label;
    els.suggestion.hidden = !els.showSuggestion.checked;
  }

  function focusItem() {
    (els.item.hidden ? els.empty : els.item).focus({ preventScroll: false });
  }

  function hideFeedback() {
    clearTimeout(state.feedbackTimer);
    els.feedback.hidden = true;
  }

  /* After an answer the suggestion is revealed briefly, so the model does not anchor the next one. */
  function showFeedback(item, label) {
    var s = item.suggestion, agreed = s.label === label;
    els.feedback.textContent = "Saved: " + NAMES[label] + ". " + suggestionText(s) + " — you " +
      (agreed ? "agreed" : "disagreed") + " with the model.";
    els.feedback.dataset.agreed = agreed ? "true" : "false";
    els.feedback.classList.toggle("disagreed", !agreed);
    els.feedback.hidden = false;
    clearTimeout(state.feedbackTimer);
    state.feedbackTimer = setTimeout(function () { els.feedback.hidden = true; }, FEEDBACK_MS);
  }

  function refreshProgress() {
    return api("GET", base() + "/progress").then(function (p) {
      // Counted from the per-annotator list: the response's "annotator" field is not reliable.
      var me = p.annotators.filter(function (a) { return a.annotator === state.annotator; })[0];
      var mine = state.annotator ? (me ? me.labels : 0) : "–";
      els.progress.textContent = "You: " + mine + " labeled. Project: " + p.labeled + " of " + p.sentences +
        " sentences labeled, " + p.complete + " complete" + (p.overlap > 1 ? " (" + p.overlap + " annotators each)" : "") +
        (p.conflicts ? ", " + p.conflicts + " in conflict" : "") + ".";
    });
  }

  /* One request at a time: a second key press while saving is refused out loud. */
  function guarded(work) {
    if (state.busy) { say("Still saving the previous answer…"); return; }
    state.busy = true;
    els.panelLabel.setAttribute("aria-busy", "true");
    Promise.resolve().then(work).catch(fail).finally(function () {
      state.busy = false;
      els.panelLabel.setAttribute("aria-busy", "false");
    });
  }

  function answer(label) {
    var item = state.items[0];
    if (!item) return;
    guarded(function () {
      return api("POST", base() + "/labels", whoBody({ sentence_id: item.sentence_id, label: label }))
        .then(function (record) {
          if (state.named) setWho(record.annotator, true);
          state.items.shift();
          state.done.push(item);
          showFeedback(item, label);
          say("Saved " + NAMES[label] + ".");
          return next();
        }).then(function () {
          focusItem();
          refreshProgress().catch(fail);  // not awaited: the next answer need not wait for it
        });
    });
  }

  function skip() {
    var item = state.items[0];
    if (!item) return;
    guarded(function () {
      return api("POST", base() + "/skips", whoBody({ sentence_id: item.sentence_id })).then(function () {
        state.items.shift();
        hideFeedback();
        say("Skipped; it will not be offered to you again.");
        return next();
      }).then(focusItem);
    });
  }

  function undo() {
    var item = state.done[state.done.length - 1];
    if (!item) { say("Nothing to undo yet."); return; }
    guarded(function () {
      var back = function () {
        state.done.pop();
        state.items.unshift(item);
        hideFeedback();
        showCurrent();
        focusItem();
      };
      return api("DELETE", base() + "/labels/" + item.sentence_id + "?" + whoQuery()).then(function () {
        back();
        say("Label removed; answer this sentence again.");
        refreshProgress().catch(fail);
      }, function (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
        back();  // already gone (undone elsewhere): show it again all the same
        fail(err);
      });
    });
  }

  /* ---------- agreement ---------- */

  function loadAgreement() {
    var project = els.project.value || state.project;
    if (!project) { fail(new UserError("Choose a project first.", els.project)); return; }
    api("GET", "/v1/projects/" + enc(project) + "/agreement").then(function (data) {
      renderAgreement(project, data);
      say("Agreement for " + project + ": " + data.n_conflicts + (data.n_conflicts === 1 ? " conflict." : " conflicts."));
    }).catch(fail);
  }

  function renderAgreement(project, data) {
    var a = data.krippendorff_alpha;
    els.alpha.textContent = "Krippendorff's α: " + (a === null || a === undefined
      ? "not defined yet (needs sentences with two or more labels)"
      : a.toFixed(3) + " over " + data.sentences_with_two_or_more_labels + " sentences with two or more labels") + ".";
    var tbody = els.pairs.tBodies[0];
    tbody.replaceChildren();
    data.pairs.forEach(function (p) {
      var tr = make("tr");
      tr.append(make("td", null, p.annotators.join(" & ")), make("td", "num", String(p.n)),
        make("td", "num", pct(p.agreement)),
        make("td", "num", p.cohen_kappa === null ? "–" : p.cohen_kappa.toFixed(2)));
      tbody.appendChild(tr);
    });
    if (!data.pairs.length) {
      var row = make("tr"), cell = make("td", null, "No two annotators have labeled the same sentence yet.");
      cell.colSpan = 4;
      row.appendChild(cell);
      tbody.appendChild(row);
    }
    els.conflicts.replaceChildren();
    data.conflicts.forEach(function (c) { els.conflicts.appendChild(conflictItem(project, c)); });
    if (!data.conflicts.length) els.conflicts.appendChild(make("li", "muted", "No conflicts."));
    else if (data.n_conflicts > data.conflicts.length) {
      els.conflicts.appendChild(make("li", "muted", "Showing the first " + data.conflicts.length + " of " +
        data.n_conflicts + "."));
    }
  }

  function conflictItem(project, c) {
    var li = make("li", "conflict");
    li.dataset.sentenceId = String(c.sentence_id);
    li.appendChild(make("p", "conflict-text", c.text));
    li.appendChild(make("p", "meta", "Document " + c.doc_id + " · model: " + (NAMES[c.suggestion] || c.suggestion)));
    var ul = make("ul", "votes");
    Object.keys(c.labels).forEach(function (who) {
      var vote = make("li", c.labels[who]);
      vote.append(make("span", null, who + ": "), make("b", null, NAMES[c.labels[who]] || c.labels[who]));
      ul.appendChild(vote);
    });
    li.appendChild(ul);
    var gold = make("p", "gold");
    var group = make("div", "gold-buttons");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Set the gold label of sentence " + c.sentence_id);
    var show = function (label, by) {
      gold.textContent = label ? "Gold: " + NAMES[label] + (by ? " (set by " + by + ")" : "") : "No gold label yet.";
      gold.dataset.gold = label || "";
      group.querySelectorAll("button").forEach(function (b) {
        b.setAttribute("aria-pressed", b.dataset.label === label ? "true" : "false");
      });
    };
    LABELS.forEach(function (label) {
      var b = make("button", "gold-button " + label, "Gold: " + NAMES[label]);
      b.type = "button";
      b.dataset.label = label;
      b.addEventListener("click", function () { setGold(project, c.sentence_id, label, show); });
      group.appendChild(b);
    });
    li.append(gold, group);
    show(c.gold, null);
    return li;
  }

  function setGold(project, sentenceId, label, show) {
    var typed = state.named ? "" : els.annotator.value.trim();
    if (!typed && !AUTH_REQUIRED) {
      fail(new UserError("Type your name first: the gold label is recorded under it.", els.annotator));
      return;
    }
    var put = function (name) {
      var body = { label: label };
      if (name) body.annotator = name;
      return api("PUT", "/v1/projects/" + enc(project) + "/sentences/" + sentenceId + "/gold", body);
    };
    put(typed).catch(function (err) {
      if (!(err instanceof ApiError) || err.status !== 403 || !typed) throw err;
      setWho("", true);  // the key names the adjudicator
      return put("");
    }).then(function (g) {
      if (state.named) setWho(g.adjudicator, true);
      show(g.label, g.adjudicator);
      say("Gold label of sentence " + sentenceId + " set to " + NAMES[g.label] + ".");
    }).catch(fail);
  }

  /* ---------- tabs and keys ---------- */

  function selectTab(tab, focus) {
    [els.tabLabel, els.tabAgreement].forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    });
    if (focus) tab.focus();
    if (tab === els.tabAgreement) loadAgreement();
  }

  function isTextEntry(el) {
    if (!el || !el.closest) return false;
    if (el.closest("textarea, select, [contenteditable]")) return true;
    return el.tagName === "INPUT" && !/^(checkbox|radio|button|submit)$/.test(el.type);
  }

  function onKey(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape" && state.running && isTextEntry(e.target)) { e.preventDefault(); focusItem(); return; }
    if (isTextEntry(e.target) || !state.running || els.panelLabel.hidden) return;
    var index = ["1", "2", "3"].indexOf(e.key);
    var action = index >= 0 && index < LABELS.length ? function () { answer(LABELS[index]); }
      : (e.key === "u" || e.key === "U" || e.key === "Backspace") ? undo
        : (e.key === "s" || e.key === "S") ? skip : null;
    if (!action) return;
    e.preventDefault();
    if (!e.repeat) action();
  }

  function init() {
    els = {
      form: $("setup-form"), apiKey: $("api-key"), apiKeyField: $("api-key-field"),
      annotator: $("annotator"), annotatorField: $("annotator-field"), named: $("named"),
      namedAnnotator: $("named-annotator"), project: $("project"), showSuggestion: $("show-suggestion"),
      status: $("status"), tabLabel: $("tab-label"), tabAgreement: $("tab-agreement"),
      panelLabel: $("panel-label"), progress: $("progress"), idle: $("idle"), empty: $("empty"),
      item: $("item"), docId: $("doc-id"), flags: $("flags"), before: $("context-before"), text: $("item-text"),
      after: $("context-after"), suggestion: $("suggestion"), answer: $("answer"), skip: $("skip"),
      undo: $("undo"), feedback: $("feedback"), alpha: $("alpha"), pairs: $("pairs"), conflicts: $("conflicts")
    };
    els.labelButtons = Array.prototype.slice.call(els.answer.querySelectorAll("button[data-label]"));
    els.empty.tabIndex = -1;

    els.annotator.value = recall(KEY_NAME) || "";
    els.showSuggestion.checked = recall(KEY_SUGGEST) === "true";

    els.form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
    // Enter on a select does not submit a form by itself.
    els.project.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); submit(); }
    });
    els.project.addEventListener("change", function () {
      els.project.removeAttribute("aria-invalid");
      if (state.running && els.project.value !== state.project) {
        stop();
        say("Press Enter or Start labeling to switch to " + (els.project.value || "another project") + ".");
      }
    });
    els.apiKey.addEventListener("change", function () {
      if (els.apiKey.value.trim()) loadProjects().catch(fail);
    });
    els.showSuggestion.addEventListener("change", function () {
      remember(KEY_SUGGEST, els.showSuggestion.checked ? "true" : "false");
      if (state.items[0]) els.suggestion.hidden = !els.showSuggestion.checked;
    });
    els.labelButtons.forEach(function (b) {
      b.addEventListener("click", function () { answer(b.dataset.label); });
    });
    els.skip.addEventListener("click", skip);
    els.undo.addEventListener("click", undo);
    [els.tabLabel, els.tabAgreement].forEach(function (tab) {
      tab.addEventListener("click", function () { selectTab(tab, false); });
      tab.addEventListener("keydown", function (e) {
        if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
          e.preventDefault();
          selectTab(tab === els.tabLabel ? els.tabAgreement : els.tabLabel, true);
        }
      });
    });
    $("refresh-agreement").addEventListener("click", loadAgreement);
    document.addEventListener("keydown", onKey);

    if (AUTH_REQUIRED && !els.apiKey.value.trim()) say("Enter your API key and press Enter to load the projects.");
    else loadProjects().catch(fail);
    document.body.classList.add("js-ready");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
