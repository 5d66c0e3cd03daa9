// civgrid's pages: light progressive enhancement over server-rendered HTML. Every action goes
// to the JSON API (/api/v1/…); errors are shown in the reader's language by their stable code,
// falling back to the server's message. No outside calls.
"use strict";
(function () {
  const I = JSON.parse(document.getElementById("i18n").textContent);
  const t = k => I.text[k] || k;

  function errorText(data, status) {
    const e = data && data.error;
    if (e && I.errors[e.code]) return I.errors[e.code];
    if (e && e.message) return e.message;
    return t("common.error") + " (" + status + ")";
  }

  // Calls the API; resolves to the JSON body, or rejects with an Error whose message is for people.
  // `anonymous`: no session cookie (a citizen's online application is not a window's).
  async function api(method, url, body, anonymous) {
    const init = { method, credentials: anonymous ? "omit" : "same-origin", headers: { accept: "application/json" } };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(url, init);
    } catch (_) {
      throw new Error(t("common.network"));
    }
    const text = await r.text();
    let data = null;
    if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
    if (!r.ok) {
      const err = new Error(errorText(data, r.status));
      err.code = data && data.error ? data.error.code : undefined;
      err.details = data && data.error ? data.error.details : undefined;
      throw err;
    }
    return data;
  }

  // Sends the chosen photos of a file input to a case, one request each (the API takes the
  // image bytes as the body). `report`: the answer to a report — a citizen's, made without a
  // session, carries the key its photos are sent with. Resolves to how many were sent.
  async function sendPhotos(caseId, input, report) {
    if (!input || !input.files) return 0;
    const keyed = report && report.photo_key;
    const url = keyed ? `/api/v1/public/cases/${encodeURIComponent(report.case.number)}/photos` : `/api/v1/cases/${caseId}/photos`;
    let n = 0;
    for (const file of input.files) {
      const headers = { "content-type": file.type || "application/octet-stream" };
      if (keyed) headers["x-photo-key"] = report.photo_key;
      let r;
      try {
        r = await fetch(url, { method: "POST", credentials: keyed ? "omit" : "same-origin", headers, body: file });
      } catch (_) {
        throw new Error(t("common.network"));
      }
      if (!r.ok) {
        let data = null;
        try { data = await r.json(); } catch (_) { data = null; }
        throw new Error(errorText(data, r.status));
      }
      n += 1;
    }
    // Sent: a retry of the form must not send them twice.
    input.value = "";
    return n;
  }

  // Photos of a case, read when the reader opens them.
  document.querySelectorAll("details[data-photos]").forEach(d => {
    d.addEventListener("toggle", async () => {
      if (!d.open || d.dataset.loaded) return;
      d.dataset.loaded = "1";
      const list = d.querySelector(".photo-list");
      try {
        const v = await api("GET", `/api/v1/cases/${d.dataset.photos}/photos`);
        if (!v.photos.length) { list.textContent = t("photo.none"); return; }
        v.photos.forEach((p, i) => {
          const img = document.createElement("img");
          img.src = `/api/v1/cases/${d.dataset.photos}/photos/${p.id}`;
          img.alt = `${t("photo.alt")} ${i + 1}`;
          img.loading = "lazy";
          list.append(img);
        });
      } catch (e) {
        list.textContent = e.message;
      }
    });
  });

  function busy(form, on) {
    form.querySelectorAll("button[type=submit]").forEach(b => { b.disabled = on; });
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "web-" + Array.from(b, x => x.toString(16).padStart(2, "0")).join("");
  }

  // A message that survives the reload after an action.
  const FLASH = "civgrid.flash";
  const flashEl = document.getElementById("flash");
  if (flashEl) {
    const msg = sessionStorage.getItem(FLASH);
    if (msg) { flashEl.textContent = msg; sessionStorage.removeItem(FLASH); }
  }

  // A self-service terminal: back to the kiosk's start after two minutes untouched, so the
  // next person never finds what the last one typed.
  if (document.body.dataset.kiosk === "true" && location.pathname !== "/kiosk") {
    let idle = null;
    const again = () => {
      clearTimeout(idle);
      idle = setTimeout(() => { location.href = "/kiosk"; }, 120000);
    };
    ["pointerdown", "keydown", "input", "scroll"].forEach(e => document.addEventListener(e, again, { passive: true }));
    again();
  }

  // Sign-in.
  const login = document.getElementById("login-form");
  if (login) {
    login.elements.username.focus();
    login.addEventListener("submit", async ev => {
      ev.preventDefault();
      const out = login.querySelector("[data-error]");
      out.textContent = "";
      busy(login, true);
      const el = login.elements;
      const username = el.username.value.trim();
      const box = document.getElementById("new-password-box");
      try {
        // A one-time password set by the security administrator is changed before the
        // first session; then the account signs in with its own.
        let password = el.password.value;
        if (!box.hidden && el.new_password.value) {
          await api("POST", "/api/v1/auth/password", { username, old_password: password, new_password: el.new_password.value });
          password = el.new_password.value;
        }
        await api("POST", "/api/v1/auth/login", { username, password });
        location.assign(login.dataset.next || "/workbench");
      } catch (e) {
        if (e.code === "password_change_required") {
          box.hidden = false;
          el.new_password.focus();
        }
        out.textContent = e.message;
        busy(login, false);
      }
    });
  }

  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      try { await api("POST", "/api/v1/auth/logout"); } catch (_) { /* the session is gone either way */ }
      location.assign("/login");
    });
  }

  // Case actions: one form per action, sent as one transition.
  document.querySelectorAll("form.act").forEach(f => {
    f.noValidate = true;
    f.addEventListener("submit", async ev => {
      ev.preventDefault();
      const el = f.elements;
      const action = f.dataset.action;
      const body = { action };
      if (el.note && el.note.value.trim()) body.note = el.note.value.trim();
      if (el.class_code && el.class_code.value) body.class_code = el.class_code.value;
      if (el.lead_department && el.lead_department.value) body.lead_department = el.lead_department.value;
      if (el.duplicate_of && el.duplicate_of.value.trim()) body.duplicate_of = Number(el.duplicate_of.value.trim());
      if (el.extension_days && el.extension_days.value) body.extension_days = Number(el.extension_days.value);
      if (el.approve) body.approve = el.approve.checked;
      if (el.rating) body.rating = Number(el.rating.value);
      if (el.lng && el.lat && (el.lng.value.trim() || el.lat.value.trim())) {
        body.lng = Number(el.lng.value); body.lat = Number(el.lat.value); body.datum = el.datum ? el.datum.value : "gcj02";
      }
      const out = f.querySelector("[data-error]");
      out.textContent = "";
      busy(f, true);
      const number = f.closest("[data-case-number]").dataset.caseNumber;
      try {
        await sendPhotos(f.dataset.case, el.photos);
        const v = await api("POST", `/api/v1/cases/${f.dataset.case}/transitions`, body);
        sessionStorage.setItem(FLASH, `${t("common.done")}${t("common.colon")}${number} ${t("action." + action)} → ${t("state." + v.state)}`);
        location.reload();
      } catch (e) {
        out.textContent = e.message;
        busy(f, false);
      }
    });
  });

  // Reporting a problem (grid worker and citizen): class, words, a place from the map or typed.
  const rf = document.getElementById("report-form");
  if (rf) {
    const el = rf.elements;
    const located = document.getElementById("r-located");
    const mine = new Set(Array.from(document.querySelectorAll("[data-my-grid]"), e => e.dataset.myGrid));
    let map = null;
    let key = newKey();
    const locate = async () => {
      const lng = parseFloat(el.lng.value), lat = parseFloat(el.lat.value);
      if (!isFinite(lng) || !isFinite(lat)) { located.textContent = ""; return; }
      try {
        const v = await api("GET", `/api/v1/locate?lng=${lng}&lat=${lat}&datum=${encodeURIComponent(el.datum.value)}`);
        located.textContent = `${t("report.located")}${t("common.colon")}${v.grid.name} · ${v.grid.code}`;
        if (map) map.highlight(v.grid.code);
      } catch (e) {
        located.textContent = e.message;
        if (map) map.highlight(null);
      }
    };
    const svg = document.getElementById("pick-map");
    CivMap.draw(svg, {
      load: url => api("GET", url),
      zoom: { in: t("map.zoom_in"), out: t("map.zoom_out"), reset: t("map.zoom_reset") },
      classOf: f => (mine.has(f.properties.code) ? "mine" : ""),
      onPick: (lng, lat) => {
        el.lng.value = lng.toFixed(6); el.lat.value = lat.toFixed(6); el.datum.value = "gcj02";
        locate();
      },
    }).then(m => {
      map = m;
      // A grid worker starts on their own grid and its neighbours.
      if (mine.size) m.zoomTo([...mine][0], 8);
    }).catch(e => { located.textContent = e.message; });
    ["lng", "lat", "datum"].forEach(n => el[n].addEventListener("change", locate));
    const gps = document.getElementById("r-gps");
    if (!navigator.geolocation) gps.hidden = true;
    gps.addEventListener("click", () => {
      navigator.geolocation.getCurrentPosition(p => {
        el.lng.value = p.coords.longitude.toFixed(6); el.lat.value = p.coords.latitude.toFixed(6); el.datum.value = "wgs84";
        locate();
      }, () => { located.textContent = t("report.gps_failed"); }, { enableHighAccuracy: true, timeout: 15000 });
    });
    rf.addEventListener("submit", async ev => {
      ev.preventDefault();
      const out = rf.querySelector("[data-error]");
      const result = document.getElementById("report-result");
      out.textContent = "";
      const body = { description: el.description.value.trim(), channel: rf.dataset.channel, idempotency_key: key };
      for (const n of ["class_code", "address", "reporter_name", "reporter_contact"]) {
        if (el[n] && el[n].value.trim()) body[n] = el[n].value.trim();
      }
      if (el.lng.value.trim() || el.lat.value.trim()) {
        body.lng = Number(el.lng.value); body.lat = Number(el.lat.value); body.datum = el.datum.value;
      }
      busy(rf, true);
      try {
        const v = await api("POST", "/api/v1/reports", body);
        key = newKey();
        let sent = 0, photoError = null;
        try { sent = await sendPhotos(v.case.id, el.photos, v); } catch (e) { photoError = e.message; }
        result.replaceChildren();
        const p = document.createElement("p");
        p.className = "ok";
        p.append(t("report.sent") + " ");
        const strong = document.createElement("strong");
        strong.id = "report-number";
        strong.textContent = v.case.number;
        p.append(strong);
        const keep = document.createElement("p");
        keep.className = "muted";
        keep.textContent = t("report.keep");
        result.append(p, keep);
        if (rf.dataset.channel === "web") {
          const follow = document.createElement("a");
          follow.id = "report-follow";
          follow.href = `/portal/track?number=${encodeURIComponent(v.case.number)}`;
          follow.textContent = t("portal.follow");
          result.append(follow);
        }
        if (sent || photoError) {
          const ph = document.createElement("p");
          ph.id = "report-photos";
          ph.className = photoError ? "error" : "muted";
          ph.textContent = photoError || `${sent} ${t("photo.sent")}`;
          result.append(ph);
        }
        if (v.duplicates && v.duplicates.length) {
          const h = document.createElement("p");
          h.textContent = t("report.duplicates") + t("common.colon");
          const ul = document.createElement("ul");
          for (const d of v.duplicates) {
            const li = document.createElement("li");
            li.textContent = `${d.number}（${Math.round(d.distance_m)} m）`;
            ul.append(li);
          }
          result.append(h, ul);
        }
        el.description.value = "";
        if (el.address) el.address.value = "";
        if (el.photos) el.photos.value = "";
        result.focus();
        result.scrollIntoView({ block: "center" });
      } catch (e) {
        out.textContent = e.message;
      } finally {
        busy(rf, false);
      }
    });
  }

  // The command centre: live cases on the grid map, coloured by where they stand.
  const cm = document.getElementById("command-map");
  if (cm) {
    const GROUP = {
      received: "intake", accepted: "intake", filed: "dispatch", returned: "dispatch",
      dispatched: "department", handling: "department", rework: "department", suspended: "department",
      handled: "verify", verified: "verify", closed: "closed", refused: "ended", merged: "ended",
    };
    const WITH_DEPARTMENT = new Set(["dispatched", "handling", "rework"]);
    const cases = new Map();
    const liveEl = document.getElementById("live");
    const changes = document.getElementById("changes");
    let map = null;
    let shownGrid = null;
    const place = c => {
      if (!map || c.lng == null || c.lat == null) return;
      const overdue = WITH_DEPARTMENT.has(c.state) && c.handle_deadline && new Date(c.handle_deadline) < new Date();
      const m = map.marker(c.id, c.lng, c.lat, "g-" + GROUP[c.state] + (overdue ? " overdue" : ""),
        `${c.number} ${t("state." + c.state)}`);
      m.dataset.caseNumber = c.number;
      m.dataset.state = c.state;
    };
    // Heat by class: grids coloured by how many open cases of the chosen class they hold.
    const heatSel = document.getElementById("heat-class");
    const heat = () => {
      if (!map || !heatSel) return;
      const by = new Map();
      if (heatSel.value) {
        cases.forEach(c => {
          if (c.class_code !== heatSel.value || !c.grid_code || GROUP[c.state] === "closed" || GROUP[c.state] === "ended") return;
          by.set(c.grid_code, (by.get(c.grid_code) || 0) + 1);
        });
      }
      map.heat(by);
      let total = 0;
      by.forEach(n => { total += n; });
      document.getElementById("heat-total").textContent = heatSel.value
        ? `${t("command.heat_total")}${t("common.colon")}${total} / ${by.size} ${t("map.grids")}` : "";
    };
    if (heatSel) heatSel.addEventListener("change", heat);
    const counts = () => {
      const n = {};
      cases.forEach(c => { n[GROUP[c.state]] = (n[GROUP[c.state]] || 0) + 1; });
      document.querySelectorAll("[data-group-count]").forEach(e => { e.textContent = n[e.dataset.groupCount] || 0; });
      heat();
    };
    // The latest cases of every state, and every live case with a place (up to 10,000).
    const fetchCases = () => Promise.all([api("GET", "/api/v1/cases?limit=500"), api("GET", "/api/v1/map/cases?limit=10000")]);
    const load = async () => show(await fetchCases());
    const show = ([recent, live]) => {
      // The map's data comes as rows of `live.fields`.
      const rows = live.cases.map(r => Object.fromEntries(live.fields.map((f, i) => [f, r[i]])));
      for (const c of recent.cases.concat(rows)) {
        const known = cases.get(c.id);
        if (!known || known.updated_at <= c.updated_at) cases.set(c.id, c);
      }
      cases.forEach(place);
      counts();
      document.getElementById("shown").textContent = `${t("command.shown")}${t("common.colon")}${cases.size} ${t("case.count")}`;
    };
    const addChange = e => {
      const li = document.createElement("li");
      li.dataset.caseNumber = e.number;
      li.dataset.state = e.state;
      const at = new Date(e.at);
      const text = `${at.toLocaleTimeString(I.lang === "zh" ? "zh-CN" : "en-GB")} ${e.number} ${t("action." + e.action)} → ${t("state." + e.state)}`;
      if (e.grid_code) {
        // A button, so the keyboard reaches the grid panel too.
        const b = document.createElement("button");
        b.type = "button";
        b.className = "link";
        b.textContent = text;
        b.addEventListener("click", () => showGrid(e.grid_code));
        li.append(b);
      } else {
        li.textContent = text;
      }
      changes.prepend(li);
      while (changes.children.length > 30) changes.lastChild.remove();
    };
    // Subscribe before the first read, so no change falls between the two.
    const es = new EventSource("/api/v1/events");
    es.addEventListener("open", () => { liveEl.dataset.live = "on"; liveEl.textContent = t("command.live"); });
    es.addEventListener("error", () => { liveEl.dataset.live = "off"; liveEl.textContent = t("command.offline"); });
    es.addEventListener("lagged", () => { load().catch(() => {}); });
    es.addEventListener("case", async ev => {
      const e = JSON.parse(ev.data);
      let c = cases.get(e.case_id);
      if (!c) {
        try { c = await api("GET", `/api/v1/cases/${e.case_id}`); } catch (_) { return; }
      }
      c.state = e.state;
      c.updated_at = e.at;
      cases.set(e.case_id, c);
      place(c);
      counts();
      addChange(e);
      // Keep the panel current, unless the commander is typing a note in it.
      const typing = detail.contains(document.activeElement) && document.activeElement.tagName === "INPUT";
      if (shownGrid !== null && c.grid_code === shownGrid && !typing) showGrid(shownGrid);
    });
    // A grid's cases and workers, with one-click supervision of its open cases.
    const detail = document.getElementById("grid-detail");
    const canSupervise = document.getElementById("grid-panel").dataset.supervise === "true";
    const OPEN = new Set(Object.keys(GROUP).filter(s => !["closed", "refused", "merged"].includes(s)));
    let asked = 0;
    const showGrid = async code => {
      shownGrid = code;
      if (map) map.highlight(code);
      // Only the latest request draws (changes may arrive while a grid is being read).
      const mine = ++asked;
      let g;
      try { g = await api("GET", `/api/v1/grids/${code}`); } catch (e) { if (mine === asked) detail.textContent = e.message; return; }
      if (mine !== asked) return;
      const h = document.createElement("h3");
      h.textContent = `${g.name} · ${g.code}`;
      const workers = document.createElement("p");
      workers.textContent = `${t("command.workers")}${t("common.colon")}` + (g.workers.length
        ? g.workers.map(w => w.display_name + (w.kind === "part_time" ? `（${t("command.part_time")}）` : "")).join("、")
        : t("common.none"));
      const title = document.createElement("h4");
      title.textContent = t("command.grid_cases");
      const ul = document.createElement("ul");
      ul.className = "grid-cases";
      const here = [...cases.values()].filter(c => c.grid_code === code).sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
      if (!here.length) { const li = document.createElement("li"); li.textContent = t("common.none"); ul.append(li); }
      for (const c of here) {
        const li = document.createElement("li");
        li.dataset.caseNumber = c.number;
        li.append(`${c.number} ${t("state." + c.state)}${c.supervised ? " · " + t("command.supervised") : ""}`);
        if (canSupervise && OPEN.has(c.state) && !c.supervised) {
          const f = document.createElement("form");
          f.className = "supervise";
          const id = `sup-${c.id}`;
          const label = document.createElement("label");
          label.htmlFor = id;
          label.textContent = t("command.supervise_note");
          const input = document.createElement("input");
          input.id = id;
          input.name = "note";
          const b = document.createElement("button");
          b.type = "submit";
          b.className = "primary";
          b.textContent = t("action.supervise");
          const err = document.createElement("p");
          err.className = "error";
          err.setAttribute("role", "alert");
          f.append(label, input, b, err);
          f.addEventListener("submit", async ev => {
            ev.preventDefault();
            err.textContent = "";
            try {
              await api("POST", `/api/v1/cases/${c.id}/transitions`, { action: "supervise", note: input.value.trim() });
              c.supervised = true;
              f.replaceWith(document.createTextNode(" · " + t("command.supervised")));
            } catch (e) {
              err.textContent = e.message;
            }
          });
          li.append(f);
        }
        ul.append(li);
      }
      detail.replaceChildren(h, workers, title, ul);
      document.getElementById("grid-hint").hidden = true;
    };
    // The cases are read while the grids are read and drawn.
    const early = fetchCases();
    early.catch(() => {});
    CivMap.draw(cm, {
      load: url => api("GET", url),
      boundaries: true,
      zoom: { in: t("map.zoom_in"), out: t("map.zoom_out"), reset: t("map.zoom_reset") },
      onGrid: showGrid,
      onMarker: key => { const c = cases.get(Number(key)); if (c && c.grid_code) showGrid(c.grid_code); },
    }).then(m => { map = m; return early; }).then(show)
      // When the grids and the cases are drawn (ms since navigation; the page-speed benchmark reads it).
      .then(() => { performance.mark("civgrid:cases"); cm.dataset.drawn = String(Math.round(performance.now())); })
      .catch(e => { document.getElementById("shown").textContent = e.message; });

    // Indicators per area over the last 30 days; read again a moment after changes arrive.
    // The API reads a bare date as local (China Standard Time) midnight: name local dates, so
    // "tomorrow" covers all of today even in the hours after local midnight.
    const day = d => new Date(d.getTime() + 8 * 3600000).toISOString().slice(0, 10);
    const pct = v => (v == null ? "—" : (v * 100).toFixed(1) + "%");
    const indicators = () => {
      const to = new Date(Date.now() + 86400000), from = new Date(Date.now() - 30 * 86400000);
      document.querySelectorAll("#indicators tr[data-area]").forEach(async row => {
        const cells = row.querySelectorAll("td");
        try {
          const v = await api("GET", `/api/v1/indicators?scope=area:${row.dataset.area}&from=${day(from)}&to=${day(to)}`);
          const i = v.indicators;
          [String(i.filed), pct(i.closure_rate), pct(i.on_time_closure_rate), pct(i.handling_rate), pct(i.rework_rate)]
            .forEach((s, k) => { cells[k].textContent = s; });
        } catch (e) {
          cells[0].textContent = e.message;
        }
      });
    };
    // Departments side by side: on-time closure as bars, with the figures in words.
    const departments = () => {
      const to = new Date(Date.now() + 86400000), from = new Date(Date.now() - 30 * 86400000);
      document.querySelectorAll("#dept-bars li[data-department]").forEach(async li => {
        const value = li.querySelector(".bar-value"), fill = li.querySelector(".bar-fill");
        try {
          const v = await api("GET", `/api/v1/indicators?scope=department:${li.dataset.department}&from=${day(from)}&to=${day(to)}`);
          const i = v.indicators;
          const rate = i.on_time_closure_rate;
          fill.style.width = rate == null ? "0" : (rate * 100).toFixed(1) + "%";
          const figures = `${i.closed_on_time}/${i.filed}`;
          value.textContent = I.lang === "zh" ? `${pct(rate)}（${figures}）` : `${pct(rate)} (${figures})`;
        } catch (e) {
          value.textContent = e.message;
        }
      });
    };
    indicators();
    departments();
    let again = null;
    es.addEventListener("case", () => {
      if (again === null) again = setTimeout(() => { again = null; indicators(); departments(); }, 3000);
    });
  }

  // Staff queues: say when something changed, rather than reloading under the reader's hands.
  const queues = document.querySelector(".queues");
  if (queues && document.getElementById("logout")) {
    const es = new EventSource("/api/v1/events");
    es.addEventListener("case", () => {
      if (document.getElementById("stale")) return;
      const p = document.createElement("p");
      p.id = "stale";
      p.className = "stale";
      p.setAttribute("role", "status");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "ghost-dark";
      b.textContent = t("queue.refresh");
      b.addEventListener("click", () => location.reload());
      p.append(t("queue.changed") + " ", b);
      queues.before(p);
    });
  }

  // The map page (/): where is this point?
  const gm = document.getElementById("grid-map");
  if (gm) {
    const out = document.getElementById("map-result");
    const form = document.getElementById("map-locate");
    let map = null;
    const row = (label, value, cls) => {
      const div = document.createElement("div");
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = value;
      if (cls) dd.className = cls;
      div.append(dt, dd);
      out.append(div);
    };
    const show = async (lng, lat) => {
      form.elements.lng.value = lng.toFixed(6);
      form.elements.lat.value = lat.toFixed(6);
      out.replaceChildren();
      try {
        const v = await api("GET", `/api/v1/locate?lng=${lng}&lat=${lat}&datum=gcj02`);
        row(t("common.grid"), `${v.grid.name} · ${v.grid.code}`);
        row(t("map.community"), `${v.community.name} · ${v.community.code}`);
        row(t("map.subdistrict"), `${v.subdistrict.name} · ${v.subdistrict.code}`);
        row(t("map.district"), `${v.district.name} · ${v.district.code}`);
        row(t("map.point"), `${lng.toFixed(6)}, ${lat.toFixed(6)}`);
        if (map) map.highlight(v.grid.code);
      } catch (e) {
        row(t("common.error"), e.message, "error");
        if (map) map.highlight(null);
      }
    };
    CivMap.draw(gm, { load: url => api("GET", url), onPick: show, zoom: { in: t("map.zoom_in"), out: t("map.zoom_out"), reset: t("map.zoom_reset") } })
      .then(m => { map = m; document.getElementById("grid-count").textContent = `${m.count} ${t("map.grids")}`; })
      .catch(e => { row(t("common.error"), e.message, "error"); });
    form.addEventListener("submit", ev => {
      ev.preventDefault();
      const lng = parseFloat(form.elements.lng.value), lat = parseFloat(form.elements.lat.value);
      if (isFinite(lng) && isFinite(lat)) show(lng, lat);
    });
  }
  // ---------------------------------------------------------------------------------------
  // One-window services: the item picker, acceptance (window) or online application, the
  // refusal, the approver's checklist, the citizen's rating. Every write goes to /api/v1.

  document.querySelectorAll("select[data-autosubmit]").forEach(sel => {
    sel.addEventListener("change", () => { if (sel.value) sel.form.submit(); });
  });

  const mk = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };

  // A file as base64 (the API takes material bytes so).
  const base64Of = file => new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => { const s = String(r.result); resolve(s.slice(s.indexOf(",") + 1)); };
    r.onerror = () => reject(new Error(t("common.error")));
    r.readAsDataURL(file);
  });

  const af = document.getElementById("apply-form");
  if (af) {
    const atWindow = af.dataset.channel === "window";
    const result = document.getElementById("apply-result");
    const applicant = () => {
      const a = { id_number: af.elements.id_number.value.trim().toUpperCase(), name: af.elements.name.value.trim() };
      if (af.elements.contact.value.trim()) a.contact = af.elements.contact.value.trim();
      return a;
    };
    const noticeLink = (href, text) => {
      const a = mk("a", text);
      a.id = "notice-link";
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener";
      return a;
    };
    // At the window, the applicant's e-licence library is read as soon as the number is typed,
    // so the clerk sees which materials the government already holds.
    const library = document.getElementById("a-library");
    const readLibrary = async () => {
      const id = af.elements.id_number.value.trim().toUpperCase();
      af.querySelectorAll("[data-reuse]").forEach(p => { p.textContent = ""; });
      library.textContent = "";
      if (!atWindow || id.length !== 18) return;
      try {
        const v = await api("GET", `/api/v1/applicants/${encodeURIComponent(id)}/licences`);
        if (!v.licences.length) { library.textContent = t("svc.library_none"); return; }
        library.textContent = `${t("svc.library_found")}${t("common.colon")}` +
          v.licences.map(c => `${(c.content && c.content.type_name) || c.type} ${c.number}`).join("；");
        af.querySelectorAll(".material[data-licence]").forEach(m => {
          const held = v.licences.find(c => c.type === m.dataset.licence);
          if (m.dataset.licence && held) {
            m.querySelector("[data-reuse]").textContent = `✓ ${t("svc.library_has")}${t("common.colon")}${held.number}`;
          }
        });
      } catch (e) {
        library.textContent = e.message;
      }
    };
    af.elements.id_number.addEventListener("change", readLibrary);

    af.addEventListener("submit", async ev => {
      ev.preventDefault();
      const out = af.querySelector("[data-error]");
      out.textContent = "";
      result.replaceChildren();
      busy(af, true);
      try {
        const materials = [];
        for (const m of af.querySelectorAll(".material")) {
          const file = m.querySelector("input[type=file]");
          const paper = m.querySelector("input[name=paper]");
          if (file && file.files.length) {
            const f = file.files[0];
            const ext = (f.name.split(".").pop() || "").toLowerCase();
            materials.push({ code: m.dataset.material, format: ext === "jpeg" ? "jpg" : ext, content_base64: await base64Of(f) });
          } else if (paper && paper.checked) {
            materials.push({ code: m.dataset.material, medium: "paper", copies: 1 });
          }
        }
        const body = { item_code: af.dataset.item, applicant: applicant(), materials };
        if (atWindow) body.window = af.elements.window.value.trim();
        const v = await api("POST", "/api/v1/service-applications", body, !atWindow);
        if (v.outcome === "accepted") {
          const a = v.application;
          const p = mk("p", `${atWindow ? t("svc.accepted") : t("svc.submitted_online")} `, "ok");
          const strong = mk("strong", a.number);
          strong.id = "apply-number";
          p.append(strong);
          result.append(p);
          // The access key is shown once: with the number it follows the application, rates
          // it and fetches the e-licence it issues (the ID number alone proves nothing).
          const kp = mk("p", `${t("svc.access_key")}${t("common.colon")}`, "ok");
          const key = mk("strong", v.access_key);
          key.id = "apply-key";
          kp.append(key);
          result.append(kp, mk("p", t("svc.key_once"), "muted"));
          const reused = a.materials.filter(m => m.source === "licence" || m.source === "earlier");
          if (reused.length) {
            result.append(mk("p", t("svc.reused_now") + t("common.colon")));
            const ul = mk("ul");
            ul.id = "apply-reused";
            for (const m of reused) {
              const li = mk("li", `${m.name} — ${t("svc.source." + m.source)}${m.licence_number ? " " + m.licence_number : ""}`);
              li.dataset.material = m.code;
              li.dataset.source = m.source;
              ul.append(li);
            }
            result.append(ul);
          }
          if (atWindow) {
            const open = mk("a", t("svc.open"));
            open.id = "apply-open";
            open.href = `/workbench/window?number=${encodeURIComponent(a.number)}`;
            result.append(open);
          } else {
            result.append(mk("p", t("svc.keep_number"), "muted"));
          }
          af.querySelectorAll("input[type=file]").forEach(f => { f.value = ""; });
        } else {
          const n = v.notice;
          result.append(mk("p", t("svc.missing") + t("common.colon"), "error"));
          const ul = mk("ul");
          ul.id = "apply-missing";
          for (const m of n.missing) {
            const li = mk("li", `${m.name}（${m.count}）${m.note ? " " + m.note : ""}`);
            li.dataset.material = m.code;
            ul.append(li);
          }
          result.append(ul, noticeLink(n.document, t("svc.print_notice")));
        }
        result.focus();
        result.scrollIntoView({ block: "center" });
      } catch (e) {
        out.textContent = e.message;
      } finally {
        busy(af, false);
      }
    });

    const rfz = document.getElementById("refuse-form");
    if (rfz) {
      rfz.addEventListener("submit", async ev => {
        ev.preventDefault();
        const out = rfz.querySelector("[data-error]");
        out.textContent = "";
        result.replaceChildren();
        busy(rfz, true);
        try {
          const n = await api("POST", "/api/v1/service-refusals", {
            item_code: af.dataset.item, applicant: applicant(), reason: rfz.elements.reason.value.trim(), window: af.elements.window.value.trim(),
          });
          result.append(mk("p", `${t("svc.refused")} ${n.number}`, "ok"), noticeLink(n.document, t("svc.print_refusal")));
          result.focus();
        } catch (e) {
          out.textContent = e.message;
        } finally {
          busy(rfz, false);
        }
      });
    }
  }

  // The approver: every criterion marked met or not, then approve or reject.
  document.querySelectorAll("form.decide").forEach(f => {
    f.addEventListener("submit", async ev => {
      ev.preventDefault();
      const out = f.querySelector("[data-error]");
      out.textContent = "";
      const decision = ev.submitter ? ev.submitter.value : "approve";
      const checklist = [];
      for (const c of f.querySelectorAll("[data-criterion]")) {
        const code = c.dataset.criterion;
        const chosen = c.querySelector(`input[name="met-${CSS.escape(code)}"]:checked`);
        if (!chosen) { out.textContent = t("approve.choose_all"); return; }
        const item = { code, met: chosen.value === "yes" };
        const note = f.elements[`note-${code}`].value.trim();
        if (note) item.note = note;
        checklist.push(item);
      }
      const body = { step: Number(f.dataset.step), decision, checklist };
      if (f.elements.note.value.trim()) body.note = f.elements.note.value.trim();
      busy(f, true);
      try {
        const v = await api("POST", `/api/v1/service-applications/${encodeURIComponent(f.dataset.number)}/decisions`, body);
        sessionStorage.setItem(FLASH, `${t("approve.decided")}${t("common.colon")}${v.number} → ${t("svc.state." + v.state)}`);
        location.reload();
      } catch (e) {
        out.textContent = e.message;
        busy(f, false);
      }
    });
  });

  // 好差评整改: the unit replies with what it fixed and the callback it made, or appeals.
  const rectForm = (sel, path, fields, done) => document.querySelectorAll(sel).forEach(f => {
    f.addEventListener("submit", async ev => {
      ev.preventDefault();
      const out = f.querySelector("[data-error]");
      out.textContent = "";
      const body = {};
      for (const k of fields) body[k] = f.elements[k].value.trim();
      busy(f, true);
      try {
        await api("POST", `/api/v1/service-rectifications/${encodeURIComponent(f.dataset.id)}/${path}`, body);
        sessionStorage.setItem(FLASH, `${t(done)}${t("common.colon")}#${f.dataset.id}`);
        location.reload();
      } catch (e) {
        out.textContent = e.message;
        busy(f, false);
      }
    });
  });
  rectForm("form.rect-reply", "reply", ["reply", "callback_note"], "rect.replied");
  rectForm("form.rect-appeal", "appeal", ["reason"], "rect.appealed");
  // The administrator decides an appeal: upheld voids the rating, dismissed reopens the task.
  document.querySelectorAll("form.appeal-decision").forEach(f => {
    f.addEventListener("submit", async ev => {
      ev.preventDefault();
      const out = f.querySelector("[data-error]");
      out.textContent = "";
      const choice = f.querySelector("input[name=upheld]:checked");
      if (!choice) { out.textContent = t("rect.choose"); return; }
      busy(f, true);
      try {
        await api("POST", `/api/v1/service-rectifications/${encodeURIComponent(f.dataset.id)}/appeal-decision`,
          { upheld: choice.value === "true", note: f.elements.note.value.trim() });
        sessionStorage.setItem(FLASH, `${t("rect.decided")}${t("common.colon")}#${f.dataset.id}`);
        location.reload();
      } catch (e) {
        out.textContent = e.message;
        busy(f, false);
      }
    });
  });

  // Special steps (特殊环节): suspend with the step's name, resume from the list.
  document.querySelectorAll("form.suspend").forEach(f => {
    f.addEventListener("submit", async ev => {
      ev.preventDefault();
      const out = f.querySelector("[data-error]");
      out.textContent = "";
      busy(f, true);
      const body = { special_step: f.elements.special_step.value };
      if (f.elements.note.value.trim()) body.note = f.elements.note.value.trim();
      try {
        await api("POST", `/api/v1/service-applications/${encodeURIComponent(f.dataset.number)}/suspend`, body);
        sessionStorage.setItem(FLASH, `${t("approve.suspended_done")}${t("common.colon")}${f.dataset.number} ${body.special_step}`);
        location.reload();
      } catch (e) {
        out.textContent = e.message;
        busy(f, false);
      }
    });
  });
  document.querySelectorAll("button.resume").forEach(b => {
    b.addEventListener("click", async () => {
      const out = b.parentElement.querySelector("[data-error]");
      out.textContent = "";
      b.disabled = true;
      try {
        await api("POST", `/api/v1/service-applications/${encodeURIComponent(b.dataset.number)}/resume`);
        sessionStorage.setItem(FLASH, `${t("approve.resumed")}${t("common.colon")}${b.dataset.number}`);
        location.reload();
      } catch (e) {
        out.textContent = e.message;
        b.disabled = false;
      }
    });
  });

  // The applicant downloads the e-licence their application issued: the bundle needs the
  // application's access key (a number alone proves nothing), sent as a header.
  const download = document.getElementById("licence-download");
  if (download) {
    download.addEventListener("click", async () => {
      const out = download.parentElement.querySelector("[data-error]");
      out.textContent = "";
      try {
        const n = download.dataset.number;
        const resp = await fetch(`/api/v1/certificates/${encodeURIComponent(n)}/bundle`, {
          headers: { "X-Access-Key": download.dataset.key }, credentials: "omit" });
        if (!resp.ok) {
          throw new Error(errorText(await resp.json().catch(() => null), resp.status));
        }
        const a = document.createElement("a");
        a.href = URL.createObjectURL(await resp.blob());
        a.download = `${n}.civgrid.json`;
        document.body.append(a);
        a.click();
        a.remove();
      } catch (e) {
        out.textContent = e.message;
      }
    });
  }

  // The applicant rates a concluded application (一事一评).
  const rate = document.getElementById("rate-form");
  if (rate) {
    rate.addEventListener("submit", async ev => {
      ev.preventDefault();
      const out = rate.querySelector("[data-error]");
      const done = rate.querySelector("[data-done]");
      out.textContent = "";
      done.textContent = "";
      const body = { target: "application", number: rate.dataset.number, access_key: rate.dataset.key, grade: Number(rate.elements.grade.value) };
      if (rate.elements.comment.value.trim()) body.comment = rate.elements.comment.value.trim();
      busy(rate, true);
      try {
        const v = await api("POST", "/api/v1/service-ratings", body, true);
        done.textContent = `${t("psvc.rated")}${t("common.colon")}${t("psvc.grade." + v.rating.grade)}` + (v.rectification ? " " + t("psvc.rectify") : "");
      } catch (e) {
        out.textContent = e.message;
        busy(rate, false);
      }
    });
  }
  // The reporter rates their closed case (评价), with the contact left with the report.
  const caseRate = document.getElementById("case-rate-form");
  if (caseRate) {
    caseRate.addEventListener("submit", async ev => {
      ev.preventDefault();
      const el = caseRate.elements;
      const out = caseRate.querySelector("[data-error]");
      const done = caseRate.querySelector("[data-done]");
      out.textContent = "";
      done.textContent = "";
      const body = { rating: Number(el.rating.value), contact: el.contact.value.trim() };
      if (el.comment.value.trim()) body.comment = el.comment.value.trim();
      busy(caseRate, true);
      try {
        await api("POST", `/api/v1/public/cases/${encodeURIComponent(caseRate.dataset.number)}/rating`, body, true);
        done.textContent = t("portal.rated");
        el.contact.value = "";
        done.focus();
      } catch (e) {
        out.textContent = e.message;
        busy(caseRate, false);
        if (e.code === "contact_mismatch" || e.code === "contact_required") el.contact.focus();
      }
    });
  }
  // ---------------------------------------------------------------------------------------
  // The administrator: calendar, departments, staff, grid import — each through the admin API.

  const saved = (msg) => { sessionStorage.setItem(FLASH, msg); location.reload(); };
  const onSubmit = (id, send) => {
    const f = document.getElementById(id);
    if (!f) return;
    f.addEventListener("submit", async ev => {
      ev.preventDefault();
      const out = f.querySelector("[data-error]");
      out.textContent = "";
      busy(f, true);
      try {
        await send(f.elements);
      } catch (e) {
        out.textContent = e.message;
        busy(f, false);
      }
    });
  };
  onSubmit("day-form", async el => {
    const day = el.day.value;
    await api("PUT", `/api/v1/admin/calendar/${encodeURIComponent(day)}`, { kind: el.kind.value, note: el.note.value.trim() });
    saved(`${t("admin.day_saved")}${t("common.colon")}${day} ${t("admin.day." + el.kind.value)}`);
  });
  document.querySelectorAll("button.day-remove").forEach(b => {
    b.addEventListener("click", async () => {
      const out = document.getElementById("days-error");
      out.textContent = "";
      b.disabled = true;
      try {
        await api("DELETE", `/api/v1/admin/calendar/${encodeURIComponent(b.dataset.day)}`);
        saved(`${t("admin.day_saved")}${t("common.colon")}${b.dataset.day} ${t("admin.day_remove")}`);
      } catch (e) {
        out.textContent = e.message;
        b.disabled = false;
      }
    });
  });
  onSubmit("dept-form", async el => {
    const code = el.code.value.trim();
    await api("PUT", `/api/v1/admin/departments/${encodeURIComponent(code)}`, { name: el.name.value.trim(), area_code: el.area_code.value });
    saved(`${t("admin.saved")}${t("common.colon")}${code} ${el.name.value.trim()}`);
  });
  // The case catalogue: a new version of a class (or its first).
  onSubmit("class-form", async el => {
    const code = el.code.value.trim();
    const num = v => (v.trim() === "" ? NaN : Number(v));
    const body = {
      kind: el.kind.value, major_code: el.major_code.value.trim(), major_name: el.major_name.value.trim(),
      minor_name: el.minor_name.value.trim(), filing_criteria: el.filing_criteria.value.trim(),
      closing_criteria: el.closing_criteria.value.trim(), time_limit: Math.trunc(num(el.time_limit.value)) || 0,
      time_limit_unit: el.time_limit_unit.value, department_code: el.department_code.value,
      duplicate_radius_m: num(el.duplicate_radius_m.value) || 0, duplicate_window_hours: Math.trunc(num(el.duplicate_window_hours.value)) || 0,
      self_handle_allowed: el.self_handle_allowed.checked, active: el.active.checked,
    };
    const v = await api("PUT", `/api/v1/admin/case-classes/${encodeURIComponent(code)}`, body);
    saved(`${t("admin.saved")}${t("common.colon")}${v.code} v${v.version} ${v.major_name} › ${v.minor_name}`);
  });
  // The service item catalogue: the plain fields written into the full definition, sent as a new version.
  onSubmit("item-form", async el => {
    let spec;
    try {
      spec = JSON.parse(el.spec.value);
    } catch (_) {
      throw new Error(t("admin.item_spec_invalid"));
    }
    if (!spec || typeof spec !== "object" || Array.isArray(spec)) throw new Error(t("admin.item_spec_invalid"));
    spec.name = el.name.value.trim();
    spec.department_code = el.department_code.value;
    spec.legal_limit_days = Math.trunc(Number(el.legal_limit_days.value)) || 0;
    spec.promised_limit_days = Math.trunc(Number(el.promised_limit_days.value)) || 0;
    spec.max_visits = Math.trunc(Number(el.max_visits.value)) || 0;
    spec.active = el.active.checked;
    const v = await api("POST", "/api/v1/admin/service-items", spec);
    saved(`${t("admin.saved")}${t("common.colon")}${v.code} v${v.version} ${v.name}`);
  });
  onSubmit("staff-form", async el => {
    // The administrator creates the account; its roles and one-time password come from the
    // security administrator (三权分立).
    const body = {
      username: el.username.value.trim(), display_name: el.display_name.value.trim(), area_code: el.area_code.value,
    };
    if (el.department_code.value) body.department_code = el.department_code.value;
    await api("POST", "/api/v1/admin/staff", body);
    saved(`${t("admin.saved")}${t("common.colon")}${body.username}`);
  });
  document.querySelectorAll("button.staff-active").forEach(b => {
    b.addEventListener("click", async () => {
      const out = document.getElementById("staff-error");
      out.textContent = "";
      b.disabled = true;
      const active = b.dataset.active !== "true";
      try {
        await api("PATCH", `/api/v1/admin/staff/${encodeURIComponent(b.dataset.id)}`, { active });
        saved(`${t("admin.saved")}${t("common.colon")}${b.dataset.username} ${t(active ? "admin.active" : "admin.inactive")}`);
      } catch (e) {
        out.textContent = e.message;
        b.disabled = false;
      }
    });
  });
  // Editing an account: name, department, roles kept or added, the grids it works in.
  document.querySelectorAll("form.staff-edit").forEach(f => {
    f.addEventListener("submit", async ev => {
      ev.preventDefault();
      const el = f.elements;
      const out = f.querySelector("[data-error]");
      out.textContent = "";
      // The form holds the system administrator's fields (name, department, grids) or the
      // security administrator's (roles, a one-time password); each sends only its own.
      const body = {};
      if (el.add_role) {
        const roles = Array.from(f.querySelectorAll("input[name=grant]:checked"), c => {
          const [role, area_code] = c.value.split("@");
          return { role, area_code };
        });
        if (el.add_role.value) roles.push({ role: el.add_role.value, area_code: el.add_area.value });
        body.roles = roles;
        if (el.password.value) body.password = el.password.value;
      }
      // Each grid code, optionally followed by a kind (its label, as the page writes it, or its
      // code); a grid without one takes the form's kind. An unknown kind goes to the API as
      // written, which refuses it with its own message.
      const kinds = {};
      for (const k of ["full_time", "part_time"]) {
        kinds[k] = k;
        kinds[t("admin.grid_kind." + k).toLowerCase()] = k;
      }
      if (el.grids) {
        const grids = [];
        for (const word of el.grids.value.split(/[\s,，;；]+/).filter(Boolean)) {
          if (/^\d+$/.test(word) || !grids.length) grids.push({ code: word, kind: el.grid_kind.value });
          else grids[grids.length - 1].kind = kinds[word.toLowerCase()] || word;
        }
        Object.assign(body, { display_name: el.display_name.value.trim(), department_code: el.department_code.value || null, grids });
      }
      busy(f, true);
      try {
        await api("PATCH", `/api/v1/admin/staff/${encodeURIComponent(f.dataset.id)}`, body);
        saved(`${t("admin.saved")}${t("common.colon")}${f.dataset.username}`);
      } catch (e) {
        out.textContent = e.message;
        busy(f, false);
      }
    });
  });
  const imp = document.getElementById("import-form");
  if (imp) {
    const result = document.getElementById("import-result");
    imp.addEventListener("submit", async ev => {
      ev.preventDefault();
      const out = imp.querySelector("[data-error]");
      out.textContent = "";
      result.replaceChildren();
      const file = imp.elements.file.files[0];
      if (!file) { out.textContent = t("admin.import_choose"); return; }
      busy(imp, true);
      try {
        const q = `datum=${encodeURIComponent(imp.elements.datum.value)}${imp.elements.replace.checked ? "&replace=true" : ""}`;
        let r;
        try {
          r = await fetch(`/api/v1/admin/grids/import?${q}`, {
            method: "POST", credentials: "same-origin", headers: { "content-type": "application/geo+json", accept: "application/json" }, body: file,
          });
        } catch (_) {
          throw new Error(t("common.network"));
        }
        let data = null;
        try { data = await r.json(); } catch (_) { data = null; }
        if (r.ok) {
          const p = mk("p", `${t("admin.imported")}${t("common.colon")}${data.created} / ${data.replaced} / ${data.areas_created} (${t("admin.imported_detail")})`, "ok");
          p.id = "import-ok";
          result.append(p);
        } else {
          const problems = data && data.error && data.error.details && data.error.details.problems;
          out.textContent = errorText(data, r.status);
          if (problems && problems.length) {
            result.append(mk("p", t("admin.problems") + t("common.colon"), "error"));
            const table = mk("table", undefined, "app-list");
            table.id = "import-problems";
            const head = mk("tr");
            for (const h of ["admin.feature", "admin.problem_code", "admin.problem"]) {
              const th = mk("th", t(h));
              th.scope = "col";
              head.append(th);
            }
            table.append(head);
            for (const p of problems) {
              const tr = mk("tr");
              tr.dataset.problem = p.code;
              const where = p.feature == null ? t("admin.file_level") : `#${p.feature}${p.feature_id ? " (" + p.feature_id + ")" : ""}`;
              tr.append(mk("td", where), mk("td", p.code), mk("td", p.message));
              table.append(tr);
            }
            result.append(table);
          }
        }
        result.focus();
      } catch (e) {
        out.textContent = e.message;
      } finally {
        busy(imp, false);
      }
    });
  }
})();
