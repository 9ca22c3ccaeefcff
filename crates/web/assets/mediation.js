// The mediation pages: opening a case, each step of a case, transfer slips, and the statistics
// chart. The forms speak to /api/v1/mediation like any other client (no inline scripts: the
// Content-Security-Policy forbids them).
"use strict";
(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  async function post(url, body) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    return { ok: res.ok, status: res.status, data };
  }

  function say(el, r) {
    const e = r.data && r.data.error;
    let text = (e && e.message) || ("请求失败（" + r.status + "）");
    if (e && e.details && e.details.field) text += "（" + e.details.field + "）";
    el.textContent = text;
  }

  // Every named field, typed by its data-type; empty optional fields left out.
  function fields(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name || el.name.startsWith("party_")) continue;
      const type = el.dataset.type;
      const v = el.value.trim();
      if (v === "" && (el.dataset.optional || el.type === "date")) continue;
      if (type === "number") out[el.name] = Number(v);
      else if (type === "names") out[el.name] = v.split(/[、,，\s]+/).filter(Boolean);
      // A local date and time from the picker, sent as an instant (the browser knows its zone).
      else if (type === "local-time") out[el.name] = new Date(v).toISOString();
      else out[el.name] = el.value;
    }
    return out;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const caseForm = document.getElementById("case-form");
    if (caseForm) {
      document.getElementById("add-party").addEventListener("click", () => {
        const rows = caseForm.querySelectorAll(".party");
        const copy = rows[rows.length - 1].cloneNode(true);
        for (const input of copy.querySelectorAll("input")) input.value = "";
        rows[rows.length - 1].after(copy);
      });
      caseForm.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const body = fields(caseForm);
        body.parties = Array.from(caseForm.querySelectorAll(".party"))
          .map((row) => {
            const p = { name: row.querySelector("[name=party_name]").value.trim(), side: row.querySelector("[name=party_side]").value };
            const phone = row.querySelector("[name=party_phone]").value.trim();
            const id = row.querySelector("[name=party_id]").value.trim();
            if (phone) p.phone = phone;
            if (id) p.id_number = id;
            return p;
          })
          .filter((p) => p.name);
        const r = await post("/api/v1/mediation/cases", body);
        if (!r.ok) { say(document.getElementById("case-error"), r); return; }
        window.location.assign("/mediation/cases/" + r.data.id);
      });
    }
    for (const form of document.querySelectorAll("form.case-step")) {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const body = Object.assign(fields(form), { step: form.dataset.step, version: Number(form.dataset.version) });
        const r = await post("/api/v1/mediation/cases/" + form.dataset.case + "/steps", body);
        const error = document.getElementById("step-error");
        if (!r.ok) {
          say(error, r);
          const problems = r.data && r.data.error && r.data.error.details && r.data.error.details.problems;
          if (problems) error.textContent += "：" + problems.map((p) => p.reason).join("；");
          return;
        }
        window.location.reload();
      });
    }
    const slip = document.getElementById("slip-form");
    if (slip) {
      slip.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const f = fields(slip);
        const [kind, id] = f.to.split(":");
        const body = { case_id: slip.dataset.case, reason: f.reason, receipt_hours: f.receipt_hours, reply_days: f.reply_days };
        body[kind === "org" ? "to_org" : "to_department"] = id;
        const r = await post("/api/v1/mediation/slips", body);
        if (!r.ok) { say(document.getElementById("step-error"), r); return; }
        window.location.reload();
      });
    }
    const chart = document.getElementById("chart-types");
    if (chart && window.echarts && chart.dataset.names) {
      const split = (s) => s.split("|");
      const c = window.echarts.init(chart);
      c.setOption({
        tooltip: { trigger: "axis", renderMode: "richText" },
        legend: { data: ["调解件数", "调解成功"] },
        grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", inverse: true, data: split(chart.dataset.names) },
        series: [
          { name: "调解件数", type: "bar", data: split(chart.dataset.handled).map(Number), itemStyle: { color: "#2e90fa" } },
          { name: "调解成功", type: "bar", data: split(chart.dataset.successful).map(Number), itemStyle: { color: "#12b76a" } },
        ],
      });
      window.addEventListener("resize", () => c.resize());
      chart.dataset.loaded = "true";
    }
  });
})();
