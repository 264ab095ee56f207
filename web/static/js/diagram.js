// Draws a dossier's BPMN diagram with bpmn-js and marks where the dossier stands. The text timeline next to it
// carries the same information; the drawing is an aid, so a failure here only hides it.
(function () {
  "use strict";

  function draw(container) {
    if (!window.BpmnJS) {
      container.hidden = true;
      return;
    }
    var viewer = new window.BpmnJS({ container: container });
    fetch(container.dataset.diagramUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        (container.dataset.done || "").split(" ").forEach(function (id) {
          if (id && registry.get(id)) canvas.addMarker(id, "app-done");
        });
        (container.dataset.current || "").split(" ").forEach(function (id) {
          if (id && registry.get(id)) canvas.addMarker(id, "app-current");
        });
        container.classList.add("app-diagram--ready");
      })
      .catch(function () { container.hidden = true; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("diagram");
    if (container) draw(container);
  });
})();
