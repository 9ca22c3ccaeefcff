// The command centre's map and charts. The grids are drawn from our own layer (no tiles needed on
// an intranet), coloured by their open work; open events are clustered markers that lead to the
// event; the charts show the last 30 days. Both refresh when the server pushes new counters.
"use strict";
(function () {
  const colours = { red: "#d92d20", yellow: "#f79009", green: "#12b76a", open: "#2e90fa", none: "#c5ccd3" };

  async function json(url) {
    const r = await fetch(url, { credentials: "same-origin" });
    if (!r.ok) throw new Error(url + " → " + r.status);
    return r.json();
  }

  function gridStyle(load) {
    const colour = !load ? colours.none : load.red ? colours.red : load.yellow ? colours.yellow : colours.open;
    return { color: "#52606d", weight: 0.6, fillColor: colour, fillOpacity: load ? 0.55 : 0.2 };
  }

  function link(id, text) {
    const a = document.createElement("a");
    a.href = "/events/" + encodeURIComponent(id);
    a.textContent = text;
    return a;
  }

  function setUpMap(el) {
    const L = window.L;
    const status = document.getElementById("map-status");
    // Without tiles the map has no zoom range of its own; clustering needs one.
    const map = L.map(el, { attributionControl: false, preferCanvas: true, zoomSnap: 0.25, minZoom: 5, maxZoom: 18 });
    map.setView([38.5, 106.3], 9);
    let grids = null;
    let loads = {};
    const clusters = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 50 });
    clusters.addTo(map);

    async function refresh() {
      const data = await json(el.dataset.points);
      loads = data.grids || {};
      if (grids) grids.setStyle((f) => gridStyle(loads[f.properties.code]));
      const markers = (data.events || []).map((e) => {
        const m = L.circleMarker([e.lat, e.lon], { radius: 7, weight: 1, color: "#fff", fillColor: colours[e.light] || colours.open, fillOpacity: 0.95 });
        const box = document.createElement("div");
        box.append(link(e.id, e.code), document.createElement("br"), e.category + " · " + ({ red: "红灯", yellow: "黄灯", green: "绿灯" }[e.light] || ""));
        m.bindPopup(box);
        m.options.eventId = e.id;
        return m;
      });
      clusters.clearLayers();
      clusters.addLayers(markers);
      const shown = Object.keys(loads).length;
      status.textContent = "在办事件 " + data.events.length + " 件，分布在 " + shown + " 个网格" + (data.truncated ? "（只显示最紧急的部分）" : "");
      if (el.dataset.loaded !== "true") performance.mark("wangge:map-drawn");
      el.dataset.loaded = "true";
      el.dataset.events = String(data.events.length);
    }

    json(el.dataset.grids)
      .then((fc) => {
        grids = L.geoJSON(fc, {
          style: (f) => gridStyle(loads[f.properties.code]),
          onEachFeature: (f, layer) => {
            layer.on("click", () => {
              const load = loads[f.properties.code];
              const text = f.properties.name + "（" + f.properties.code + "）：在办 " + (load ? load.open : 0) + " 件" +
                (load && load.red ? "，超时 " + load.red + " 件" : "");
              layer.bindPopup(text).openPopup();
            });
          },
        }).addTo(map);
        grids.bringToBack();
        if (fc.features.length) map.fitBounds(grids.getBounds());
        return refresh();
      })
      .catch((e) => { status.textContent = "地图载入失败：" + e.message; });
    return refresh;
  }

  function setUpCharts(el) {
    const echarts = window.echarts;
    // The wall display is dark; ECharts ships a dark theme of its own.
    const theme = document.body.classList.contains("bigscreen") ? "dark" : null;
    const make = (id) => echarts.init(document.getElementById(id), theme, { renderer: "canvas" });
    const charts = { day: make("chart-day"), category: make("chart-category"), domain: make("chart-domain"), township: make("chart-township") };
    // Tooltips drawn on the canvas: HTML tooltips would need inline styles, which the policy forbids.
    const tooltip = { trigger: "item", renderMode: "richText" };
    const bars = (rows) => ({
      backgroundColor: "transparent",
      animationDuration: 300,
      tooltip: { ...tooltip, trigger: "axis" },
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: rows.map((r) => r.name), axisLabel: { width: 96, overflow: "truncate" } },
      series: [{ type: "bar", data: rows.map((r) => r.count), itemStyle: { color: "#2e90fa" } }],
    });

    async function refresh() {
      const d = await json(el.dataset.source);
      charts.day.setOption({
        backgroundColor: "transparent",
        animationDuration: 300,
        tooltip: { ...tooltip, trigger: "axis" },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.by_day.map((r) => r.day.slice(5)) },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "line", smooth: true, areaStyle: { opacity: 0.15 }, data: d.by_day.map((r) => r.count) }],
      });
      // The ten largest minor classes, the rest summed.
      const cats = [...d.by_category].sort((a, b) => b.count - a.count);
      const top = cats.slice(0, 10);
      const rest = cats.slice(10).reduce((n, r) => n + r.count, 0);
      if (rest) top.push({ name: "其他", count: rest });
      charts.category.setOption(bars(top));
      charts.domain.setOption({
        backgroundColor: "transparent",
        animationDuration: 300,
        tooltip,
        series: [{ type: "pie", radius: ["35%", "70%"], data: d.by_domain.map((r) => ({ name: r.name, value: r.count })), label: { formatter: "{b} {c}" } }],
      });
      charts.township.setOption(bars([...d.by_township].sort((a, b) => b.count - a.count)));
      if (el.dataset.loaded !== "true") performance.mark("wangge:charts-drawn");
      el.dataset.loaded = "true";
      el.dataset.days = String(d.by_day.length);
    }
    window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
    refresh().catch((e) => { el.dataset.error = e.message; });
    return refresh;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const mapEl = document.getElementById("centre-map");
    const chartsEl = document.getElementById("centre-charts");
    const refreshers = [];
    if (mapEl && window.L && window.L.markerClusterGroup) refreshers.push(setUpMap(mapEl));
    if (chartsEl && window.echarts) refreshers.push(setUpCharts(chartsEl));
    // The counters' stream (app.js) says when something changed; redraw at most every 5 s.
    let pending = null;
    document.addEventListener("wangge:counters", () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        refreshers.forEach((r) => r().catch(() => {}));
      }, 5000);
    });
    const big = document.body.classList.contains("bigscreen");
    if (big && document.documentElement.requestFullscreen) {
      // Browsers allow full screen only after a click: the first click on the wall display takes it.
      document.addEventListener("click", () => document.documentElement.requestFullscreen().catch(() => {}), { once: true });
    }
  });
})();
