// Draws every figure whose JSON the page embedded, and submits chart selectors on change.
// Loaded only on chart pages, after plotly.min.js (both local; no CDN).
(function () {
  "use strict";
  // Charts on screen are drawn at once; the others as they come within 300 px of the
  // viewport (each newPlot costs 30-250 ms, and a page of a dozen charts would make every
  // reader wait for charts below the fold).
  function draw() {
    var fold = window.innerHeight;
    var later = [];
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var box = el.getBoundingClientRect();
      if (box.top < fold && box.bottom > 0) { drawOne(el); } else { later.push(el); }
    });
    if (!later.length) { return; }
    if (!("IntersectionObserver" in window)) { later.forEach(drawOne); return; }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) { return; }
        observer.unobserve(entry.target);
        drawOne(entry.target);
      });
    }, { rootMargin: "300px 0px" });
    later.forEach(function (el) { observer.observe(el); });
  }
  function drawOne(el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source || el.dataset.drawn) { return; }
    var figure = JSON.parse(source.textContent);
    Plotly.newPlot(el, figure.data, figure.layout, {
      responsive: true, displaylogo: false,
      toImageButtonOptions: { filename: el.dataset.figure }
    }).then(function () {
      el.dataset.drawn = "1";
      // A release's point opens its page (for admins: the rollback preview, once confirmed).
      var meta = figure.layout.meta || {};
      if (meta.point_links) {
        el.on("plotly_click", function (event) {
          var point = event.points && event.points[0];
          var url = point && meta.point_links[point.x];
          if (!url) { return; }
          var ask = meta.link_confirm && meta.link_confirm[point.x];
          if (ask && !window.confirm(ask)) { return; }
          window.location.assign(url);
        });
      }
      // A step x release heatmap: clicking a cell opens that step in detail.
      if (figure.layout.meta && figure.layout.meta.step_link) {
        el.on("plotly_click", function (event) {
          var point = event.points && event.points[0];
          if (!point || !point.customdata) { return; }
          var url = new URL(window.location.href);
          url.searchParams.set("step", point.customdata[0]);
          url.hash = "detail";
          window.location.assign(url.toString());
        });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    draw();
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
  });
})();
