// Wangge pages: the little behaviour the server-rendered pages need, with no inline scripts (the
// Content-Security-Policy forbids them). Forms speak to the same JSON API as every other client.
(function () {
  "use strict";
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  async function api(method, url, body) {
    const res = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    return { ok: res.ok, status: res.status, data };
  }

  function message(r) {
    return (r.data && r.data.error && r.data.error.message) || ("请求失败（" + r.status + "）");
  }

  function fields(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      const type = el.dataset.type;
      if (type === "file") continue;
      if (type === "list") out[el.name] = Array.from(el.selectedOptions).map((o) => o.value);
      else if (type === "number") out[el.name] = Number(el.value);
      else if (type === "bool") out[el.name] = el.value === "true";
      else out[el.name] = el.value;
    }
    return out;
  }

  // ---- The grid worker's report page: works offline. ----
  // Reports wait in IndexedDB until they are sent; each carries its idempotency key from the
  // moment it is made, so a report sent twice (an answer lost on the way back) is stored once.
  function db() {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open("wangge", 1);
      open.onupgradeneeded = () => open.result.createObjectStore("outbox", { keyPath: "key" });
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }
  async function outbox(mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const tx = d.transaction("outbox", mode);
      const result = fn(tx.objectStore("outbox"));
      tx.oncomplete = () => resolve(result && result.result);
      tx.onerror = () => reject(tx.error);
    });
  }
  const pendingAll = () => outbox("readonly", (s) => s.getAll());
  const keep = (item) => outbox("readwrite", (s) => s.put(item));
  const forget = (key) => outbox("readwrite", (s) => s.delete(key));

  async function showPending() {
    const items = (await pendingAll()) || [];
    const box = document.getElementById("pending");
    if (!box) return;
    document.getElementById("pending-count").textContent = items.length;
    box.hidden = items.length === 0;
  }

  let sending = false;
  async function sendPending() {
    if (sending) return;
    sending = true;
    try {
      for (const item of (await pendingAll()) || []) {
        let r;
        try {
          r = await api("POST", "/api/v1/events", item.body);
        } catch (_) {
          break; // still offline: try again later
        }
        if (r.ok) {
          if (item.photo) {
            try {
              await fetch("/api/v1/events/" + r.data.id + "/attachments?kind=report", {
                method: "POST",
                credentials: "same-origin",
                headers: { "Content-Type": item.photoType || "application/octet-stream", "X-CSRF-Token": csrf() },
                body: item.photo,
              });
            } catch (_) { /* the report stands; the photo can be added from the event page */ }
          }
          await forget(item.key);
          const status = document.getElementById("report-status");
          if (status) status.textContent = "已上报：" + r.data.code;
        } else if (r.status >= 400 && r.status < 500) {
          // Refused for its content: it will never go through as it is; say so and drop it.
          await forget(item.key);
          const error = document.getElementById("report-error");
          if (error) error.textContent = "一条待发送的上报被退回：" + message(r);
        } else {
          break;
        }
      }
    } finally {
      sending = false;
      showPending();
    }
  }

  function reportPage(form) {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js").catch(() => {});
    }
    const where = document.getElementById("report-location");
    // The position on the map of the worker's grid: from the phone's GPS, or a tap on the map,
    // and the marker can be dragged to the exact spot.
    const mapEl = document.getElementById("report-map");
    let place = () => {};
    if (mapEl && window.L) {
      const L = window.L;
      const m = L.map(mapEl, { attributionControl: false }).setView([38.49, 106.23], 13);
      let marker = null;
      place = (lat, lon, how) => {
        form.elements.lon.value = lon;
        form.elements.lat.value = lat;
        where.textContent = how + "（" + lon.toFixed(6) + ", " + lat.toFixed(6) + "，可拖动标记调整）";
        if (!marker) {
          marker = L.marker([lat, lon], { draggable: true, keyboard: true }).addTo(m);
          marker.on("dragend", () => { const p = marker.getLatLng(); place(p.lat, p.lng, "已手动调整"); });
        } else {
          marker.setLatLng([lat, lon]);
        }
      };
      m.on("click", (ev) => place(ev.latlng.lat, ev.latlng.lng, "已在地图上选定"));
      if (mapEl.dataset.grid) {
        fetch("/api/v1/grids/" + encodeURIComponent(mapEl.dataset.grid), { credentials: "same-origin" })
          .then((r) => (r.ok ? r.json() : null))
          .then((g) => {
            if (!g) return;
            const outline = L.geoJSON(g, { style: { weight: 2, fillOpacity: 0.06 } }).addTo(m);
            if (!marker) m.fitBounds(outline.getBounds());
          })
          .catch(() => {});
      }
      mapEl.placeAt = (lat, lon) => { place(lat, lon, "已定位"); m.setView([lat, lon], Math.max(m.getZoom(), 16)); };
    } else {
      place = (lat, lon, how) => {
        form.elements.lon.value = lon;
        form.elements.lat.value = lat;
        where.textContent = how;
      };
    }
    document.getElementById("report-locate").addEventListener("click", () => {
      if (!navigator.geolocation) { where.textContent = "此设备无法定位，请在地图上点选位置"; return; }
      where.textContent = "正在定位…";
      navigator.geolocation.getCurrentPosition((p) => {
        if (mapEl && mapEl.placeAt) mapEl.placeAt(p.coords.latitude, p.coords.longitude);
        else place(p.coords.latitude, p.coords.longitude, "已定位");
      }, () => { where.textContent = "定位失败，请在地图上点选位置"; }, { enableHighAccuracy: true, timeout: 15000 });
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const error = document.getElementById("report-error");
      error.textContent = "";
      if (!form.elements.lon.value) { error.textContent = "请先定位，或在地图上点选位置"; return; }
      const bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      const key = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      const body = fields(form);
      body.idempotency_key = key;
      const file = form.elements.photo && form.elements.photo.files[0];
      const item = { key, body, at: Date.now() };
      if (file) { item.photo = await file.arrayBuffer(); item.photoType = file.type; }
      await keep(item);
      form.reset();
      document.getElementById("report-status").textContent = "已保存，正在发送…";
      await showPending();
      await sendPending();
    });
    window.addEventListener("online", sendPending);
    setInterval(sendPending, 5000);
    showPending();
    sendPending();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const login = document.getElementById("login-form");
    const second = document.getElementById("second-factor-form");
    const loginError = document.getElementById("login-error");
    if (login) {
      login.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        loginError.textContent = "";
        const r = await api("POST", "/api/v1/auth/login", fields(login));
        if (!r.ok) { loginError.textContent = message(r); return; }
        const meta = document.querySelector('meta[name="csrf-token"]');
        if (meta) meta.content = r.data.csrf_token;
        // An initial password is changed before anything else.
        const next = r.data.password_change_required ? "/password" : "/";
        if (r.data.second_factor === "none") { window.location.assign(next); return; }
        if (r.data.second_factor === "enroll") {
          loginError.textContent = "该角色需要动态口令，请先通过接口绑定（/api/v1/auth/second-factor/enroll）。";
          return;
        }
        login.hidden = true;
        second.hidden = false;
      });
    }
    if (second) {
      second.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const r = await api("POST", "/api/v1/auth/second-factor", fields(second));
        if (!r.ok) { loginError.textContent = message(r); return; }
        window.location.assign("/");
      });
    }
    const change = document.getElementById("password-form");
    if (change) {
      change.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const status = document.getElementById("password-status");
        const f = fields(change);
        if (f.new_password !== f.confirm) { status.textContent = "两次输入的新密码不一致"; return; }
        const r = await api("POST", "/api/v1/auth/password",
          { current_password: f.current_password, new_password: f.new_password });
        if (!r.ok) { status.textContent = message(r); return; }
        status.textContent = "密码已修改，正在进入系统…";
        window.location.assign("/");
      });
    }
    const logout = document.getElementById("logout");
    if (logout) {
      logout.addEventListener("click", async () => {
        await api("POST", "/api/v1/auth/logout");
        window.location.assign("/login");
      });
    }
    for (const form of document.querySelectorAll("form.move")) {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const error = document.getElementById("move-error");
        // A photo goes first, so the move's record follows the picture it refers to.
        const photo = form.querySelector("input[type=file]");
        if (photo && photo.files.length > 0) {
          const file = photo.files[0];
          const up = await fetch("/api/v1/events/" + form.dataset.event + "/attachments?kind=after", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": file.type || "application/octet-stream", "X-CSRF-Token": csrf() },
            body: file,
          });
          if (!up.ok) {
            let data = null;
            try { data = await up.json(); } catch (_) { data = null; }
            error.textContent = message({ status: up.status, data });
            return;
          }
        }
        const body = Object.assign(fields(form), {
          move: form.dataset.move,
          version: Number(form.dataset.version),
        });
        const r = await api("POST", "/api/v1/events/" + form.dataset.event + "/moves", body);
        if (!r.ok) { error.textContent = message(r); return; }
        window.location.reload();
      });
    }
    // Transfer slips sent to a department: receipt, then the reply.
    for (const form of document.querySelectorAll("form.slip-answer")) {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const body = form.dataset.action === "reply" ? { reply: form.elements.reply.value } : {};
        const r = await api("POST", "/api/v1/mediation/slips/" + form.dataset.slip + "/" + form.dataset.action, body);
        if (!r.ok) { document.getElementById("move-error").textContent = message(r); return; }
        window.location.reload();
      });
    }
    // The public portal: report, then follow the case by its tracking code.
    const portal = document.getElementById("portal-form");
    if (portal) {
      // One key per form: a resend after a lost answer is the same report, never a second one.
      const bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      portal.dataset.key = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      const status = document.getElementById("location-status");
      document.getElementById("use-location").addEventListener("click", () => {
        if (!navigator.geolocation) { status.textContent = "此设备无法定位，请填写地址"; return; }
        status.textContent = "正在定位…";
        navigator.geolocation.getCurrentPosition((p) => {
          portal.elements.lon.value = p.coords.longitude;
          portal.elements.lat.value = p.coords.latitude;
          status.textContent = "已定位";
        }, () => { status.textContent = "定位失败，请填写地址"; });
      });
      portal.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const error = document.getElementById("portal-error");
        error.textContent = "";
        const body = fields(portal);
        if (!portal.elements.lon.value) { error.textContent = "请先点击“使用我的当前位置”"; return; }
        if (!body.reporter_phone) delete body.reporter_phone;
        body.idempotency_key = portal.dataset.key;
        const r = await api("POST", "/api/v1/public/reports", body);
        if (!r.ok) { error.textContent = message(r); return; }
        portal.hidden = true;
        document.getElementById("tracking-code").textContent = r.data.tracking_code;
        document.getElementById("tracking-link").href = "/portal/track?code=" + encodeURIComponent(r.data.tracking_code);
        document.getElementById("portal-result").hidden = false;
      });
    }
    const track = document.getElementById("track-form");
    if (track) {
      const show = async () => {
        const code = track.elements.code.value.trim();
        const error = document.getElementById("track-error");
        error.textContent = "";
        const r = await api("GET", "/api/v1/public/track/" + encodeURIComponent(code));
        if (!r.ok) { error.textContent = message(r); document.getElementById("track-result").hidden = true; return; }
        document.getElementById("track-state").textContent = r.data.state;
        const steps = document.getElementById("track-steps");
        steps.replaceChildren(...r.data.steps.map((s) => {
          const li = document.createElement("li");
          const t = document.createElement("time");
          t.textContent = s.at.replace("T", " ").slice(0, 16);
          li.append(t, " ", s.what);
          return li;
        }));
        document.getElementById("rate-form").hidden = !r.data.can_rate;
        document.getElementById("track-rated").hidden = !r.data.rating;
        document.getElementById("track-result").hidden = false;
      };
      track.addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
      if (track.elements.code.value) show();
      const rate = document.getElementById("rate-form");
      rate.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const code = track.elements.code.value.trim();
        const r = await api("POST", "/api/v1/public/track/" + encodeURIComponent(code) + "/rating", fields(rate));
        if (!r.ok) { document.getElementById("track-error").textContent = message(r); return; }
        show();
      });
    }
    // The command centre's counters, pushed by the server as events arrive and move.
    const counters = document.getElementById("counters");
    if (counters && window.EventSource) {
      const status = document.getElementById("live-status");
      const source = new EventSource(counters.dataset.stream);
      source.addEventListener("counters", (ev) => {
        const c = JSON.parse(ev.data);
        for (const el of counters.querySelectorAll("[data-counter]")) {
          const v = c[el.dataset.counter];
          if (v !== undefined) el.textContent = v;
        }
        status.textContent = "实时更新中 · " + new Date().toLocaleTimeString("zh-CN");
        document.dispatchEvent(new CustomEvent("wangge:counters", { detail: c }));
      });
      source.addEventListener("error", () => { status.textContent = "连接中断，正在重连…"; });
    }
    // The system administrator's settings: saved whole; every problem listed with its place.
    const settings = document.getElementById("settings-form");
    if (settings) {
      settings.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const status = document.getElementById("settings-status");
        const problems = document.getElementById("settings-problems");
        problems.replaceChildren();
        let doc;
        try { doc = JSON.parse(settings.elements.settings.value); } catch (e) {
          status.textContent = "不是合法的 JSON：" + e.message;
          return;
        }
        const r = await api("PUT", "/api/v1/settings", doc);
        if (!r.ok) {
          status.textContent = message(r);
          const list = (r.data && r.data.error && r.data.error.details && r.data.error.details.problems) || [];
          problems.replaceChildren(...list.map((p) => {
            const li = document.createElement("li");
            li.textContent = p.path + "：" + p.reason;
            return li;
          }));
          return;
        }
        settings.elements.settings.value = JSON.stringify(r.data, null, 2);
        status.textContent = "已保存，立即生效";
      });
    }
    // 我的网格: the worker's grid and its open events.
    const gridMap = document.getElementById("grid-map");
    if (gridMap && window.L) {
      const L = window.L;
      const m = L.map(gridMap, { attributionControl: false }).setView([38.49, 106.23], 13);
      const status = document.getElementById("grid-map-status");
      const colour = { red: "#d92d20", yellow: "#f79009", green: "#12b76a" };
      const get = (u) => fetch(u, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))));
      get("/api/v1/grids/" + encodeURIComponent(gridMap.dataset.grid))
        .then((g) => { m.fitBounds(L.geoJSON(g, { style: { weight: 2, fillOpacity: 0.06 } }).addTo(m).getBounds()); })
        .then(() => get(gridMap.dataset.points))
        .then((d) => {
          for (const e of d.events) {
            const a = document.createElement("a");
            a.href = "/events/" + encodeURIComponent(e.id);
            a.textContent = e.code + " " + e.category;
            L.circleMarker([e.lat, e.lon], { radius: 8, color: "#fff", weight: 1, fillColor: colour[e.light] || "#2e90fa", fillOpacity: 0.95 }).bindPopup(a).addTo(m);
          }
          status.textContent = "网格内在办事件 " + d.events.length + " 件";
          gridMap.dataset.loaded = "true";
        })
        .catch(() => { status.textContent = "离线时无法显示网格地图"; });
    }
    // Register imports: the file as the body; a dry run or a refusal lists every problem.
    for (const form of document.querySelectorAll("form.registry-import")) {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const card = form.closest("section");
        const status = card.querySelector(".registry-status");
        const list = card.querySelector(".registry-problems");
        list.replaceChildren();
        const file = form.elements.file.files[0];
        if (!file) { status.textContent = "请选择文件"; return; }
        const dry = form.elements.dry_run.checked;
        status.textContent = "正在检查…";
        const res = await fetch("/api/v1/registry/" + form.dataset.kind + "/import" + (dry ? "?dry_run=true" : ""), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/octet-stream", "X-CSRF-Token": csrf() },
          body: file,
        });
        let data = null;
        try { data = await res.json(); } catch (_) { data = null; }
        if (!res.ok) {
          status.textContent = message({ status: res.status, data });
          const problems = (data && data.error && data.error.details && data.error.details.problems) || [];
          for (const p of problems) {
            const li = document.createElement("li");
            li.textContent = p.message;
            list.append(li);
          }
          return;
        }
        const counts = "共 " + data.rows + " 行：新增 " + data.created + "，更新 " + data.updated + "，未变 " + data.unchanged;
        status.textContent = dry ? "检查通过，可以导入（" + counts + "）。取消勾选“试导入”后再点导入。" : "导入完成：" + counts + "。";
        if (!dry) setTimeout(() => location.reload(), 1500);
      });
    }
    // Accounts in bulk: a dry run reports; an import answers the initial passwords' workbook,
    // saved at once since it cannot be fetched again.
    for (const form of document.querySelectorAll("form.accounts-import")) {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const card = form.closest("section");
        const status = card.querySelector(".registry-status");
        const list = card.querySelector(".registry-problems");
        list.replaceChildren();
        const file = form.elements.file.files[0];
        if (!file) { status.textContent = "请选择文件"; return; }
        const dry = form.elements.dry_run.checked;
        status.textContent = "正在检查…";
        const res = await fetch("/api/v1/accounts/import" + (dry ? "?dry_run=true" : ""), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/octet-stream", "X-CSRF-Token": csrf() },
          body: file,
        });
        if (res.status === 201) {
          const blob = await res.blob();
          const a = document.createElement("a");
          a.href = URL.createObjectURL(blob);
          a.download = "初始密码-" + (res.headers.get("x-wangge-batch") || "") + ".xlsx";
          document.body.append(a);
          a.click();
          a.remove();
          status.textContent = "已开通，等待安全管理员审批（批次 " + (res.headers.get("x-wangge-batch") || "") + "）。初始密码表已下载，只此一次，请妥善交给本人。";
          return;
        }
        let data = null;
        try { data = await res.json(); } catch (_) { data = null; }
        if (!res.ok) {
          status.textContent = message({ status: res.status, data });
          const problems = (data && data.error && data.error.details && data.error.details.problems) || [];
          for (const p of problems) {
            const li = document.createElement("li");
            li.textContent = p.message;
            list.append(li);
          }
          return;
        }
        status.textContent = "检查通过：共 " + data.rows + " 个账号可以开通。取消勾选“试导入”后再点导入。";
      });
    }
    for (const button of document.querySelectorAll("button[data-batch]")) {
      button.addEventListener("click", async () => {
        if (!window.confirm(button.dataset.confirm)) return;
        const r = await api("POST", "/api/v1/accounts/batches/" + encodeURIComponent(button.dataset.batch) + "/approve");
        if (!r.ok) { window.alert(message(r)); return; }
        window.location.reload();
      });
    }
    // Administration: a new year's holiday notice, new accounts, unlocking and deactivating.
    const calendar = document.getElementById("calendar-form");
    if (calendar) {
      calendar.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const status = document.getElementById("calendar-status");
        const file = calendar.elements.notice.files[0];
        if (!file) { status.textContent = "请选择文件"; return; }
        const res = await fetch("/api/v1/calendar/years", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
          body: await file.text(),
        });
        let data = null;
        try { data = await res.json(); } catch (_) { data = null; }
        if (!res.ok) { status.textContent = message({ status: res.status, data }); return; }
        status.textContent = "已导入 " + data.year + " 年安排：" + data.days + " 个日期，立即生效";
        document.getElementById("calendar-years").textContent = data.published.join("、");
      });
    }
    // Category and routing forms: each edits the settings document and saves it whole, so the
    // server checks it exactly as it checks the editor's.
    async function editSettings(status, change) {
      const cur = await api("GET", "/api/v1/settings");
      if (!cur.ok) { status.textContent = message(cur); return; }
      const doc = cur.data;
      change(doc);
      const r = await api("PUT", "/api/v1/settings", doc);
      if (!r.ok) {
        const list = (r.data && r.data.error && r.data.error.details && r.data.error.details.problems) || [];
        status.textContent = message(r) + (list.length ? "：" + list.map((p) => p.path + " " + p.reason).join("；") : "");
        return;
      }
      window.location.reload();
    }
    const categoryForm = document.getElementById("category-form");
    if (categoryForm) {
      categoryForm.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const f = categoryForm.elements;
        const change = { code: f.code.value };
        if (f.name.value.trim()) change.name = f.name.value.trim();
        if (f.urgency.value) change.urgency = f.urgency.value;
        if (f.department.value) change.department = f.department.value;
        for (const step of ["accept", "check_in", "handle"]) {
          const v = f[step + "_value"].value;
          if (v) change[step] = { unit: f[step + "_unit"].value, value: Number(v) };
        }
        editSettings(document.getElementById("category-status"), (doc) => {
          const before = (doc.categories || []).find((c) => c.code === change.code) || {};
          doc.categories = (doc.categories || []).filter((c) => c.code !== change.code);
          doc.categories.push(Object.assign({}, before, change));
        });
      });
    }
    const routeForm = document.getElementById("route-form");
    if (routeForm) {
      routeForm.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const rule = fields(routeForm);
        editSettings(document.getElementById("route-status"), (doc) => {
          doc.routing = (doc.routing || []).concat([rule]);
        });
      });
    }
    for (const b of document.querySelectorAll("button[data-route]")) {
      b.addEventListener("click", () => {
        editSettings(document.getElementById("route-status"), (doc) => {
          doc.routing = (doc.routing || []).filter((_, i) => i !== Number(b.dataset.route));
        });
      });
    }
    const accountForm = document.getElementById("account-form");
    if (accountForm) {
      accountForm.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const r = await api("POST", "/api/v1/accounts", fields(accountForm));
        if (!r.ok) { document.getElementById("account-error").textContent = message(r); return; }
        window.location.reload();
      });
    }
    // The security administrator's role changes.
    for (const form of document.querySelectorAll("form.role-form")) {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const r = await api("PUT", "/api/v1/accounts/" + form.dataset.account + "/role", fields(form));
        if (!r.ok) { document.getElementById("role-error").textContent = message(r); return; }
        window.location.reload();
      });
    }
    for (const b of document.querySelectorAll("button[data-account]")) {
      b.addEventListener("click", async () => {
        if (b.dataset.confirm && !window.confirm(b.dataset.confirm)) return;
        const r = await api("POST", "/api/v1/accounts/" + b.dataset.account + "/" + b.dataset.action);
        const error = document.getElementById("account-error") || document.getElementById("role-error");
        if (!r.ok) { if (error) error.textContent = message(r); return; }
        window.location.reload();
      });
    }
    const report = document.getElementById("report-form");
    if (report) reportPage(report);
    const map = document.getElementById("map");
    if (map && window.L) {
      const at = [Number(map.dataset.lat), Number(map.dataset.lon)];
      const m = window.L.map(map, { attributionControl: false }).setView(at, 16);
      window.L.circleMarker(at, { radius: 8 }).addTo(m);
      // No tiles on an intranet by default: the grid's own outline is the map.
      if (map.dataset.grid) {
        fetch("/api/v1/grids/" + map.dataset.grid, { credentials: "same-origin" })
          .then((r) => (r.ok ? r.json() : null))
          .then((g) => { if (g) window.L.geoJSON(g, { style: { weight: 2, fillOpacity: 0.08 } }).addTo(m); })
          .catch(() => {});
      }
    }
  });
})();
