/*
 * The dashboard's chart (chart.js UMD, loaded before this file) is drawn from the accessible table
 * [data-chart-source]: each row is a day (th) with started and completed counts (td data-value).
 * Without JavaScript, or for a screen reader, the table is the figure; the chart only adds a picture.
 */
(function () {
  "use strict";

  function start() {
    var table = document.querySelector("[data-chart-source]");
    var canvas = document.querySelector("[data-chart-target]");
    if (!table || !canvas || typeof window.Chart !== "function") { return; }
    var labels = [];
    var started = [];
    var completed = [];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      labels.push(row.cells[0].textContent.trim());
      started.push(Number(row.cells[1].getAttribute("data-value")));
      completed.push(Number(row.cells[2].getAttribute("data-value")));
    });
    var chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          { label: "Started", data: started, backgroundColor: "#1f4e8c" },
          { label: "Completed", data: completed, backgroundColor: "#1e7b46" }
        ]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
    canvas.setAttribute("data-rendered", "true");
    canvas.ecvetChart = chart;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
