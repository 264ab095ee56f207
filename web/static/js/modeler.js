// The designers' modeler: bpmn-js's Modeler on a procedure's diagram file, a small panel for the selected element's
// name and SpiffWorkflow properties, and the server's check and save (the file is written only when the procedure
// passes every check). Texts come from the page (data-text-*), in its language.
(function () {
  "use strict";

  // the part of SpiffWorkflow's BPMN extension the procedures use: <spiffworkflow:properties><spiffworkflow:property>
  var SPIFF = {
    name: "SpiffWorkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core", prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" }, associations: [],
    types: [
      { name: "Properties", superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"],
        properties: [{ name: "name", isAttr: true, type: "String" }, { name: "value", isAttr: true, type: "String" }] }
    ]
  };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text) node.textContent = text;
    return node;
  }

  function start(container) {
    var texts = container.dataset;
    var status = document.getElementById("modeler-status");
    var say = function (message, problems) {
      status.textContent = "";
      status.appendChild(el("p", { "class": "govuk-body" }, message));
      if (problems && problems.length) {
        var list = el("ul", { "class": "govuk-list govuk-list--bullet govuk-error-message" });
        problems.forEach(function (p) {
          list.appendChild(el("li", {}, p.file + (p.element ? " [" + p.element + "]" : "") + ": " + p.message));
        });
        status.appendChild(list);
      }
    };
    if (!window.BpmnJS) {
      say(texts.textFailed);
      return;
    }
    say(texts.textLoading);
    var modeler = new window.BpmnJS({ container: container, moddleExtensions: { spiffworkflow: SPIFF } });
    window.motcuaModeler = modeler; // (the browser test and the console reach it here)
    var modeling = modeler.get("modeling");
    var moddle = modeler.get("moddle");
    var selected = null;
    var applying = false; // (the panel's own changes do not redraw the panel under the user's cursor)
    function apply(change) {
      applying = true;
      try { change(); } finally { applying = false; }
    }

    function propertiesOf(bo) {
      var ext = bo.extensionElements;
      var holder = ext && (ext.values || []).filter(function (v) { return v.$type === "spiffworkflow:Properties"; })[0];
      return { ext: ext, holder: holder, list: holder ? (holder.properties || []) : [] };
    }

    function setProperties(element, entries) {
      var bo = element.businessObject;
      var found = propertiesOf(bo);
      var ext = found.ext;
      if (!ext) {
        ext = moddle.create("bpmn:ExtensionElements", { values: [] });
        modeling.updateProperties(element, { extensionElements: ext });
      }
      var holder = found.holder;
      if (!holder) {
        holder = moddle.create("spiffworkflow:Properties", { properties: [] });
        modeling.updateModdleProperties(element, ext, { values: (ext.values || []).concat([holder]) });
      }
      var created = entries.map(function (e) { return moddle.create("spiffworkflow:Property", e); });
      modeling.updateModdleProperties(element, holder, { properties: created });
    }

    function show(element) {
      selected = element || null;
      var none = document.getElementById("properties-none");
      var form = document.getElementById("properties-form");
      if (!selected || selected.type === "bpmn:Process" || selected.type === "label") {
        none.hidden = false;
        form.hidden = true;
        return;
      }
      none.hidden = true;
      form.hidden = false;
      var bo = selected.businessObject;
      document.getElementById("property-id").textContent = bo.id;
      document.getElementById("property-name").value = bo.name || "";
      var list = document.getElementById("property-list");
      list.textContent = "";
      propertiesOf(bo).list.forEach(function (p, i) { list.appendChild(propertyRow(i, p.name || "", p.value || "")); });
    }

    // one property of the panel: its name (the known ones offered), its value, and a button that removes it once it
    // is one of the element's (a new row has none: it joins the element's properties when it has a name)
    function propertyRow(i, nameText, valueText, isNew) {
      var item = el("li", { "class": "app-modeler__property" });
      var nameId = "property-" + i + "-name", valueId = "property-" + i + "-value";
      item.appendChild(el("label", { "class": "govuk-label", "for": nameId }, texts.textProperty + " " + (i + 1)));
      var name = el("input", { "class": "govuk-input govuk-input--width-20", id: nameId, type: "text",
                               list: "property-names", spellcheck: "false" });
      name.value = nameText;
      item.appendChild(name);
      item.appendChild(el("label", { "class": "govuk-label", "for": valueId }, texts.textValue + " " + (i + 1)));
      var value = el("input", { "class": "govuk-input", id: valueId, type: "text", spellcheck: "false" });
      value.value = valueText;
      item.appendChild(value);
      if (!isNew) {
        var remove = el("button", { type: "button", "class": "govuk-button govuk-button--warning govuk-!-margin-bottom-2",
                                    "data-index": String(i) }, texts.textRemove);
        remove.appendChild(el("span", { "class": "govuk-visually-hidden" }, " " + nameText));
        item.appendChild(remove);
      }
      return item;
    }

    function entriesFromPanel() {
      var out = [];
      document.querySelectorAll("#property-list .app-modeler__property").forEach(function (item) {
        var inputs = item.querySelectorAll("input");
        if (inputs[0].value.trim()) out.push({ name: inputs[0].value.trim(), value: inputs[1].value });
      });
      return out;
    }

    document.getElementById("property-name").addEventListener("change", function (event) {
      if (selected) apply(function () { modeling.updateLabel(selected, event.target.value); });
    });
    document.getElementById("property-list").addEventListener("change", function () {
      if (selected) apply(function () { setProperties(selected, entriesFromPanel()); });
    });
    document.getElementById("property-list").addEventListener("click", function (event) {
      var index = event.target.closest("button") && event.target.closest("button").dataset.index;
      if (!selected || index === undefined) return;
      var entries = entriesFromPanel();
      entries.splice(Number(index), 1);
      apply(function () { setProperties(selected, entries); });
      show(selected);
    });
    document.getElementById("property-add").addEventListener("click", function () {
      if (!selected) return;
      var list = document.getElementById("property-list");
      var row = propertyRow(list.children.length, "", "", true);
      list.appendChild(row);
      row.querySelector("input").focus();
    });

    modeler.get("eventBus").on("selection.changed", function (event) { show(event.newSelection[0]); });
    modeler.get("eventBus").on("element.changed", function (event) { // (a change made on the canvas, undo, redo)
      if (!applying && selected && event.element === selected) show(selected);
    });

    function send(url) {
      return modeler.saveXML({ format: true }).then(function (result) {
        return fetch(url, {
          method: "POST", credentials: "same-origin", body: result.xml,
          headers: { "Content-Type": "application/xml; charset=utf-8", "X-CSRFToken": texts.csrf }
        });
      }).then(function (response) {
        return response.json().catch(function () { return { problems: [], error: texts.textError }; });
      });
    }

    var check = document.getElementById("modeler-check");
    var save = document.getElementById("modeler-save");
    check.addEventListener("click", function () {
      send(texts.checkUrl).then(function (answer) {
        if (answer.error) say(answer.error);
        else if (answer.problems.length) say(texts.textProblems, answer.problems);
        else say(texts.textOk);
      }).catch(function () { say(texts.textError); });
    });
    save.addEventListener("click", function () {
      send(texts.saveUrl).then(function (answer) {
        if (answer.saved) say(texts.textSaved);
        else if (answer.error) say(answer.error);
        else say(texts.textProblems, answer.problems);
      }).catch(function () { say(texts.textError); });
    });
    document.getElementById("modeler-download").addEventListener("click", function (event) {
      var link = event.currentTarget;
      if (link.dataset.ready) { delete link.dataset.ready; return; } // (the edited diagram, made below)
      event.preventDefault();
      modeler.saveXML({ format: true }).then(function (result) {
        link.href = URL.createObjectURL(new Blob([result.xml], { type: "application/xml" }));
        link.dataset.ready = "1";
        link.click();
      });
    });

    fetch(texts.diagramUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (xml) { return modeler.importXML(xml); })
      .then(function () {
        modeler.get("canvas").zoom("fit-viewport");
        check.disabled = false;
        save.disabled = false;
        container.classList.add("app-modeler--ready");
        status.textContent = "";
      })
      .catch(function () { say(texts.textFailed); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("modeler");
    if (container) start(container);
  });
})();
