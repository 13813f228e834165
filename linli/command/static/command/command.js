/* Charts and map of the command view. Data comes from the page (json_script "command-data");
   this file holds no UI text: every label is translated by the server. */
(function () {
  "use strict";
  var el = document.getElementById("command-data");
  if (!el || !window.echarts) { return; }
  var data = JSON.parse(el.textContent);
  var L10N = data.labels;
  var charts = [];

  // Leaflet tooltips and popups take HTML: escape register text before it goes in.
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function chart(id, option) {
    var node = document.getElementById(id);
    if (!node) { return; }
    var c = window.echarts.init(node, null, { renderer: "svg" });
    c.setOption(option);
    charts.push(c);
  }

  var names = data.breakdown.map(function (r) { return r.name; });
  chart("chart-breakdown", {
    tooltip: { trigger: "axis" },
    legend: { data: [L10N.persons, L10N.households] },
    grid: { left: 48, right: 16, bottom: 56, top: 36 },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: L10N.persons, type: "bar", barMaxWidth: 48, data: data.breakdown.map(function (r) { return r.persons; }) },
      { name: L10N.households, type: "bar", barMaxWidth: 48, data: data.breakdown.map(function (r) { return r.households; }) }
    ]
  });

  chart("chart-occupancy", {
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    legend: { bottom: 0 },
    color: ["#198754", "#ffc107", "#adb5bd"],
    series: [{
      type: "pie", radius: ["35%", "65%"],
      data: ["occupied", "rented", "vacant"].map(function (k) {
        return { name: L10N[k], value: data.occupancy[k] };
      })
    }]
  });

  chart("chart-tags", {
    tooltip: { trigger: "axis" },
    grid: { left: 110, right: 24, bottom: 24, top: 8 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: data.tags.map(function (t) { return t.name; }) },
    series: [{
      type: "bar",
      data: data.tags.map(function (t) { return { value: t.count, itemStyle: { color: t.color } }; })
    }]
  });

  // Age pyramid: men to the left (negative), women to the right.
  chart("chart-ages", {
    tooltip: {
      trigger: "axis", axisPointer: { type: "shadow" },
      valueFormatter: function (v) { return Math.abs(v); }
    },
    legend: { data: [L10N.male, L10N.female] },
    grid: { left: 72, right: 24, bottom: 24, top: 36 },
    xAxis: { type: "value", minInterval: 1, axisLabel: { formatter: function (v) { return Math.abs(v); } } },
    yAxis: { type: "category", data: data.ages.map(function (b) { return b.name; }) },
    series: [
      { name: L10N.male, type: "bar", stack: "age", color: "#0d6efd",
        data: data.ages.map(function (b) { return -b.male; }) },
      { name: L10N.female, type: "bar", stack: "age", color: "#d63384",
        data: data.ages.map(function (b) { return b.female; }) }
    ]
  });

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });

  // The map has no tile layer: community intranets have no internet, so we only place the
  // estates relative to one another, with their names.
  var mapNode = document.getElementById("command-map");
  if (mapNode && window.L && data.estates.length) {
    // Canvas draws hundreds of markers (a district) smoothly; names stay on screen only
    // when there are few enough to read.
    var map = window.L.map(mapNode, { attributionControl: false, zoomSnap: 0.25, preferCanvas: true });
    var labelled = data.estates.length <= 30;
    var points = [];
    data.estates.forEach(function (e) {
      var ll = [e.lat, e.lng];
      points.push(ll);
      window.L.circleMarker(ll, { radius: labelled ? 9 : 5, color: "#0d6efd", weight: 2, fillOpacity: 0.5 })
        .bindTooltip(esc(e.name), { permanent: labelled, direction: "right", offset: [8, 0] })
        .bindPopup(esc(e.name) + (e.address ? "<br>" + esc(e.address) : ""))
        .addTo(map);
    });
    if (points.length === 1) {
      map.setView(points[0], 15);
    } else {
      map.fitBounds(points, { padding: [40, 40] });
    }
  }
})();
