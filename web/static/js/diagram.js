// Draws a BPMN diagram with bpmn-js: a dossier's, marking where it stands, or a procedure version's, marking what
// changed. The text beside it (the timeline, the list of changes) carries the same information; the drawing is an
// aid, so a failure here only hides it.
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
        // data-done, data-current (a dossier's way), data-added, data-changed (a version against an older one)
        ["done", "current", "added", "changed"].forEach(function (kind) {
          (container.dataset[kind] || "").split(" ").forEach(function (id) {
            if (id && registry.get(id)) canvas.addMarker(id, "app-" + kind);
          });
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
